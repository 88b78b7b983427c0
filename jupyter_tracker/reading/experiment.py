"""An experiment (a project's runs) read in long format, omega|ml style.

`experiment("mnist").data()` is one row per recorded thing: columns experiment, run, step, event, key,
value, dt, node, userid, plus the fields set with log_extra(). event is one of start, stop, metric,
param, artifact, system (the snapshots of log_system(), the value a dict), event and alert; hardware
samples (`system/...` series) come only when asked for with event="hardware". As in omega|ml, `run` is
the run's number in its experiment: 1 for the project's first run, 2 for the next (by creation).
`with experiment("mnist") as exp:` also starts a run in the project and passes logging calls
(exp.log_metric(...)) on to it.
"""

from __future__ import annotations

import numbers as numbers_module
from collections.abc import Iterable
from typing import Any, TypeAlias, cast

from .. import config
from ..errors import InvalidArgument, RunNotFound
from ..frames import DataFrame, epoch_to_datetime
from ..models import SYSTEM_PREFIX, RunInfo
from ..store import Store
from ..tracking import context
from ..tracking.artifacts import PICKLE_MIME, load_stored
from ..tracking.run import Run
from ..tracking.start import start_run
from ..tracking.stores import DbArg, store_for
from ..tracking.validation import parse_timestamp
from .query import runs_frame

COLUMNS = ["experiment", "run", "step", "event", "key", "value", "dt", "node", "userid"]
EVENTS = ("start", "stop", "metric", "param", "artifact", "system", "event", "alert", "hardware")
DEFAULT_EVENTS = frozenset(EVENTS) - {"hardware"}  # hardware samples are many: only when asked for
_ORDER = {"start": 0, "param": 1, "metric": 2, "hardware": 2, "stop": 4}
SUMMARY = ["event", "key", "count", "mean", "std", "min", "25%", "50%", "75%", "max"]

# Which runs: None (the latest), "*" (all), a run number of the experiment (1-based), a name or uuid, or
# a list of them.
RunSelection: TypeAlias = "int | str | Iterable | None"


def experiment(
    project: str | None = None,
    *,
    folder: str | None = None,
    tags: str | Iterable[str] | None = None,
    db: DbArg = None,
) -> Experiment:
    """The runs of `project` (default: the configured project, or the notebook's name), optionally
    narrowed to a folder (with its sub-folders) and tags."""
    project = project or cast("str | None", config.setting("project")) or context.default_project()
    return Experiment(project, folder=folder, tags=tags, db=db)


