"""Runs for the run-card tests: recorded through the real API, plus hardware samples, artifacts and alerts."""

from __future__ import annotations

import hashlib
import math

from jupyter_tracker import start_run

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
XSS = SCRIPT + IMG

SOURCE = """import torch

model = Net().to(device)
for epoch in range(epochs):
    loss = train_one_epoch(model, lr=lr)  # returns a float
    run.log({"train/loss": loss, "val/acc": evaluate(model)})
"""


def make_run(db, *, name="baseline", project="mnist", steps=200, evil: str = "", system=True, tags=("cnn",)):
    """A finished run with metrics (NaN and +-inf included), params, tags, events, hardware samples,
    artifacts and alerts. `evil` is appended to every piece of user text."""
    params = {"lr": 0.01, "epochs": 3, "layers": [64, 32], "eps": math.nan, "clip": math.inf, "text": "NaN"}
    if evil:
        params[evil] = evil
    with start_run(
        name=name + evil,
        project=project + evil,
        params=params,
        tags=[*tags, evil] if evil else list(tags),
        description="Baseline CNN with dropout" + evil,
        folder="experiments/" + (evil.replace("/", "") or "cnn"),
        metadata={"dataset": "mnist" + evil, "floor": -math.inf},
        cell_source=SOURCE + evil,
        execution_count=7,
        db=db,
        system=False,
    ) as run:
        for step in range(steps):
            run.log({"train/loss" + evil: 2.0 * math.exp(-step / 50) + 0.1, "lr": 0.01}, step=step)
            if step % 20 == 0:
                run.log({"val/acc": 1 - math.exp(-step / 60)}, step=step)
        run.log({"train/loss" + evil: math.nan}, step=steps)
        run.log({"train/loss" + evil: math.inf}, step=steps + 1)
        run.log({"train/loss" + evil: -math.inf}, step=steps + 2)
        run.log_event("started epoch 1" + evil, "info", epoch=1, note=evil or "ok")
        run.log_event("loss spike" + evil, "warning", norm=math.inf)
    store, run_id = run.store, run.id
    if system:
        add_hardware(store, run_id)
    add_records(store, run_id, evil)
    return store, run_id


def add_hardware(store, run_id: int, samples: int = 30) -> None:
    """Hardware samples as the sampler names them, then the run's summaries stored again."""
    info = store.get_run(run_id)
    keys = [
        "system/cpu/percent",
        "system/process/rss_bytes",
        "system/cpu/core0/percent",
        "system/gpu0/utilization",
    ]
    first = len(store.metric_keys(run_id))
    key_rows = [(run_id, first + i, key) for i, key in enumerate(keys)]
    points = []
    for n in range(samples):
        when = info.started + n * 0.5
        values = [40 + 20 * math.sin(n / 4), 1.5e9 + n * 1e7, 50.0, math.nan if n == 3 else 80.0]
        points += [(run_id, first + i, n, when, v) for i, v in enumerate(values)]
    store.write_batch(run_id, key_rows, points, [], info.heartbeat)
    store.end_run(run_id, info.status, info.ended, info.error)


def add_records(store, run_id: int, evil: str = "") -> None:
    store.restore_records(
        run_id,
        artifacts=[
            {
                "name": "model.pt" + evil,
                "category": "model" + evil,
                "path": "artifacts/model.pt" + evil,
                "size": 123_456,
                "sha256": hashlib.sha256(b"model").hexdigest(),
                "mime": "application/octet-stream",
                "created": store.get_run(run_id).ended,
            }
        ],
        alerts=[
            {  # a rule of a shape the alerts module does not write: shown as its JSON
                "name": "loss-nan" + evil,
                "rule": {"metric": "train/loss", "op": "nan", "x": math.nan},
                "state": "ok",
            },
            {
                "name": "loss-high" + evil,
                "rule": {
                    "source": "metrics",
                    "window": 3,
                    "frequency": 1,
                    "metric": "train/loss" + evil,
                    "rule": "is above",
                    "threshold": 1.0,
                    "notify": False,
                },
                "state": "critical",
                "triggered_at": store.get_run(run_id).ended,
            },
            {
                "name": "nan-events" + evil,
                "rule": {
                    "source": "events",
                    "window": 5,
                    "frequency": 1,
                    "pattern": "nan" + evil,
                    "notify": False,
                },
                "state": "ok",
            },
        ],
    )


def big_run(db, *, metrics: int = 20, steps: int = 5000):
    """`metrics` keys x `steps` steps, written in batches through the store (what a long training logs)."""
    with start_run(name="big", project="size", db=db, system=False) as run:
        for step in range(steps):
            run.log({f"metric_{k:02d}": math.sin(step / (50 + k)) + k for k in range(metrics)}, step=step)
    add_hardware(run.store, run.id, samples=600)
    return run.store, run.id
