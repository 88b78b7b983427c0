"""A run in progress: its lifecycle, the logging API and its step counter.

Steps: an explicit `step=` is kept as given. Without it, the run's step advances when a key repeats, so
separate calls for different keys in one iteration share a step. A Simvue-style `Run()` is created unstarted
and started by `init(...)`.

`log()` validates and turns values into ready-to-insert rows on the caller's thread and hands them to the
run's BatchWriter; it never touches SQLite itself. Files, alerts, environment tracking and extra fields are
helpers the run holds (`run.files`, `run.alerting`, `run.env_tracking`, `run.extras`); their verbs are forwarded one line each.
"""

from __future__ import annotations

import logging
import threading
import time as time_module
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, cast

from .. import config
from ..errors import InvalidArgument, RunClosed
from ..models import FAILED, FINISHED, INTERRUPTED, RUNNING, RunInfo
from ..store import Store
from . import active, validation
from .alerts import RunAlerts
from .artifacts import RunArtifacts
from .ending import describe_failure, store_the_end
from .envtrack import EnvTracking
from .extras import Extras
from .folders import describe_folder
from .forward import forward
from .params import RunParams
from .readback import ReadBack
from .recovery import RecoveryFile
from .sampling import start_sampling
from .simvue import CREATED, SimvueStyle
from .validation import MAX_STEP, as_float
from .writer import BatchWriter

LEVELS = ("debug", "info", "warning", "error", "critical")
logger = logging.getLogger("jupyter_tracker")