class Experiment:
    """A project's runs: data() in long format, summary(), runs(), artifacts; a run with `with`."""

    def __init__(
        self,
        project: str,
        *,
        folder: str | None = None,
        tags: str | Iterable[str] | None = None,
        db: DbArg = None,
    ):
        self.project, self.folder, self.tags = project, folder, tags
        # Resolved now (as the configuration stands), opened per use: reads open the file read-only
        # (there may be no database yet when the experiment is only about to record a run).
        self._db: DbArg = db if isinstance(db, Store) else config.db_path(db)
        self.run: Run | None = None

    @property
    def _store(self) -> Store:
        return store_for(self._db, write=False)

    # -- selecting runs -----------------------------------------------------------------------------
    def _infos(self) -> list[RunInfo]:
        return self._store.list_runs(project=self.project, folder=self.folder, tags=self.tags)

    def numbers(self) -> dict[int, int]:
        """{run id: its number in the experiment}: 1, 2, ... in the order the project's runs were created
        (omega|ml's per-experiment numbering; folder and tag filters do not change a run's number)."""
        ids = sorted(info.id for info in self._store.list_runs(project=self.project))
        return {run_id: number for number, run_id in enumerate(ids, 1)}

    def _select(self, run: RunSelection, numbers: dict[int, int] | None = None) -> list[RunInfo]:
        """None: the latest run; "*": all; a run number, name or uuid, or a list of them."""
        infos = self._infos()
        if run is None:
            return infos[:1]
        if isinstance(run, str) and run == "*":
            return sorted(infos, key=lambda info: info.id)
        numbers = self.numbers() if numbers is None else numbers
        by_id = {info.id: info for info in infos}
        by_number = {numbers[info.id]: info for info in infos}
        chosen = {}
        for ref in [run] if isinstance(run, str | numbers_module.Integral) else list(cast(Iterable, run)):
            if isinstance(ref, RunInfo):
                found = by_id.get(ref.id)
            elif isinstance(ref, numbers_module.Integral) or str(ref).isdigit():
                found = by_number.get(int(ref))
            else:
                found = by_id.get(self._store.find_run(cast(str, ref), self.project).id)
            if found is None:
                raise RunNotFound(
                    f"run {ref!r} is not in experiment {self.project!r}: runs are numbered 1 to "
                    f"{len(numbers)} in it (the `run` column of data() and runs()), or give a name"
                )
            chosen[found.id] = found
        return [chosen[i] for i in sorted(chosen)]

    def runs(self) -> DataFrame:
        """One row per run of the experiment, newest first (as jupyter_tracker.runs()), with its number in
        the experiment first (`run`, what data(run=N) takes)."""
        infos = self._infos()
        frame = runs_frame(self._store, infos)
        numbers = self.numbers()
        frame.insert(0, "run", [numbers[info.id] for info in infos])
        return frame

    # -- long data ----------------------------------------------------------------------------------
    def data(
        self,
        event: str | Iterable[str] | None = None,
        key: str | Iterable[str] | None = None,
        run: RunSelection = None,
        since: Any = None,
    ) -> DataFrame:
        """Long DataFrame: experiment, run, step, event, key, value, dt, node, userid (+ log_extra fields).

        run=None is the latest run, run="*" every run, or a run number (1 is the experiment's first run, as
        in omega|ml), a name, or a list of them. event and key filter (a name or a list); event=None is
        every kind but "hardware" (the hardware samples, only when asked for). since keeps rows at or after
        a datetime, ISO-8601 string or epoch seconds. value is numeric when every row selected is (e.g. event="metric"), so
        `.plot(x="run", y="value")` works. dt is a UTC datetime, exact to the microsecond."""
        import pandas as pd

        events = _names(event, EVENTS, "event") or set(DEFAULT_EVENTS)
        keys = None if key is None else sorted(_names(key))
        numbers = self.numbers()
        infos = self._select(run, numbers)
        ids = [info.id for info in infos]
        logged: dict[int, list] = {}
        if events & {"event", "alert", "system"}:
            for run_id, *record in self._store.events_of(ids):
                logged.setdefault(run_id, []).append(record)
        extras = self._store.extras(ids)
        parts = [
            self._run_part(info, numbers[info.id], events, keys, logged.get(info.id, []), extras.get(info.id))
            for info in infos
        ]
        parts = [part for part in parts if len(part)]
        extra_names = list(dict.fromkeys(name for *_, fields in _flat(extras) for name in fields))
        if not parts:
            return pd.DataFrame(columns=COLUMNS + extra_names)
        frame = pd.concat(cast("list[DataFrame]", parts), ignore_index=True)  # the empty lists are left out
        if since is not None:
            frame = frame[frame["time"] >= parse_timestamp(since)]
        # At equal times: start, params, points, then what they caused (alerts, events), then stop.
        order = frame["event"].map(_ORDER).fillna(3)
        frame = frame.assign(_order=order).sort_values(["run", "time", "_order"], kind="stable")
        frame = frame.reset_index(drop=True)
        frame["dt"] = epoch_to_datetime(frame["time"])
        frame["step"] = frame["step"].astype("Int64")
        if frame["value"].dtype == object and all(_is_real(v) for v in frame["value"]):
            frame["value"] = frame["value"].astype("float64")
        return frame[COLUMNS + [c for c in extra_names if c in frame.columns]]

    def _run_part(
        self,
        info: RunInfo,
        number: int,
        events: set,
        keys: list[str] | None,
        logged: list,
        extras: list | None,
    ) -> DataFrame | list[DataFrame]:
        import numpy as np
        import pandas as pd

        records: list[tuple] = []  # (step, event, key, value, time)
        if "start" in events and info.started is not None:
            records.append((None, "start", "start", None, info.started))
        if "param" in events:
            records += [(None, "param", k, v, info.started or info.created) for k, v in info.params.items()]
        if "artifact" in events:
            for row in self._store.artifacts_in_order(info.id):
                value = {c: row[c] for c in ("category", "path", "size", "sha256", "mime")}
                records.append((None, "artifact", row["name"], value, row["created"]))
        for when, level, message, extra in logged:
            if "alert" in extra and "state" in extra:
                if "alert" in events:
                    records.append((None, "alert", extra["alert"], extra["state"], when))
            elif isinstance(extra.get("system"), dict):  # a log_system() snapshot
                if "system" in events:
                    records.append((None, "system", "system", extra["system"], when))
            elif "event" in events:
                records.append((None, "event", level, message, when))
        if "stop" in events and info.ended is not None:
            records.append((None, "stop", "stop", info.status, info.ended))
        if keys is not None:
            records = [r for r in records if r[2] in keys]
        columns = ["step", "event", "key", "value", "time"]
        pieces = [pd.DataFrame.from_records(records, columns=columns)] if records else []
        if events & {"metric", "hardware"}:
            points = self._store.points(info.id, keys)
            if points:
                names: Any  # the keys, then the same as an array
                names, steps, values, times = zip(*points, strict=True)
                names = np.array(names, dtype=object)
                system = np.char.startswith(names.astype(str), SYSTEM_PREFIX)
                kinds = np.where(system, "hardware", "metric")
                numeric = pd.DataFrame(
                    {"step": steps, "event": kinds, "key": names, "value": values, "time": times}
                )
                numeric = numeric[numeric["event"].isin(events)]
                pieces.append(numeric.astype({"step": "float64", "value": "float64"}))
        pieces = [piece for piece in pieces if len(piece)]
        if not pieces:
            return pieces
        part = pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)
        part["time"] = part["time"].astype("float64")
        _apply_extras(part, extras or [])
        return part.assign(experiment=info.project, run=number, node=info.host, userid=info.user)

    def summary(
        self,
        event: str | Iterable[str] = "metric",
        key: str | Iterable[str] | None = None,
        run: RunSelection = None,
        since: Any = None,
    ) -> DataFrame:
        """count, mean, std, min, 25%, 50%, 75% and max per (event, key) of the selected runs' rows
        (run=None: the latest run, "*": all)."""
        import pandas as pd

        frame = self.data(event=event, key=key, run=run, since=since)
        if frame.empty:
            return pd.DataFrame(columns=SUMMARY)
        frame = frame.assign(value=pd.to_numeric(frame["value"], errors="coerce"))
        stats = frame.groupby(["event", "key"], sort=True)["value"].describe().reset_index()
        return stats[SUMMARY]

    # -- artifacts ----------------------------------------------------------------------------------
    def load_artifact(self, name: str, run: RunSelection = None) -> Any:
        """Artifact `name` of the latest run (or `run`): the object for log_artifact(), else its Path.
        Unpickling runs code: only load artifacts from sources you trust."""
        return load_stored(self._store, self._one(run).id, name)

    def restore_artifacts(self, run: RunSelection = None) -> list:
        """The objects saved with log_artifact() in the latest run (or `run`), in the order saved.
        Unpickling runs code: only restore artifacts from sources you trust."""
        run_id = self._one(run).id
        rows = self._store.artifacts_in_order(run_id)
        return [load_stored(self._store, run_id, row["name"]) for row in rows if row["mime"] == PICKLE_MIME]

    def _one(self, run: RunSelection) -> RunInfo:
        found = self._select(run)
        if len(found) != 1:
            raise RunNotFound(f"no single run {run!r} in experiment {self.project!r}")
        return found[0]

    # -- recording a run ------------------------------------------------------------------------------
    def __enter__(self) -> Experiment:
        self.run = start_run(project=self.project, folder=self.folder, tags=self.tags, db=self._db)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        run, self.run = self.run, None
        if run is not None:
            run.__exit__(exc_type, exc, tb)

    def __getattr__(self, name: str) -> Any:
        run = self.__dict__.get("run")
        if not name.startswith("_") and run is not None and hasattr(run, name):
            return getattr(run, name)
        hint = " (run methods work inside `with experiment(...) as exp:`)" if hasattr(Run, name) else ""
        raise AttributeError(f"'Experiment' object has no attribute {name!r}{hint}")

    def __repr__(self) -> str:
        return f"<Experiment {self.project!r}: {len(self._infos())} runs>"


