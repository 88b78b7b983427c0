"""One SQLite connection per Store, shared by the threads of one process and serialised by a lock.

How a file is checked and opened (read-only for reading, read-write and migrated for writing) is in
opening.py; this module holds the open connection: transactions, queries, checkpoints and closing.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..errors import StoreError
from .opening import BUSY_TIMEOUT_S, identity, is_contention, open_reader, open_writer, user_version
from .schema import SCHEMA_VERSION, build_migrations, create_current

__all__ = ["BUSY_TIMEOUT_S", "CHUNK", "DATA_ERRORS", "Connection", "chunks", "is_contention", "placeholders"]

# What SQLite (or the sqlite3 module) raises for rows whose values cannot be stored, as opposed to a store
# that cannot write at the moment: the batch writer sets such rows apart and stores the rest.
DATA_ERRORS: tuple[type[BaseException], ...] = (
    sqlite3.InterfaceError,
    sqlite3.IntegrityError,
    sqlite3.DataError,
    sqlite3.ProgrammingError,
    OverflowError,
    UnicodeEncodeError,
)


class Connection:
    """A SQLite connection shared by the threads of one process, serialised by a lock.

    `read_only` opens the file with `mode=ro`: it must exist and be a jupyter-tracker database, and nothing
    is created, migrated or switched to WAL. An older schema is read as it is; a read that needs what the
    old schema lacks is refused with advice to upgrade. Otherwise the folder and file are created if
    needed, the file switched to WAL and migrated to the current schema.
    """

    def __init__(self, path: Path, *, read_only: bool = False):
        self.path = path
        self.read_only = read_only
        self.immutable = False
        self.lock = threading.RLock()
        self.retired: str | None = None  # why this connection stopped (its file was deleted or replaced)
        if read_only:
            self.conn, self.version, self.immutable = open_reader(path)
        else:
            self.conn = open_writer(path)
        # (device, inode) of the file this connection has open: once the path names another file or none,
        # writes are refused (see retire) and open_store() opens what is there now.
        self._absolute = path.absolute()  # the identity check must not depend on a later chdir
        self.identity = identity(self._absolute)
        # Closed once: by close(), or when the last holder lets go (never by an exit hook, which could run
        # before the runs still open at exit are written out).
        self._closer = weakref.finalize(self, self.conn.close)
        self._closer.atexit = False
        if not read_only:
            try:
                self.version = user_version(self.conn, path)
                if self.version < SCHEMA_VERSION:
                    self._migrate()
            except BaseException:
                self._closer()
                raise

    def _migrate(self) -> None:
        try:
            with self.transaction():
                # Another process may have migrated while we waited for the write lock.
                if user_version(self.conn, self.path) >= SCHEMA_VERSION:
                    pass
                elif self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
                    create_current(self.conn)  # a new database: no migration framework (nor pandas) needed
                else:
                    import sqlite_utils

                    build_migrations().apply(sqlite_utils.Database(self.conn))
                    self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot set up the database {self.path}: {exc}") from None
        self.version = SCHEMA_VERSION

    @contextmanager
    def transaction(self, timeout: float | None = None):
        """A write transaction that takes the database's write lock up front (no deadlocks on upgrade).

        `timeout`: seconds to wait at most for the lock (this process's other writers, then other
        processes); past it, sqlite3.OperationalError "database is locked". Default: the busy timeout."""
        if self.read_only:
            raise StoreError(f"{self.path} was opened for reading only; open it with write=True to change it")
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        if not self.lock.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
            raise sqlite3.OperationalError("database is locked (another thread of this process is writing)")
        try:
            if self.retired is None and identity(self._absolute) != self.identity:
                self.retire()
            if self.retired is not None:
                raise StoreError(self.retired)
            self._begin(None if deadline is None else deadline - time.monotonic())  # one deadline for both
            try:
                yield self.conn
            except BaseException:
                if self.conn.in_transaction:  # SQLite may have rolled back already (disk full)
                    self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
        finally:
            self.lock.release()

    def _begin(self, timeout: float | None) -> None:
        # SQLite's own busy handler sleeps up to 100 ms between tries, so a writer of another process
        # could sit idle long after the lock came free: several processes logging at once would write
        # less in total than one. Polling every few milliseconds hands the lock over at once.
        deadline = time.monotonic() + (BUSY_TIMEOUT_S if timeout is None else max(timeout, 0.0))
        self.conn.execute("PRAGMA busy_timeout = 0")
        try:
            delay = 0.0005
            while True:
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if not is_contention(exc) or time.monotonic() >= deadline:
                        raise
                time.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
                delay = min(delay * 1.5, 0.004)
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")

    def query(self, sql: str, params=()) -> list[tuple]:
        with self.lock:
            if self.retired is not None:
                raise StoreError(self.retired)
            try:
                return self.conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                if is_contention(exc):
                    raise
                raise self._read_error(exc) from None

    def batches(self, sql: str, params=(), size: int = 65_536) -> Iterator[list[tuple]]:
        """The rows of a query in lists of at most `size` (a big result never sits in memory as one list);
        the connection stays locked until the last batch is taken."""
        with self.lock:
            if self.retired is not None:
                raise StoreError(self.retired)
            try:
                cursor = self.conn.execute(sql, params)
                while batch := cursor.fetchmany(size):
                    yield batch
            except sqlite3.DatabaseError as exc:
                if is_contention(exc):
                    raise
                raise self._read_error(exc) from None

    def _read_error(self, exc: sqlite3.DatabaseError) -> StoreError:
        if self.version < SCHEMA_VERSION and "no such" in str(exc):
            return StoreError(
                f"{self.path} has an older schema (version {self.version}; this jupyter-tracker writes "
                f"{SCHEMA_VERSION}) that lacks what this read needs ({exc}); upgrade it by starting a run "
                "in it (start_run(db=...) migrates it in place), then read it again. Reading never migrates."
            )
        return StoreError(f"cannot read {self.path}: {exc}")

    def checkpoint(self) -> bool:
        """Copy the write-ahead log into the database file without waiting for anyone
        (`PRAGMA wal_checkpoint(PASSIVE)`); True when the file alone now holds every committed write."""
        if self.read_only:
            return False
        if not self.lock.acquire(blocking=False):  # a writer of this process is busy: it is not idle
            return False
        try:
            busy, logged, copied = self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:  # closed, or the disk failed: the log still holds the data
            return False
        finally:
            self.lock.release()
        return busy == 0 and logged == copied

    def retire(self) -> None:
        """Stop using a file that was deleted or replaced since it was opened: what this connection would
        write is lost to everyone, and in WAL mode it would share PATH-wal and PATH-shm with the new file at
        the path (SQLite cannot tell the two apart: replacing a live database is unsafe). Its log is emptied
        into the old file first, so that the new file inherits none of the old one's pages, then it is
        closed; later calls raise StoreError saying why."""
        with self.lock:
            if self.retired is not None:
                return
            self.retired = (
                f"{self.path} was deleted or replaced after this process opened it, so nothing more is "
                "written to (or read from) the old file; open it again to use the file now at that path"
            )
            if not self.read_only:
                try:
                    self.conn.execute("PRAGMA busy_timeout = 100")
                    self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error:
                    pass
            self._closer()

    def close(self) -> None:
        with self.lock:
            self._closer()


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
