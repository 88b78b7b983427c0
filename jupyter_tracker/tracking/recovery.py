"""Recovery files: what the store could not take (a full disk, a read-only or vanished database, a bad row)
goes here instead of being dropped, and `jupyter-tracker recover FILE` loads it back.

A recovery file is JSON lines in the temporary folder: a header naming the database and the run, then one
line per metric key, point or event, then (when the run ended) its final status. Appending is safe from
several threads; each line is complete on its own, so a file cut short still loads up to its last line.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import config
from ..errors import InvalidArgument, StoreError
from ..jsonsafe import number, unnumber
from ..store import is_contention

FORMAT = "jupyter-tracker-recovery"
FOLDER = "jupyter-tracker-recovery"


class RecoveryFile:
    """The recovery file of one run, created on the first write."""

    def __init__(self, db: Path, run: dict[str, Any]):
        self.db, self.run = db, run
        self.path: Path | None = None
        self.points = self.events = 0
        self._lock = threading.Lock()

    def write(
        self,
        keys: dict[int, str],
        points: Iterable[tuple],
        events: Iterable[tuple] = (),
        *,
        reason: str,
    ) -> Path:
        """Append points (run, key id, step, time, value) and events (run, time, level, message, extra)."""
        lines = [{"point": [keys.get(k, f"key-{k}"), s, number(t), number(v)]} for _, k, s, t, v in points]
        lines += [{"event": [number(t), level, message, extra]} for _, t, level, message, extra in events]
        with self._lock:
            self.points += sum(1 for line in lines if "point" in line)
            self.events += sum(1 for line in lines if "event" in line)
            return self._append(lines, reason)

    def finish(self, status: str, ended: float, error: str | None) -> None:
        """Record the run's final status, which the store could not take either."""
        with self._lock:
            self._append([{"status": status, "ended": ended, "error": error}], "the final status")

    def _append(self, lines: list[dict], reason: str) -> Path:
        if self.path is None:
            self.path = _new_path(self.run)
            header = {"format": FORMAT, "version": 1, "db": str(self.db), "run": self.run, "reason": reason}
            lines = [header, *lines]
        with open(self.path, "a", encoding="utf-8") as out:
            # ASCII: text the store refused (a lone surrogate) is kept as a \\u escape, readable JSON
            out.writelines(json.dumps(line, allow_nan=False) + "\n" for line in lines)
        return self.path


def _new_path(run: dict[str, Any]) -> Path:
    folder = Path(tempfile.gettempdir()) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{run.get('project')}-{run.get('name')}")[:60]
    handle, name = tempfile.mkstemp(
        prefix=f"{slug}-{time.strftime('%Y%m%d-%H%M%S')}-", suffix=".jsonl", dir=folder
    )
    os.close(handle)
    return Path(name)


