"""HardwareSampler: thread lifecycle and failure handling with fake probes, real psutil probes on this
machine, the GPU path through a fake `pynvml` module (no GPU here), machine_snapshot and summarize."""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from types import SimpleNamespace

import psutil
import pytest

from jupyter_tracker.errors import InvalidArgument
from jupyter_tracker.hardware import gpu
from jupyter_tracker.hardware import metrics as metrics_module
from jupyter_tracker.hardware.machine import machine_snapshot
from jupyter_tracker.hardware.metrics import (
    CPU_CORE,
    CPU_PERCENT,
    DISK_READ,
    DISK_WRITE,
    GPU_MEM_TOTAL,
    GPU_MEM_USED,
    GPU_POWER,
    GPU_PROC_MEM,
    GPU_TEMP,
    GPU_UTIL,
    MEM_USED,
    METRICS,
    NET_RECV,
    NET_SENT,
    PROC_CPU,
    PROC_RSS,
    PROC_RSS_PEAK,
    PROC_THREADS,
    SYSTEM_PREFIX,
    Probe,
    metric_info,
)
from jupyter_tracker.hardware.sampler import HardwareSampler, default_probes
from jupyter_tracker.hardware.summary import summarize


class Recorder:
    """A sink that remembers every call and can be waited on."""

    def __init__(self):
        self.calls: list[tuple[float, list, str]] = []
        self.changed = threading.Condition()

    def __call__(self, t, values):
        with self.changed:
            self.calls.append((t, list(values), threading.current_thread().name))
            self.changed.notify_all()

    def wait_for(self, n: int, timeout: float = 10.0) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.calls) >= n, timeout), f"{len(self.calls)} < {n}"


class CountingProbe(Probe):
    def __init__(self, name="fake", fail_on=None):
        self.name, self.calls, self.fail_on = name, 0, fail_on

    def sample(self, now):
        self.calls += 1
        if self.fail_on is not None and self.calls >= self.fail_on:
            raise RuntimeError(f"{self.name} broke")
        return [(f"system/{self.name}/n", float(self.calls))]


def test_metric_names_are_documented_and_unique():
    names = [m.name for m in METRICS]
    assert len(names) == len(set(names))
    assert all(
        n.startswith(SYSTEM_PREFIX) and m.unit and m.description for n, m in zip(names, METRICS, strict=True)
    )
    constants = {
        v
        for k, v in vars(metrics_module).items()
        if k.isupper() and isinstance(v, str) and v.startswith("system/") and k != "SYSTEM_PREFIX"
    }
    assert constants == set(names)
    assert metric_info("system/gpu3/power_w").unit == "W"
    assert metric_info("system/cpu/core12/percent").name == CPU_CORE
    assert metric_info("loss") is None


def test_first_sample_at_start_last_at_stop_and_sink_on_sampler_thread():
    sink, probe = Recorder(), CountingProbe()
    s = HardwareSampler(sink, interval=30, probes=[probe])
    s.start()
    sink.wait_for(1)
    assert sink.calls[0][1] == [("system/fake/n", 1.0)]
    started = time.monotonic()
    s.stop()
    assert time.monotonic() - started < 5  # does not wait out the 30 s interval
    assert [values for _, values, _ in sink.calls] == [[("system/fake/n", 1.0)], [("system/fake/n", 2.0)]]
    assert {thread for _, _, thread in sink.calls} == {"jupyter-tracker-sampler"}
    assert not s.running
    s.stop()  # idempotent
    assert len(sink.calls) == 2


def test_ticks_every_interval_with_wall_clock_times():
    sink = Recorder()
    s = HardwareSampler(sink, interval=0.1, probes=[CountingProbe()])
    before = time.time()
    s.start()
    sink.wait_for(4)
    s.stop()
    times = [t for t, _, _ in sink.calls]
    assert times == sorted(times) and before <= times[0] <= time.time()
    assert [v[0][1] for _, v, _ in sink.calls] == [float(i) for i in range(1, len(sink.calls) + 1)]
    assert s.ticks == len(sink.calls) and s.cpu_time > 0


