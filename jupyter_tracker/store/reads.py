"""Everything that reads the database: records and pandas DataFrames (pandas imported on first use)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from ..errors import InvalidArgument, RunNotFound
from ..models import ARTIFACT_COLUMNS, CRASHED, RUNNING, STATUSES, SYSTEM_PREFIX, RunInfo
from .connection import Connection, chunks, placeholders
from .schema import RUN_FIELDS as _RUN_FIELDS
from .schema import TAG_VALUES_SINCE, run_select


def _points_filter(run: int, key_ids: list[int], steps) -> tuple[str, list]:
    """WHERE clause (and its parameters) for one run's points of `key_ids`, at `steps` when given,
    ordered as points() orders them."""
    where = f"run = ? AND key IN ({placeholders(key_ids)})"
    args: list = [run, *key_ids]
    if isinstance(steps, range) and steps.step == 1:
        where += " AND step >= ? AND step < ?"
        args += [steps.start, steps.stop]
    elif steps is not None:
        where += " AND step IN (SELECT value FROM json_each(?))"
        args.append(json.dumps([int(step) for step in steps]))
    return where + " ORDER BY key, step, time", args


def _tag_fields(tags: dict) -> dict:
    """RunInfo's tags (the names, sorted) and tag_values (name -> value, None for a plain tag)."""
    names = tuple(sorted(tags))
    return {"tags": names, "tag_values": {name: tags[name] for name in names}}


def _nan(value):
    return math.nan if value is None else value


