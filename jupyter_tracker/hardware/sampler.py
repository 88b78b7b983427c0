"""Hardware sampling for runs: the `system/...` metric names, the sampler thread and the per-run summary.

The sampler knows nothing of the store or of IPython: it hands each tick's values to a `sink` callable.
The probes that read the machine live in `probes.py` and `gpu.py`.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import InvalidArgument

SYSTEM_PREFIX = "system/"

CPU_PERCENT = "system/cpu/percent"
CPU_CORE = "system/cpu/core{index}/percent"
LOAD_1M = "system/cpu/load_1m"
MEM_USED = "system/memory/used_bytes"
MEM_AVAILABLE = "system/memory/available_bytes"
MEM_PERCENT = "system/memory/percent"
SWAP_USED = "system/swap/used_bytes"
DISK_READ = "system/disk/read_bytes_per_s"
DISK_WRITE = "system/disk/write_bytes_per_s"
DISK_USAGE_PERCENT = "system/disk/usage_percent"
NET_SENT = "system/network/sent_bytes_per_s"
NET_RECV = "system/network/recv_bytes_per_s"
PROC_CPU = "system/process/cpu_percent"
PROC_THREADS = "system/process/threads"
PROC_RSS = "system/process/rss_bytes"
PROC_RSS_PEAK = "system/process/rss_peak_bytes"
GPU_UTIL = "system/gpu{index}/utilization"
GPU_MEM_USED = "system/gpu{index}/memory_used_bytes"
GPU_MEM_TOTAL = "system/gpu{index}/memory_total_bytes"
GPU_TEMP = "system/gpu{index}/temperature_c"
GPU_POWER = "system/gpu{index}/power_w"
GPU_PROC_MEM = "system/gpu{index}/process_memory_bytes"


@dataclass(frozen=True)
class MetricInfo:
    """One hardware metric: its name (`{index}` stands for a core or GPU number), unit and meaning."""

    name: str
    unit: str
    description: str


METRICS: tuple[MetricInfo, ...] = (
    MetricInfo(CPU_PERCENT, "%", "CPU busy time over all cores since the previous sample (0-100)"),
    MetricInfo(CPU_CORE, "%", "busy time of one logical core since the previous sample (0-100)"),
    MetricInfo(LOAD_1M, "processes", "1-minute load average (where the OS has one)"),
    MetricInfo(MEM_USED, "bytes", "memory in use: total minus available"),
    MetricInfo(MEM_AVAILABLE, "bytes", "memory available to new programs without swapping"),
    MetricInfo(MEM_PERCENT, "%", "memory in use, as a share of the total"),
    MetricInfo(SWAP_USED, "bytes", "swap space in use"),
    MetricInfo(DISK_READ, "bytes/s", "bytes read from physical disks since the previous sample"),
    MetricInfo(DISK_WRITE, "bytes/s", "bytes written to physical disks since the previous sample"),
    MetricInfo(DISK_USAGE_PERCENT, "%", "space used on the volume of the working directory"),
    MetricInfo(NET_SENT, "bytes/s", "bytes sent on all interfaces but loopback since the previous sample"),
    MetricInfo(
        NET_RECV, "bytes/s", "bytes received on all interfaces but loopback since the previous sample"
    ),
    MetricInfo(PROC_CPU, "%", "CPU time of this process since the previous sample (100 = one full core)"),
    MetricInfo(PROC_THREADS, "threads", "threads of this process"),
    MetricInfo(PROC_RSS, "bytes", "resident memory of this process"),
    MetricInfo(PROC_RSS_PEAK, "bytes", "highest resident memory of this process since the sampler started"),
    MetricInfo(GPU_UTIL, "%", "share of time a kernel ran on the GPU, as NVML reports it"),
    MetricInfo(GPU_MEM_USED, "bytes", "GPU memory in use by all processes"),
    MetricInfo(GPU_MEM_TOTAL, "bytes", "GPU memory in total"),
    MetricInfo(GPU_TEMP, "°C", "GPU core temperature"),
    MetricInfo(GPU_POWER, "W", "GPU power draw"),
    MetricInfo(GPU_PROC_MEM, "bytes", "GPU memory used by this process (only when NVML lists it)"),
)

MIN_INTERVAL = 0.1
DEFAULT_INTERVAL = 1.0
# stop() waits this long at least for a probe stuck in a driver call before giving the thread up.
STOP_TIMEOUT = 5.0


def _pattern(template: str) -> re.Pattern:
    return re.compile(re.escape(template).replace(re.escape("{index}"), r"(\d+)") + "$")


_PATTERNS = [(_pattern(m.name), m) for m in METRICS]


def metric_info(key: str) -> MetricInfo | None:
    """The MetricInfo a stored key belongs to (`system/gpu1/power_w` -> GPU_POWER), or None."""
    for pattern, info in _PATTERNS:
        if pattern.match(key):
            return info
    return None


def check_interval(interval: Any) -> float:
    """The interval as a float of seconds; InvalidArgument if it is not a number of at least MIN_INTERVAL."""
    if isinstance(interval, bool) or not isinstance(interval, (int, float)):
        raise InvalidArgument(f"interval must be a number of seconds, not {type(interval).__name__}")
    if not math.isfinite(interval) or interval < MIN_INTERVAL:
        raise InvalidArgument(f"interval must be at least {MIN_INTERVAL} seconds (got {interval!r})")
    return float(interval)


class Probe:
    """One source of hardware metrics. A subclass sets `name` and implements `sample`."""

    name: str = "probe"

    def reset(self) -> None:
        """Forget earlier readings: the next sample starts a new series (a rate needs two readings)."""

    def sample(self, now: float) -> list[tuple[str, float]]:
        """(metric name, value) pairs read now; `now` is the tick's wall-clock time."""
        raise NotImplementedError


