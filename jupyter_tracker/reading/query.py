"""Reading runs back: `runs()` as a DataFrame, `load_run()` as a RunRecord."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import config
from ..frames import DataFrame, epoch_to_datetime
from ..models import SYSTEM_PREFIX, RunInfo
from ..store import Store
from ..tracking.artifacts import artifact_frame, load_stored, restore_stored
from ..tracking.stores import DbArg, store_for


class RunRecord:
    """A stored run: read-only access to its params, tags, metrics, events and summary."""

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

    def export(self, path: config.PathArg | None = None, format: str | None = None) -> Path:
        """Write the run card: JSON or self-contained HTML, from the suffix or `format`; returns the path."""
        from .. import _export_run as export_run  # cards sit above reading: reach them through the facade

        return export_run(self._store, self.id, path, format)

    def __repr__(self) -> str:
        info = self.info
        return f"<Run {info.id} {info.project}/{info.name} {info.status}>"


def load_run(ref: int | str, *, project: str | None = None, db: DbArg = None) -> RunRecord:
    """A stored run by id, uuid or name (the newest of that name, within `project` when given)."""
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