def read(path: str | Path) -> dict[str, Any]:
    """The header, metric points, events and final status (if any) of a recovery file."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidArgument(f"cannot read recovery file {path}: {exc.strerror or exc}") from None
    found: dict[str, Any] = {"header": None, "points": [], "events": [], "status": None}
    for number_, line in enumerate(lines, 1):
        try:
            item = json.loads(line)
        except ValueError:
            if number_ == len(lines) > 1:  # cut short while written: keep what came before
                break
            raise InvalidArgument(f"{path}:{number_} is not a line of a recovery file") from None
        if number_ == 1:
            if not isinstance(item, dict) or item.get("format") != FORMAT:
                raise InvalidArgument(f"{path} is not a jupyter-tracker recovery file")
            found["header"] = item
        else:
            _take(found, item, f"{path}:{number_}")
    if found["header"] is None:
        raise InvalidArgument(f"{path} is empty")
    return found


def _take(found: dict, item: Any, where: str) -> None:
    """Add one line after the header (a point, an event or the status) to `found`."""
    try:
        if "point" in item:
            key, step, when, value = item["point"]
            found["points"].append((key, step, unnumber(when), unnumber(value)))
        elif "event" in item:
            when, level, message, extra = item["event"]
            found["events"].append((unnumber(when), level, message, extra))
        elif "status" in item:
            found["status"] = item
    except (TypeError, ValueError):  # a line of another shape: say where, not a Python error
        raise InvalidArgument(f"{where} is not a line of a recovery file") from None


def recover(path: str | Path, db: Any = None) -> dict[str, Any]:
    """Load a recovery file back into its run (in `db`, default: the database the file names); returns what
    was loaded. Loading twice changes nothing: a point replaces the one at its key and step, an event already
    there is not added again, and the final status is applied only to a run still stored as running that
    has not beaten its heart since (a resumed run keeps going)."""
    from ..errors import RunNotFound
    from ..models import CRASHED, RUNNING
    from .stores import store_for

    found = read(path)
    header = found["header"]
    target = config.db_path(db if db is not None else header["db"])
    if not target.exists():  # a mistyped --db, or the database was deleted: never start an empty one
        raise StoreError(f"no database at {target}: pass the database the run was logged to with --db")
    store = store_for(target)
    run = header["run"]
    try:
        info = store.find_run(run["uuid"])
    except RunNotFound:
        raise RunNotFound(
            f"run {run.get('name')!r} (uuid {run['uuid']}) of {path} is not in {store.path}; pass the database "
            "it was logged to with --db"
        ) from None
    key_ids = store.metric_keys(info.id)
    new_keys = []
    for key, *_ in found["points"]:
        if key not in key_ids:
            key_ids[key] = len(key_ids)
            new_keys.append((info.id, key_ids[key], key))
    points = [(info.id, key_ids[key], step, when, value) for key, step, when, value in found["points"]]
    stored = {(when, level, message) for when, level, message, _ in store.events(info.id)}
    events = [(info.id, *event) for event in found["events"] if tuple(event[:3]) not in stored]
    store.write_batch(info.id, new_keys, points, events, info.heartbeat or time.time())
    final = found["status"]
    ends = final is not None and info.status in (RUNNING, CRASHED) and (info.heartbeat or 0) <= final["ended"]
    if final is not None and ends:
        store.end_run(info.id, final["status"], final["ended"], final["error"])
    elif info.ended is not None:  # summaries of an ended run are stored: bring them up to date
        store.end_run(info.id, info.status, info.ended, info.error)
    status = final["status"] if final is not None and ends else info.status
    return {"run": info.id, "name": info.name, "points": len(points), "events": len(events), "status": status}


def end_later(store: Any, run_id: int, status: str, ended: float, error: str | None) -> None:
    """Store a run's final status once another program lets go of the database, from a quiet daemon thread
    that holds the connection a second at a time, so this process's reads go on meanwhile (the recovery file
    has the status too, for a process that exits first)."""

    def end() -> None:
        for _attempt in range(600):  # ten minutes at most
            try:
                store.end_run(run_id, status, ended, error, timeout=1.0)
                return
            except Exception as exc:  # noqa: BLE001 - only contention is worth another try
                if not is_contention(exc):
                    return
            time.sleep(0.5)

    threading.Thread(target=end, name=f"jupyter-tracker-end-{run_id}", daemon=True).start()


def not_stored_message(run_name: str, db: Path, writer: Any, recovery: RecoveryFile) -> str:
    """What the user reads when a run ended with rows the store did not take: how many, why, and where."""
    counts = writer.not_stored
    what = " and ".join(f"{n:,} {kind}" for kind, n in counts.items() if n) or "its final status"
    why = f" ({type(writer.failure).__name__}: {writer.failure})" if writer.failure is not None else ""
    if recovery.path is None or writer.lost:
        return f"run {run_name!r}: {what} could not be stored in {db}{why} and could not be saved elsewhere"
    return (
        f"run {run_name!r}: {what} could not be stored in {db} by the end of the run{why}. They were saved to "
        f"{recovery.path}; load them back once the database is usable again (loading twice changes nothing): "
        f"jupyter-tracker recover {recovery.path}"
    )
