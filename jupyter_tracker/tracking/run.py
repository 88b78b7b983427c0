"""A run in progress: lifecycle, the logging API and its step counter.

`log()` validates and turns values into ready-to-insert rows on the caller's thread and hands them to the
run's BatchWriter; it never touches SQLite itself.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time as time_module
import traceback
import warnings
from collections.abc import Callable, Iterable, Mapping

from . import config, context, names
from .alerts import AlertsMixin
from .artifacts import ArtifactsMixin
from .envtrack import EnvTrackMixin
from .errors import InvalidArgument, NoActiveRun, RunClosed, TrackerError
from .extras import ExtrasMixin
from .folders import FoldersMixin
from .models import FAILED, FINISHED, INTERRUPTED, RUNNING
from .query import RunRecord, store_for
from .validation import (
    as_float,
    as_step,
    check_key,
    check_param,
    normalize_folder,
    normalize_tags,
    parse_timestamp,
    to_json,
)
from .writer import BatchWriter

LEVELS = ("debug", "info", "warning", "error", "critical")

# Runs that are open in this process, innermost last. A process-wide stack rather than a ContextVar:
# ipykernel runs each cell in its own context copy, and threads the user starts do not inherit one,
# yet `tracker.log()` must find the run from a later cell or from a data-loading thread.
_open: list[Run] = []
_open_lock = threading.Lock()


class Run(ArtifactsMixin, AlertsMixin, EnvTrackMixin, ExtrasMixin, FoldersMixin, RunRecord):
    """A run being recorded. Use as a context manager, or call `finish()` yourself."""

    def __init__(
        self,
        store,
        run_id: int,
        *,
        step: int = 0,
        key_ids: Mapping[str, int] | None = None,
        system: bool = True,
        interval: float | None = None,
    ):
        super().__init__(store, run_id)
        self._status = RUNNING
        self.started = time_module.time()
        self._step = step
        self._key_ids: dict[str, int] = dict(key_ids or {})
        self._key_lock = threading.Lock()
        self._listeners: list[Callable] = []
        self._extra: dict = {}
        self._writer = BatchWriter(store, run_id, on_flush=self._notify, on_error=self._writer_failed)
        for name, key_id in self._key_ids.items():
            self._writer.key_names[key_id] = name
        self._sampler = None
        if system:
            self._start_sampler(interval)
        with _open_lock:
            _open.append(self)

    @property
    def status(self) -> str:
        return self._status

    # -- logging ---------------------------------------------------------------------------------
    def log(
        self,
        metrics: Mapping[str, object] | None = None,
        /,
        step: int | None = None,
        *,
        time: float | None = None,
        timestamp=None,
        **values: object,
    ) -> None:
        """Record metric points: `run.log(loss=0.3)` or `run.log({"loss": 0.3}, step=10)`.

        Without `step`, the run's counter is used and advanced by one per call. `time` is seconds since
        the run started, `timestamp` a datetime, epoch seconds or ISO-8601 string; default: now.
        """
        if metrics:
            values = {**metrics, **values} if values else metrics
        if self._status != RUNNING:
            raise RunClosed(f"run {self.name!r} has ended ({self.status}); resume it to log more")
        if step is None:
            step = self._step
        elif type(step) is not int or step < 0:
            step = as_step(step)
        when = self._when(time, timestamp)
        run_id, key_ids = self.id, self._key_ids
        rows = []
        for key, value in values.items():
            if type(value) is not float:
                value = as_float(key, value)
            key_id = key_ids.get(key)
            if key_id is None:
                key_id = self._register_key(key)
            rows.append((run_id, key_id, step, when, value))
        self._writer.add_points(rows)
        if step >= self._step:
            self._step = step + 1

    log_metrics = log

    def log_metric(
        self, key: str, value: object, step: int | None = None, *, time: float | None = None, timestamp=None
    ) -> None:
        """Record one metric point (MLflow's spelling)."""
        self.log({key: value}, step, time=time, timestamp=timestamp)

    @property
    def step(self) -> int:
        """The step of the latest point logged (0 before any)."""
        return max(self._step - 1, 0)

    def _register_key(self, key: str) -> int:
        check_key(key)
        with self._key_lock:
            key_id = self._key_ids.get(key)
            if key_id is None:
                key_id = self._key_ids[key] = len(self._key_ids)
                self._writer.add_key(key_id, key)
        return key_id

    def _when(self, seconds: float | None, timestamp) -> float:
        if seconds is not None:
            return self.started + float(seconds)
        if timestamp is not None:
            return parse_timestamp(timestamp)
        return time_module.time()

    # -- params, tags, metadata, events ------------------------------------------------------------
    def log_params(self, params: Mapping[str, object] | None = None, /, **more: object) -> None:
        """Record parameters (JSON-serialisable values); a key logged again takes the new value."""
        merged = {**(params or {}), **more}
        for key, value in merged.items():
            check_param(key, value)
        self._store.set_params(self.id, merged)

    def log_param(self, key: str, value: object) -> None:
        self.log_params({key: value})

    log_parameters = log_params
    log_parameter = log_param

    def add_tags(self, *tags: str | Iterable[str]) -> None:
        """Add tags: `run.add_tags("cnn", "baseline")` or a list."""
        self._store.add_tags(self.id, normalize_tags(tags))

    add_tag = add_tags
    update_tags = add_tags

    def remove_tags(self, *tags: str | Iterable[str]) -> None:
        self._store.remove_tags(self.id, normalize_tags(tags))

    def update_metadata(self, metadata: Mapping[str, object] | None = None, /, **more: object) -> dict:
        """Merge key/value pairs into the run's metadata; returns the whole metadata."""
        merged = {**(metadata or {}), **more}
        for key, value in merged.items():
            check_param(key, value)
        return self._store.merge_json(self.id, "metadata", merged)

    def log_event(self, message: str, level: str = "info", *, timestamp=None, **extra: object) -> None:
        """Record a timestamped message (levels: debug, info, warning, error, critical)."""
        if level not in LEVELS:
            raise InvalidArgument(f"unknown event level {level!r}: choose from {', '.join(LEVELS)}")
        when = self._when(None, timestamp)
        self._writer.add_event((self.id, when, level, str(message), to_json({**self._extra, **extra})))

    # -- live updates ------------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[list, list, str], None]) -> Callable[[], None]:
        """Call `callback(points, events, status)` from the writer thread after each write; returns an
        unsubscribe function. points are (key, step, value, time); events (time, level, message, extra)."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def _notify(self, rows: list[tuple], events: list[tuple]) -> None:
        if not self._listeners:
            return
        key_names = self._writer.key_names
        points = [(key_names[k], step, v, t) for _, k, step, t, v in rows]
        shown = [(t, level, message, extra) for _, t, level, message, extra in events]
        for listener in list(self._listeners):
            listener(points, shown, self.status)

    def _writer_failed(self, exc: BaseException) -> None:
        print(f"jupyter-tracker: could not write run {self.name!r} yet ({exc}); retrying", file=sys.stderr)

    # -- hardware ------------------------------------------------------------------------------------
    def _start_sampler(self, interval: float | None) -> None:
        from .sampler import HardwareSampler, process_machine_snapshot

        interval = config.setting("interval", None) if interval is None else interval
        kwargs = {} if interval is None else {"interval": float(interval)}
        self._sampler = HardwareSampler(self._record_sample, on_error=self._probe_failed, **kwargs)
        self._writer.submit(
            lambda: self._store.merge_json(
                self.id,
                "environment",
                {"machine": process_machine_snapshot(), "gpu": self._sampler.gpu_status},
            )
        )
        self._sampler.start()

    def log_system(self) -> None:
        """Store a snapshot of the machine (OS, CPU, memory, GPUs, Python, packages) in the environment."""
        from .sampler import machine_snapshot

        self._store.merge_json(self.id, "environment", {"machine": machine_snapshot()})

    def _record_sample(self, when: float, values: list[tuple[str, float]]) -> None:
        step, run_id = self.step, self.id
        key_ids = self._key_ids
        rows = [
            (run_id, key_ids.get(key) if key in key_ids else self._register_key(key), step, when, value)
            for key, value in values
        ]
        self._writer.add_points(rows)

    def _probe_failed(self, probe: str, exc: BaseException) -> None:
        self.log_event(
            f"hardware probe {probe!r} switched off: {type(exc).__name__}: {exc}", "warning", probe=probe
        )

    # -- lifecycle -------------------------------------------------------------------------------------
    def finish(self, status: str = FINISHED, error: str | None = None) -> None:
        """End the run: stop sampling, write everything buffered, store the status. Idempotent."""
        if self._status != RUNNING:
            return
        self._status = status
        if self._sampler is not None:
            self._sampler.stop()
        self._writer.close()
        self._store.end_run(self.id, status, time_module.time(), error)
        with _open_lock:
            if self in _open:
                _open.remove(self)
        for listener in list(self._listeners):
            try:
                listener([], [], status)
            except Exception:
                pass

    close = finish

    def set_status(self, status: str, error: str | None = None) -> None:
        """'finished', 'failed' or 'interrupted' end the run; 'running' is what it already is."""
        if status == RUNNING and self.status == RUNNING:
            return
        if status not in (FINISHED, FAILED, INTERRUPTED):
            raise InvalidArgument(f"status must be one of {FINISHED}, {FAILED}, {INTERRUPTED}")
        self.finish(status, error)

    def fail(self, exc: BaseException) -> None:
        """End the run as failed (or interrupted, for KeyboardInterrupt), storing the traceback text."""
        status = INTERRUPTED if isinstance(exc, KeyboardInterrupt) else FAILED
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.finish(status, text)

    def export(self, path=None, format: str | None = None):
        """Write the run card (see RunRecord.export); while the run is open, a snapshot of all logged so far."""
        if not self._writer.flush():
            warnings.warn(
                f"run {self.name!r}: points logged in the last moments were not written yet (the database is "
                "busy); the card may miss them",
                stacklevel=2,
            )
        return super().export(path, format)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is None:
            self.finish()
        else:
            self.fail(exc)

    def __repr__(self) -> str:
        return f"<Run {self.id} {self.project}/{self.name} {self.status}>"


def start_run(
    name: str | None = None,
    *,
    project: str | None = None,
    params: Mapping | None = None,
    tags: str | Iterable[str] | None = None,
    description: str | None = None,
    folder: str | None = None,
    metadata: Mapping | None = None,
    db=None,
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
    project = project or config.setting("project") or context.default_project()
    system = config.setting("system", True) if system is None else system
    if interval is not None:
        from .sampler import check_interval

        interval = check_interval(interval)
    for key, value in {**(params or {}), **(metadata or {})}.items():
        check_param(key, value)
    now = time_module.time()
    quick = context.quick_context()
    if resume is not None:
        run_id, step, key_ids = _reopen(store, resume, project if project != "default" else None, quick, now)
    else:
        candidates = names.numbered(name) if name else names.random_names()
        run_id, _ = store.create_run(
            project,
            candidates,
            now,
            status=RUNNING,
            started=now,
            heartbeat=now,
            description=description,
            folder=normalize_folder(folder),
            metadata=dict(metadata or {}),
            cell_source=cell_source,
            execution_count=execution_count,
            **quick,
        )
        step, key_ids = 0, {}
    if params:
        store.set_params(run_id, dict(params))
    if tags:
        store.add_tags(run_id, normalize_tags([tags]))
    if resume is not None and (description or metadata):
        store.update_run(run_id, **({"description": description} if description else {}))
        if metadata:
            store.merge_json(run_id, "metadata", dict(metadata))
    run = Run(store, run_id, step=step, key_ids=key_ids, system=system, interval=interval)
    try:
        run._track_environment()  # TRACKER_TRACK_* variables
        if resume is not None:
            run._rearm_alerts()
    except BaseException as exc:  # the run is open by now: never leave it "running"
        run.fail(exc)
        raise
    if resume is None:
        cwd = os.getcwd()
        run._writer.submit(lambda: _store_slow_context(store, run_id, cwd))
    return run


def _store_slow_context(store, run_id: int, cwd) -> None:
    slow = context.slow_context(cwd)
    store.merge_json(run_id, "environment", slow.pop("environment"))
    store.update_run(run_id, **slow)


def _reopen(store, ref, project, quick: dict, now: float) -> tuple[int, int, dict]:
    info = store.find_run(ref, project)
    with _open_lock:
        mine = any(run.id == info.id and run.store is store for run in _open)
    if info.status == RUNNING or mine:
        raise TrackerError(
            f"run {info.name!r} is still running (pid {info.pid} on {info.host}); finish it before resuming"
        )
    store.update_run(info.id, status=RUNNING, ended=None, error=None, heartbeat=now, **quick)
    last = store.last_step(info.id)
    return info.id, 0 if last is None else last + 1, store.metric_keys(info.id)


def active_run() -> Run | None:
    """The innermost run open in this process, or None."""
    with _open_lock:
        return _open[-1] if _open else None


def log(metrics: Mapping[str, object] | None = None, /, step: int | None = None, **values: object) -> None:
    """Log to the active run: `jupyter_tracker.log(loss=0.3)`."""
    run = active_run()
    if run is None:
        raise NoActiveRun(
            "no active run: start one with `%%track_run` in a notebook cell, or "
            "`with jupyter_tracker.start_run(name=...) as run:` in Python"
        )
    run.log(metrics, step, **values)


@atexit.register
def _close_open_runs() -> None:
    """At interpreter exit every open run is written out: failed if the program died of an exception."""
    crashed = getattr(sys, "last_value", None)
    for run in reversed(list(_open)):
        try:
            if crashed is not None:
                run.fail(crashed)
            else:
                run.finish()
        except Exception:
            pass