def test_restart_after_stop_resets_probes():
    class Resettable(CountingProbe):
        resets = 0

        def reset(self):
            self.resets += 1

    probe, sink = Resettable(), Recorder()
    s = HardwareSampler(sink, interval=10, probes=[probe])
    for _ in range(2):
        s.start()
        s.start()  # already running: nothing happens
        s.stop()
    assert probe.resets == 2 and len(sink.calls) == 4


@pytest.mark.parametrize("bad", [0.05, 0, -1, math.nan, math.inf, "1", None, True])
def test_interval_validation(bad):
    with pytest.raises(InvalidArgument, match="interval"):
        HardwareSampler(lambda t, v: None, interval=bad, probes=[])


def test_interval_minimum_is_accepted_and_message_is_clear():
    assert HardwareSampler(lambda t, v: None, interval=0.1, probes=[]).interval == 0.1
    with pytest.raises(InvalidArgument, match=r"at least 0\.1 seconds \(got 0\.01\)"):
        HardwareSampler(lambda t, v: None, interval=0.01, probes=[])


def test_failing_probe_is_reported_once_and_switched_off():
    errors = []
    bad, good = CountingProbe("bad", fail_on=2), CountingProbe("good")
    s = HardwareSampler(lambda t, v: None, probes=[bad, good], on_error=lambda n, e: errors.append((n, e)))
    first = s.collect()[1]
    assert first == [("system/bad/n", 1.0), ("system/good/n", 1.0)]
    for _ in range(3):
        values = s.collect()[1]
    assert values == [("system/good/n", 4.0)]
    assert bad.calls == 2  # not called again after it failed
    assert [(n, str(e)) for n, e in errors] == [("bad", "bad broke")]
    assert s.switched_off == ["bad"]


def test_no_exception_escapes_the_thread(monkeypatch):
    escaped = []
    monkeypatch.setattr(threading, "excepthook", lambda args: escaped.append(args))
    errors = []

    class Exits(Probe):
        name = "exits"

        def sample(self, now):
            raise SystemExit(3)

    def bad_sink(t, values):
        raise ValueError("store closed")

    def bad_reporter(name, exc):
        errors.append(name)
        raise RuntimeError("reporter broke too")

    s = HardwareSampler(bad_sink, interval=0.1, probes=[Exits(), CountingProbe()], on_error=bad_reporter)
    s.start()
    deadline = time.monotonic() + 10
    while s.ticks < 3 and time.monotonic() < deadline:  # a few ticks, each failing in the probe and the sink
        time.sleep(0.01)
    s.stop()
    assert escaped == []
    assert sorted(errors) == ["exits", "sink"]  # each reported once, though the sink failed every tick
    assert s.ticks >= 3


def test_real_probes_give_plausible_values():
    sink, errors = Recorder(), []
    s = HardwareSampler(sink, interval=0.1, on_error=lambda n, e: errors.append((n, e)))
    s.start()
    sum(i * i for i in range(300_000))  # some CPU for this process
    sink.wait_for(4)
    s.stop()
    assert errors == []
    first = dict(sink.calls[0][1])
    later = {k for _, values, _ in sink.calls[1:] for k, _ in values}
    # the first tick has no rate; later ones have them all (the one at stop may come too soon after the last)
    assert not {CPU_PERCENT, PROC_CPU, DISK_READ, NET_SENT} & first.keys()
    assert {CPU_PERCENT, PROC_CPU, DISK_READ, DISK_WRITE, NET_SENT, NET_RECV} <= later
    cores = psutil.cpu_count()
    for _, values, _ in sink.calls:
        v = dict(values)
        assert 0 <= v.get(CPU_PERCENT, 0) <= 100
        assert all(0 <= v.get(CPU_CORE.format(index=i), 0) <= 100 for i in range(cores))
        assert 0 <= v.get(PROC_CPU, 0) <= 100 * cores
        assert all(v.get(k, 0) >= 0 for k in (DISK_READ, DISK_WRITE, NET_SENT, NET_RECV))
        assert v[MEM_USED] > 0 and v[PROC_THREADS] >= 2  # main thread and the sampler
        assert 0 < v[PROC_RSS] <= v[PROC_RSS_PEAK]
    assert all(isinstance(value, float) and math.isfinite(value) for _, value in sink.calls[-1][1])
    names = {k for _, values, _ in sink.calls for k, _ in values}
    assert all(metric_info(k) is not None for k in names)
    assert not any(k.startswith("system/gpu") for k in names)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the /proc readers are Linux only")
