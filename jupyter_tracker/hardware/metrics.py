"""The hardware metrics: their `system/...` names, units and meanings, and the probe protocol.

Everything else in hardware/ builds on these names; nothing here reads the machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..config import MIN_INTERVAL, check_interval
from ..models import SYSTEM_PREFIX

__all__ = [
    "MIN_INTERVAL",
    "SYSTEM_PREFIX",
    "MetricInfo",
    "METRICS",
    "Probe",
    "check_interval",
    "key_pattern",
    "metric_info",
]

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

DEFAULT_INTERVAL = 1.0


def key_pattern(template: str) -> re.Pattern:
    return re.compile(re.escape(template).replace(re.escape("{index}"), r"(\d+)") + "$")


_PATTERNS = [(key_pattern(m.name), m) for m in METRICS]


def metric_info(key: str) -> MetricInfo | None:
    """The MetricInfo a stored key belongs to (`system/gpu1/power_w` -> GPU_POWER), or None."""
    for pattern, info in _PATTERNS:
        if pattern.match(key):
            return info
    return None


class Probe:
    """One source of hardware metrics. A subclass sets `name` and implements `sample`."""

    name: str = "probe"

    def reset(self) -> None:
        """Forget earlier readings: the next sample starts a new series (a rate needs two readings)."""

    def sample(self, now: float) -> list[tuple[str, float]]:
        """(metric name, value) pairs read now; `now` is the tick's wall-clock time."""
        raise NotImplementedError
