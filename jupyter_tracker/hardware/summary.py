"""The hardware summary of a run: peaks, means and totals from its `system/...` points."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

from ..models import SYSTEM_PREFIX
from .metrics import (
    CPU_PERCENT,
    DISK_READ,
    DISK_WRITE,
    GPU_MEM_USED,
    GPU_PROC_MEM,
    GPU_UTIL,
    NET_RECV,
    NET_SENT,
    PROC_RSS,
    PROC_RSS_PEAK,
    key_pattern,
)


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
        pattern = key_pattern(template)
        sums: defaultdict[float, float] = defaultdict(float)
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
    util_pattern = key_pattern(GPU_UTIL)
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
