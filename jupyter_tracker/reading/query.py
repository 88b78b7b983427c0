"""Reading runs back: `runs()` as a DataFrame, `load_run()` as a RunRecord."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import config
from ..errors import InvalidArgument
from ..frames import DataFrame, epoch_to_datetime
from ..models import SYSTEM_PREFIX, RunInfo
from ..store import Store
from ..tracking.artifacts import artifact_frame, load_stored, restore_stored
from ..tracking.stores import DbArg, store_for
from ..tracking.validation import check_name, normalize_tags, show, tag_values, utf8


class RunRecord:
    """A stored run: its params, tags, metrics, events and summary; tags, name, description and notes can be
    edited after the fact (each edit is kept as an event)."""

    def __init__(self, store: Store, run_id: int):
        self._store = store
        self.id = run_id
        info = store.get_run(run_id)
        self.name, self.project, self.uuid = info.name, info.project, info.uuid

    @property
    def info(self) -> RunInfo:
        """A fresh snapshot of the run's row, params and tags."""
        return self._store.get_run(self.id)

    @property
    def store(self) -> Store:
        return self._store

    status = property(lambda self: self.info.status)
    params = property(lambda self: dict(self.info.params), doc="The run's parameters as a dict.")
    tags = property(lambda self: list(self.info.tags), doc="The run's tags, sorted.")

    def metrics(
        self,
        keys: Iterable[str] | str | None = None,
        *,
        steps: range | Iterable[int] | None = None,
        system: bool = False,
    ) -> DataFrame:
        """Long DataFrame with columns key, step, value, time (a UTC datetime); system/ keys with system=True.
        `keys` and `steps` (a range or a list of steps) keep only those points (filtered in the database)."""

        keys = [keys] if isinstance(keys, str) else keys
        frame = self._store.metrics_frame(self.id, keys, steps=steps, system=system).drop(columns="run")
        frame["time"] = epoch_to_datetime(frame["time"])
        return frame

    def events(self) -> DataFrame:
        """DataFrame of the run's events: time, level, message, extra."""

        frame = self._store.events_frame(self.id)
        frame["time"] = epoch_to_datetime(frame["time"])
        return frame

    def alerts(self) -> DataFrame:
        """DataFrame of the run's alerts: name, source, state, triggered_at, changed_at, rule."""
        import pandas as pd

        rows = [
            {
                "name": row["name"],
                "source": row["rule"].get("source"),
                "state": row["state"],
                "triggered_at": row["triggered_at"],
                "changed_at": row["changed_at"],
                "rule": row["rule"],
            }
            for row in self._store.alert_rows([self.id])
        ]
        columns = ["name", "source", "state", "triggered_at", "changed_at", "rule"]
        frame = pd.DataFrame.from_records(rows, columns=columns)
        for column in ("triggered_at", "changed_at"):
            frame[column] = epoch_to_datetime(frame[column])
        return frame

    def hardware(self) -> dict:
        """Peak RSS and GPU memory, mean CPU % and GPU utilization, total bytes read/written/sent/received."""
        from ..hardware.summary import summarize

        keys = [k for k in self._store.metric_keys(self.id) if k.startswith(SYSTEM_PREFIX)]
        return summarize(self._store.points(self.id, keys))

    def summary(self, *, system: bool = False) -> DataFrame:
        """One row per metric key: count, first, last, min, max, mean, last_step (system/ keys with
        system=True); the hardware summary (see `hardware()`) is in `.attrs["hardware"]`."""
        import pandas as pd

        per_key = self._store.summaries([self.id])[self.id]
        rows = {k: v for k, v in per_key.items() if system or not k.startswith(SYSTEM_PREFIX)}
        columns = ["count", "first", "last", "min", "max", "mean", "last_step"]
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
        frame.index.name = "key"
        frame.attrs["hardware"] = self.hardware()
        return frame

    def artifacts(self) -> DataFrame:
        """DataFrame of the run's artifacts: name, category, path, size, sha256, mime, created."""
        return artifact_frame(self._store, self.id)

    def load_artifact(self, name: str, *, verify: bool = True) -> Any:
        """An object saved with log_artifact() (unpickled), or the Path of a saved file.

        Unpickling runs code: only load artifacts from sources you trust. The sha256 recorded at save time
        is checked first (`verify=False` skips it)."""
        return load_stored(self._store, self.id, name, verify=verify)

    def restore_artifacts(self, names: Iterable[str] | None = None) -> list:
        """Every object saved with log_artifact() (or those in `names`), unpickled, in the order saved.

        Unpickling runs code: only restore artifacts from sources you trust."""
        return restore_stored(self._store, self.id, names)

    def notes(self) -> list[dict]:
        """The notes added with add_note(), oldest first: {"time": a UTC datetime, "text": ...} each."""
        return [
            {"time": datetime.fromtimestamp(when, timezone.utc), "text": text}
            for when, text in notes_of(self._store.events(self.id))
        ]

    # -- edits after the fact: one short transaction each, recorded as an event ----------------------------
    def add_tags(self, *tags: str | Iterable[str] | Mapping[str, object], **pairs: object) -> list[str]:
        """Add tags (`"a", "b"`, `"a,b"`, a list) or key/value tags (`team="ml"`, a dict; values kept as
        text); returns the names added or given a new value."""
        found = tag_values(tags, pairs)
        if not found:
            raise InvalidArgument("tags: add_tags needs at least one tag (commas separate tags)")
        return self._writable().edit_tags(self.id, found, time.time())

    def remove_tags(self, *tags: str | Iterable[str]) -> list[str]:
        """Remove tags; returns those the run had (others are ignored)."""
        return self._writable().edit_tags(self.id, _tags(tags, "remove_tags"), time.time(), remove=True)

    def rename(self, new: str) -> None:
        """Give the run a new name, unique in its project (its id and uuid stay)."""
        name = check_name(new)
        if name == self.info.name:  # nothing to change: no write, no event
            self.name = name
            return
        self._writable().rename_run(self.id, name, time.time())
        self.name = name

    def set_description(self, text: str | None) -> None:
        """Replace the run's description (None or "" clears it)."""
        if text is not None and not isinstance(text, str):
            raise InvalidArgument(f"description must be text or None, got {show(text)}")
        description = (utf8(text, "description").strip() or None) if text else None
        self._writable().describe_run(self.id, description, time.time())

    def add_note(self, text: str) -> None:
        """Keep a note on the run (every note is kept, with its time; see notes())."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidArgument(f"note must be non-empty text, got {show(text)}")
        self._writable().add_note(self.id, utf8(text, "note").strip(), time.time())

    def _writable(self) -> Store:
        """The store opened for writing, through the same door start_run uses (an older file is upgraded)."""
        if self._store.read_only:
            self._store = store_for(self._store.path, write=True)
        return self._store

    def export(self, path: config.PathArg | None = None, format: str | None = None) -> Path:
        """Write the run card: JSON or self-contained HTML, from the suffix or `format`; returns the path."""
        from .. import _export_run as export_run  # cards sit above reading: reach them through the facade

        return export_run(self._store, self.id, path, format)

    def __repr__(self) -> str:
        info = self.info
        return f"<Run {info.id} {info.project}/{info.name} {info.status}>"


def _tags(tags: tuple, verb: str) -> list[str]:
    found = normalize_tags(tags)
    if not found:
        raise InvalidArgument(f"tags: {verb} needs at least one tag (commas separate tags)")
    return found


def notes_of(events: Iterable[tuple]) -> list[tuple[float, str]]:
    """(time, text) of the notes among a run's events (time, level, message, extra)."""
    return [
        (when, message.removeprefix("note: "))
        for when, _level, message, extra in events
        if isinstance(extra, dict) and extra.get("kind") == "note"
    ]


