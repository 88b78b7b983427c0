"""Side records of runs: artifact rows, alert definitions and states, folder details, log_extra fields."""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..models import ARTIFACT_COLUMNS
from .connection import Connection, chunks, placeholders
from .writes import dumps


class Records:
    """Mixin of Store. Expects `self.db` (a connection.Connection)."""

    db: Connection

    # -- artifacts ------------------------------------------------------------------------------
    def put_artifact(self, run_id: int, row: dict) -> None:
        """Insert or replace the artifact `row["name"]` of the run (columns of ARTIFACT_COLUMNS)."""
        values = [row[c] for c in ARTIFACT_COLUMNS]
        updates = ", ".join(f"{c} = excluded.{c}" for c in ARTIFACT_COLUMNS[1:])
        with self.db.transaction() as conn:
            conn.execute(
                f"INSERT INTO artifacts (run, {', '.join(ARTIFACT_COLUMNS)}) VALUES (?, {placeholders(values)}) "
                f"ON CONFLICT (run, name) DO UPDATE SET {updates}",
                [run_id, *values],
            )

    def artifact(self, run_id: int, name: str) -> dict | None:
        rows = self.db.query(
            f"SELECT {', '.join(ARTIFACT_COLUMNS)} FROM artifacts WHERE run = ? AND name = ?", (run_id, name)
        )
        return dict(zip(ARTIFACT_COLUMNS, rows[0], strict=True)) if rows else None

    def artifacts_in_order(self, run_id: int) -> list[dict]:
        """The run's artifact rows in the order they were first saved."""
        rows = self.db.query(
            f"SELECT {', '.join(ARTIFACT_COLUMNS)} FROM artifacts WHERE run = ? ORDER BY id", (run_id,)
        )
        return [dict(zip(ARTIFACT_COLUMNS, row, strict=True)) for row in rows]

    # -- alerts ---------------------------------------------------------------------------------
    def put_alert(self, run_id: int, name: str, rule: dict, now: float, *, reset: bool = True) -> None:
        """Define the alert `name` of the run; redefining it resets its state to ok unless `reset=False`."""
        update = "rule = excluded.rule"
        if reset:
            update += ", state = 'ok', triggered_at = NULL, changed_at = excluded.changed_at"
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO alerts (run, name, rule, state, triggered_at, changed_at) "
                f"VALUES (?, ?, ?, 'ok', NULL, ?) ON CONFLICT (run, name) DO UPDATE SET {update}",
                (run_id, name, dumps(rule), now),
            )

    def set_alert_state(self, run_id: int, name: str, state: str, changed_at: float) -> None:
        """Store a state change; entering 'critical' also sets triggered_at."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE alerts SET state = ?, changed_at = ?, "
                "triggered_at = CASE WHEN ? = 'critical' THEN ? ELSE triggered_at END "
                "WHERE run = ? AND name = ?",
                (state, changed_at, state, changed_at, run_id, name),
            )

    def alert_rows(self, run_ids: Iterable[int]) -> list[dict]:
        """run, name, rule (dict), state, triggered_at, changed_at; by run, in the order defined."""
        found = []
        for chunk in chunks(run_ids):
            for run, name, rule, state, triggered, changed in self.db.query(
                "SELECT run, name, rule, state, triggered_at, changed_at FROM alerts "
                f"WHERE run IN ({placeholders(chunk)}) ORDER BY run, id",
                chunk,
            ):
                found.append(
                    {
                        "run": run,
                        "name": name,
                        "rule": json.loads(rule),
                        "state": state,
                        "triggered_at": triggered,
                        "changed_at": changed,
                    }
                )
        return found

    # -- folders --------------------------------------------------------------------------------
    def set_folder(
        self,
        path: str,
        *,
        description: str | None = None,
        metadata: dict | None = None,
        tags: Iterable[str] | None = None,
    ) -> dict:
        """Merge details into a folder's row (metadata merged, tags added, description replaced if given)."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT description, metadata, tags FROM folders WHERE path = ?", (path,)
            ).fetchone()
            old_description, old_metadata, old_tags = row if row else (None, "{}", "[]")
            merged_tags = list(dict.fromkeys([*json.loads(old_tags), *(tags or [])]))
            details = {
                "path": path,
                "description": old_description if description is None else description,
                "metadata": {**json.loads(old_metadata), **(metadata or {})},
                "tags": merged_tags,
            }
            conn.execute(
                "INSERT INTO folders (path, description, metadata, tags) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (path) DO UPDATE SET description = excluded.description, "
                "metadata = excluded.metadata, tags = excluded.tags",
                (path, details["description"], dumps(details["metadata"]), dumps(merged_tags)),
            )
        return details

    def folder_rows(self) -> list[dict]:
        """Every folder with stored details, and every folder (with its parents) that holds runs."""
        found: dict[str, dict] = {}
        for (folder,) in self.db.query("SELECT DISTINCT folder FROM runs"):
            parts = [p for p in folder.split("/") if p]
            for depth in range(len(parts) + 1):
                path = "/" + "/".join(parts[:depth])
                found.setdefault(path, {"path": path, "description": None, "metadata": {}, "tags": []})
        for path, description, metadata, tags in self.db.query(
            "SELECT path, description, metadata, tags FROM folders"
        ):
            found[path] = {
                "path": path,
                "description": description,
                "metadata": json.loads(metadata),
                "tags": json.loads(tags),
            }
        counts = dict(self.db.query("SELECT folder, count(*) FROM runs GROUP BY folder"))
        for path, row in found.items():
            prefix = path.rstrip("/") + "/"
            row["runs"] = sum(n for f, n in counts.items() if f == path or f.startswith(prefix))
        return [found[path] for path in sorted(found)]

    # -- log_extra fields -----------------------------------------------------------------------
    def add_extra(self, run_id: int, step: int, time: float, fields: dict) -> None:
        """Fields (cumulative) that apply to the run's points from `step` and records from `time` on."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO run_extras (run, step, time, fields) VALUES (?, ?, ?, ?)",
                (run_id, step, time, dumps(fields)),
            )

    def extras(self, run_ids: Iterable[int]) -> dict[int, list[tuple[int, float, dict]]]:
        """{run: [(step, time, fields), ...]} in the order they were set."""
        found: dict[int, list] = {}
        for chunk in chunks(run_ids):
            for run, step, time, fields in self.db.query(
                f"SELECT run, step, time, fields FROM run_extras WHERE run IN ({placeholders(chunk)}) ORDER BY id",
                chunk,
            ):
                found.setdefault(run, []).append((step, time, json.loads(fields)))
        return found

    def events_of(self, run_ids: Iterable[int]) -> list[tuple]:
        """(run, time, level, message, extra dict) of several runs, by run and time."""
        found = []
        for chunk in chunks(run_ids):
            rows = self.db.query(
                f"SELECT run, time, level, message, extra FROM events WHERE run IN ({placeholders(chunk)}) "
                "ORDER BY run, time, id",
                chunk,
            )
            found += [(run, t, level, msg, json.loads(extra)) for run, t, level, msg, extra in rows]
        return found
