"""Everything that changes the database. Every value is a bound parameter."""

from __future__ import annotations

import json
import sqlite3
import uuid as uuid_module
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias, cast

from ..errors import InvalidArgument, RunNotFound, StoreError
from ..models import ARTIFACT_COLUMNS
from .connection import Connection, placeholders
from .schema import RUN_FIELDS

# Columns of `runs` that callers may set after creation.
RUN_COLUMNS = frozenset(RUN_FIELDS) - {"id", "uuid", "project", "name", "created"}
_JSON_COLUMNS = frozenset({"metadata", "environment"})

INSERT_POINT = "INSERT OR REPLACE INTO metrics (run, key, step, time, value) VALUES (?, ?, ?, ?, ?)"
INSERT_EVENT = "INSERT INTO events (run, time, level, message, extra) VALUES (?, ?, ?, ?, ?)"
PUT_PARAM = (
    "INSERT INTO params (run, key, value) VALUES (?, ?, ?) "
    "ON CONFLICT (run, key) DO UPDATE SET value = excluded.value"
)
INSERT_KEY = "INSERT OR IGNORE INTO metric_keys (run, id, name) VALUES (?, ?, ?)"


def dumps(value) -> str:
    """JSON that keeps NaN and infinities (Python's json reads them back)."""
    return json.dumps(value, default=str, ensure_ascii=False)


def _merge_json(conn: sqlite3.Connection, run_id: int, column: str, updates: dict) -> dict:
    """Merge `updates` into one of the run's JSON columns, inside the caller's transaction; the result."""
    if column not in _JSON_COLUMNS:
        raise InvalidArgument(f"{column} is not a JSON column")
    (current,) = conn.execute(f"SELECT {column} FROM runs WHERE id = ?", (run_id,)).fetchone()
    merged = {**json.loads(current), **updates}
    conn.execute(f"UPDATE runs SET {column} = ? WHERE id = ?", (dumps(merged), run_id))
    return merged


def _insert_params_and_tags(conn: sqlite3.Connection, run_id: int, params: dict, tags: Tags) -> None:
    conn.executemany(PUT_PARAM, [(run_id, str(k), dumps(v)) for k, v in params.items()])
    add_tags(conn, run_id, tags)


# Tags to add: names, or a mapping of name to value: text sets (or replaces) the tag's value; a name alone
# or None adds a plain tag, and a tag the run has already keeps its value.
Tags: TypeAlias = "Iterable[str] | Mapping[str, str | None]"


# Every tag write goes through these two (inside the caller's transaction).
def add_tags(conn: sqlite3.Connection, run_id: int, tags: Tags) -> list[str]:
    """Give the run those of `tags` it does not have yet (and, for a mapping, the values that differ);
    returns the names added or changed, in the order given."""
    have = dict(conn.execute("SELECT tag, value FROM tags WHERE run = ?", (run_id,)).fetchall())
    if isinstance(tags, Mapping):
        changed = [
            t for t, value in tags.items() if t not in have or (value is not None and have[t] != value)
        ]
        conn.executemany(
            "INSERT INTO tags (run, tag, value) VALUES (?, ?, ?) "
            "ON CONFLICT (run, tag) DO UPDATE SET value = coalesce(excluded.value, value)",
            [(run_id, tag, tags[tag]) for tag in changed],
        )
        return changed
    added = [tag for tag in dict.fromkeys(tags) if tag not in have]
    conn.executemany("INSERT OR IGNORE INTO tags (run, tag) VALUES (?, ?)", [(run_id, t) for t in added])
    return added


def remove_tags(conn: sqlite3.Connection, run_id: int, tags: Iterable[str]) -> list[str]:
    """Take those of `tags` the run has off it; returns them, in the order given."""
    have = {tag for (tag,) in conn.execute("SELECT tag FROM tags WHERE run = ?", (run_id,))}
    removed = [tag for tag in dict.fromkeys(tags) if tag in have]
    conn.executemany("DELETE FROM tags WHERE run = ? AND tag = ?", [(run_id, t) for t in removed])
    return removed


def _record_edit(conn: sqlite3.Connection, run_id: int, when: float, message: str, extra: dict) -> None:
    """An edit made after the fact, kept as an event of the run, so its history reads in events()."""
    conn.execute(INSERT_EVENT, (run_id, when, "info", message, dumps(extra)))