def load_run(ref: int | str, *, project: str | None = None, db: DbArg = None) -> RunRecord:
    """A stored run by id, uuid or name (within `project` when given; a name several projects share needs it)."""
    if isinstance(ref, bool) or not isinstance(ref, int | str):
        raise InvalidArgument(f"a run is named by its id, uuid or name, not {show(ref)}")
    store = store_for(db, write=False)
    return RunRecord(store, store.find_run(ref, project).id)


def export(
    ref: int | str,
    path: config.PathArg | None = None,
    format: str | None = None,
    *,
    project: str | None = None,
    db: DbArg = None,
) -> Path:
    """Write the run card of run `ref` (id, uuid or name) to `path` (JSON or HTML); returns the path."""
    return load_run(ref, project=project, db=db).export(path, format)


def runs(
    project: str | None = None,
    status: str | Iterable[str] | None = None,
    tags: str | Iterable[str] | None = None,
    *,
    folder: str | None = None,
    limit: int | None = None,
    db: DbArg = None,
) -> DataFrame:
    """One row per run, newest first: id, name, project, status, started, duration, tags,
    `params.<key>` columns and the last value of each metric as `metrics.<key>`."""
    store = store_for(db, write=False)
    infos = store.list_runs(project=project, status=status, tags=tags, folder=folder, limit=limit)
    return runs_frame(store, infos)


def runs_frame(store: Store, infos: list[RunInfo]) -> DataFrame:
    import pandas as pd

    summaries = store.summaries([info.id for info in infos])
    records = []
    for info in infos:
        record = {
            "id": info.id,
            "name": info.name,
            "project": info.project,
            "status": info.status,
            "started": info.started,
            "duration": info.duration,
            "tags": ", ".join(info.tags),
            "folder": info.folder,
            "description": info.description,
        }
        record.update({f"params.{k}": _cell(v) for k, v in info.params.items()})
        record.update(
            {
                f"metrics.{k}": s["last"]
                for k, s in summaries[info.id].items()
                if not k.startswith(SYSTEM_PREFIX)
            }
        )
        records.append(record)
    base = ["id", "name", "project", "status", "started", "duration", "tags", "folder", "description"]
    frame = pd.DataFrame.from_records(records, columns=_columns(base, records))
    frame["started"] = epoch_to_datetime(frame["started"])
    return frame


def _columns(base: list[str], records: list[dict]) -> list[str]:
    extra: dict[str, None] = {}
    for record in records:
        extra.update(dict.fromkeys(k for k in record if k not in base))
    params = sorted(k for k in extra if k.startswith("params."))
    metrics = sorted(k for k in extra if k.startswith("metrics."))
    return base + params + metrics


def _cell(value: object) -> object:
    """Params that are lists or dicts would make object columns pandas cannot compare: show them as text."""
    return repr(value) if isinstance(value, list | dict | tuple) else value
