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
from ..models import FAILED, RUNNING
from ..store import Store
from . import active, context, names
from .run import Run
from .stores import DbArg, store_for
from .validation import check_name, clean_params, normalize_folder, tag_values


def start_run(
    name: str | None = None,
    *,
    project: str | None = None,
    params: Mapping | None = None,
    tags: str | Iterable[str] | Mapping[str, object] | None = None,
    description: str | None = None,
    folder: str | None = None,
    metadata: Mapping | None = None,
    db: DbArg = None,
    resume: int | str | None = None,
    system: bool | None = None,
    interval: float | None = None,
    cell_source: str | None = None,
    execution_count: int | None = None,
    mlflow: str | None = None,
    _into: Run | None = None,
) -> Run:
    """Start (or with `resume=` continue) a run and make it the active one.

    `with start_run(name="baseline", params={"lr": 0.01}) as run: run.log(loss=0.3)`; `tags` are names
    (a list or "a,b") or a {name: value} dict of key/value tags. `mlflow`: the URL of an MLflow tracking
    server to mirror the run to while it runs (default: the session's `mlflow` setting, else
    $TRACKER_MLFLOW_URI, if any).
    """
    url = config.check_url(mlflow) if mlflow else config.mirror_url()
    name = None if name is None else check_name(name)  # before any file is touched: refused at the door
    store = store_for(db)
    project = project or cast("str | None", config.setting("project")) or context.default_project()
    system = cast(bool, config.setting("system", True)) if system is None else system
    if interval is not None:
        from ..config import check_interval

        interval = check_interval(interval)
    metadata = clean_params(metadata or {}, "metadata field")  # numpy values become plain ones
    row: dict[str, Any] = {"description": description, "metadata": metadata}
    row["params"], row["tags"] = clean_params(params or {}), tag_values([tags]) if tags else {}
    if resume is not None:
        run_id, step, key_ids = _reopen(store, resume, project if project != "default" else None, row)
    else:
        row.update(folder=normalize_folder(folder), cell_source=cell_source, execution_count=execution_count)
        run_id, step, key_ids = _create(store, project, name, row), 0, {}
    _watch_uncaught_exceptions()
    try:
        run = (_into or Run())._open(
            store, run_id, step=step, key_ids=key_ids, system=system, interval=interval
        )
    except BaseException as exc:  # Run ends itself once its writer runs; before that, end the row here
        if store.get_run(run_id).status == RUNNING:
            store.end_run(run_id, FAILED, time_module.time(), f"{type(exc).__name__}: {exc}")
        raise
    _settle_in(run, resume is not None, url)
    return run


def _settle_in(run: Run, resumed: bool, mlflow: str | None) -> None:
    """What an open run does first: track the environment, re-arm a resumed run's alerts, store the slow
    context of a new one (on the writer's thread), and start mirroring it to MLflow when asked."""
    try:
        run.env_tracking.track_environment()  # TRACKER_TRACK_* variables
        if resumed:
            run.alerting.rearm()
    except BaseException as exc:  # the run is open by now: never leave it "running"
        run.fail(exc)
        raise
    if not resumed:
        store, run_id, cwd = run.store, run.id, os.getcwd()
        run._writer.submit(lambda: _store_slow_context(store, run_id, cwd))
    if mlflow:
        from .. import _mirror_run  # the sharing wing sits above tracking: reached through the facade

        _mirror_run(run, mlflow)


def _create(store: Store, project: str, name: str | None, row: dict) -> int:
    """A new run row, named `name` (numbered if taken) or given a random name."""
    now = time_module.time()
    candidates = names.numbered(name) if name else names.random_names()
    process = {"process": context.process_identity()}  # tells a crashed run from one whose pid was reused
    run_id, _ = store.create_run(  # the row, its params and tags in one transaction
        project,
        candidates,
        now,
        status=RUNNING,
        started=now,
        heartbeat=now,
        environment=process,
        **row,
        **context.quick_context(),
    )
    return run_id


def _store_slow_context(store: Store, run_id: int, cwd: str) -> None:
    slow = context.slow_context(cwd)
    store.merge_json(run_id, "environment", slow.pop("environment"))
    store.update_run(run_id, **slow)


def _reopen(store: Store, ref: int | str, project: str | None, row: dict) -> tuple[int, int, dict]:
    """Mark a stored run running again; its next step and metric keys. `row` may bring a new description
    (kept only when given), metadata (merged), params and tags."""
    info = store.find_run(ref, project)
    mine = any(run.id == info.id and run.store is store for run in active.open_runs())
    if info.status == RUNNING or mine:
        raise TrackerError(
            f"run {info.name!r} is still running (pid {info.pid} on {info.host}); finish it before resuming"
        )
    described = {"description": row["description"]} if row["description"] else {}
    now = time_module.time()
    # The time the run spent ended (since its end, or its last heartbeat if it crashed) is not part of
    # its duration: it is added to `idle`, which duration leaves out.
    last_sign = info.ended or info.heartbeat or info.started or now
    idle = (info.idle or 0.0) + max(0.0, now - last_sign)
    fields = {
        "status": RUNNING,
        "ended": None,
        "error": None,
        "traceback": None,
        "heartbeat": now,
        "idle": idle,
    }
    fields.update(described)
    store.reopen_run(
        info.id,
        {**fields, **context.quick_context()},
        merge={"metadata": row["metadata"], "environment": {"process": context.process_identity()}},
        params=row["params"],
        tags=row["tags"],
    )
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


_uncaught: list[BaseException] = []


def _watch_uncaught_exceptions() -> None:
    """Remember an exception that ends the program (sys.excepthook, chained), for the exit hook below.

    sys.last_value is no guide: IPython sets it after any failing cell, long before the kernel exits."""
    if getattr(sys.excepthook, "_jupyter_tracker", False):
        return
    previous = sys.excepthook

    def excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        if not hasattr(sys, "ps1"):  # the interactive interpreter passes every failed statement through here
            _uncaught.append(value)
        previous(kind, value, tb)

    excepthook._jupyter_tracker = True  # type: ignore[attr-defined]
    sys.excepthook = excepthook


@atexit.register
def _close_open_runs() -> None:
    """At interpreter exit every open run is written out: failed if the program died of an exception."""
    crashed = _uncaught[-1] if _uncaught else None
    for run in reversed(active.open_runs()):
        try:
            if crashed is not None:
                run.fail(crashed)
            else:
                run.finish()
        except Exception:
            pass
