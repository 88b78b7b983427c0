"""Pushing a run to an MLflow tracking server, beside MLflow's own client logging the same points.

    python tests/perf/bench_mlflow.py [--steps 10000] [--keys 10] [--baseline-steps 300] [--url URL]

Starts `mlflow server` (sqlite backend, artifacts proxied) in a temporary folder unless --url names one.
Logs a finished run of steps x keys points (100,000 by default) with jupyter-tracker, then times
`jupyter_tracker.push(...)` of it (card included) and, against the same server, `mlflow.log_metrics({...},
step=...)` once per step, the way a training loop logs with MLflow. MLflow's client makes one request per
call, so it is timed on the first --baseline-steps steps and its per-point cost is printed beside ours (and
what the whole run would take at that rate). Figures only: no assertions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the server harness

import jupyter_tracker as jt


def log_run(db: Path, steps: int, keys: int) -> None:
    with jt.start_run(name="bench", project="bench-push", db=db, system=False) as run:
        run.log_params({"lr": 0.01, "batch": 64})
        for step in range(steps):
            run.log({f"metric_{k:02d}": step * 0.001 + k for k in range(keys)})


def time_push(db: Path, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    [pushed] = jt.push("bench", url=url, db=db)
    return time.perf_counter() - started, pushed.points


def time_mlflow(url: str, steps: int, keys: int) -> float:
    import mlflow

    mlflow.set_tracking_uri(url)
    mlflow.set_experiment("bench-mlflow")
    started = time.perf_counter()
    with mlflow.start_run(run_name="bench"):
        for step in range(steps):
            mlflow.log_metrics({f"metric_{k:02d}": step * 0.001 + k for k in range(keys)}, step=step)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--baseline-steps", type=int, default=300)
    parser.add_argument("--url", help="an MLflow server to use (default: start one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        process = None
        url = args.url
        if url is None:
            from mlflow_harness import start_mlflow_server

            process, url = start_mlflow_server(folder)
        try:
            db = folder / "tracker.db"
            log_run(db, args.steps, args.keys)
            seconds, points = time_push(db, url)
            baseline = time_mlflow(url, args.baseline_steps, args.keys)
        finally:
            if process is not None:
                from mlflow_harness import stop

                stop(process)
    per_point = baseline / (args.baseline_steps * args.keys)
    print(
        f"MLflow server: {url}; {args.steps:,} steps x {args.keys} keys = {args.steps * args.keys:,} points"
    )
    print(f"{'':44} {'seconds':>9} {'µs/point':>9}")
    print(f"{'jupyter-tracker push (one request per 1,000)':44} {seconds:9.2f} {seconds / points * 1e6:9.1f}")
    whole = per_point * args.steps * args.keys
    print(
        f"{'mlflow.log_metrics per step (one request each)':44} {whole:9.2f} {per_point * 1e6:9.1f}"
        f"   (timed on {args.baseline_steps:,} steps: {baseline:.2f} s)"
    )
    print(f"push is {whole / seconds:.0f}x faster for this run")


if __name__ == "__main__":
    main()
