"""start_run() and reconnect(): opening a new run, or taking up a stored one where it left off."""

from __future__ import annotations

import atexit
import os
import sys
import time as time_module
from collections.abc import Iterable, Mapping
from typing import Any, cast

from .. import config
from ..errors import TrackerError
from ..models import RUNNING
from ..store import Store
from . import active, context, names
from .run import Run
from .stores import DbArg, store_for
from .validation import check_param, normalize_folder, normalize_tags


def start_run(
    name: str | None = None,
    *,
    project: str | None = None,
    params: Mapping | None = None,
    tags: str | Iterable[str] | None = None,
    description: str | None = None,
    folder: str | None = None,
    metadata: Mapping | None = None,
    db: DbArg = None,
    resume: int | str | None = None,
    system: bool | None = None,
    interval: float | None = None,
    cell_source: str | None = None,
    execution_count: int | None = None,
) -> Run:
    """Start (or with `resume=` continue) a run and make it the active one.

    `with start_run(name="baseline", params={"lr": 0.01}) as run: run.log(loss=0.3)`
    """
    store = store_for(db)
    project = project or cast("str | None", config.setting("project")) or context.default_project()
    system = cast(bool, config.setting("system", True)) if system is None else system
    if interval is not None:
        from ..hardware.metrics import check_interval

        interval = check_interval(interval)
    for key, value in {**(params or {}), **(metadata or {})}.items():
        check_param(key, value)
    row: dict[str, Any] = {"description": description, "metadata": dict(metadata or {})}
    if resume is not None:
        run_id, step, key_ids = _reopen(store, resume, project if project != "default" else None, row)
    else:
        row.update(folder=normalize_folder(folder), cell_source=cell_source, execution_count=execution_count)
        run_id, step, key_ids = _create(store, project, name, row), 0, {}
    if params:
        store.set_params(run_id, dict(params))
    if tags:
        store.add_tags(run_id, normalize_tags([tags]))
    run = Run(store, run_id, step=step, key_ids=key_ids, system=system, interval=interval)
    try:
        run.env_tracking.track_environment()  # TRACKER_TRACK_* variables
        if resume is not None:
            run.alerting.rearm()
    except BaseException as exc:  # the run is open by now: never leave it "running"
        run.fail(exc)
        raise
    if resume is None:
        cwd = os.getcwd()
        run._writer.submit(lambda: _store_slow_context(store, run_id, cwd))
    return run


def _create(store: Store, project: str, name: str | None, row: dict) -> int:
    """A new run row, named `name` (numbered if taken) or given a random name."""
    now = time_module.time()
    candidates = names.numbered(name) if name else names.random_names()
    run_id, _ = store.create_run(
        project, candidates, now, status=RUNNING, started=now, heartbeat=now, **row, **context.quick_context()
    )
    return run_id


def _store_slow_context(store: Store, run_id: int, cwd: str) -> None:
    slow = context.slow_context(cwd)
    store.merge_json(run_id, "environment", slow.pop("environment"))
    store.update_run(run_id, **slow)


def _reopen(store: Store, ref: int | str, project: str | None, row: dict) -> tuple[int, int, dict]:
    """Mark a stored run running again; its next step and metric keys. `row` may bring a new description
    (kept only when given) and metadata (merged)."""
    info = store.find_run(ref, project)
    mine = any(run.id == info.id and run.store is store for run in active.open_runs())
    if info.status == RUNNING or mine:
        raise TrackerError(
            f"run {info.name!r} is still running (pid {info.pid} on {info.host}); finish it before resuming"
        )
    described = {"description": row["description"]} if row["description"] else {}
    now = time_module.time()
    store.update_run(
        info.id, status=RUNNING, ended=None, error=None, heartbeat=now, **described, **context.quick_context()
    )
    if row["metadata"]:
        store.merge_json(info.id, "metadata", row["metadata"])
    last = store.last_step(info.id)
    return info.id, 0 if last is None else last + 1, store.metric_keys(info.id)


def reconnect(
    name_or_id: int | str,
    *,
    project: str | None = None,
    db: DbArg = None,
    system: bool | None = None,
    interval: float | None = None,
) -> Run:
    """The run `name_or_id` (id, uuid or name), ready to log to, and made the active run.

    A run still open in this process is handed back as it is; one that ended, was interrupted or whose
    process died is resumed (its steps and metric keys carry on). A run open in another live process is
    refused."""
    store = store_for(db)
    info = store.find_run(name_or_id, project)
    for run in reversed(active.open_runs()):
        if run.id == info.id and run.store is store:
            active.push(run)
            return run
    return start_run(resume=info.id, db=store, system=system, interval=interval)


@atexit.register
def _close_open_runs() -> None:
    """At interpreter exit every open run is written out: failed if the program died of an exception."""
    crashed = getattr(sys, "last_value", None)
    for run in reversed(active.open_runs()):
        try:
            if crashed is not None:
                run.fail(crashed)
            else:
                run.finish()
        except Exception:
            pass
