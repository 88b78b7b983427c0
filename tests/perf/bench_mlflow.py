"""Pushing a run to an MLflow tracking server, beside MLflow's own client logging the same points.

    python tests/perf/bench_mlflow.py [--steps 10000] [--keys 10] [--baseline-steps 1000] [--workers 4]
                                      [--in-flight 1,2,3] [--url URL]

Starts `mlflow server` (sqlite backend, artifacts proxied, --workers as given: 4 is what `mlflow server`
starts by default, the tests use 1) in a temporary folder unless --url names one. Logs a finished run of
steps x keys points (100,000 by default) with jupyter-tracker, then times `jupyter_tracker.push(...)` of it
(card included), once per --in-flight value (log-batch requests kept in flight; a fresh run each time), and,
against the same server, `mlflow.log_metrics({...}, step=...)` once per step, the way a training loop logs
with MLflow. MLflow's client makes one request per call, so it is timed on the first --baseline-steps steps
and the whole run is counted at that rate. Both sides are warmed up first (a small push, a few steps):
a server's first requests are slower. Figures only: no assertions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the server harness

import jupyter_tracker as jt
from jupyter_tracker.sharing import rest


def server_cpu(process) -> float:
    """CPU seconds used so far by the server's processes (its workers included); 0 for a server given by
    --url. Wall time on a busy machine varies by a third from one try to the next; CPU time much less."""
    if process is None:
        return 0.0
    import psutil

    total = 0.0
    for one in [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]:
        try:
            times = one.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def settle(process, most: float = 60.0) -> None:
    """Wait until the server is idle: `mlflow server` starts 8 helper processes that are busy for its
    first 10-20 s."""
    deadline = time.monotonic() + most
    while process is not None and time.monotonic() < deadline:
        before = server_cpu(process)
        time.sleep(1.0)
        if server_cpu(process) - before < 0.05:
            return


def log_run(db: Path, name: str, steps: int, keys: int) -> None:
    with jt.start_run(name=name, project="bench-push", db=db, system=False) as run:
        run.log_params({"lr": 0.01, "batch": 64})
        for step in range(steps):
            run.log({f"metric_{k:02d}": step * 0.001 + k for k in range(keys)})


def time_push(db: Path, url: str, name: str, in_flight: int, process=None) -> tuple[float, float, float, int]:
    """Wall seconds, our CPU seconds, the server's CPU seconds and the points sent."""
    rest.IN_FLIGHT = in_flight
    cpu, server, started = time.process_time(), server_cpu(process), time.perf_counter()
    [pushed] = jt.push(name, url=url, db=db)
    seconds = time.perf_counter() - started
    return seconds, time.process_time() - cpu, server_cpu(process) - server, pushed.points


def time_mlflow(url: str, steps: int, keys: int, process=None) -> tuple[float, float, float]:
    """Wall seconds, our CPU seconds and the server's CPU seconds of `steps` log_metrics calls."""
    import mlflow

    mlflow.set_tracking_uri(url)
    mlflow.set_experiment("bench-mlflow")
    with mlflow.start_run(run_name="warm-up"):  # the client's first calls, and each worker's
        for step in range(20):
            mlflow.log_metrics({f"metric_{k:02d}": step * 0.001 + k for k in range(keys)}, step=step)
    cpu, server, started = time.process_time(), server_cpu(process), time.perf_counter()
    with mlflow.start_run(run_name="bench"):
        for step in range(steps):
            mlflow.log_metrics({f"metric_{k:02d}": step * 0.001 + k for k in range(keys)}, step=step)
    seconds = time.perf_counter() - started
    return seconds, time.process_time() - cpu, server_cpu(process) - server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--baseline-steps", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=4, help="server worker processes (default 4)")
    parser.add_argument("--in-flight", default=str(rest.IN_FLIGHT), help="comma-separated, e.g. 1,2,3")
    parser.add_argument("--url", help="an MLflow server to use (default: start one)")
    args = parser.parse_args()
    widths = [int(width) for width in args.in_flight.split(",")]
    points = args.steps * args.keys
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        process = None
        url = args.url
        if url is None:
            from mlflow_harness import start_mlflow_server

            process, url = start_mlflow_server(folder, workers=args.workers)
            settle(process)
        try:
            db = folder / "tracker.db"
            log_run(db, "warm-up", 2_000, args.keys)  # the server's first requests are slower (each worker's)
            time_push(db, url, "warm-up", max(widths))
            pushes = []
            for number, width in enumerate(widths):
                log_run(db, f"bench-{number}", args.steps, args.keys)
                pushes.append((width, *time_push(db, url, f"bench-{number}", width, process)))
            baseline = time_mlflow(url, args.baseline_steps, args.keys, process)
        finally:
            if process is not None:
                from mlflow_harness import stop

                stop(process)
    logged = args.baseline_steps * args.keys
    per_point = baseline[0] / logged
    whole = per_point * points
    server = f"{url} ({args.workers} workers)" if args.url is None else url
    print(f"MLflow server: {server}; {args.steps:,} steps x {args.keys} keys = {points:,} points")
    print(f"{'':46} {'seconds':>8} {'µs/point':>9} {'ratio':>6} {'CPU µs/point: ours':>19} {'server':>7}")
    for width, seconds, cpu, server_seconds, sent in pushes:
        assert sent == points, f"pushed {sent} of {points} points"
        label = f"jupyter-tracker push ({width} in flight)"
        print(
            f"{label:46} {seconds:8.2f} {seconds / points * 1e6:9.1f} {whole / seconds:5.1f}x "
            f"{cpu / points * 1e6:19.1f} {server_seconds / points * 1e6:7.1f}"
        )
    label = "mlflow.log_metrics per step (one request each)"
    print(
        f"{label:46} {whole:8.2f} {per_point * 1e6:9.1f} {1:5.1f}x "
        f"{baseline[1] / logged * 1e6:19.1f} {baseline[2] / logged * 1e6:7.1f}"
    )
    print(
        f"  (MLflow's client timed on {args.baseline_steps:,} steps: {baseline[0]:.2f} s; the whole run at "
        "that rate)"
    )


if __name__ == "__main__":
    main()