def test_proc_readers_agree_with_psutil(tmp_path, monkeypatch):
    """Our /proc parsing and psutil's, reading the same fixed /proc tree twice: the same names and values.

    Both read files written by the test (tests/procfs.py), so nothing can move between the two readings;
    a fake monotonic clock makes the rates exact. The CPU load and the process CPU come from
    os.getloadavg() and os.times() on both paths, not from /proc: only their presence is compared."""
    from procfs import PAGE, FakeProc

    from jupyter_tracker.hardware import probes

    tree = FakeProc(tmp_path / "proc")
    tree.write(tree.state)
    read = probes._read
    monkeypatch.setattr(probes, "_read", lambda path: read(tree.path(path)))
    monkeypatch.setattr(probes, "_physical_disks", lambda: {b"sda", b"nvme0n1"})
    monkeypatch.setattr(psutil, "PROCFS_PATH", str(tree.root))
    clock = SimpleNamespace(now=5000.0)
    monkeypatch.setattr(probes, "time", SimpleNamespace(monotonic=lambda: clock.now))
    # psutil's path takes the lifetime peak RSS from getrusage(): let it see the tree's VmHWM
    fake_rusage = SimpleNamespace(
        RUSAGE_SELF=0, getrusage=lambda who: SimpleNamespace(ru_maxrss=tree.state.hwm_kib)
    )
    monkeypatch.setattr(probes, "resource", fake_rusage)
    wrapping = (psutil.disk_io_counters, psutil.net_io_counters)
    for counters in wrapping:
        counters.cache_clear()  # psutil's wrap-around memory must not mix real and fake counters
    try:
        classes = (
            probes.CpuProbe,
            probes.MemoryProbe,
            probes.DiskIoProbe,
            probes.NetworkProbe,
            probes.ProcessProbe,
        )
        pairs = [(cls(), cls(procfs=False)) for cls in classes]
        assert all(fast._proc and not slow._proc for fast, slow in pairs)
        ticks = []
        for state in (tree.state, tree.state.advanced()):
            tree.write(state)
            clock.now += 2.0
            ticks.append({fast.name: (dict(fast.sample(0)), dict(slow.sample(0))) for fast, slow in pairs})
            # psutil's totals count loop devices too: compare the physical disks' counters directly
            per_disk = psutil.disk_io_counters(perdisk=True, nowrap=False)
            ours = pairs[2][0]._from_proc()
            assert ours == (
                sum(per_disk[d].read_bytes for d in ("sda", "nvme0n1")),
                sum(per_disk[d].write_bytes for d in ("sda", "nvme0n1")),
            )
    finally:
        for counters in wrapping:
            counters.cache_clear()
    not_from_proc = {metrics_module.LOAD_1M, PROC_CPU}
    for tick in ticks:
        for name, (ours, theirs) in tick.items():
            assert ours.keys() == theirs.keys(), name
            if name != "disk_io":
                for key in ours.keys() - not_from_proc:
                    assert ours[key] == pytest.approx(theirs[key], rel=1e-9), key  # CPU: ticks vs seconds

    first = {k: v for ours, _ in ticks[0].values() for k, v in ours.items()}
    assert not {CPU_PERCENT, DISK_READ, NET_SENT, PROC_CPU} & first.keys()  # the first reading has no rates
    second = {k: v for ours, _ in ticks[1].values() for k, v in ours.items()}
    assert second[CPU_CORE.format(index=0)] == 60.0 and second[CPU_CORE.format(index=1)] == 15.0
    assert second[CPU_PERCENT] == 37.5  # guest time is already in user: not counted twice
    assert second[MEM_USED] == (16_384_000 - 9_000_000) * 1024
    assert second[metrics_module.SWAP_USED] == (4_000_000 - 3_400_000) * 1024
    assert (second[DISK_READ], second[DISK_WRITE]) == (500 * 512 / 2, 1000 * 512 / 2)  # sda + nvme0n1 only
    assert (second[NET_RECV], second[NET_SENT]) == (400_000 / 2, 140 / 2)  # loopback left out
    assert second[PROC_RSS] == 30_000 * PAGE and second[PROC_THREADS] == 9
    assert second[PROC_RSS_PEAK] == 260_000 * 1024  # the kernel's high-water mark, once past its start value


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the /proc readers are Linux only")
def test_proc_readers_read_this_machine():
    """The same readers on the real /proc, comparing only what cannot move between two reads."""
    from jupyter_tracker.hardware.probes import DiskIoProbe, MemoryProbe, NetworkProbe, ProcessProbe

    probes = [MemoryProbe(), DiskIoProbe(), NetworkProbe(), ProcessProbe()]
    assert all(p._proc for p in probes if p.name != "disk_io")  # a machine without disks may fall back
    assert MemoryProbe()._from_proc()[0] == psutil.virtual_memory().total
    disk = probes[1]
    if disk._proc:
        assert {d.decode() for d in disk._disks} <= set(psutil.disk_io_counters(perdisk=True))
    rss, peak, threads = ProcessProbe()._from_proc()
    assert 0 < rss <= peak and threads >= 1


