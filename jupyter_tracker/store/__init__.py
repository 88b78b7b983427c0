"""The run store: the only part of jupyter-tracker that talks SQL.

`open_store(path)` returns one shared Store per database file and process (`write=False`: one that only
reads, unless this process already writes the file); `Store(path)` is a private one its maker closes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from .connection import DATA_ERRORS, Connection, is_contention
from .opening import Identity, identity
from .reads import Reads
from .records import Records
from .schema import SCHEMA_VERSION
from .syncs import Syncs
from .writes import Writes, dumps

__all__ = ["DATA_ERRORS", "SCHEMA_VERSION", "Store", "dumps", "is_contention", "open_store"]


class Store(Writes, Reads, Records, Syncs):
    """Reads and writes one database file; safe to share between threads of one process.

    `read_only=True` opens an existing jupyter-tracker database for reading only: nothing is created,
    migrated or switched to WAL, and writes raise StoreError. A Store made here owns its connection and
    `close()` closes it; the shared Store of `open_store()` belongs to the whole process (see there).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        read_only: bool = False,
        judge_running: Callable[[dict], str] | None = None,
    ):
        self.path = Path(path)
        self.db = Connection(self.path, read_only=read_only)
        self.judge_running = judge_running
        self.shared = False

    @property
    def read_only(self) -> bool:
        return self.db.read_only

    def checkpoint(self) -> bool:
        """Copy the write-ahead log into the database file, so that the file alone (copied without its
        -wal) holds every committed write; never waits for other processes. True when it all went in."""
        return self.db.checkpoint()

    def close(self) -> None:
        """Close a private Store's connection. Closing the shared Store of open_store() does nothing:
        other holders (open runs, readers) keep using it; it closes once nobody holds it."""
        if not self.shared:
            self.db.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r}{', read_only=True' if self.read_only else ''})"


# Per (process, path): the Store that writes the file, and one that only reads it (when none writes).
_writers: dict[tuple[int, Path], Store] = {}
_readers: dict[tuple[int, Path], Store] = {}
_stores_lock = threading.Lock()


def open_store(
    path: str | os.PathLike, *, write: bool = True, judge_running: Callable[[dict], str] | None = None
) -> Store:
    """The process-wide Store for `path` (a forked child gets its own connection); `judge_running`, when
    given, corrects the status of runs stored as running (see Reads).

    `write=False` never creates, migrates or changes the file: it reuses this process's writing Store when
    there is one (one connection per file, and reads see this process's writes at once), else opens the
    file read-only. Each call checks the file's device and inode: a database deleted or replaced since it
    was opened is opened afresh (`write=True` then creates a new one). The old Store is retired (see
    Connection.retire): whoever still holds it gets a StoreError saying the file is gone, rather than
    writing where nobody will ever read.
    """
    key = (os.getpid(), Path(path).absolute())
    with _stores_lock:
        now = identity(key[1])
        store = _cached(_writers, key, now)
        if store is None and not write:
            store = _cached(_readers, key, now)
        if store is None:
            store = Store(key[1], read_only=not write)
            store.shared = True
            if write:
                _writers[key] = store
                _readers.pop(key, None)  # later reads share the writing connection
            elif not store.db.immutable:  # an immutable read sees the file as it was: never reuse it
                _readers[key] = store
        if judge_running is not None:
            store.judge_running = judge_running
        return store


def _cached(
    stores: dict[tuple[int, Path], Store], key: tuple[int, Path], now: Identity | None
) -> Store | None:
    store = stores.get(key)
    if store is not None and (now is None or store.db.identity != now or store.db.retired):
        del stores[key]  # deleted or replaced: stop using the old file, and open what is there now
        store.db.retire()
        return None
    return store
