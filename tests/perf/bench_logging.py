"""Logging throughput: jupyter-tracker against raw sqlite3 executemany, measured in the same run.

    python tests/perf/bench_logging.py [--steps 5000] [--metrics 20]

Prints µs per point on the caller's thread and end to end (including the final flush), the same rows
written with one raw executemany transaction (with and without a primary-key index), bytes per stored
point, and the cost of opening and closing an empty run.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import jupyter_tracker


def bench_tracker(db: Path, steps: int, metrics: int) -> dict:
    keys = [f"metric_{i:02d}" for i in range(metrics)]
    values = [{k: 0.001 * i * (j + 1) for j, k in enumerate(keys)} for i in range(steps)]
    # The first run of a process also scans installed packages once (~60 ms); keep that out of the rate.
    jupyter_tracker.start_run(name="warm-up", project="bench", db=db, system=False).finish()
    run = jupyter_tracker.start_run(name="bench", project="bench", db=db, system=False)
    start = time.perf_counter()
    for row in values:
        run.log(row)
    logged = time.perf_counter()
    run.finish()
    done = time.perf_counter()
    points = steps * metrics
    return {"caller_us": (logged - start) / points * 1e6, "end_to_end_us": (done - start) / points * 1e6}


def bench_raw(path: Path, steps: int, metrics: int, *, primary_key: bool) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    if primary_key:
        conn.execute(
            "CREATE TABLE m (run INT, key INT, step INT, time REAL, value REAL, "
            "PRIMARY KEY (run, key, step, time)) WITHOUT ROWID"
        )
    else:
        conn.execute("CREATE TABLE m (run INT, key INT, step INT, time REAL, value REAL)")
    start = time.perf_counter()
    now = time.time()
    rows = [(1, j, i, now, 0.001 * i * (j + 1)) for i in range(steps) for j in range(metrics)]
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO m VALUES (?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed / (steps * metrics) * 1e6


def bytes_per_point(db: Path, points: int) -> float:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    try:
        used = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name IN ('metrics')").fetchone()[0]
    except sqlite3.OperationalError:  # SQLite built without dbstat: fall back to the file size
        used = os.path.getsize(db)
    conn.close()
    return used / points


def bench_empty_run(db: Path, repeat: int = 20) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        jupyter_tracker.start_run(project="bench", db=db, system=False).finish()
    return (time.perf_counter() - start) / repeat * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--metrics", type=int, default=20)
    args = parser.parse_args()
    points = args.steps * args.metrics
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tracker = bench_tracker(tmp / "tracker.db", args.steps, args.metrics)
        raw_plain = bench_raw(tmp / "raw.db", args.steps, args.metrics, primary_key=False)
        raw_pk = bench_raw(tmp / "raw_pk.db", args.steps, args.metrics, primary_key=True)
        size = bytes_per_point(tmp / "tracker.db", points)
        empty_ms = bench_empty_run(tmp / "empty.db")
    print(
        f"{args.steps} steps x {args.metrics} metrics = {points:,} points (Python {sys.version.split()[0]}, "
        f"SQLite {sqlite3.sqlite_version})"
    )
    print(f"{'':38}{'µs/point':>10}{'vs raw':>10}{'vs raw+pk':>11}")
    for label, value in [
        ("raw sqlite3 executemany (no index)", raw_plain),
        ("raw sqlite3 executemany (primary key)", raw_pk),
        ("jupyter-tracker, caller's thread", tracker["caller_us"]),
        ("jupyter-tracker, end to end", tracker["end_to_end_us"]),
    ]:
        print(f"{label:38}{value:10.2f}{value / raw_plain:9.2f}x{value / raw_pk:10.2f}x")
    print(f"bytes per stored point: {size:.1f}")
    print(f"open + close an empty run: {empty_ms:.1f} ms")


if __name__ == "__main__":
    main()
