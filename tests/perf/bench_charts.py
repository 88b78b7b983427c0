"""Charts, comparison table and live panel: kernel time, each beside a baseline measured in the same run.

    python tests/perf/bench_charts.py [--points 1000000] [--runs 1000]

1. A series of `--points` points -> downsampled Altair chart -> Vega-Lite JSON (what a notebook gets),
   beside: the same chart from naive stride decimation (cannot keep spikes), and pandas' own sort of the
   series (a floor for anything that looks at every point).
2. The comparison table of `--runs` runs (DataFrame and widget payload), beside `jupyter_tracker.runs()`
   (the plain listing of the same runs).
3. A logging loop with the live panel subscribed, beside the same loop without it.
4. The static fallback image (vl-convert PNG) of a 4-metric chart.
Figures are medians of a few repeats, in milliseconds, unless marked.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import jupyter_tracker
from jupyter_tracker.charts import overlay, vega
from jupyter_tracker.charts.downsample import downsample
from jupyter_tracker.reading.comparison import Comparison
from jupyter_tracker.tracking.stores import store_for


def timed(fn, repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def bench_chart(points: int) -> None:
    rng = np.random.default_rng(0)
    values = np.cumsum(rng.normal(size=points)) / 100
    values[points // 3] += 50  # a spike a good downsampler keeps
    frame = pd.DataFrame(
        {
            "key": "loss",
            "step": np.arange(points),
            "value": values,
            "time": pd.to_datetime(1.7e9 + np.arange(points) * 0.01, unit="s", utc=True),
        }
    )

    def ours():
        return overlay.metric_chart(frame).to_dict(validate=False)

    def naive():
        part = frame.iloc[:: max(points // 2000, 1)]
        return overlay.metric_chart(part).to_dict(validate=False)

    ours_ms, naive_ms = timed(ours), timed(naive)
    sort_ms = timed(lambda: frame.sort_values("step"))
    kept = downsample(frame)
    print(f"1. {points:,}-point series -> chart JSON (kernel time; target < 500 ms)")
    print(f"   downsample + chart + JSON          {ours_ms:8.1f} ms   ({len(kept)} points kept)")
    print(f"   baseline: stride decimation chart  {naive_ms:8.1f} ms")
    print(f"   baseline: pandas sort of the series{sort_ms:8.1f} ms")
    spike = values.max()
    print(
        f"   spike kept: ours {kept['value'].max() == spike}, stride {frame.iloc[:: points // 2000]['value'].max() == spike}"
    )
    lines = overlay.metric_chart(frame.assign(key=np.where(np.arange(points) % 4 == 0, "a", "b")))
    print(
        f"   2 keys, same points                {timed(lambda: lines.to_dict(validate=False)):8.1f} ms (JSON only)"
    )


def bench_comparison(db: Path, runs: int) -> None:
    store = store_for(db)
    start = time.perf_counter()
    for i in range(runs):
        run = jupyter_tracker.start_run(
            name=f"r{i}", project="bench", params={"lr": 10 ** -(i % 5), "seed": i, "opt": "adam"}, db=store,
            system=False,
        )  # fmt: skip
        for step in range(5):
            run.log(loss=1 / (step + 1 + i), acc=step / 5, lr=0.1)
        run.finish()
    made = time.perf_counter() - start
    infos = store.list_runs(project="bench")

    def table():
        return Comparison(store, store.list_runs(project="bench")).frame

    def payload():
        from jupyter_tracker.notebook.widgets.compare import table_columns, table_rows

        frame = Comparison(store, infos).frame
        return table_columns(frame), table_rows(frame)

    print(f"2. comparison of {len(infos):,} runs (target < 1000 ms; {made:.1f} s to create them)")
    print(f"   compare(): list + summaries + frame{timed(table, 3):8.1f} ms")
    print(f"   frame + widget table payload       {timed(payload, 3):8.1f} ms")
    print(
        f"   baseline: jupyter_tracker.runs()   {timed(lambda: jupyter_tracker.runs(project='bench', db=store), 3):8.1f} ms"
    )


def bench_live(db: Path, steps: int = 20_000, metrics: int = 10) -> None:
    from jupyter_tracker.notebook.widgets.live import LivePanel

    row = {f"m{j}": 0.5 for j in range(metrics)}

    def loop(panel: bool) -> float:
        run = jupyter_tracker.start_run(name="live", project="live", db=db, system=False)
        live = LivePanel(run) if panel else None
        start = time.perf_counter()
        for i in range(steps):
            run.log(row, step=i)
        run.finish()
        elapsed = time.perf_counter() - start
        if live is not None:
            live.close()
        return elapsed / (steps * metrics) * 1e6

    loop(True)  # warm: the JS bundle, imports
    with_panel = statistics.median(loop(True) for _ in range(3))
    without = statistics.median(loop(False) for _ in range(3))
    print(f"3. logging {steps * metrics:,} points, end to end (µs per point)")
    print(f"   with the live panel subscribed     {with_panel:8.2f} µs")
    print(f"   baseline: no panel                 {without:8.2f} µs")


def bench_static() -> None:
    rows = [(k, s, float(np.sin(s / 50) + i), 1.7e9 + s) for i, k in enumerate("abcd") for s in range(2000)]
    chart = overlay.metric_chart(pd.DataFrame(rows, columns=["key", "step", "value", "time"]))
    vega.to_png(chart)  # first call starts vl-convert's engine
    print("4. static fallback of a 4-metric chart (8,000 points)")
    print(f"   PNG (vl-convert)                   {timed(lambda: vega.to_png(chart), 3):8.1f} ms")
    print(f"   SVG (vl-convert)                   {timed(lambda: vega.to_svg(chart), 3):8.1f} ms")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        bench_chart(args.points)
        bench_comparison(Path(tmp) / "compare.db", args.runs)
        bench_live(Path(tmp) / "live.db")
        bench_static()


if __name__ == "__main__":
    sys.exit(main())
