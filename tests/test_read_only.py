"""Reading never creates, migrates or changes a file; the store notices a deleted or replaced database;
the database file alone holds every ended run."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_migrations import _version_1

import jupyter_tracker as jt
from jupyter_tracker.errors import NotADatabase, StoreError
from jupyter_tracker.models import FINISHED, RUNNING
from jupyter_tracker.store import Store
from jupyter_tracker.tracking.stores import checkpoint_if_idle, store_for

# Every read API, called on the database `db` (run 1 of project "p" where there is one).
READERS = {
    "runs": lambda db: jt.runs(db=db),
    "load_run": lambda db: jt.load_run(1, db=db).info,
    "compare": lambda db: jt.compare(db=db).frame,
    "experiment": lambda db: jt.experiment("p", db=db).data(),
    "folders": lambda db: jt.folders(db=db),
    "export": lambda db: jt.export(1, Path(db).parent / "card.json", db=db),
}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sidecars(path: Path) -> list[str]:
    return [p.name for p in path.parent.iterdir() if p.name.startswith(path.name + "-")]


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "TRACKER_DB"}
    return subprocess.run(
        [sys.executable, "-m", "jupyter_tracker.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=environment,
    )


def _make_db(path: Path, names=("alpha", "beta")) -> None:
    """A database with finished runs in project "p", written by a private Store that is closed after."""
    store = Store(path)
    for name in names:
        now = time.time()
        run_id, _ = store.create_run("p", [name], now, status=RUNNING, started=now)
        store.write_batch(run_id, [(run_id, 0, "loss")], [(run_id, 0, 0, now, 0.5)], [], now)
        store.end_run(run_id, FINISHED, now)
    store.close()


def _foreign(path: Path, journal: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA journal_mode={journal}")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO notes (text) VALUES ('my notes')")
    conn.commit()
    conn.close()


# -- read paths on files that are not (yet) ours --------------------------------------------------------
@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_a_foreign_sqlite_file_is_refused_by_every_read_and_left_byte_identical(tmp_path, journal):
    path = tmp_path / "other-app.db"
    _foreign(path, journal)
    before = _sha(path)
    for name, read in READERS.items():
        with pytest.raises(NotADatabase, match="not a jupyter-tracker database.*notes"):
            read(path)
        assert _sha(path) == before, name
        assert _sidecars(path) == [], name
    listed = _cli("--db", str(path), "ls")
    assert listed.returncode == 1 and "not a jupyter-tracker database" in listed.stderr
    assert "Traceback" not in listed.stderr
    assert _sha(path) == before and _sidecars(path) == []
    with pytest.raises(NotADatabase):  # nor does starting a run write into another program's file
        jt.start_run(db=path, system=False)
    assert _sha(path) == before and _sidecars(path) == []


def test_an_empty_file_is_refused_by_every_read_and_stays_empty(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    for name, read in READERS.items():
        with pytest.raises(NotADatabase, match="not a jupyter-tracker database .it is an empty file"):
            read(path)
        assert path.stat().st_size == 0 and _sidecars(path) == [], name
    for command in (["ls"], ["show", "1"], ["export", "1"]):
        result = _cli("--db", str(path), *command, cwd=tmp_path)
        assert result.returncode == 1 and "not a jupyter-tracker database" in result.stderr, command
    assert path.stat().st_size == 0 and _sidecars(path) == []


def test_reading_a_missing_database_creates_nothing(tmp_path):
    path = tmp_path / "nowhere" / "tracker.db"
    for name, read in READERS.items():
        with pytest.raises(StoreError, match="no database at"):
            read(path)
        assert not path.parent.exists(), name
    exp = jt.experiment("p", db=path)  # an experiment about to record needs no database yet
    assert not path.parent.exists()
    with exp:
        exp.log(loss=1.0)
    assert exp.data().query("event == 'metric'")["value"].tolist() == [1.0]


def test_a_folder_given_as_the_database_gets_its_own_error(tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    _make_db(folder / "tracker.db")
    for read in READERS.values():
        with pytest.raises(StoreError, match=r"is a folder, not a database file.*found one: .*tracker\.db"):
            read(folder)
    with pytest.raises(StoreError, match="is a folder, not a database file"):
        jt.start_run(db=folder, system=False)
    listed = _cli("--db", str(folder), "ls")
    assert listed.returncode == 1 and "is a folder" in listed.stderr and "disk I/O" not in listed.stderr


def test_an_older_schema_is_read_as_it_is_and_never_migrated(tmp_path):
    path = tmp_path / "v1.db"
    _version_1(path)
    before = _sha(path)
    assert jt.runs(db=path).name.tolist() == ["old"]  # what the old schema holds reads as it is
    assert jt.load_run("old", db=path).params == {"lr": 0.1}
    listed = _cli("--db", str(path), "ls")
    assert listed.returncode == 0 and "old" in listed.stdout
    # A read that needs what schema 1 lacks (alert change times) is refused with the way out.
    with pytest.raises(StoreError, match="older schema.*upgrade it by starting a run"):
        jt.load_run("old", db=path).alerts()
    shown = _cli("--db", str(path), "show", "old")
    assert shown.returncode == 1 and "upgrade it by starting a run" in shown.stderr
    assert _sha(path) == before
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not switched to WAL
    conn.close()
    jt.start_run(db=path, system=False).finish()  # writing upgrades it
    assert jt.load_run("old", db=path).alerts()["state"].tolist() == ["critical"]


def test_reads_share_the_connection_of_a_process_that_writes(tmp_path):
    path = tmp_path / "t.db"
    _make_db(path)
    reader = store_for(path, write=False)
    assert reader.read_only and store_for(path, write=False) is reader
    with jt.start_run(name="live", project="p", db=path, system=False) as run:
        assert not run.store.read_only
        assert store_for(path, write=False) is run.store  # one connection per file and process
        assert jt.load_run("live", db=path).store is run.store
    assert reader.list_runs()[0].name == "live"  # the reader opened before still reads, and sees it


def test_a_reading_store_handed_to_a_writing_call_stands_for_its_file(tmp_path):
    path = tmp_path / "t.db"
    _make_db(path)
    record = jt.load_run("alpha", db=path)
    assert record.store.read_only
    with jt.start_run(resume=record.id, db=record.store, system=False) as run:
        assert not run.store.read_only and run.store.path == path
        run.log(loss=0.25)
    assert record.metrics()["value"].tolist() == [0.5, 0.25]


# -- read-only files and folders (need root: chattr, mount) ------------------------------------------
@contextmanager
def _immutable(path: Path):
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode:
        pytest.skip("chattr +i is not available here (needs root and a file system that supports it)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@contextmanager
def _read_only_view(folder: Path, view: Path):
    """`view` shows `folder` through a read-only bind mount (needs root and mount rights)."""
    view.mkdir()
    done = subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(view)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot bind-mount a folder read-only here: {done.stderr.decode().strip()}")
    try:
        if os.access(view, os.W_OK):
            pytest.skip("the bind mount came out writable")
        yield view
    finally:
        if subprocess.run(["umount", str(view)]).returncode:
            subprocess.run(["umount", "-l", str(view)])


@pytest.mark.skipif(os.geteuid() != 0, reason="making a file immutable (chattr +i) needs root")
def test_a_read_only_file_is_listable_and_refused_for_writing_with_its_own_error(tmp_path):
    path = tmp_path / "t.db"
    _make_db(path)
    with _immutable(path):
        before = _sha(path)
        listed = _cli("--db", str(path), "ls")
        assert listed.returncode == 0 and "alpha" in listed.stdout and "beta" in listed.stdout
        assert jt.runs(db=path).name.tolist() == ["beta", "alpha"]
        with pytest.raises(
            StoreError, match=r"t\.db is read-only \(Operation not permitted\).*Reading it works"
        ):
            Store(path)
        assert _sha(path) == before


@pytest.mark.skipif(os.geteuid() != 0, reason="a read-only bind mount needs root")
def test_a_database_in_a_read_only_folder_is_listable_with_clear_errors_for_writing(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    _make_db(folder / "t.db")
    assert _sidecars(folder / "t.db") == []  # the writer closed: no -wal, everything is in the file
    before = _sha(folder / "t.db")
    with _read_only_view(folder, tmp_path / "view") as view:
        listed = _cli("--db", str(view / "t.db"), "ls")
        assert listed.returncode == 0 and "alpha" in listed.stdout, listed.stderr
        shown = _cli("--db", str(view / "t.db"), "show", "alpha")
        assert shown.returncode == 0 and "finished" in shown.stdout, shown.stderr
        with pytest.raises(StoreError, match="is on a read-only file system: runs cannot be stored"):
            Store(view / "t.db")
        with pytest.raises(StoreError, match=r"the folder .*view is read-only \(a read-only file system\)"):
            Store(view / "new.db")
    assert _sha(folder / "t.db") == before and sorted(p.name for p in folder.iterdir()) == ["t.db"]


# -- a deleted or replaced database ------------------------------------------------------------------
def test_runs_started_after_the_database_is_deleted_go_into_a_fresh_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / ".tracker"
    path = folder / "tracker.db"
    with jt.start_run(name="before", project="p", db=path, system=False) as run:
        run.log(loss=1.0)
    shutil.rmtree(folder)
    with pytest.raises(StoreError, match="no database at"):  # not the runs of the deleted file
        jt.runs(db=path)
    with jt.start_run(name="after", project="p", db=path, system=False) as run:
        run.log(loss=2.0)
    assert path.is_file() and jt.runs(db=path).name.tolist() == ["after"]
    script = f"import jupyter_tracker as jt; print(jt.runs(db={str(path)!r}).name.tolist())"
    fresh = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert fresh.returncode == 0 and fresh.stdout.strip() == "['after']", fresh.stderr


def test_deleting_only_the_database_file_leaves_no_stale_log_for_the_new_one(tmp_path):
    path = tmp_path / "t.db"
    with jt.start_run(name="old", project="p", db=path, system=False) as run:
        run.log(loss=1.0)
    path.unlink()  # its -wal and -shm stay behind, still open in this process
    with jt.start_run(name="new", project="p", db=path, system=False) as run:
        run.log(loss=2.0)
    script = (
        "import sqlite3, jupyter_tracker as jt\n"
        f"print(jt.runs(db={str(path)!r}).name.tolist())\n"
        f"print(sqlite3.connect({str(path)!r}).execute('PRAGMA integrity_check').fetchone()[0])"
    )
    fresh = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert fresh.returncode == 0 and fresh.stdout.split() == ["['new']", "ok"], fresh.stderr


# -- the database file alone holds every ended run -----------------------------------------------------
def test_checkpoint_if_idle_waits_for_the_last_open_run_of_the_store(tmp_path):
    path = tmp_path / "t.db"
    first = jt.start_run(name="first", project="p", db=path, system=False)
    second = jt.start_run(name="second", project="p", db=path, system=False)
    first.finish()
    assert not checkpoint_if_idle(first.store)  # `second` is still open on this store
    second.finish()
    assert checkpoint_if_idle(second.store)


def test_the_database_file_alone_holds_every_ended_run(tmp_path):
    """Run.finish() calls checkpoint_if_idle(store) when the process's last run on the store ends."""
    path = tmp_path / "t.db"
    with jt.start_run(name="mailed", project="p", db=path, system=False) as run:
        for step in range(100):
            run.log(loss=1.0 / (step + 1))
    assert (tmp_path / "t.db-wal").exists()  # this process still has the database open
    copy = tmp_path / "copy" / "t.db"
    copy.parent.mkdir()
    shutil.copy(path, copy)  # the .db file alone, as one attaches it to an e-mail
    record = jt.load_run("mailed", db=copy)
    assert record.status == FINISHED and len(record.metrics()) == 100