Sink = Callable[[float, list], Any]
OnError = Callable[[str, BaseException], Any]


class HardwareSampler:
    """Samples the probes every `interval` seconds on a daemon thread and hands the values to `sink`.

    `sink(time, values)` runs on the sampler thread once per tick that read anything (never concurrently),
    with the tick's wall-clock time and a fresh list of (name, value) pairs. The first time a
    probe fails, `on_error(probe_name, exc)` is called and that probe is switched off; the others go on.
    A failing sink is reported once as "sink". No exception leaves the thread.
    """

    def __init__(
        self,
        sink: Sink,
        interval: float = DEFAULT_INTERVAL,
        probes: Sequence[Probe] | None = None,
        on_error: OnError | None = None,
    ):
        self.interval = check_interval(interval)
        if probes is None:
            from .probes import default_probes_and_status  # probes.py imports this module's names

            probes, self.gpu_status = default_probes_and_status()
        else:
            probes = list(probes)
            self.gpu_status = next(
                (p.status for p in probes if getattr(p, "name", None) == "gpu" and hasattr(p, "status")),
                "no GPU metrics: no GPU probe was given",
            )
        self._probes = list(probes)
        self._active = list(probes)
        self._sink = sink
        self._on_error = on_error
        self._reported: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._abandon = threading.Event()
        self.ticks = 0
        self.cpu_time = 0.0  # seconds of sampler-thread CPU spent in ticks (probes and sink)

    @property
    def probes(self) -> tuple[Probe, ...]:
        return tuple(self._probes)

    @property
    def switched_off(self) -> list[str]:
        """Names of the probes switched off after a failure."""
        return [p.name for p in self._probes if p not in self._active]

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread; it takes a first sample at once. Does nothing if already running."""
        with self._lock:
            if self._thread is not None:
                return
            for probe in list(self._active):
                self._guard(probe, probe.reset)
            self._stop, self._abandon = threading.Event(), threading.Event()
            self._thread = threading.Thread(
                target=self._loop,
                args=(self._stop, self._abandon),
                name="jupyter-tracker-sampler",
                daemon=True,
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop within one interval: the thread takes a last sample and is joined. Idempotent."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            stop, abandon = self._stop, self._abandon
            stop.set()
        if thread is threading.current_thread():
            return
        thread.join(max(STOP_TIMEOUT, 2 * self.interval))
        if thread.is_alive():
            # A probe is stuck (a GPU driver call can hang): leave the daemon thread, silenced, behind.
            abandon.set()
            self._report("sampler", TimeoutError("the sampler thread did not stop; a probe may be stuck"))

    def collect(self) -> tuple[float, list[tuple[str, float]]]:
        """Sample every active probe once: (wall-clock time, values). Failing probes are switched off."""
        now = time.time()
        values: list[tuple[str, float]] = []
        for probe in list(self._active):
            got = self._guard(probe, probe.sample, now)
            if got:
                values.extend(got)
        return now, values

    def _guard(self, probe: Probe, fn: Callable, *args):
        try:
            return fn(*args)
        except BaseException as exc:  # a probe must never take the thread down
            if probe in self._active:
                self._active.remove(probe)
            self._report(getattr(probe, "name", type(probe).__name__), exc)
            return None

    def _report(self, name: str, exc: BaseException) -> None:
        if name in self._reported:
            return
        self._reported.add(name)
        if self._on_error is not None:
            # the reporter failing must not stop sampling either
            with contextlib.suppress(BaseException):
                self._on_error(name, exc)

    def _tick(self, abandon: threading.Event) -> None:
        started = time.thread_time()
        now, values = self.collect()
        if values and not abandon.is_set():
            try:
                self._sink(now, values)
            except BaseException as exc:
                self._report("sink", exc)
        self.cpu_time += time.thread_time() - started
        self.ticks += 1

    def _loop(self, stop: threading.Event, abandon: threading.Event) -> None:
        try:
            self._tick(abandon)
            due = time.monotonic()
            while True:
                due += self.interval
                delay = due - time.monotonic()
                if delay < 0:  # fell behind (suspended machine, starved thread): drop the missed ticks
                    due, delay = time.monotonic(), 0.0
                if stop.wait(delay):
                    break
                self._tick(abandon)
            self._tick(abandon)
        except BaseException:  # nothing may escape the thread; _tick already reports what it can
            pass


def default_probes(nvml: Any = None) -> list[Probe]:
    """CPU, memory, disk, network and process probes, plus the GPU probe when NVML starts.

    `nvml` replaces the `pynvml` module (tests pass a fake one).
    """
    from .probes import default_probes_and_status

    return default_probes_and_status(nvml)[0]


def machine_snapshot(nvml: Any = None) -> dict:
    """What the machine is: OS, kernel, CPU model and cores, memory, GPUs/driver/CUDA, Python, packages."""
    from .probes import machine_snapshot as snapshot

    return snapshot(nvml)


@functools.lru_cache(maxsize=1)
def process_machine_snapshot() -> dict:
    """machine_snapshot(), taken once per process: every run of a kernel shares it (listing the installed
    packages alone takes ~40 ms). `run.log_system()` takes a fresh one."""
    return machine_snapshot()


def _point(p) -> tuple:
    return tuple(p) if isinstance(p, (tuple, list)) else (p.key, p.step, p.value, p.time)


def summarize(points: Iterable) -> dict:
    """Per-run hardware summary from (key, step, value, time) points; None where there is no data.

    Rates are integrated over the time since the previous sample; the CPU mean is weighted the same way.
    GPU memory peaks add the devices up at each sample.
    """
    series: dict[str, list[tuple[float, float]]] = defaultdict(list)
    times: set[float] = set()
    for p in points:
        key, _step, value, t = _point(p)
        if not key.startswith(SYSTEM_PREFIX) or value is None or not math.isfinite(value):
            continue
        series[key].append((t, float(value)))
        times.add(t)
    order = sorted(times)
    previous = dict(zip(order[1:], order[:-1], strict=True))

    def weighted(key):  # (sum of value * seconds, seconds)
        pairs = [(v, t - previous[t]) for t, v in series.get(key, ()) if t in previous]
        return sum(v * dt for v, dt in pairs), sum(dt for _, dt in pairs)

    def total(key):
        return round(weighted(key)[0]) if series.get(key) else None

    def peak_of_sums(template):
        pattern, sums = _pattern(template), defaultdict(float)
        for key, pairs in series.items():
            if pattern.match(key):
                for t, v in pairs:
                    sums[t] += v
        return round(max(sums.values())) if sums else None

    rss = [v for key in (PROC_RSS, PROC_RSS_PEAK) for _, v in series.get(key, ())]
    cpu = series.get(CPU_PERCENT, [])
    cpu_sum, cpu_seconds = weighted(CPU_PERCENT)
    if cpu_seconds > 0:
        mean_cpu = cpu_sum / cpu_seconds
    else:
        mean_cpu = sum(v for _, v in cpu) / len(cpu) if cpu else None
    util_pattern = _pattern(GPU_UTIL)
    util = [v for key, pairs in series.items() if util_pattern.match(key) for _, v in pairs]
    return {
        "samples": len(order),
        "peak_rss_bytes": round(max(rss)) if rss else None,
        "peak_gpu_memory_bytes": peak_of_sums(GPU_MEM_USED),
        "peak_gpu_process_memory_bytes": peak_of_sums(GPU_PROC_MEM),
        "mean_cpu_percent": mean_cpu,
        "mean_gpu_utilization": sum(util) / len(util) if util else None,
        "total_read_bytes": total(DISK_READ),
        "total_written_bytes": total(DISK_WRITE),
        "total_sent_bytes": total(NET_SENT),
        "total_received_bytes": total(NET_RECV),
    }
