"""Side by side: jupyter-tracker, Trackio and wandb (offline) on one workload, beside raw sqlite3.

    python tests/perf/bench_peers.py [--steps 5000] [--metrics 20] [--repeat 3] [--writers 4] [--only TRACKER ...] [--writers-only]

Every measurement runs in a fresh Python process on a fresh database folder, `--repeat` times; the
median is shown. Peers are measured where they are installed (`pip install -e ".[bench]"`); a missing
one is reported and skipped. For each tracker: the seconds its init takes, µs per point on the caller's
thread (the logging loop) and end to end (loop plus the final finish/flush), with its hardware sampler off
and on. The baseline is one raw `executemany` of the same rows into our table layout (the metrics table
with its primary key), measured in the same run.

Then `--writers` processes log at once into one database (one project for Trackio): the total points per
second beside one writer's. Figures only: no assertions.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRACKERS = {
    "jupyter-tracker": "jupyter_tracker",
    "trackio": "trackio",
    "wandb": "wandb",
}


# -- children: one measurement each, in its own process ------------------------------------------------
def workload(steps: int, metrics: int) -> list[dict]:
    keys = [f"metric_{i:02d}" for i in range(metrics)]
    return [{k: 0.001 * i * (j + 1) for j, k in enumerate(keys)} for i in range(steps)]


def child_raw(folder: Path, steps: int, metrics: int) -> dict:
    from bench_logging import bench_raw  # beside this file: the same baseline as bench_logging.py's

    took = bench_raw(folder / "raw.db", steps, metrics, primary_key=True) * steps * metrics / 1e6
    return {"init": 0.0, "caller": took, "end_to_end": took}


def open_tracker(tracker: str, folder: Path, sampler: bool, name: str):
    """(run, log, finish) of a fresh run; the import and init are what `init` times."""
    if tracker == "jupyter-tracker":
        import jupyter_tracker

        run = jupyter_tracker.start_run(name=name, project="bench", db=folder / "tracker.db", system=sampler)
        return run.log, run.finish
    if tracker == "trackio":
        os.environ["TRACKIO_DIR"] = str(folder)
        import trackio

        trackio.init(project="bench", name=name, embed=False, auto_log_cpu=sampler, auto_log_gpu=False)
        return trackio.log, trackio.finish
    import wandb

    settings = wandb.Settings(x_disable_stats=not sampler, silent=True)
    run = wandb.init(project="bench", name=name, mode="offline", dir=str(folder), settings=settings)
    return run.log, run.finish


def child_tracker(
    tracker: str, folder: Path, steps: int, metrics: int, sampler: bool, start_at: float
) -> dict:
    rows = workload(steps, metrics)
    begin = time.perf_counter()
    log, finish = open_tracker(tracker, folder, sampler, f"bench-{os.getpid()}")
    init = time.perf_counter() - begin
    while time.time() < start_at:  # several writers start together
        time.sleep(0.001)
    start = time.perf_counter()
    for step, row in enumerate(rows):
        log(row, step=step)
    logged = time.perf_counter()
    finish()
    done = time.perf_counter()
    return {"init": init, "caller": logged - start, "end_to_end": done - start}


def child(options) -> None:
    folder = Path(options.folder)
    if options.child == "raw":
        result = child_raw(folder, options.steps, options.metrics)
    else:
        result = child_tracker(
            options.child, folder, options.steps, options.metrics, options.sampler, options.start_at
        )
    print("RESULT " + json.dumps(result), flush=True)


# -- the parent: fresh processes, medians, ratios -------------------------------------------------------
def spawn(kind: str, folder: Path, options, *, sampler: bool = False, start_at: float = 0.0):
    command = [sys.executable, __file__, "--child", kind, "--folder", str(folder)]
    command += ["--steps", str(options.steps), "--metrics", str(options.metrics), "--start-at", str(start_at)]
    if sampler:
        command.append("--sampler")
    env = {**os.environ, "WANDB_SILENT": "true", "WANDB_MODE": "offline", "TRACKIO_DIR": str(folder)}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def collect(process) -> dict:
    out, err = process.communicate(timeout=600)
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"benchmark child failed:\n{err[-2000:]}")


def measure(kind: str, options, *, sampler: bool = False) -> dict:
    results = []
    for _ in range(options.repeat):
        with tempfile.TemporaryDirectory() as folder:
            results.append(collect(spawn(kind, Path(folder), options, sampler=sampler)))
    return {name: statistics.median(r[name] for r in results) for name in results[0]}


def concurrent(kind: str, options, writers: int) -> float:
    """Total points per second of `writers` processes logging into one database at once (median)."""
    rates = []
    for _ in range(options.repeat):
        with tempfile.TemporaryDirectory() as folder:
            start_at = time.time() + 8 + writers  # after every process has imported and started its run
            processes = [spawn(kind, Path(folder), options, start_at=start_at) for _ in range(writers)]
            results = [collect(p) for p in processes]
            # From the common start to the last writer's end: what a user waits for.
            rates.append(writers * options.steps * options.metrics / max(r["end_to_end"] for r in results))
    return statistics.median(rates)


def installed(only: list[str] | None) -> list[str]:
    found = []
    for name, module in TRACKERS.items():
        if only and name not in only:
            continue
        if importlib.util.find_spec(module) is None:
            print(f"{name}: not installed, skipped (pip install -e '.[bench]')")
        else:
            found.append(name)
    return found


def report(options) -> None:
    points = options.steps * options.metrics
    trackers = installed(options.only)
    if options.writers_only:
        return writers(options, trackers)
    raw = measure("raw", options)["end_to_end"] / points * 1e6
    rows = {}
    for tracker in trackers:
        for sampler in (False, True):
            rows[(tracker, sampler)] = measure(tracker, options, sampler=sampler)
    print(
        f"\n{options.steps} steps x {options.metrics} metrics = {points:,} points, median of {options.repeat} "
        f"fresh processes (Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs)"
    )
    print(f"raw sqlite3 executemany, our table layout: {raw:.2f} µs/point\n")
    head = f"{'':32}{'init s':>8}{'caller µs/pt':>14}{'end to end':>12}{'vs raw':>8}"
    print(head + "".join(f"{'vs ' + t:>18}" for t in trackers if t != "jupyter-tracker"))
    for (tracker, sampler), r in rows.items():
        e2e = r["end_to_end"] / points * 1e6
        line = f"{tracker + (', sampler on' if sampler else ''):32}{r['init']:8.2f}"
        line += f"{r['caller'] / points * 1e6:14.2f}{e2e:12.2f}{e2e / raw:7.2f}x"
        if tracker == "jupyter-tracker":
            for peer in trackers[1:]:
                line += f"{rows[(peer, sampler)]['end_to_end'] / r['end_to_end']:16.2f}x "
        print(line)
    if trackers[1:]:
        print("(vs <peer>: how many times faster than that peer end to end, same sampler setting)")
    writers(options, trackers)


def writers(options, trackers: list[str]) -> None:
    if options.writers > 1:
        print(f"\n{options.writers} processes logging at once into one database, total points/s:")
        for tracker in trackers:
            one = concurrent(tracker, options, 1)
            many = concurrent(tracker, options, options.writers)
            print(f"{tracker:32}{'1 writer':>10}{one:12,.0f}{f'{options.writers} writers':>12}{many:12,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--metrics", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--only", nargs="+", choices=list(TRACKERS), help="measure only these trackers")
    parser.add_argument("--writers-only", action="store_true", help="only the several-writers figures")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--sampler", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, default=0.0, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options)
    else:
        report(options)


if __name__ == "__main__":
    main()