def test_rates_wait_for_a_gap_long_enough_to_mean_something():
    from jupyter_tracker.hardware.probes import (
        CORES,
        MIN_RATE_GAP_S,
        CpuProbe,
        DiskIoProbe,
        NetworkProbe,
        ProcessProbe,
    )

    probes = [CpuProbe(), DiskIoProbe(), NetworkProbe(), ProcessProbe()]
    rate_keys = {CPU_PERCENT, PROC_CPU} | {name for p in probes[1:3] for name in p.names}
    for probe in probes:
        probe.sample(0)
    time.sleep(MIN_RATE_GAP_S + 0.05)
    for probe in probes:
        probe.sample(0)  # a regular tick: rates
    end = time.process_time() + 0.005
    while time.process_time() < end:  # burn CPU time for the next, too-close reading
        pass
    close = {key for probe in probes for key, _ in probe.sample(0)}
    assert not close & rate_keys  # a few ms after a tick: no rate, the baseline is kept
    time.sleep(MIN_RATE_GAP_S + 0.05)
    later = dict(kv for probe in probes for kv in probe.sample(0))
    assert {CPU_PERCENT, PROC_CPU} <= later.keys()
    assert 0 <= later[PROC_CPU] <= 100 * CORES and 0 <= later[CPU_PERCENT] <= 100


def test_rss_peak_catches_growth_between_ticks():
    s = HardwareSampler(lambda t, v: None, interval=10)
    s.start()
    info = psutil.Process().memory_info()
    if hasattr(info, "peak_wset"):  # Windows
        lifetime_peak = info.peak_wset
    else:
        import resource

        lifetime_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        lifetime_peak *= 1 if sys.platform == "darwin" else 1024
    before = dict(s.collect()[1])[PROC_RSS_PEAK]
    # grow past the process's lifetime peak between two samples, then free it again
    size = max(0, lifetime_peak - info.rss) + 64 * 1024 * 1024
    blob = bytearray(size)
    blob[::4096] = b"x" * len(range(0, size, 4096))  # touch every page so it is resident
    del blob
    after = dict(s.collect()[1])
    s.stop()
    assert after[PROC_RSS_PEAK] >= before + 60 * 1024 * 1024 > after[PROC_RSS]


def test_thread_count_unchanged_after_100_cycles():
    process = psutil.Process()
    threads, os_threads = threading.active_count(), process.num_threads()
    shared = HardwareSampler(lambda t, v: None, interval=0.1)
    for _ in range(100):
        shared.start()
        shared.stop()
        fresh = HardwareSampler(lambda t, v: None, interval=1, probes=[CountingProbe()])
        fresh.start()
        fresh.stop()
    assert threading.active_count() == threads
    # join() returns as the thread finishes in Python; the OS thread may need a moment more to go
    deadline = time.monotonic() + 5
    while process.num_threads() != os_threads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.num_threads() == os_threads
    assert not any(t.name == "jupyter-tracker-sampler" for t in threading.enumerate())