def _names(
    value: str | Iterable[str] | None, allowed: Iterable[str] | None = None, label: str = ""
) -> set[str]:
    if value is None:
        return set()
    names = {value} if isinstance(value, str) else set(value)
    if allowed is not None and names - set(allowed):
        unknown = ", ".join(sorted(names - set(allowed)))
        raise InvalidArgument(f"unknown {label} {unknown}: choose from {', '.join(allowed)}")
    return names


def _flat(extras: dict) -> list:
    return [segment for segments in extras.values() for segment in segments]


def _apply_extras(part: DataFrame, segments: list) -> None:
    """Set each log_extra field on the rows at or after the step, or at or after the time, it was set."""
    import numpy as np

    if not segments:
        return
    steps = part["step"].to_numpy(dtype="float64")
    times = part["time"].to_numpy(dtype="float64")
    columns: dict[str, np.ndarray] = {}
    for from_step, from_time, fields in segments:
        mask = (steps >= from_step) | (times >= from_time)
        for name, value in fields.items():
            column = columns.setdefault(name, np.full(len(part), None, dtype=object))
            if isinstance(value, list | dict):
                for i in np.flatnonzero(mask):
                    column[i] = value
            else:
                column[mask] = value
    for name, column in columns.items():
        part[name] = column


def _is_real(value: object) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))
