"""A run in progress: its lifecycle, the logging API and its step counter.

`log()` validates and turns values into ready-to-insert rows on the caller's thread and hands them to the
run's BatchWriter; it never touches SQLite itself. Files, alerts, environment tracking and extra fields are
helpers the run holds (`run.files`, `run.alerting`, `run.env_tracking`, `run.extras`); their verbs are forwarded one line each.
"""

from __future__ import annotations

import logging
import threading
import time as time_module
import traceback
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from .. import config
from ..errors import InvalidArgument, RunClosed
from ..frames import DataFrame
from ..models import FAILED, FINISHED, INTERRUPTED, RUNNING, RunInfo
from ..store import Store
from . import active, validation
from .alerts import RunAlerts
from .artifacts import RunArtifacts
from .ending import store_the_end
from .envtrack import EnvTracking
from .extras import Extras
from .folders import describe_folder
from .forward import forward
from .recovery import RecoveryFile
from .sampling import start_sampling
from .validation import MAX_STEP, as_float
from .writer import BatchWriter

LEVELS = ("debug", "info", "warning", "error", "critical")
logger = logging.getLogger("jupyter_tracker")


class Run:
    """A run being recorded. Use as a context manager, or call `finish()` yourself."""

    def __init__(
        self,
        store: Store,
        run_id: int,
        *,
        step: int = 0,
        key_ids: Mapping[str, int] | None = None,
        system: bool = True,
        interval: float | None = None,
    ):
        self._store = store
        self.id = run_id
        info = store.get_run(run_id)
        self.name, self.project, self.uuid = info.name, info.project, info.uuid
        self._status = RUNNING
        self.started = time_module.time()
        self._step = step
        self._key_ids: dict[str, int] = dict(key_ids or {})
        self._key_lock = threading.Lock()
        self._listeners: list[Callable] = []
        self.files = RunArtifacts(self)
        self.alerting = RunAlerts(self)
        self.env_tracking = EnvTracking(self)
        self.extras = Extras(store, run_id)
        self.recovery = RecoveryFile(
            store.path, {"uuid": self.uuid, "name": self.name, "project": self.project}
        )
        self._writer = BatchWriter(
            store, run_id, on_flush=self._notify, on_error=self._writer_failed, recovery=self.recovery
        )
        for name, key_id in self._key_ids.items():
            self._writer.key_names[key_id] = name
        self._sampler: Any = None
        try:
            if system:
                self._start_sampler(interval)
        except BaseException as exc:  # the writer runs already: end the run, never leave it "running"
            self.fail(exc)
            raise
        active.push(self)

    # -- what it is ------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self._status

    @property
    def store(self) -> Store:
        return self._store

    @property
    def info(self) -> RunInfo:
        """A fresh snapshot of the run's row, params and tags."""
        return self._store.get_run(self.id)

    params = property(lambda self: dict(self.info.params), doc="The run's parameters as a dict.")
    tags = property(lambda self: list(self.info.tags), doc="The run's tags, sorted.")

    @property
    def step(self) -> int:
        """The step of the latest point logged (0 before any)."""
        return max(self._step - 1, 0)

    @property
    def next_step(self) -> int:
        """The step the next point logged without `step=` gets."""
        return self._step

    # -- logging ---------------------------------------------------------------------------------
    def log(
        self,
        metrics: Mapping[str, object] | None = None,
        /,
        step: int | None = None,
        *,
        time: float | None = None,
        timestamp: Any = None,
        **values: object,
    ) -> None:
        """Record metric points: `run.log(loss=0.3)` or `run.log({"loss": 0.3}, step=10)`.

        Without `step`, the run's counter is used and advanced by one per call. `time` is seconds since
        the run started, `timestamp` a datetime, epoch seconds or ISO-8601 string; default: now.
        """
        if metrics:
            values = {**metrics, **values} if values else dict(metrics)
        if self._status != RUNNING:
            raise RunClosed(f"run {self.name!r} has ended ({self.status}); resume it to log more")
        if step is None:
            step = self._step
            if step > MAX_STEP:
                step = validation.auto_step(step)
        elif type(step) is not int or step < 0 or step > MAX_STEP:
            step = validation.as_step(step)
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
        self,
        key: str,
        value: object,
        step: int | None = None,
        *,
        time: float | None = None,
        timestamp: Any = None,
    ) -> None:
        """Record one metric point (MLflow's spelling)."""
        self.log({key: value}, step, time=time, timestamp=timestamp)

    def _register_key(self, key: str) -> int:
        validation.check_key(key)
        with self._key_lock:
            key_id = self._key_ids.get(key)
            if key_id is None:
                key_id = self._key_ids[key] = len(self._key_ids)
                self._writer.add_key(key_id, key)
        return key_id

    def _when(self, seconds: float | None, timestamp: Any) -> float:
        if seconds is None and timestamp is None:
            return time_module.time()
        return validation.point_time(seconds, timestamp, self.started)

    # -- params, tags, metadata, events ------------------------------------------------------------
    def log_params(self, params: Mapping[str, object] | None = None, /, **more: object) -> None:
        """Record parameters (JSON-serialisable values); a key logged again takes the new value."""
        self._store.set_params(self.id, validation.clean_params({**(params or {}), **more}))

    def log_param(self, key: str, value: object) -> None:
        """Record one parameter."""
        self.log_params({key: value})

    log_parameters = log_params
    log_parameter = log_param

    def add_tags(self, *tags: str | Iterable[str]) -> None:
        """Add tags: `run.add_tags("cnn", "baseline")` or a list."""
        self._store.add_tags(self.id, validation.normalize_tags(tags))

    add_tag = add_tags
    update_tags = add_tags

    def remove_tags(self, *tags: str | Iterable[str]) -> None:
        """Remove tags (those the run does not have are ignored)."""
        self._store.remove_tags(self.id, validation.normalize_tags(tags))

    def update_metadata(self, metadata: Mapping[str, object] | None = None, /, **more: object) -> dict:
        """Merge key/value pairs into the run's metadata; returns the whole metadata."""
        merged = validation.clean_params({**(metadata or {}), **more}, "metadata field")
        return self._store.merge_json(self.id, "metadata", merged)

    def log_event(self, message: str, level: str = "info", *, timestamp: Any = None, **extra: object) -> None:
        """Record a timestamped message (levels: debug, info, warning, error, critical)."""
        if level not in LEVELS:
            raise InvalidArgument(f"unknown event level {level!r}: choose from {', '.join(LEVELS)}")
        text, fields = validation.event_parts(message, {**self.extras.fields, **extra})
        self._writer.add_event((self.id, self._when(None, timestamp), level, text, fields))

    def log_extra(self, fields: Mapping[str, object] | None = None, /, **more: object) -> dict:
        """Attach fields (JSON values) to every later point and event: `run.log_extra(tag="v1.5")`.

        A field given again takes the new value from then on. Returns all fields now in force."""
        return self.extras.add(self._step, {**(fields or {}), **more})

    def set_folder_details(
        self,
        path: str | None = None,
        metadata: Mapping[str, object] | None = None,
        tags: str | Iterable[str] | None = None,
        description: str | None = None,
    ) -> dict:
        """Describe a folder (default: this run's folder); see jupyter_tracker.set_folder_details()."""
        return describe_folder(self._store, path or self.info.folder, metadata, tags, description)

    # -- the helpers' verbs ---------------------------------------------------------------------------
    save = forward("files", RunArtifacts.save)
    save_directory = forward("files", RunArtifacts.save_directory)
    save_all = forward("files", RunArtifacts.save_all)
    log_artifact = forward("files", RunArtifacts.log_artifact)
    log_artifact_from_file = forward("files", RunArtifacts.log_artifact_from_file)
    log_dataset = forward("files", RunArtifacts.log_dataset)
    add_alert = forward("alerting", RunAlerts.add)
    track_this = forward("env_tracking", EnvTracking.track)
    shell = forward("env_tracking", EnvTracking.shell)

    # -- reading back ----------------------------------------------------------------------------------
    def record(self) -> Any:  # a RunRecord (not named here: see below)
        """This run as stored (a RunRecord): metrics(), events(), summary(), hardware(), alerts(), export()."""
        from .. import load_run  # the reading side sits above tracking: reach it through the facade

        return load_run(self.id, db=self._store)

    def metrics(self, keys: Iterable[str] | str | None = None, *, system: bool = False) -> DataFrame:
        """Long DataFrame of the points written so far; see RunRecord.metrics()."""
        return self.record().metrics(keys, system=system)

    def events(self) -> DataFrame:
        """DataFrame of the events written so far; see RunRecord.events()."""
        return self.record().events()

    def alerts(self) -> DataFrame:
        """DataFrame of the run's alerts; see RunRecord.alerts()."""
        return self.record().alerts()

    def summary(self, *, system: bool = False) -> DataFrame:
        """One row per metric key; see RunRecord.summary()."""
        return self.record().summary(system=system)

    def hardware(self) -> dict:
        """The hardware summary; see RunRecord.hardware()."""
        return self.record().hardware()

    artifacts = forward("files", RunArtifacts.frame)
    load_artifact = forward("files", RunArtifacts.load)
    restore_artifacts = forward("files", RunArtifacts.restore)

    def export(self, path: config.PathArg | None = None, format: str | None = None) -> Path:
        """Write the run card (see RunRecord.export); while the run is open, a snapshot of all logged so far."""
        if not self.flush():
            warnings.warn(
                f"run {self.name!r}: points logged in the last moments were not written yet (the database is "
                "busy); the card may miss them",
                stacklevel=2,
            )
        return self.record().export(path, format)

    # -- live updates ------------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[list, list, str], None]) -> Callable[[], None]:
        """Call `callback(points, events, status)` from the writer thread after each write; returns an
        unsubscribe function. points are (key, step, value, time); events (time, level, message, extra)."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until everything logged before this call is in the database (or set aside in the recovery
        file); False if `timeout` seconds passed first."""
        return self._writer.flush(timeout)

    def _notify(self, rows: list[tuple], events: list[tuple]) -> None:
        if not self._listeners:
            return
        key_names = self._writer.key_names
        points = [(key_names[k], step, v, t) for _, k, step, t, v in rows]
        shown = [(t, level, message, extra) for _, t, level, message, extra in events]
        for listener in list(self._listeners):
            listener(points, shown, self.status)

    def _writer_failed(self, exc: BaseException) -> None:  # silent: output would land in another cell
        logger.warning("run %r: %s: %s", self.name, type(exc).__name__, exc)
        self.log_event(f"writing this run: {type(exc).__name__}: {exc}", "warning", writer=True)

    # -- hardware ------------------------------------------------------------------------------------
    def _start_sampler(self, interval: float | None) -> None:
        self._sampler = start_sampling(self, interval)

    def log_system(self) -> None:
        """Store a snapshot of the machine (OS, CPU, memory, GPUs, Python, packages) in the environment."""
        from ..hardware.machine import machine_snapshot

        self._store.merge_json(self.id, "environment", {"machine": machine_snapshot()})

    def _record_sample(self, when: float, values: list[tuple[str, float]]) -> None:
        """Hardware values from the sampler thread, at the run's current step."""
        step, run_id, key_ids = self.step, self.id, self._key_ids
        rows = [
            (run_id, key_ids[key] if key in key_ids else self._register_key(key), step, when, value)
            for key, value in values
        ]
        self._writer.add_points(rows)

    # -- lifecycle -------------------------------------------------------------------------------------
    def finish(self, status: str = FINISHED, error: str | None = None) -> None:
        """End the run: stop sampling, write what is buffered (waiting at most configure()'s `finish_timeout`
        seconds; what the store cannot take goes to a recovery file, a warning says where), store the
        status, even when interrupted meanwhile. Idempotent."""
        if self._status != RUNNING:
            return
        self._status = status
        interrupt, timeout = None, cast(float, config.setting("finish_timeout", config.FINISH_TIMEOUT))
        deadline = time_module.monotonic() + timeout
        try:
            if self._sampler is not None:
                self._sampler.stop()
            stored = self._writer.close(timeout)
        except KeyboardInterrupt as exc:  # Kernel > Interrupt while the last points are written
            interrupt, stored = (
                exc,
                self._writer.close(0, KeyboardInterrupt("interrupted while being written")),
            )
            status = self._status = INTERRUPTED if not stored and status == FINISHED else status
        remaining = max(deadline - time_module.monotonic(), 0.1)
        interrupt = store_the_end(self, status, error, stored, remaining) or interrupt
        if interrupt is not None:
            raise interrupt

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

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            self.finish()
        else:
            self.fail(exc)

    def __repr__(self) -> str:
        return f"<Run {self.id} {self.project}/{self.name} {self.status}>"
