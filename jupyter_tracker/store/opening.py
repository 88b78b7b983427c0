"""What is at a database path, whether it is ours, and SQLite connections to read or to write it.

Nothing here writes to a file before it is known to be a jupyter-tracker database (or a new or empty file
that a run is about to set up): a foreign SQLite file, a non-SQLite file, an empty file read by a read path,
a newer schema and a folder are refused untouched, with no -wal/-shm files made beside them.

Reading opens the file with `mode=ro`. In WAL mode SQLite coordinates readers through PATH-shm: a read-only
connection creates PATH-wal and PATH-shm beside our own database if they are missing (SQLite's shared
memory, never the database file). In a folder where they cannot be created and PATH-wal does not exist, no
process is writing the file (a writer keeps PATH-wal there while it is connected) and nobody can start
writing it through this folder, so it is read with `immutable=1`; SQLite's immutable flag is never used
on a file that may be live.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import time
from pathlib import Path

from ..errors import NotADatabase, SchemaTooNew, StoreError
from .schema import SCHEMA_VERSION

BUSY_TIMEOUT_S = 60.0
SQLITE_MAGIC = b"SQLite format 3\x00"
# The tables that make a SQLite file ours (every schema version has them).
OUR_TABLES = frozenset({"runs", "metric_keys", "metrics"})
USE_ELSEWHERE = "Point db= / TRACKER_DB at another file, or move this one away."

Identity = tuple[int, int]


def identity(path: Path) -> Identity | None:
    """(device, inode) of the file at `path`, or None when there is none."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def is_contention(exc: BaseException | None) -> bool:
    """Whether `exc` means another connection holds the lock (worth waiting for), not a failure."""
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def retrying(statement, seconds: float = BUSY_TIMEOUT_S):
    """Run `statement()` until no other process holds the lock it needs, for at most `seconds`.

    busy_timeout covers ordinary waits, but SQLite answers "locked" at once in a few
    cases (switching a brand-new file to WAL while another process does the same,
    WAL recovery, lock upgrades), so contention gets more tries here.
    """
    deadline = time.monotonic() + seconds
    delay = 0.005
    while True:
        try:
            return statement()
        except sqlite3.OperationalError as exc:
            if not is_contention(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def _sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _connect(target: str | Path, *, uri: bool = False) -> sqlite3.Connection:
    return sqlite3.connect(
        target, uri=uri, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )


def _connect_read_only(path: Path, *, immutable: bool) -> sqlite3.Connection:
    return _connect(f"{path.as_uri()}?mode=ro{'&immutable=1' if immutable else ''}", uri=True)


def _locked(path: Path) -> StoreError:
    return StoreError(
        f"{path} stayed locked by another process for {BUSY_TIMEOUT_S:.0f} s; "
        "close the program holding it and try again."
    )


# -- what is at the path ---------------------------------------------------------------------------
def _header(path: Path, *, empty_ok: bool) -> bytes:
    """The file's first 100 bytes, after refusing a missing path, a folder and what is not SQLite."""
    try:
        found = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise StoreError(
            f"no database at {path}: no run was recorded there yet (reading never creates one)"
        ) from None
    except OSError as exc:
        raise StoreError(f"cannot open {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(found.st_mode):
        inside = next(
            (p for p in (path / "tracker.db", path / ".tracker" / "tracker.db") if p.is_file()), None
        )
        hint = f" (found one: {inside})" if inside else f", e.g. {path / 'tracker.db'}"
        raise StoreError(f"{path} is a folder, not a database file: name the database file in it{hint}")
    if not stat.S_ISREG(found.st_mode):
        raise StoreError(f"{path} is not a regular file, so it cannot be a database; {USE_ELSEWHERE}")
    try:
        with open(path, "rb") as file:
            head = file.read(100)
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not head and not empty_ok:
        raise NotADatabase(f"{path} is not a jupyter-tracker database (it is an empty file); {USE_ELSEWHERE}")
    if head and not head.startswith(SQLITE_MAGIC):
        raise NotADatabase(f"{path} is not a jupyter-tracker database (not a SQLite file); {USE_ELSEWHERE}")
    return head


def _is_wal(head: bytes) -> bool:
    return len(head) > 19 and head[18] == 2 and head[19] == 2  # file format versions 2: WAL


def _can_create_beside(path: Path) -> bool:
    return os.access(path.parent, os.W_OK)


def _unreadable(path: Path, exc: sqlite3.Error) -> StoreError:
    if _shm_cannot_be_made(path):
        return StoreError(
            f"cannot read {path}: it is in WAL mode in a read-only folder while another program is writing "
            f"it ({path.name}-wal is there), and SQLite would have to create {path.name}-shm beside it. Read "
            "it where it is written, or copy it with its -wal file into a writable folder."
        )
    return StoreError(f"cannot read {path}: {exc}")


def _shm_cannot_be_made(path: Path) -> bool:
    return not _can_create_beside(path) and not _sidecar(path, "-shm").exists()


def _probe(path: Path, head: bytes) -> tuple[int, set[str]]:
    """(user_version, table names), read without writing anything (no -wal/-shm made beside the file)."""
    # WAL mode with no PATH-wal: everything is in the file itself, and SQLite would create -wal and -shm
    # to read it normally; the immutable flag reads the file as it is (a header and the schema only).
    conn = _connect_read_only(path, immutable=_is_wal(head) and not _sidecar(path, "-wal").exists())
    try:
        version = retrying(lambda: conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        if is_contention(exc):
            raise _locked(path) from None
        if "unable to open" in str(exc):
            raise _unreadable(path, exc) from None
        raise NotADatabase(f"{path} is not a jupyter-tracker database ({exc}); {USE_ELSEWHERE}") from None
    finally:
        conn.close()
    return version, tables


def _check(path: Path, version: int, tables: set[str], *, writing: bool) -> None:
    """Refuse a newer schema, another program's SQLite file and (for reading) a SQLite file with no tables."""
    ours = tables >= OUR_TABLES
    if version > SCHEMA_VERSION:
        unless = "" if ours else " (unless it is not a jupyter-tracker database at all)"
        raise SchemaTooNew(
            f"{path} was written by a newer jupyter-tracker{unless} (schema {version}, this one knows "
            f"{SCHEMA_VERSION}); the file was left untouched. Upgrade: pip install -U jupyter-tracker"
        )
    if (tables or version) and not ours:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        what = f"it holds another program's tables: {shown}" if tables else f"its user_version is {version}"
        raise NotADatabase(
            f"{path} is not a jupyter-tracker database ({what}); it was left untouched. {USE_ELSEWHERE}"
        )
    if not tables and not writing:
        raise NotADatabase(f"{path} is not a jupyter-tracker database (a SQLite file with no tables yet)")


# -- connections -----------------------------------------------------------------------------------
def open_reader(path: Path) -> tuple[sqlite3.Connection, int, bool]:
    """(read-only connection, schema version, whether it reads the file as immutable)."""
    head = _header(path, empty_ok=False)
    version, tables = _probe(path, head)
    _check(path, version, tables, writing=False)
    immutable = _is_wal(head) and not _sidecar(path, "-wal").exists() and not _can_create_beside(path)
    conn = _connect_read_only(path, immutable=immutable)
    try:
        retrying(lambda: conn.execute("SELECT count(*) FROM sqlite_master").fetchone())
    except sqlite3.Error as exc:
        conn.close()
        raise (_locked(path) if is_contention(exc) else _unreadable(path, exc)) from None
    return conn, version, immutable


def open_writer(path: Path) -> sqlite3.Connection:
    """A read-write connection in WAL mode, after checking that the file is ours (or new) and writable."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the folder for {path}: {exc.strerror or exc}") from None
    if os.path.lexists(path):
        head = _header(path, empty_ok=True)  # a zero-byte file is what a process creating it leaves
        if head:
            _check(path, *_probe(path, head), writing=True)
        _check_writable(path)
    if not _sidecar(path, "-wal").exists() and not _can_create_beside(path):
        raise StoreError(
            f"the folder {path.parent} is read-only{_read_only_fs(path.parent)}: SQLite keeps {path.name}-wal "
            f"and {path.name}-shm beside the database while it writes, so runs cannot be stored in {path}. "
            "Start runs in a database in a writable folder (db= or TRACKER_DB)."
        )
    try:
        conn = _connect(path)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from None
    try:
        retrying(lambda: conn.execute("PRAGMA journal_mode=WAL"))
        conn.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.Error as exc:
        conn.close()
        raise (
            _locked(path) if is_contention(exc) else StoreError(f"cannot write to {path}: {exc}")
        ) from None
    return conn


def _read_only_fs(folder: Path) -> str:
    try:
        return " (a read-only file system)" if os.statvfs(folder).f_flag & os.ST_RDONLY else ""
    except OSError:
        return ""


def _check_writable(path: Path) -> None:
    """Refuse a file this process cannot write (SQLite would open it read-only and fail at the first write)."""
    try:
        os.close(os.open(path, os.O_RDWR))
    except OSError as exc:
        where = "on a read-only file system" if exc.errno == errno.EROFS else f"read-only ({exc.strerror})"
        raise StoreError(
            f"{path} is {where}: runs cannot be stored in it. Reading it works (runs(db=...), "
            "`jupyter-tracker ls`); start runs in another database (db= or TRACKER_DB)."
        ) from None


def user_version(conn: sqlite3.Connection, path: Path) -> int:
    try:
        return retrying(lambda: conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        if is_contention(exc):
            raise _locked(path) from None
        raise NotADatabase(f"{path} is not a jupyter-tracker database ({exc}); {USE_ELSEWHERE}") from None