# ---- GPU: a fake pynvml module stands in for NVML (there is no GPU on the test machines)


class FakeNVMLError(Exception):
    def __init__(self, value, text=""):
        super().__init__(text or f"NVML error {value}")
        self.value = value


def fake_nvml(*, init_error=None, power_supported=True, pid=None):
    mib = 1024 * 1024
    names = ["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"]

    def init():
        if init_error:
            raise FakeNVMLError(9, init_error)

    def power(h):
        if not power_supported:
            raise FakeNVMLError(3, "Not Supported")
        return 250_500 + h * 1000  # milliwatts

    def processes(h):
        me = SimpleNamespace(pid=pid or os.getpid(), usedGpuMemory=(h + 1) * 512 * mib)
        other = SimpleNamespace(pid=1, usedGpuMemory=7 * mib)
        return [other, me] if h == 0 else [other]

    return SimpleNamespace(
        NVMLError=FakeNVMLError,
        NVML_ERROR_NOT_SUPPORTED=3,
        NVML_TEMPERATURE_GPU=0,
        nvmlInit=init,
        nvmlShutdown=lambda: None,
        nvmlDeviceGetCount=lambda: 2,
        nvmlDeviceGetHandleByIndex=lambda i: i,
        nvmlDeviceGetName=lambda h: names[h].encode(),  # older nvidia-ml-py returns bytes
        nvmlDeviceGetUtilizationRates=lambda h: SimpleNamespace(gpu=40 + h, memory=10),
        nvmlDeviceGetMemoryInfo=lambda h: SimpleNamespace(used=(h + 1) * 1000 * mib, total=80 * 1024 * mib),
        nvmlDeviceGetTemperature=lambda h, sensor: 60 + h,
        nvmlDeviceGetPowerUsage=power,
        nvmlDeviceGetComputeRunningProcesses=processes,
        nvmlSystemGetDriverVersion=lambda: "550.54.15",
        nvmlSystemGetCudaDriverVersion=lambda: 12040,
    )


def test_gpu_metrics_through_fake_nvml():
    mib = 1024 * 1024
    s = HardwareSampler(lambda t, v: None, probes=default_probes(nvml=fake_nvml()))
    assert s.gpu_status == "NVML: 2 GPUs (NVIDIA H100 80GB HBM3, NVIDIA H100 80GB HBM3)"
    values = dict(s.collect()[1])
    expected = {
        GPU_UTIL: (40.0, 41.0),
        GPU_MEM_USED: (1000.0 * mib, 2000.0 * mib),
        GPU_MEM_TOTAL: (80.0 * 1024 * mib, 80.0 * 1024 * mib),
        GPU_TEMP: (60.0, 61.0),
        GPU_POWER: (250.5, 251.5),
    }
    for template, per_device in expected.items():
        for i, value in enumerate(per_device):
            assert values[template.format(index=i)] == value
    # this process is listed on GPU 0 only
    assert values[GPU_PROC_MEM.format(index=0)] == 512.0 * mib
    assert GPU_PROC_MEM.format(index=1) not in values


def test_unsupported_gpu_reading_is_skipped_not_an_error():
    errors = []
    probes = default_probes(nvml=fake_nvml(power_supported=False))
    s = HardwareSampler(lambda t, v: None, probes=probes, on_error=lambda n, e: errors.append(n))
    for _ in range(2):
        values = dict(s.collect()[1])
    assert GPU_POWER.format(index=0) not in values and GPU_UTIL.format(index=0) in values
    assert errors == [] and s.switched_off == []


def test_pynvml_found_through_sys_modules(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml())
    sink = Recorder()
    s = HardwareSampler(sink, interval=10)
    assert s.gpu_status.startswith("NVML: 2 GPUs")
    s.start()
    s.stop()
    assert GPU_UTIL.format(index=1) in dict(sink.calls[-1][1])


