"""The probes that read the machine (GPU ones are in gpu.py), and the machine snapshot.

psutil everywhere; on Linux the CPU, memory, disk, network and process probes read /proc themselves because
psutil's general path costs 3-5 times more per tick there (see tests/perf/bench_sampler.py). Each probe
checks its /proc source once when built and falls back to psutil if it is missing or unreadable
(`procfs=False` forces psutil).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import Any

import psutil

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

from .gpu import GpuProbe, nvml_state
from .metrics import (
    CPU_CORE,
    CPU_PERCENT,
    DISK_READ,
    DISK_USAGE_PERCENT,
    DISK_WRITE,
    LOAD_1M,
    MEM_AVAILABLE,
    MEM_PERCENT,
    MEM_USED,
    NET_RECV,
    NET_SENT,
    PROC_CPU,
    PROC_RSS,
    PROC_RSS_PEAK,
    PROC_THREADS,
    SWAP_USED,
    Probe,
)

LINUX = sys.platform.startswith("linux")
SECTOR = 512  # /proc/diskstats counts 512-byte sectors whatever the device's sector size


def _read(path: str) -> bytes:
    # os.open/os.read: half the system calls of open() (no fstat, no isatty), which shows per tick
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _fields(data: bytes, keys: tuple[bytes, ...]) -> list[int]:
    """The first number after each `key` in a /proc 'Key:  value' file."""
    out = []
    for key in keys:
        start = data.index(key) + len(key)
        out.append(int(data[start : data.index(b"\n", start)].split()[0]))
    return out


def _works(fn) -> bool:
    try:
        fn()
        return True
    except Exception:
        return False


def _safe(fn):
    try:
        return fn()
    except Exception:
        return None


# CPU times tick in 1/100 s: over a few milliseconds (the last sample, taken at stop, can follow a tick that
# closely) one tick reads as hundreds of percent. Rates wait for a gap this long; the baseline is kept.
MIN_RATE_GAP_S = 0.09
CORES = os.cpu_count() or 1


class RateProbe(Probe):
    """Turns cumulative counters into per-second rates; the first reading after reset gives none."""

    names: tuple[str, ...] = ()

    def __init__(self):
        self._last: tuple[float, tuple] | None = None

    def reset(self) -> None:
        self._last = None

    def rates(self, counters: tuple) -> list[tuple[str, float]]:
        now = time.monotonic()
        last = self._last
        if last is not None and now - last[0] < MIN_RATE_GAP_S:
            return []
        self._last = (now, counters)
        if last is None:
            return []
        dt = now - last[0]
        # a counter that went down was reset or wrapped: no rate for it this time
        return [(n, (c - c0) / dt) for n, c, c0 in zip(self.names, counters, last[1], strict=True) if c >= c0]


class CpuProbe(Probe):
    """Per-core and total CPU % from busy/total time per core (/proc/stat on Linux), plus the 1-minute load."""

    name = "cpu"

    def __init__(self, procfs: bool = True):
        self.reset()
        self._cores: dict[int, str] = {}
        self._loadavg = getattr(os, "getloadavg", None)  # psutil's Windows emulation starts a thread
        self._proc = procfs and LINUX and bool(_safe(self._from_proc))

    def reset(self) -> None:
        self._last: Mapping[int, tuple[float, float]] | None = None
        self._last_at = 0.0

    @staticmethod
    def _from_proc() -> dict[int, tuple[int, int]]:
        """{core: (busy, total)} in clock ticks: guest time is already in user and nice, iowait is idle."""
        out = {}
        for line in _read("/proc/stat").splitlines():
            if line.startswith(b"cpu") and line[3:4].isdigit():
                name, *f = line.split()
                total = sum(map(int, f[:8]))
                out[int(name[3:])] = (total - int(f[3]) - int(f[4]), total)
        return out

    @staticmethod
    def _from_psutil() -> dict[int, tuple[float, float]]:
        out = {}
        for i, t in enumerate(psutil.cpu_times(percpu=True)):
            total = sum(t) - (t.guest + t.guest_nice if LINUX else 0.0)
            out[i] = (total - t.idle - getattr(t, "iowait", 0.0), total)
        return out

    def sample(self, now: float) -> list[tuple[str, float]]:
        out = [(LOAD_1M, self._loadavg()[0])] if self._loadavg else []
        wall = time.monotonic()
        if self._last is not None and wall - self._last_at < MIN_RATE_GAP_S:
            return out
        current = self._from_proc() if self._proc else self._from_psutil()
        last, self._last, self._last_at = self._last, current, wall
        if last is None:
            return out
        busy_all = total_all = 0.0
        for core, (busy1, total1) in current.items():
            if core not in last:
                continue
            busy, total = busy1 - last[core][0], total1 - last[core][1]
            if total > 0:
                if core not in self._cores:
                    self._cores[core] = CPU_CORE.format(index=core)
                out.append((self._cores[core], min(100.0, max(0.0, 100.0 * busy / total))))
                busy_all += busy
                total_all += total
        if total_all > 0:
            out.append((CPU_PERCENT, min(100.0, max(0.0, 100.0 * busy_all / total_all))))
        return out


class MemoryProbe(Probe):
    """Memory used/available/% and swap used, from one read of /proc/meminfo on Linux."""

    name = "memory"
    KEYS = (b"MemTotal:", b"MemAvailable:", b"SwapTotal:", b"SwapFree:")

    def __init__(self, procfs: bool = True):
        self._proc = procfs and LINUX and _works(self._from_proc)

    def _from_proc(self) -> tuple[int, int, int]:
        total, available, swap_total, swap_free = _fields(_read("/proc/meminfo"), self.KEYS)
        return total * 1024, available * 1024, (swap_total - swap_free) * 1024

    def sample(self, now: float) -> list[tuple[str, float]]:
        if self._proc:
            total, available, swap_used = self._from_proc()
        else:
            vm = psutil.virtual_memory()
            total, available, swap_used = vm.total, vm.available, psutil.swap_memory().used
        used = total - available  # the same definition on every OS (psutil's `used` differs by platform)
        return [
            (MEM_USED, float(used)),
            (MEM_AVAILABLE, float(available)),
            (MEM_PERCENT, 100.0 * used / total if total else 0.0),
            (SWAP_USED, float(swap_used)),
        ]


def _physical_disks() -> set[bytes]:
    """Whole physical disks: /sys/block entries with a device (no partitions, loop, dm, md, zram)."""
    names = os.listdir("/sys/block")
    physical = [n for n in names if os.path.exists(f"/sys/block/{n}/device")]
    return {n.replace("!", "/").encode() for n in (physical or names)}


class DiskIoProbe(RateProbe):
    """Bytes/s read and written; physical disks only, so LVM/RAID/loop traffic is not counted twice."""

    name = "disk_io"
    names = (DISK_READ, DISK_WRITE)

    def __init__(self, procfs: bool = True):
        super().__init__()
        self._disks = (_safe(_physical_disks) if procfs and LINUX else None) or set()
        self._proc = bool(self._disks) and _works(self._from_proc)

    def _from_proc(self) -> tuple[int, int]:
        read = written = 0
        for line in _read("/proc/diskstats").splitlines():
            f = line.split(None, 10)
            if len(f) > 9 and f[2] in self._disks:
                read += int(f[5])
                written += int(f[9])
        return read * SECTOR, written * SECTOR

    def sample(self, now: float) -> list[tuple[str, float]]:
        if self._proc:
            return self.rates(self._from_proc())
        io = psutil.disk_io_counters()
        return [] if io is None else self.rates((io.read_bytes, io.write_bytes))


class DiskUsageProbe(Probe):
    """Space used on the volume holding the working directory (as it was when the probe was made)."""

    name = "disk_usage"

    def __init__(self, path: str | None = None):
        self.path = path or os.getcwd()

    def sample(self, now: float) -> list[tuple[str, float]]:
        return [(DISK_USAGE_PERCENT, psutil.disk_usage(self.path).percent)]


def _loopback(name: str) -> bool:
    return name == "lo" or name.startswith("lo0") or "loopback" in name.lower()


class NetworkProbe(RateProbe):
    """Bytes/s sent and received on every interface but loopback (the notebook's own traffic)."""

    name = "network"
    names = (NET_SENT, NET_RECV)

    def __init__(self, procfs: bool = True):
        super().__init__()
        self._proc = procfs and LINUX and _works(self._from_proc)

    @staticmethod
    def _from_proc() -> tuple[int, int]:
        sent = received = 0
        for line in _read("/proc/net/dev").splitlines()[2:]:
            name, _, rest = line.partition(b":")
            if name.strip() != b"lo":
                f = rest.split()
                received += int(f[0])
                sent += int(f[8])
        return sent, received

    def sample(self, now: float) -> list[tuple[str, float]]:
        if self._proc:
            return self.rates(self._from_proc())
        nics = psutil.net_io_counters(pernic=True)
        kept = [c for n, c in nics.items() if not _loopback(n)]
        return self.rates((sum(c.bytes_sent for c in kept), sum(c.bytes_recv for c in kept)))


class ProcessProbe(Probe):
    """This process: CPU % (100 = one core), threads, RSS and the RSS peak since reset."""

    name = "process"
    KEYS = (b"VmRSS:", b"VmHWM:", b"Threads:")

    def __init__(self, procfs: bool = True):
        self._proc = procfs and LINUX and _works(self._from_proc)
        # psutil's path, off Linux; cached because building a Process costs more than reading one
        self._process = None if self._proc else psutil.Process()
        self.reset()

    def _from_proc(self) -> tuple[int, int | None, int]:
        rss, hwm, threads = _fields(_read("/proc/self/status"), self.KEYS)
        return rss * 1024, hwm * 1024, threads

    def _memory(self) -> tuple[int, int | None, int]:
        """(rss, lifetime peak rss or None, threads)."""
        if self._proc:
            return self._from_proc()
        assert self._process is not None  # built in __init__ when /proc is not read
        with self._process.oneshot():
            info: Any = self._process.memory_info()  # its fields differ by platform
            rss, threads = info.rss, self._process.num_threads()
        if hasattr(info, "peak_wset"):  # Windows
            return rss, info.peak_wset, threads
        if resource is None:
            return rss, None, threads
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, KiB elsewhere
        return rss, peak if sys.platform == "darwin" else peak * 1024, threads

    def reset(self) -> None:
        self._last_cpu: tuple[float, float] | None = None
        self._peak = 0
        try:
            self._hwm_at_start = self._memory()[1]
        except Exception:
            self._hwm_at_start = None

    def sample(self, now: float) -> list[tuple[str, float]]:
        wall, t = time.monotonic(), os.times()
        cpu = t.user + t.system
        rss, hwm, threads = self._memory()
        self._peak = max(self._peak, rss)
        # The kernel's lifetime peak also catches spikes between ticks, once it passes its start value.
        if hwm is not None and self._hwm_at_start is not None and hwm > self._hwm_at_start:
            self._peak = max(self._peak, hwm)
        out = [(PROC_RSS, float(rss)), (PROC_RSS_PEAK, float(self._peak)), (PROC_THREADS, float(threads))]
        last = self._last_cpu
        if last is not None and wall - last[0] < MIN_RATE_GAP_S:
            return out
        self._last_cpu = (wall, cpu)
        if last is not None:
            percent = 100.0 * (cpu - last[1]) / (wall - last[0])
            out.append((PROC_CPU, min(max(0.0, percent), 100.0 * CORES)))
        return out


def default_probes_and_status(nvml: Any = None) -> tuple[list[Probe], str]:
    """The default probes and the GPU status line (see HardwareSampler.gpu_status)."""
    probes: list[Probe] = [
        CpuProbe(),
        MemoryProbe(),
        DiskIoProbe(),
        DiskUsageProbe(),
        NetworkProbe(),
        ProcessProbe(),
    ]
    state = nvml_state(nvml)
    if state.module is not None:
        probes.append(GpuProbe(state))
    return probes, state.status