class Run(ReadBack, SimvueStyle):
    """A run being recorded. Use as a context manager, or call `finish()` yourself.

    `start_run(...)` makes one; `Run()` with no arguments makes an unstarted one that `init(...)` starts."""

    def __init__(self, store: Store | None = None, run_id: int | None = None, **options: Any):
        self._status = CREATED
        self.name: Any = None  # the run's name once started
        if store is not None and run_id is not None:
            self._open(store, run_id, **options)

    def _open(
        self,
        store: Store,
        run_id: int,
        *,
        step: int = 0,
        key_ids: Mapping[str, int] | None = None,
        system: bool = True,
        interval: float | None = None,
    ) -> Run:
        """Take up run `run_id` of `store` (just created or reopened by start_run) and make it active."""
        self._store = store
        self.id = run_id
        info = store.get_run(run_id)
        self.name, self.project, self.uuid = info.name, info.project, info.uuid
        self._status = RUNNING
        self.started = time_module.time()
        self._step = step  # the current step; _seen: the keys logged at it (see log())
        self._seen: AbstractSet[str] = frozenset()
        self._key_ids: dict[str, int] = dict(key_ids or {})
        self._key_lock = threading.Lock()
        self._listeners: list[Callable] = []
        self.files = RunArtifacts(self)
        self.alerting = RunAlerts(self)
        self.env_tracking = EnvTracking(self)
        self.extras = Extras(store, run_id)
        self.parameters = RunParams(self)
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
        return self

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

    params = property(
        lambda self: dict(self.info.params), doc="The run's parameters (latest values) as a dict."
    )
    tags = property(lambda self: list(self.info.tags), doc="The run's tag names, sorted.")
    tag_values = property(
        lambda self: dict(self.info.tag_values),
        doc="Every tag with its value ({name: text, or None if plain}).",
    )

    @property
    def step(self) -> int:
        """The current step: that of the latest point logged (0 before any)."""
        return self._step if self._seen else max(self._step - 1, 0)

    @property
    def next_step(self) -> int:
        """The step a key already logged at the current step gets next without `step=` (a key new to the
        current step joins it)."""
        return self._step + 1 if self._seen else self._step

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

        Without `step`, points go to the current step, which advances by one when a key repeats: separate
        calls for different keys share a step. An explicit `step` is kept as given (a later one becomes
        the current step). `time` is seconds since the run started, `timestamp` a datetime, epoch seconds
        or ISO-8601 string; default: now.
        """
        if metrics is not None:
            if type(metrics) is not dict and not isinstance(metrics, Mapping):
                raise InvalidArgument(validation.not_metrics(metrics))
            if metrics:
                values = {**metrics, **values} if values else dict(metrics)
        if self._status != RUNNING:
            raise RunClosed(validation.ended_message(self.name, self._status))
        if step is None:
            step = self._step if values.keys().isdisjoint(self._seen) else self._step + 1
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
        if step > self._step:  # racing threads may both move on: each point keeps the step it was given
            self._step, self._seen = step, values.keys()  # a view of this call's own dict: no copy
        elif step == self._step:
            self._seen = self._seen | values.keys()

    log_metrics = log

    def log_metric(
        self,
        key: str,
        value: object,
        *positional: object,
        step: int | None = None,
        time: float | None = None,
        timestamp: Any = None,
    ) -> None:
        """Record one metric point: `run.log_metric("loss", 0.3, step=10)`; step and timestamp by keyword."""
        if positional:  # MLflow's third argument is a step, OpsML's a timestamp: never guess
            raise InvalidArgument(
                f"log_metric({key!r}, {validation.show(value)}, {validation.show(positional[0])}): pass step= or "
                "timestamp= by keyword"
            )
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
        """Record parameters (JSON values). A key logged again takes the new value; the change is kept as
        an event (its earlier value in the event's `previous`)."""
        self._check_open("log more")
        self.parameters.log({**(params or {}), **more})

    def log_param(self, key: str, value: object) -> None:
        """Record one parameter (see log_params)."""
        self.log_params({key: value})

    log_parameters = log_params
    log_parameter = log_param

    def add_tags(self, *tags: str | Iterable[str] | Mapping[str, object], **pairs: object) -> None:
        """Add tags: `run.add_tags("cnn", "baseline")`, a list, or key/value tags `run.add_tags(team="ml")`,
        `run.add_tags({"framework": "torch"})` (values are kept as text)."""
        self._store.add_tags(self.id, validation.tag_values(tags, pairs))

    update_tags = add_tags

    def add_tag(self, tag: str, value: object = None) -> None:
        """One tag, with a value (OpsML's add_tag(key, value), MLflow's set_tag) or without."""
        self._store.add_tags(self.id, validation.tag_values([], {tag: value}))

    set_tag = add_tag

    def remove_tags(self, *tags: str | Iterable[str]) -> None:
        """Remove tags by name, with their values (those the run does not have are ignored)."""
        self._store.remove_tags(self.id, validation.normalize_tags(tags))

    def update_metadata(self, metadata: Mapping[str, object] | None = None, /, **more: object) -> dict:
        """Merge key/value pairs into the run's metadata; returns the whole metadata."""
        merged = validation.clean_params({**(metadata or {}), **more}, "metadata field")
        return self._store.merge_json(self.id, "metadata", merged)

    def log_event(self, message: str, level: str = "info", *, timestamp: Any = None, **extra: object) -> None:
        """Record a timestamped message (levels: debug, info, warning, error, critical)."""
        self._check_open("log events")
        self._log_event(message, level, timestamp=timestamp, **extra)

    def _log_event(
        self, message: str, level: str = "info", *, timestamp: Any = None, **extra: object
    ) -> None:
        """log_event() without the check that the run is open: the run's own helpers (alerts, the sampler,
        the writer) may speak up while it ends, and what arrives after the end goes to the recovery file."""
        if level not in LEVELS:
            raise InvalidArgument(f"unknown event level {level!r}: choose from {', '.join(LEVELS)}")
        text, fields = validation.event_parts(message, {**self.extras.fields, **extra})
        self._writer.add_event((self.id, self._when(None, timestamp), level, text, fields))

    def log_extra(self, fields: Mapping[str, object] | None = None, /, **more: object) -> dict:
        """Attach fields (JSON values) to every later point and event: `run.log_extra(tag="v1.5")`.

        A field given again takes the new value from then on. Returns all fields now in force."""
        return self.extras.add(self.next_step, {**(fields or {}), **more})

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

    # -- reading back (more in ReadBack) ---------------------------------------------------------------
    artifacts = forward("files", RunArtifacts.frame)
    load_artifact = forward("files", RunArtifacts.load)
    restore_artifacts = forward("files", RunArtifacts.restore)

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
        self._log_event(f"writing this run: {type(exc).__name__}: {exc}", "warning", writer=True)

    # -- hardware ------------------------------------------------------------------------------------
    def _start_sampler(self, interval: float | None) -> None:
        self._sampler = start_sampling(self, interval)

    def log_system(self) -> dict:
        """Take a snapshot of the machine (OS, CPU, memory, GPUs, Python, packages): kept in the environment
        (the latest) and as an event (extra `system`), which `experiment(...).data(event="system")` lists."""
        from ..hardware.machine import machine_snapshot

        snapshot = machine_snapshot()
        self._store.merge_json(self.id, "environment", {"machine": snapshot})
        self._log_event("system snapshot (log_system)", system=snapshot)
        return snapshot

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

    def _check_open(self, doing: str) -> None:
        if self._status != RUNNING:
            raise RunClosed(validation.ended_message(self.name, self._status, doing))

    def fail(self, exc: BaseException) -> None:
        """End the run as failed (or interrupted, for KeyboardInterrupt), storing the one-line error and the
        traceback of the user's frames."""
        status = INTERRUPTED if isinstance(exc, KeyboardInterrupt) else FAILED
        error, self._traceback = describe_failure(exc)
        self.finish(status, error)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            self.finish()
        else:
            self.fail(exc)

    def __repr__(self) -> str:
        if self._status == CREATED:
            return "<Run (not started: call init())>"
        return f"<Run {self.id} {self.project}/{self.name} {self.status}>"