def _run_row(conn: sqlite3.Connection, run_id: int, columns: str) -> tuple:
    row = conn.execute(f"SELECT {columns} FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise RunNotFound(f"no run with id {run_id} (deleted meanwhile?)")
    return row


def _run_values(fields: dict) -> dict:
    unknown = set(fields) - RUN_COLUMNS
    if unknown:
        raise InvalidArgument(f"unknown run field(s): {', '.join(sorted(unknown))}")
    return {k: dumps(v) if k in _JSON_COLUMNS else v for k, v in fields.items()}


class Writes:
    """Mixin of Store: write operations. Expects `self.db` (a connection.Connection)."""

    db: Connection
    path: Path

    def create_run(
        self,
        project: str,
        names: Iterable[str],
        created: float,
        *,
        uuid: str | None = None,
        params: dict | None = None,
        tags: Tags = (),
        **fields: Any,
    ) -> tuple[int, str]:
        """Insert a run under the first of `names` that is free in `project`, with its params and tags, in
        one transaction; returns (id, name).

        `uuid` keeps a given identity (an imported run); a run with that uuid already there is an error."""
        values = _run_values(fields)
        columns = ["uuid", "project", "name", "created", *values]
        sql = f"INSERT INTO runs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        with self.db.transaction() as conn:
            for name in names:
                try:
                    cursor = conn.execute(
                        sql, [uuid or uuid_module.uuid4().hex, project, name, created, *values.values()]
                    )
                except sqlite3.IntegrityError as exc:
                    if uuid and "runs.uuid" in str(exc):
                        raise InvalidArgument(f"a run with uuid {uuid} is already in {self.path}") from None
                    continue
                run_id = cast(int, cursor.lastrowid)
                _insert_params_and_tags(conn, run_id, params or {}, tags)
                return run_id, name
        raise InvalidArgument(f"no free run name in project {project!r}")

    def reopen_run(
        self, run_id: int, fields: dict, *, merge: dict[str, dict], params: dict, tags: Tags
    ) -> None:
        """Mark a stored run running again with `fields`, `merge` merged into its JSON columns (metadata,
        environment), params and tags: one transaction."""
        values = _run_values(fields)
        assignments = ", ".join(f"{column} = ?" for column in values)
        with self.db.transaction() as conn:
            conn.execute(f"UPDATE runs SET {assignments} WHERE id = ?", [*values.values(), run_id])
            for column, updates in merge.items():
                _merge_json(conn, run_id, column, updates)
            _insert_params_and_tags(conn, run_id, params, tags)

    def update_run(self, run_id: int, **fields) -> None:
        values = _run_values(fields)
        if values:
            assignments = ", ".join(f"{column} = ?" for column in values)
            with self.db.transaction() as conn:
                conn.execute(f"UPDATE runs SET {assignments} WHERE id = ?", [*values.values(), run_id])

    def merge_json(self, run_id: int, column: str, updates: dict) -> dict:
        """Merge `updates` into the run's JSON column atomically and return the result."""
        with self.db.transaction() as conn:
            return _merge_json(conn, run_id, column, updates)

    def set_params(self, run_id: int, params: dict) -> None:
        with self.db.transaction() as conn:
            _insert_params_and_tags(conn, run_id, params, ())

    def add_tags(self, run_id: int, tags: Tags) -> None:
        """Add tags: names (plain) or a mapping of name to value (see `Tags`)."""
        with self.db.transaction() as conn:
            add_tags(conn, run_id, tags)

    def remove_tags(self, run_id: int, tags: Iterable[str]) -> None:
        with self.db.transaction() as conn:
            remove_tags(conn, run_id, tags)

    # -- edits after the fact: each one transaction that also records the edit as an event ----------------
    def edit_tags(self, run_id: int, tags: Tags, when: float, *, remove: bool = False) -> list[str]:
        """Add (or with `remove=True` take off) tags, recording those that changed; returns them."""
        with self.db.transaction() as conn:
            _run_row(conn, run_id, "id")
            changed = (remove_tags if remove else add_tags)(conn, run_id, tags)
            if changed:
                verb = "removed" if remove else "added"
                values = (
                    {t: tags[t] for t in changed if tags[t] is not None} if isinstance(tags, Mapping) else {}
                )
                extra = {
                    "kind": "edit",
                    "edit": "tags",
                    verb: changed,
                    **({"values": values} if values else {}),
                }
                shown = ", ".join(f"{t}={values[t]}" if t in values else t for t in changed)
                _record_edit(conn, run_id, when, f"tags {verb}: {shown}", extra)
        return changed

    def rename_run(self, run_id: int, name: str, when: float) -> str:
        """Rename the run, recording the old name; returns it. A name its project already has is refused."""
        with self.db.transaction() as conn:
            project, old = _run_row(conn, run_id, "project, name")
            if old != name:
                taken = conn.execute(
                    "SELECT id FROM runs WHERE project = ? AND name = ?", (project, name)
                ).fetchone()
                if taken:
                    raise InvalidArgument(
                        f"project {project!r} already has a run named {name!r} (id {taken[0]}): choose another name"
                    )
                conn.execute("UPDATE runs SET name = ? WHERE id = ?", (name, run_id))
                extra = {"kind": "edit", "edit": "name", "from": old, "to": name}
                _record_edit(conn, run_id, when, f"renamed from {old!r} to {name!r}", extra)
        return old

    def describe_run(self, run_id: int, description: str | None, when: float) -> None:
        """Set (None: clear) the run's description, recording the change."""
        with self.db.transaction() as conn:
            (old,) = _run_row(conn, run_id, "description")
            if old != description:
                conn.execute("UPDATE runs SET description = ? WHERE id = ?", (description, run_id))
                message = "description cleared" if description is None else f"description set: {description}"
                extra = {"kind": "edit", "edit": "description", "from": old, "to": description}
                _record_edit(conn, run_id, when, message, extra)

    def add_note(self, run_id: int, text: str, when: float) -> None:
        """Keep a note on the run: an event of kind "note" (every note is kept)."""
        with self.db.transaction() as conn:
            _run_row(conn, run_id, "id")
            _record_edit(conn, run_id, when, f"note: {text}", {"kind": "note"})

    def write_batch(
        self,
        run_id: int,
        keys: Sequence[tuple],
        points: Sequence[tuple],
        events: Sequence[tuple],
        heartbeat: float,
        *,
        timeout: float | None = None,
    ) -> None:
        """One transaction: new metric keys (run, id, name), points (run, key, step, time, value), events;
        waiting at most `timeout` seconds for the write lock."""
        with self.db.transaction(timeout) as conn:
            if not conn.execute("UPDATE runs SET heartbeat = ? WHERE id = ?", (heartbeat, run_id)).rowcount:
                # Deleted while running (`rm --force`): its rows must not land, and a later run that is
                # given the same id must not inherit them. The writer keeps them for the recovery file.
                raise StoreError(f"run {run_id} was deleted from {self.path} while it was running")
            if keys:
                conn.executemany(INSERT_KEY, keys)
            if points:
                conn.executemany(INSERT_POINT, points)
            if events:
                conn.executemany(INSERT_EVENT, events)

    def end_run(
        self,
        run_id: int,
        status: str,
        ended: float,
        error: str | None = None,
        *,
        timeout: float | None = None,
        traceback: str | None = None,
    ) -> None:
        """Mark the run ended and store per-key summaries, so listings never scan the points (waiting at most
        `timeout` seconds for the write lock). A `traceback` given is stored; else the stored one stays."""
        with self.db.transaction(timeout) as conn:
            conn.execute(
                "UPDATE runs SET status = ?, ended = ?, heartbeat = ?, error = ?, "
                "traceback = coalesce(?, traceback) WHERE id = ?",
                (status, ended, ended, error, traceback, run_id),
            )
            self._store_summaries(conn, run_id)

    @staticmethod
    def _store_summaries(conn, run_id: int) -> None:
        conn.execute(
            """UPDATE metric_keys SET
                 count = s.n, min = s.lo, max = s.hi, mean = s.mean, last_step = s.last_step,
                 first = (SELECT value FROM metrics m WHERE m.run = metric_keys.run AND m.key = metric_keys.id
                          ORDER BY step, time LIMIT 1),
                 last = (SELECT value FROM metrics m WHERE m.run = metric_keys.run AND m.key = metric_keys.id
                         ORDER BY step DESC, time DESC LIMIT 1)
               FROM (SELECT key, count(*) AS n, min(value) AS lo, max(value) AS hi, avg(value) AS mean,
                            max(step) AS last_step
                     FROM metrics WHERE run = ? GROUP BY key) AS s
               WHERE metric_keys.run = ? AND metric_keys.id = s.key""",
            (run_id, run_id),
        )

    def restore_records(
        self, run_id: int, artifacts: Sequence[dict] = (), alerts: Sequence[dict] = ()
    ) -> None:
        """Insert artifact rows (name, category, path, size, sha256, mime, created) and alert rows
        (name, rule, state, triggered_at) as they were recorded elsewhere, e.g. by an imported run card."""
        with self.db.transaction() as conn:
            conn.executemany(
                f"INSERT INTO artifacts (run, {', '.join(ARTIFACT_COLUMNS)}) VALUES (?, {placeholders(ARTIFACT_COLUMNS)})",
                [(run_id, *(row.get(c) for c in ARTIFACT_COLUMNS)) for row in artifacts],
            )
            conn.executemany(
                "INSERT INTO alerts (run, name, rule, state, triggered_at) VALUES (?, ?, ?, ?, ?)",
                [
                    (run_id, row["name"], dumps(row["rule"]), row["state"], row.get("triggered_at"))
                    for row in alerts
                ],
            )

    def delete_run(self, run_id: int) -> None:
        with self.db.transaction() as conn:
            tables = ("metrics", "metric_keys", "params", "tags", "events", "artifacts", "alerts")
            for table in (*tables, "run_extras", "sync"):
                conn.execute(f"DELETE FROM {table} WHERE run = ?", (run_id,))
            conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