def test_no_pynvml_means_no_gpu_metrics_and_a_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails as if not installed
    sink = Recorder()
    s = HardwareSampler(sink, interval=10)
    assert s.gpu_status == gpu.NOT_INSTALLED
    assert "nvidia-ml-py is not installed" in s.gpu_status
    s.start()
    s.stop()
    assert not any(k.startswith("system/gpu") for _, values, _ in sink.calls for k, _ in values)
    assert all(p.name != "gpu" for p in s.probes)


def test_nvml_that_cannot_start_gives_a_reason():
    probes = default_probes(nvml=fake_nvml(init_error="Driver Not Loaded"))
    assert all(p.name != "gpu" for p in probes)
    state = gpu.nvml_state(fake_nvml(init_error="Driver Not Loaded"))
    assert state.status == "no GPU metrics: NVML could not start (Driver Not Loaded)"


def test_machine_snapshot():
    snap = machine_snapshot()
    assert snap["os"] and snap["os_release"] and snap["cpu_model"]
    assert snap["cpu_cores_logical"] == psutil.cpu_count()
    assert snap["memory_total_bytes"] == psutil.virtual_memory().total
    assert snap["packages"]["psutil"] == psutil.__version__
    assert snap["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert snap["gpus"] == [] and snap["gpu_status"]
    with_gpu = machine_snapshot(nvml=fake_nvml())
    assert [g["name"] for g in with_gpu["gpus"]] == ["NVIDIA H100 80GB HBM3"] * 2
    assert with_gpu["gpus"][0]["memory_total_bytes"] == 80 * 1024**3
    assert (with_gpu["gpu_driver"], with_gpu["cuda_driver"]) == ("550.54.15", "12.4")


# ---- summarize


def test_summarize_hand_made_points():
    pts = [("loss", 1, 0.5, 100.0)]  # user metrics are ignored
    for i, t in enumerate([100.0, 101.0, 103.0]):  # second interval is 2 s long
        pts += [
            (PROC_RSS, i, 1000.0 * (i + 1), t),
            (PROC_RSS_PEAK, i, 5000.0 if i == 2 else 1000.0 * (i + 1), t),
            (GPU_MEM_USED.format(index=0), i, 10.0 * (i + 1), t),
            (GPU_MEM_USED.format(index=1), i, 100.0, t),
            (GPU_UTIL.format(index=0), i, 50.0, t),
            (GPU_UTIL.format(index=1), i, 100.0, t),
        ]
        if i:  # the first tick has no rates
            pts += [
                (CPU_PERCENT, i, 10.0 * i, t),
                (DISK_READ, i, 1000.0, t),
                (DISK_WRITE, i, 500.0 * i, t),
                (NET_SENT, i, math.nan, t),  # skipped
            ]
    summary = summarize(pts)
    assert summary == {
        "samples": 3,
        "peak_rss_bytes": 5000,
        "peak_gpu_memory_bytes": 130,
        "peak_gpu_process_memory_bytes": None,
        "mean_cpu_percent": pytest.approx((10 * 1 + 20 * 2) / 3),
        "mean_gpu_utilization": 75.0,
        "total_read_bytes": 3000,  # 1000 B/s for 3 s
        "total_written_bytes": 500 + 2000,
        "total_sent_bytes": None,
        "total_received_bytes": None,
    }


def test_summarize_without_data():
    summary = summarize([])
    assert summary["samples"] == 0
    assert all(v is None for k, v in summary.items() if k != "samples")


def test_summarize_a_real_run():
    sink = Recorder()
    s = HardwareSampler(sink, interval=0.1)
    s.start()
    sink.wait_for(3)
    s.stop()
    summary = summarize([(k, 0, v, t) for t, values, _ in sink.calls for k, v in values])
    assert summary["samples"] == s.ticks >= 3
    assert summary["peak_rss_bytes"] > 0 and 0 <= summary["mean_cpu_percent"] <= 100
    assert summary["total_read_bytes"] >= 0 and summary["total_received_bytes"] >= 0
    assert summary["peak_gpu_memory_bytes"] is None and summary["mean_gpu_utilization"] is None
