"""What was shared with an MLflow server: the `sync` rows (remote run, watermark) and the reads a push needs.

A watermark is a JSON record the sharing wing defines; the store keeps it as it is given.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from pathlib import Path

from .connection import Connection, chunks, placeholders
from .schema import SYNC_SINCE
from .writes import INSERT_EVENT, dumps

_SYNC_COLUMNS = ("run", "target", "remote_id", "experiment_id", "direction", "watermark", "synced")


def _sync_record(row: tuple) -> dict:
    record = dict(zip(_SYNC_COLUMNS, row, strict=True))
    record["watermark"] = json.loads(record["watermark"])
    return record


class Syncs:
    """Mixin of Store: the sync table and the incremental reads of a push. Expects `self.db`."""

    db: Connection
    path: Path

    def sync_row(self, run_id: int, target: str) -> dict | None:
        """The run's sync record for the server `target` (run, target, remote_id, experiment_id, direction,
        watermark dict, synced), or None when it was never shared with it."""
        if self.db.version < SYNC_SINCE:
            return None
        rows = self.db.query(
            f"SELECT {', '.join(_SYNC_COLUMNS)} FROM sync WHERE run = ? AND target = ?", (run_id, target)
        )
        return _sync_record(rows[0]) if rows else None

    def synced_run(self, target: str, remote_id: str) -> int | None:
        """The local run shared with the remote run `remote_id` of `target`, if any."""
        if self.db.version < SYNC_SINCE:
            return None
        rows = self.db.query("SELECT run FROM sync WHERE target = ? AND remote_id = ?", (target, remote_id))
        return rows[0][0] if rows else None

    def sync_rows(self, run_ids: Iterable[int]) -> dict[int, list[dict]]:
        """{run: [sync record, ...]} for those of `run_ids` that were shared (an older file has none)."""
        found: dict[int, list[dict]] = {}
        if self.db.version < SYNC_SINCE:
            return found
        for chunk in chunks(run_ids):
            for row in self.db.query(
                f"SELECT {', '.join(_SYNC_COLUMNS)} FROM sync WHERE run IN ({placeholders(chunk)}) "
                "ORDER BY synced",
                chunk,
            ):
                found.setdefault(row[0], []).append(_sync_record(row))
        return found

    def save_sync(
        self,
        run_id: int,
        target: str,
        remote_id: str,
        experiment_id: str,
        direction: str,
        watermark: dict,
        synced: float,
    ) -> None:
        """Create or replace the run's sync record for `target` (a pull's: one writer, no merging)."""
        values = (run_id, target, remote_id, experiment_id, direction, watermark, synced)
        record = dict(zip(_SYNC_COLUMNS, values, strict=True))
        self.update_sync(run_id, target, lambda stored: record)

    def update_sync(
        self, run_id: int, target: str, change: Callable[[dict | None], dict | None]
    ) -> dict | None:
        """Read the run's sync record for `target` and write `change(record)` in one transaction, so two
        writers (the live mirror's thread and a push, or two processes) never write over each other's
        progress: the second reads what the first wrote. `change` gets the record (None when there is none)
        and returns the record to store, or None to leave it as it is. Returns the record stored now."""
        with self.db.transaction() as conn:
            rows = conn.execute(
                f"SELECT {', '.join(_SYNC_COLUMNS)} FROM sync WHERE run = ? AND target = ?", (run_id, target)
            ).fetchall()
            stored = _sync_record(rows[0]) if rows else None
            wanted = change(stored)
            if wanted is None:
                return stored
            values = [wanted[column] for column in _SYNC_COLUMNS]
            values[_SYNC_COLUMNS.index("watermark")] = dumps(wanted["watermark"])
            conn.execute(
                f"INSERT OR REPLACE INTO sync ({', '.join(_SYNC_COLUMNS)}) VALUES ({placeholders(_SYNC_COLUMNS)})",
                values,
            )
            return wanted

    def run_by_uuid(self, uuid: str) -> int | None:
        rows = self.db.query("SELECT id FROM runs WHERE uuid = ?", (uuid,))
        return rows[0][0] if rows else None

    def last_event_id(self, run_id: int) -> int:
        """The id of the run's newest event (0 when none): edits after the fact are events."""
        return self.db.query("SELECT coalesce(max(id), 0) FROM events WHERE run = ?", (run_id,))[0][0]

    def add_event(self, run_id: int, when: float, level: str, message: str, extra: dict) -> None:
        """One event on a run, whether it is open or ended (the writer thread is not involved)."""
        with self.db.transaction() as conn:
            conn.execute(INSERT_EVENT, (run_id, when, level, message, dumps(extra)))

    def points_after(self, run_id: int, key_id: int, step: int, time: float, limit: int) -> list[tuple]:
        """At most `limit` (step, time, value) of one key after the point (step, time), in (step, time)
        order; NaN comes back as NaN."""
        rows = self.db.query(
            "SELECT step, time, value FROM metrics WHERE run = ? AND key = ? "
            "AND (step > ? OR (step = ? AND time > ?)) ORDER BY step, time LIMIT ?",
            (run_id, key_id, step, step, time, limit),
        )
        return [(s, t, math.nan if v is None else v) for s, t, v in rows]

    def count_through(self, run_id: int, key_id: int, step: int, time: float) -> int:
        """How many points of one key come at or before the point (step, time)."""
        return self.db.query(
            "SELECT count(*) FROM metrics WHERE run = ? AND key = ? AND (step < ? OR (step = ? AND time <= ?))",
            (run_id, key_id, step, step, time),
        )[0][0]
