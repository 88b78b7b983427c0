"""Opening a database file: version check before any write, pragmas, one lock per connection."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..errors import NotADatabase, SchemaTooNew, StoreError
from .schema import SCHEMA_VERSION, build_migrations

BUSY_TIMEOUT_S = 60.0


def _is_contention(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _retrying(statement):
    """Run `statement()` until no other process holds the lock it needs.

    busy_timeout covers ordinary waits, but SQLite answers "locked" at once in a few
    cases (switching a brand-new file to WAL while another process does the same,
    WAL recovery, lock upgrades), so contention gets more tries here.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.005
    while True:
        try:
            return statement()
        except sqlite3.OperationalError as exc:
            if not _is_contention(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        uri = f"{path.as_uri()}?mode=ro"
        conn = sqlite3.connect(
            uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    else:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    return conn


def _user_version(conn: sqlite3.Connection, path: Path) -> int:
    try:
        return _retrying(lambda: conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        conn.close()
        if isinstance(exc, sqlite3.OperationalError) and _is_contention(exc):
            raise StoreError(
                f"{path} stayed locked by another process for {BUSY_TIMEOUT_S:.0f} s; "
                "close the program holding it and try again."
            ) from None
        raise NotADatabase(
            f"{path} is not a jupyter-tracker database ({exc}). "
            "Point db= / TRACKER_DB at another file, or move this one away."
        ) from None


class Connection:
    """A SQLite connection shared by the threads of one process, serialised by a lock."""

    def __init__(self, path: Path, *, read_only: bool = False):
        self.path = path
        self.lock = threading.RLock()
        if not read_only:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder for {path}: {exc}") from None
        if path.exists():
            # Look before writing anything: a newer or foreign file must stay untouched.
            probe = _connect(path, read_only=True)
            version = _user_version(probe, path)
            probe.close()
            if version > SCHEMA_VERSION:
                raise SchemaTooNew(
                    f"{path} was written by a newer jupyter-tracker (schema {version}, this one knows "
                    f"{SCHEMA_VERSION}); the file was left untouched. Upgrade: pip install -U jupyter-tracker"
                )
        elif read_only:
            raise StoreError(f"no database at {path}")
        self.read_only = read_only
        try:
            self.conn = _connect(path, read_only=read_only)
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot open {path}: {exc}") from None
        if not read_only:
            _retrying(lambda: self.conn.execute("PRAGMA journal_mode=WAL"))
            self.conn.execute("PRAGMA synchronous=NORMAL")
            if _user_version(self.conn, path) < SCHEMA_VERSION:
                self._migrate()

    def _migrate(self) -> None:
        import sqlite_utils

        with self.transaction():
            # Another process may have migrated while we waited for the write lock.
            if _user_version(self.conn, self.path) < SCHEMA_VERSION:
                build_migrations().apply(sqlite_utils.Database(self.conn))
                self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")

    @contextmanager
    def transaction(self):
        """A write transaction that takes the database's write lock up front (no deadlocks on upgrade)."""
        with self.lock:
            _retrying(lambda: self.conn.execute("BEGIN IMMEDIATE"))
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

    def query(self, sql: str, params=()) -> list[tuple]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self.lock:
            self.conn.close()


# SQLite caps the number of bound parameters of one statement: long id lists are queried in chunks.
CHUNK = 500


def placeholders(values: Sequence) -> str:
    """`?, ?, ?` for an `IN (...)` or `VALUES (...)` list of len(values) parameters."""
    return ", ".join("?" * len(values))


def chunks(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    """The ids as whole numbers, in lists of at most `size`."""
    ids = [int(i) for i in ids]
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
