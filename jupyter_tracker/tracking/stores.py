"""Which store a call means, and whether a run stored as running still has a live process behind it.

The store knows SQL, not processes: every Store opened here gets `judge_running`, which reads a run whose
writer died (its process is gone, or its heartbeat has been silent too long) as crashed.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import TypeAlias

import psutil

from .. import config
from ..models import CRASHED, RUNNING, STALE_AFTER_SECONDS
from ..store import Store, open_store
from . import active

HOST = socket.gethostname()

# What a `db=` argument may be: a database file's path, a Store, or None for the configured database.
DbArg: TypeAlias = "str | os.PathLike | Store | None"


def store_for(db: DbArg = None, *, write: bool = True) -> Store:
    """The Store of `db` (a path, or a Store), or of the configured database.

    Every read API passes `write=False`: the file must then exist and be a jupyter-tracker database, and
    it is opened read-only (never created, migrated or switched to WAL) unless this process already writes
    it. `write=True` (starting, resuming or importing runs, folder details, deleting) creates and migrates."""
    if isinstance(db, Store):
        if write and db.read_only and db.shared:  # e.g. load_run(...).store handed to start_run
            return open_store(db.path, write=True, judge_running=judge_running)
        return db
    return open_store(config.db_path(db), write=write, judge_running=judge_running)


def checkpoint_if_idle(store: Store) -> bool:
    """After a run ends: when no other run of this process is open on `store`, copy the write-ahead log
    into the database file, so that the file alone (copied or mailed without its -wal) holds every ended
    run. Never waits for other processes and never raises; True when the file holds everything."""
    if any(run.store is store for run in active.open_runs()):
        return False
    try:
        return store.checkpoint()
    except Exception:  # a checkpoint only tidies up: the log keeps the data either way
        return False


def judge_running(row: dict, *, now: float | None = None) -> str:
    """'crashed' for a run stored as running whose process on this host is gone or whose heartbeat is
    stale; else 'running'."""
    pid, host, heartbeat = row.get("pid"), row.get("host"), row.get("heartbeat")
    if host == HOST and pid is not None and not pid_alive(pid, _process_started(row)):
        return CRASHED
    now = time.time() if now is None else now
    if heartbeat is not None and now - heartbeat > STALE_AFTER_SECONDS:
        return CRASHED
    return RUNNING


def pid_alive(pid: int, started: float | None = None) -> bool:
    """True while process `pid` exists, is not a zombie and (when `started` is known) is the process that
    started then, not another one the pid was given to since."""
    try:
        process = psutil.Process(pid)
        if started is not None and abs(process.create_time() - started) > 1.0:
            return False
        return pid == os.getpid() or process.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def _process_started(row: dict) -> float | None:
    """The start time of the process that wrote the run (kept in its environment), if recorded."""
    environment = row.get("environment")
    try:
        found = json.loads(environment) if isinstance(environment, str) else environment or {}
        return found.get("process", {}).get("started")
    except (ValueError, AttributeError):
        return None
