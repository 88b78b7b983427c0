"""Reading costs: listing runs and reading a big run, beside raw sqlite3 reads of the same rows.

    python tests/perf/bench_reading.py [--runs 10000] [--points 1000000] [--repeat 5]

Builds a database in a temporary folder with direct store inserts (no run is logged): `--runs` finished
runs with params and tags, and one run of `--points` points over 20 keys. Prints, each beside its
baseline, the median time of runs(limit=100) and compare(last=100) (a raw SELECT ... LIMIT 100 of the
same rows), and of load_run(...).metrics() with its peak memory growth (tracemalloc; numpy and pandas
report their buffers to it) beside a raw fetchall of the same rows; then the HTML and JSON cards of that run. Figures only: no assertions.
"""

from __future__ import annotations

import argparse
import gc
import json
import sqlite3
import statistics
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

import jupyter_tracker as jt
from jupyter_tracker.store import Store

KEYS = 20


def build(path: Path, runs: int, points: int) -> int:
    """The database; returns the id of the big run."""
    store = Store(path)
    with store.db.transaction() as conn:
        conn.executemany(
            "INSERT INTO runs (id, uuid, project, name, status, created, started, ended) "
            "VALUES (?, ?, 'bench', ?, 'finished', ?, ?, ?)",
            [(i, uuid.uuid4().hex, f"run-{i}", 1e9 + i, 1e9 + i, 1e9 + i + 60) for i in range(1, runs + 1)],
        )
        conn.executemany(
            "INSERT INTO params (run, key, value) VALUES (?, ?, ?)",
            [(i, key, json.dumps(i * 0.001)) for i in range(1, runs + 1) for key in ("lr", "batch", "seed")],
        )
        conn.executemany(
            "INSERT INTO tags (run, tag) VALUES (?, ?)", [(i, f"t{i % 7}") for i in range(1, runs + 1)]
        )
        conn.executemany(
            "INSERT INTO metric_keys (run, id, name) VALUES (?, ?, ?)",
            [(i, k, f"metric_{k:02d}") for i in range(1, runs + 1) for k in range(3)],
        )
    big = runs + 1
    store.create_run("bench", ["big"], 2e9, status="running")
    with store.db.transaction() as conn:
        conn.executemany(
            "INSERT INTO metric_keys (run, id, name) VALUES (?, ?, ?)",
            [(big, k, f"metric_{k:02d}") for k in range(KEYS)],
        )
        steps = points // KEYS
        conn.executemany(
            "INSERT INTO metrics (run, key, step, time, value) VALUES (?, ?, ?, ?, ?)",
            ((big, k, s, 2e9 + s * 0.01, None if s % 997 == 0 else s * 0.5) for k in range(KEYS) for s in range(steps)),
        )  # fmt: skip
    store.end_run(big, "finished", 2e9 + 1000)
    store.close()
    return big


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def peak_mb(fn) -> tuple[float, float]:
    """(seconds of one untraced call, peak traced memory growth in MB of a second, traced call)."""
    gc.collect()
    start = time.perf_counter()
    result = fn()
    took = time.perf_counter() - start
    del result
    gc.collect()
    tracemalloc.start()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return took, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tracker.db"
        start = time.perf_counter()
        big = build(path, options.runs, options.points)
        print(
            f"built {options.runs:,} runs and a {options.points:,}-point run in {time.perf_counter() - start:.1f} s"
        )
        raw = sqlite3.connect(path)
        select = "SELECT * FROM runs ORDER BY created DESC, id DESC LIMIT 100"
        jt.runs(limit=100, db=path)  # open the store once (and import pandas) outside the timings
        print(
            f"raw SELECT ... LIMIT 100:          {median_ms(lambda: raw.execute(select).fetchall(), options.repeat):8.2f} ms"
        )
        print(
            f"runs(limit=100):                   {median_ms(lambda: jt.runs(limit=100, db=path), options.repeat):8.2f} ms"
        )
        print(
            f"compare(last=100):                 {median_ms(lambda: jt.compare(last=100, db=path), options.repeat):8.2f} ms"
        )
        rows = "SELECT key, step, value, time FROM metrics WHERE run = ? ORDER BY key, step, time"
        took, peak = peak_mb(lambda: raw.execute(rows, (big,)).fetchall())
        print(f"raw fetchall of {options.points:,} points:   {took:8.2f} s, peak +{peak:6.0f} MB")
        record = jt.load_run(big, db=path)
        took, peak = peak_mb(record.metrics)
        print(f"load_run(...).metrics():           {took:8.2f} s, peak +{peak:6.0f} MB")
        took, peak = peak_mb(lambda: record.metrics(steps=range(0, 1000)))
        print(f"metrics(steps=range(0, 1000)):     {took:8.3f} s, peak +{peak:6.1f} MB")
        record.export(Path(folder) / "warm.html")  # vl-convert's first chart starts its engine: not timed
        for kind in ("html", "json"):
            card = Path(folder) / f"card.{kind}"
            took = median_ms(lambda card=card: record.export(card), 3) / 1000
            print(
                f"{kind.upper()} card of that run:            {took:8.2f} s, {card.stat().st_size / 1e6:6.1f} MB"
            )
        raw.close()


if __name__ == "__main__":
    main()