class Reads:
    """Mixin of Store: read operations. Expects `self.db` (a connection.Connection) and
    `self.judge_running`: None, or a callable that gets the row of a run stored as running and returns its
    status as it should read (the store knows SQL, not processes: see tracking/stores.py)."""

    db: Connection
    path: Path
    judge_running: Callable[[dict], str] | None = None

    # -- runs ---------------------------------------------------------------------------------
    def _run_infos(
        self, where: str = "", args: Sequence = (), order: str = "id", keep: Callable | None = None,
        limit: int | None = None,
    ) -> list[RunInfo]:  # fmt: skip
        """The runs of `where` in `order`, statuses judged; only those `keep(status)` accepts (all when
        None), at most `limit` of them. The limit is in the SQL; rows that `keep` drops are made up for by
        reading on (they are rare: runs stored as running that read as crashed, or the reverse)."""
        records: list[dict] = []
        offset = 0
        while True:
            page = f" LIMIT {int(limit) - len(records):d} OFFSET {offset:d}" if limit else ""
            rows = self.db.query(f"{run_select(self.db.version)} {where} ORDER BY {order}{page}", args)
            offset += len(rows)
            for row in rows:
                record = dict(zip(_RUN_FIELDS, row, strict=True))
                if record["status"] == RUNNING and self.judge_running is not None:
                    record["status"] = self.judge_running(record)
                if keep is None or keep(record["status"]):
                    records.append(record)
            if not limit or not rows or len(records) >= limit:
                break
        return self._with_params_and_tags(records)

    def _with_params_and_tags(self, records: list[dict]) -> list[RunInfo]:
        ids = [record["id"] for record in records]
        params: dict[int, dict] = {i: {} for i in ids}
        tags: dict[int, dict] = {i: {} for i in ids}
        # A file older than the tag values reads every tag as plain (reading never migrates).
        tag_value = "value" if self.db.version >= TAG_VALUES_SINCE else "NULL"
        # Chunked: SQLite limits the number of bound parameters.
        for chunk in chunks(ids):
            for run, key, value in self.db.query(
                f"SELECT run, key, value FROM params WHERE run IN ({placeholders(chunk)}) ORDER BY rowid",
                chunk,
            ):
                params[run][key] = json.loads(value)
            for run, tag, text in self.db.query(
                f"SELECT run, tag, {tag_value} FROM tags WHERE run IN ({placeholders(chunk)})", chunk
            ):
                tags[run][tag] = text
        infos = []
        for record in records:
            record["metadata"] = json.loads(record["metadata"])
            record["environment"] = json.loads(record["environment"])
            record["git_dirty"] = None if record["git_dirty"] is None else bool(record["git_dirty"])
            infos.append(RunInfo(**record, params=params[record["id"]], **_tag_fields(tags[record["id"]])))
        return infos

    def get_run(self, run_id: int) -> RunInfo:
        found = self._run_infos("WHERE id = ?", (run_id,))
        if not found:
            raise RunNotFound(f"no run with id {run_id} in {self.path}")
        return found[0]

    def find_run(self, ref: int | str | RunInfo, project: str | None = None) -> RunInfo:
        """A run by id, uuid or name (within `project` when given). A name that runs of several projects
        share is refused, naming them: picking one would act on a run the caller may not mean."""
        if isinstance(ref, RunInfo):
            return ref
        text = str(ref).strip()
        if isinstance(ref, int) or text.isdigit():
            return self.get_run(int(text))
        where, args = "WHERE (name = ? OR uuid = ?)", [text, text]
        if project is not None:
            where += " AND project = ?"
            args.append(project)
        found = self._run_infos(where, args, order="created DESC, id DESC")
        if not found:
            scope = f" in project {project!r}" if project else ""
            raise RunNotFound(
                f"no run named {text!r}{scope} in {self.path}. "
                "List runs with %track_runs or `jupyter-tracker ls`."
            )
        if len({info.project for info in found}) > 1 and not any(info.uuid == text for info in found):
            where_ = ", ".join(f"{info.project!r} (id {info.id})" for info in found[:5])
            raise InvalidArgument(
                f"run name {text!r} is in several projects: {where_}; name the project (project=..., "
                "--project) or use the id"
            )
        return found[0]

    def list_runs(
        self,
        *,
        project: str | None = None,
        status: str | Iterable[str] | None = None,
        tags: str | Iterable[str] | None = None,
        folder: str | None = None,
        ids: Iterable[int] | None = None,
        limit: int | None = None,
    ) -> list[RunInfo]:
        """Runs matching every filter given, newest first. `folder` includes its sub-folders."""
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise InvalidArgument(
                f"limit must be a whole number of runs, at least 1, or None for all; got {limit!r}"
            )
        clauses: list[str] = []
        args: list[object] = []
        if project is not None:
            clauses.append("project = ?")
            args.append(project)
        if folder is not None:
            base = "/" + folder.strip("/")
            clauses.append("(folder = ? OR folder LIKE ? ESCAPE '\\')")
            escaped = base.rstrip("/").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args += [base, escaped + "/%"]
        for tag in [tags] if isinstance(tags, str) else (tags or []):
            clauses.append("id IN (SELECT run FROM tags WHERE tag = ?)")
            args.append(tag)
        if ids is not None:
            ids = [int(i) for i in ids]
            clauses.append(f"id IN ({placeholders(ids)})" if ids else "0")
            args += ids
        keep = None
        if status is not None:
            wanted = {status} if isinstance(status, str) else set(status)
            unknown = sorted(wanted - set(STATUSES))
            if unknown:
                raise InvalidArgument(
                    f"unknown status {', '.join(unknown)}; the statuses are {', '.join(STATUSES)}"
                )
            # A run stored as running may read as crashed (judge_running): both are looked for as stored.
            stored = wanted | ({RUNNING} if wanted & {RUNNING, CRASHED} else set())
            clauses.append(f"status IN ({placeholders(sorted(stored))})")
            args += sorted(stored)
            keep = wanted.__contains__
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return self._run_infos(where, args, order="created DESC, id DESC", keep=keep, limit=limit)

    def projects(self) -> list[str]:
        return [row[0] for row in self.db.query("SELECT DISTINCT project FROM runs ORDER BY project")]

    # -- metrics ------------------------------------------------------------------------------
    def metric_keys(self, run_id: int) -> dict[str, int]:
        return dict(self.db.query("SELECT name, id FROM metric_keys WHERE run = ? ORDER BY id", (run_id,)))

    def last_step(self, run_id: int) -> int | None:
        return self.db.query("SELECT max(step) FROM metrics WHERE run = ?", (run_id,))[0][0]

    def points(self, run_id: int, keys: Iterable[str] | None = None) -> list[tuple]:
        """(key, step, value, time) ordered by key and step; NaN comes back as NaN."""
        sql = (
            "SELECT k.name, m.step, m.value, m.time FROM metrics m "
            "JOIN metric_keys k ON k.run = m.run AND k.id = m.key WHERE m.run = ?"
        )
        args: list = [run_id]
        if keys is not None:
            keys = list(keys)
            sql += f" AND k.name IN ({placeholders(keys)})"
            args += keys
        rows = self.db.query(sql + " ORDER BY m.key, m.step, m.time", args)
        return [(k, s, _nan(v), t) for k, s, v, t in rows]

    def point_columns(self, run_id: int) -> dict:
        """Every series of a run as a NumPy structured array (step, value, time) ordered by step, by key
        name in the order keys were first logged; NaN where no value. No tuple per point outlives its key."""
        import numpy as np

        dtype = [("step", "i8"), ("value", "f8"), ("time", "f8")]
        names = self.db.query("SELECT id, name FROM metric_keys WHERE run = ? ORDER BY id", (run_id,))
        sql = "SELECT step, value, time FROM metrics WHERE run = ? AND key = ? ORDER BY step, time"
        return {name: np.array(self.db.query(sql, (run_id, key_id)), dtype=dtype) for key_id, name in names}

    def recent_values(self, run_id: int, key: str, count: int) -> list[float]:
        """The last `count` values of one metric in the order they were logged (NaN left out)."""
        rows = self.db.query(
            "SELECT m.value FROM metrics m JOIN metric_keys k ON k.run = m.run AND k.id = m.key "
            "WHERE m.run = ? AND k.name = ? AND m.value IS NOT NULL ORDER BY m.time DESC, m.step DESC LIMIT ?",
            (run_id, key, count),
        )
        return [value for (value,) in reversed(rows)]

    def values_within(self, run_id: int, key: str, seconds: float) -> list[tuple[float, float]]:
        """(time, value) of one metric's points in the last `seconds` before its latest point, oldest first
        (NaN left out): what an alert's time window held when the run ended."""
        rows = self.db.query(
            "SELECT m.time, m.value FROM metrics m JOIN metric_keys k ON k.run = m.run AND k.id = m.key "
            "WHERE m.run = ? AND k.name = ? AND m.value IS NOT NULL AND m.time >= "
            "(SELECT max(n.time) FROM metrics n WHERE n.run = m.run AND n.key = m.key) - ? "
            "ORDER BY m.time, m.step",
            (run_id, key, seconds),
        )
        return [(when, value) for when, value in rows]

    def metrics_frame(
        self,
        run_ids: int | Iterable[int],
        keys: Iterable[str] | None = None,
        *,
        steps: range | Iterable[int] | None = None,
        system: bool = True,
    ):
        """Long DataFrame: run, key, step, value, time (seconds since the epoch), ordered by run, key id,
        step and time. `keys`, `steps` (a range or steps) and `system=False` (no system/ keys, when `keys`
        is None) are filtered in SQL; the columns are filled batch by batch, never as one list of rows."""
        import numpy as np
        import pandas as pd

        ids = [run_ids] if isinstance(run_ids, int) else [int(i) for i in run_ids]
        columns: dict[str, list] = {"run": [], "key": [], "step": [], "value": [], "time": []}
        for run in ids:
            names = self.metric_keys(run)  # name -> id, few
            if keys is not None:
                wanted = set(keys)
                names = {name: i for name, i in names.items() if name in wanted}
            elif not system:
                names = {name: i for name, i in names.items() if not name.startswith(SYSTEM_PREFIX)}
            if not names:
                continue
            by_id = np.empty(max(names.values()) + 1, dtype=object)
            for name, i in names.items():
                by_id[i] = name
            where, args = _points_filter(run, sorted(names.values()), steps)
            for batch in self.db.batches(f"SELECT key, step, value, time FROM metrics WHERE {where}", args):
                key, step, value, at = zip(*batch, strict=True)
                columns["run"].append(np.full(len(batch), run, dtype=np.int64))
                columns["key"].append(by_id[np.fromiter(key, dtype=np.int64, count=len(batch))])
                columns["step"].append(np.fromiter(step, dtype=np.int64, count=len(batch)))
                columns["value"].append(np.array(value, dtype=np.float64))  # NULL (NaN) -> nan
                columns["time"].append(np.fromiter(at, dtype=np.float64, count=len(batch)))
        dtypes = {"run": np.int64, "key": object, "step": np.int64, "value": np.float64, "time": np.float64}
        return pd.DataFrame(
            {  # a Series with its dtype: pandas would otherwise make the names a str column (a copy)
                name: pd.Series(np.concatenate(parts) if parts else [], dtype=dtypes[name], copy=False)
                for name, parts in columns.items()
            }
        )

    def summaries(self, run_ids: Iterable[int]) -> dict[int, dict[str, dict]]:
        """{run: {key: {count, first, last, min, max, mean, last_step}}}; stored for ended runs, live otherwise."""
        ids = list(run_ids)
        result: dict[int, dict[str, dict]] = {i: {} for i in ids}
        names = ("count", "first", "last", "min", "max", "mean", "last_step")
        live = set()
        for chunk in chunks(ids):
            for run, key, *values in self.db.query(
                f"SELECT run, name, {', '.join(names)} FROM metric_keys WHERE run IN ({placeholders(chunk)}) "
                "ORDER BY run, id",
                chunk,
            ):
                if values[0] is None:
                    live.add(run)
                else:
                    result[run][key] = dict(zip(names, values, strict=True))
        for run in live:
            result[run] = self._live_summary(run)
        for per_key in result.values():
            for summary in per_key.values():
                # SQLite's aggregates skip NULL (= NaN) values; first/last keep it.
                for name in ("first", "last", "min", "max", "mean"):
                    summary[name] = _nan(summary[name])
        return result

    def _live_summary(self, run_id: int) -> dict[str, dict]:
        summary = {}
        for key, count, lo, hi, mean, last_step, first, last in self.db.query(
            """SELECT k.name, count(*), min(m.value), max(m.value), avg(m.value), max(m.step),
                          (SELECT value FROM metrics f WHERE f.run = k.run AND f.key = k.id
                           ORDER BY step, time LIMIT 1),
                          (SELECT value FROM metrics l WHERE l.run = k.run AND l.key = k.id
                           ORDER BY step DESC, time DESC LIMIT 1)
                   FROM metric_keys k JOIN metrics m ON m.run = k.run AND m.key = k.id
                   WHERE k.run = ? GROUP BY k.id ORDER BY k.id""",
            (run_id,),
        ):
            summary[key] = {
                "count": count,
                "first": first,
                "last": last,
                "min": lo,
                "max": hi,
                "mean": mean,
                "last_step": last_step,
            }
        return summary

    # -- events -------------------------------------------------------------------------------
    def events(self, run_id: int) -> list[tuple]:
        """(time, level, message, extra dict), oldest first."""
        rows = self.db.query(
            "SELECT time, level, message, extra FROM events WHERE run = ? ORDER BY time, id", (run_id,)
        )
        return [(t, level, message, json.loads(extra)) for t, level, message, extra in rows]

    def events_frame(self, run_id: int):
        import pandas as pd

        return pd.DataFrame.from_records(self.events(run_id), columns=["time", "level", "message", "extra"])

    # -- artifacts and alerts -----------------------------------------------------------------
    def artifacts(self, run_id: int) -> list[dict]:
        """The run's artifact rows: name, category, path, size, sha256, mime, created; by name."""
        columns = ARTIFACT_COLUMNS
        rows = self.db.query(
            f"SELECT {', '.join(columns)} FROM artifacts WHERE run = ? ORDER BY name", (run_id,)
        )
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def alerts(self, run_id: int) -> list[dict]:
        """The run's alert rows: name, rule (a dict), state, triggered_at; in the order they were added."""
        rows = self.db.query(
            "SELECT name, rule, state, triggered_at FROM alerts WHERE run = ? ORDER BY id", (run_id,)
        )
        return [
            {"name": name, "rule": json.loads(rule), "state": state, "triggered_at": triggered}
            for name, rule, state, triggered in rows
        ]
