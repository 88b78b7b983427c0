"""The run store: the only part of jupyter-tracker that talks SQL.

`open_store(path)` returns one shared Store per database file and process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from .connection import Connection
from .reads import Reads
from .records import Records
from .schema import SCHEMA_VERSION
from .writes import Writes, dumps

__all__ = ["Store", "open_store", "SCHEMA_VERSION", "dumps"]


class Store(Writes, Reads, Records):
    """Reads and writes one database file; safe to share between threads of one process."""

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

    def close(self) -> None:
        self.db.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"


_stores: dict[tuple[int, Path], Store] = {}
_stores_lock = threading.Lock()


def open_store(path: str | os.PathLike, *, judge_running: Callable[[dict], str] | None = None) -> Store:
    """The process-wide Store for `path` (a forked child gets its own connection); `judge_running`, when
    given, corrects the status of runs stored as running (see Reads)."""
    key = (os.getpid(), Path(path).absolute())
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = Store(key[1], judge_running=judge_running)
        elif judge_running is not None:
            store.judge_running = judge_running
        return store
