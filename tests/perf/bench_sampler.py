"""Hardware sampler cost: CPU time per tick and as % of one core, beside a plain-psutil tick measured in
the same run.

    python tests/perf/bench_sampler.py [--calls 1000] [--ticks 60] [--idle 10]

1. Direct: each probe, and a whole tick, called `--calls` times on this thread (time.thread_time), for
   our probes (/proc readers on Linux), the same probes forced onto psutil, and a naive psutil tick
   (cpu_percent(percpu=True), virtual_memory, swap_memory, disk_io_counters, disk_usage, net_io_counters,
   a cached Process's cpu_percent/memory_info/num_threads).
2. Live: a real HardwareSampler with a no-op sink for `--ticks` ticks at 0.1 s and at 1 s intervals, with
   our probes and with them forced onto psutil: the sampler thread's own CPU clock per tick, and the
   process CPU time against an idle baseline. Live ticks cost several times the direct figure: after a
   sleep the CPU caches are cold. With the defaults the whole script takes about 2.5 minutes.
"""

from __future__ import annotations

import argparse
import os
import time

import psutil

from jupyter_tracker.hardware.probes import (
    CpuProbe,
    DiskIoProbe,
    DiskUsageProbe,
    MemoryProbe,
    NetworkProbe,
    ProcessProbe,
    default_probes_and_status,
)
from jupyter_tracker.hardware.sampler import HardwareSampler


def per_call_us(fn, calls: int) -> float:
    fn()
    start = time.thread_time()
    for _ in range(calls):
        fn()
    return (time.thread_time() - start) / calls * 1e6


def naive_psutil_tick():
    process = psutil.Process()
    cwd = os.getcwd()

    def tick():
        psutil.cpu_percent(percpu=True)
        psutil.virtual_memory()
        psutil.swap_memory()
        psutil.disk_io_counters()
        psutil.disk_usage(cwd)
        psutil.net_io_counters()
        with process.oneshot():
            process.cpu_percent()
            process.memory_info()
            process.num_threads()

    return tick


def pct(us: float, interval: float) -> str:
    return f"{us / 1e6 / interval * 100:.4f}%"


def psutil_probes() -> list:
    """Our probes forced onto psutil (what they cost off Linux, or without the /proc readers)."""
    return [
        CpuProbe(False),
        MemoryProbe(False),
        DiskIoProbe(False),
        DiskUsageProbe(),
        NetworkProbe(False),
        ProcessProbe(False),
    ]


def direct(calls: int) -> None:
    ours, gpu_status = default_probes_and_status()
    forced = psutil_probes()
    print(f"GPU: {gpu_status}\n")
    print(f"Direct, {calls} calls each, µs of thread CPU per call")
    print(f"{'probe':<12} {'ours':>8} {'psutil':>8}")
    for a, b in zip(ours, forced, strict=False):
        print(
            f"{a.name:<12} {per_call_us(lambda p=a: p.sample(0.0), calls):8.1f} "
            f"{per_call_us(lambda p=b: p.sample(0.0), calls):8.1f}"
        )
    rows = []
    for label, probes in (("ours", ours), ("ours forced onto psutil", forced)):
        s = HardwareSampler(lambda t, v: None, probes=probes)
        rows.append((label, per_call_us(lambda s=s: s._tick(s._abandon), calls)))
    rows.append(("naive psutil tick (baseline)", per_call_us(naive_psutil_tick(), calls)))
    print(f"\n{'whole tick (with a no-op sink)':<32} {'µs/tick':>8} {'% core @1s':>11} {'% core @0.1s':>13}")
    for label, us in rows:
        print(f"{label:<32} {us:8.1f} {pct(us, 1.0):>11} {pct(us, 0.1):>13}")


def live(ticks: int, idle_seconds: float) -> None:
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    time.sleep(idle_seconds)
    idle_per_s = (time.process_time() - start_cpu) / (time.perf_counter() - start_wall)
    print(f"\nLive, {ticks} ticks per run; idle process baseline {idle_per_s * 1e6:.1f} µs CPU per s")
    print(
        f"{'probes':<7} {'interval':>8} {'ticks':>6} {'wall s':>7} {'thread µs/tick':>15} {'% core':>9} "
        f"{'process µs/tick':>16} {'% core':>9}"
    )
    for label, interval in (("ours", 0.1), ("psutil", 0.1), ("ours", 1.0), ("psutil", 1.0)):
        probes = default_probes_and_status()[0] if label == "ours" else psutil_probes()
        s = HardwareSampler(lambda t, v: None, interval=interval, probes=probes)
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        s.start()
        time.sleep((ticks - 1.5) * interval)  # one sleep: the main thread adds no CPU of its own
        s.stop()
        wall = time.perf_counter() - start_wall
        process_us = ((time.process_time() - start_cpu) - idle_per_s * wall) / s.ticks * 1e6
        thread_us = s.cpu_time / s.ticks * 1e6
        print(
            f"{label:<7} {interval:8.1f} {s.ticks:6d} {wall:7.1f} {thread_us:15.1f} "
            f"{pct(thread_us, interval):>9} {process_us:16.1f} {pct(process_us, interval):>9}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--ticks", type=int, default=60)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle baseline")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, psutil {psutil.__version__}\n")
    direct(args.calls)
    live(args.ticks, args.idle)


if __name__ == "__main__":
    main()
