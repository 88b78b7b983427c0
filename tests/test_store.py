import hashlib
import math
import os
import shutil
import sqlite3
import time

import pytest
from test_read_only import _make_db

from jupyter_tracker.errors import NotADatabase, SchemaTooNew, StoreError
from jupyter_tracker.models import CRASHED, FINISHED, RUNNING
from jupyter_tracker.store import SCHEMA_VERSION, Store, open_store
from jupyter_tracker.store.schema import MIGRATIONS
from jupyter_tracker.tracking.stores import store_for


def _run(store, name="a", project="p", **fields):
    return store.create_run(project, [name, f"{name}-2"], time.time(), status=RUNNING, **fields)[0]


def test_new_database_is_migrated_and_versioned(tmp_path):
    store = Store(tmp_path / "sub" / "t.db")
    conn = sqlite3.connect(tmp_path / "sub" / "t.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    applied = conn.execute("SELECT name FROM _sqlite_migrations").fetchall()
    assert [name for (name,) in applied] == [name for name, _ in MIGRATIONS]
    store.close()
    Store(tmp_path / "sub" / "t.db").close()  # reopening an up-to-date file changes nothing


def test_newer_schema_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "new.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(SchemaTooNew, match="newer jupyter-tracker.*left untouched.*pip install -U"):
        Store(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not (tmp_path / "new.db-wal").exists()


def test_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    before = path.read_bytes()
    with pytest.raises(NotADatabase, match="not a jupyter-tracker database"):
        Store(path)
    assert path.read_bytes() == before


def test_names_are_unique_within_a_project(tmp_path):
    store = Store(tmp_path / "t.db")
    first = store.create_run("p", iter(["x", "x-2"]), time.time(), status=RUNNING)
    second = store.create_run("p", iter(["x", "x-2"]), time.time(), status=RUNNING)
    other = store.create_run("q", iter(["x"]), time.time(), status=RUNNING)
    assert (first[1], second[1], other[1]) == ("x", "x-2", "x")


def test_points_keep_nan_and_infinities(tmp_path):
    store = Store(tmp_path / "t.db")
    run = _run(store)
    values = [1.5, math.nan, math.inf, -math.inf]
    store.write_batch(
        run, [(run, 0, "v")], [(run, 0, i, 100.0 + i, v) for i, v in enumerate(values)], [], 1.0
    )
    got = [v for _, _, v, _ in store.points(run)]
    assert got[0] == 1.5 and math.isnan(got[1]) and got[2] == math.inf and got[3] == -math.inf
    store.end_run(run, "finished", time.time())
    summary = store.summaries([run])[run]["v"]
    assert summary["count"] == 4 and summary["first"] == 1.5 and summary["last"] == -math.inf
    assert summary["min"] == -math.inf and summary["max"] == math.inf


def test_live_and_stored_summaries_agree(tmp_path):
    store = Store(tmp_path / "t.db")
    run = _run(store)
    store.write_batch(run, [(run, 0, "loss")], [(run, 0, s, float(s), 10.0 - s) for s in range(10)], [], 1.0)
    live = store.summaries([run])[run]
    store.end_run(run, "finished", time.time())
    assert store.summaries([run])[run] == live
    assert live["loss"] == {
        "count": 10,
        "first": 10.0,
        "last": 1.0,
        "min": 1.0,
        "max": 10.0,
        "mean": 5.5,
        "last_step": 9,
    }


def test_filters_and_folders(tmp_path):
    store = Store(tmp_path / "t.db")
    a = _run(store, "a", folder="/team/exp1")
    b = _run(store, "b", folder="/team/exp1/sub")
    _run(store, "c", folder="/team_other")
    store.add_tags(a, ["cnn", "first"])
    assert {i.id for i in store.list_runs(folder="/team/exp1")} == {a, b}
    assert {i.name for i in store.list_runs(folder="/team")} == {"a", "b"}
    assert [i.id for i in store.list_runs(tags=["cnn", "first"])] == [a]
    assert store.list_runs(tags="missing") == []
    assert len(store.list_runs(limit=2)) == 2


def test_a_running_run_of_a_dead_process_reads_as_crashed(tmp_path):
    from jupyter_tracker.tracking.stores import judge_running

    store = Store(tmp_path / "t.db", judge_running=judge_running)
    now = time.time()
    dead = _run(store, "dead", pid=2**22 + 12345, host=__import__("socket").gethostname(), heartbeat=now)
    silent = _run(store, "silent", pid=1, host="elsewhere", heartbeat=now - 3600)
    alive = _run(store, "alive", pid=1, host="elsewhere", heartbeat=now)
    assert store.get_run(dead).status == CRASHED
    assert store.get_run(silent).status == CRASHED
    assert store.get_run(alive).status == RUNNING


def test_delete_run_removes_everything(tmp_path):
    store = Store(tmp_path / "t.db")
    run = _run(store)
    store.set_params(run, {"lr": 0.1})
    store.add_tags(run, ["x"])
    store.write_batch(run, [(run, 0, "v")], [(run, 0, 0, 1.0, 1.0)], [(run, 1.0, "info", "m", "{}")], 1.0)
    store.delete_run(run)
    for table in ("runs", "params", "tags", "metrics", "metric_keys", "events"):
        assert store.db.query(f"SELECT count(*) FROM {table}")[0][0] == 0


def test_sql_values_are_parameters(tmp_path):
    store = Store(tmp_path / "t.db")
    nasty = "x'); DROP TABLE runs; --"
    run = store.create_run(nasty, [nasty], time.time(), status=RUNNING, description=nasty)[0]
    store.set_params(run, {nasty: nasty})
    store.add_tags(run, [nasty])
    info = store.find_run(nasty, project=nasty)
    assert (info.name, info.description, info.params, info.tags) == (nasty, nasty, {nasty: nasty}, (nasty,))


def test_open_store_is_shared_per_path(tmp_path):
    assert open_store(tmp_path / "t.db") is open_store(tmp_path / "t.db")


# -- read-only stores, deleted or replaced files, shared and private handles, checkpoints ------------
def test_a_replaced_database_is_opened_afresh(tmp_path):
    path, other = tmp_path / "t.db", tmp_path / "other.db"
    first = open_store(path)
    first.create_run("p", ["old"], time.time(), status=FINISHED)
    _make_db(other, names=("new",))
    os.replace(other, path)
    second = open_store(path)
    assert second is not first and [info.name for info in second.list_runs()] == ["new"]
    assert store_for(path, write=False) is second
    # A holder of the old store hears that its file is gone rather than writing where nobody reads.
    with pytest.raises(StoreError, match="t.db was deleted or replaced after this process opened it"):
        first.create_run("p", ["lost"], time.time(), status=FINISHED)
    assert [info.name for info in second.list_runs()] == ["new"]


def test_a_store_whose_file_is_deleted_refuses_to_write_into_the_void(tmp_path):
    path = tmp_path / ".tracker" / "tracker.db"
    store = open_store(path)
    run_id, _ = store.create_run("p", ["a"], time.time(), status=RUNNING)
    shutil.rmtree(path.parent)
    with pytest.raises(StoreError, match="deleted or replaced"):
        store.set_params(run_id, {"lr": 0.1})
    assert not path.parent.exists()


def test_closing_one_handle_never_breaks_another(tmp_path):
    path = tmp_path / "t.db"
    shared = open_store(path)
    shared.create_run("p", ["a"], time.time(), status=FINISHED)
    open_store(path).close()  # the process's shared store: closing it does nothing
    assert [info.name for info in shared.list_runs()] == ["a"]
    private = Store(path)
    private.close()  # a private store owns its connection
    with pytest.raises(Exception, match="closed"):
        private.list_runs()
    assert [info.name for info in open_store(path).list_runs()] == ["a"]


def test_checkpoint_copies_the_log_into_the_database_file(tmp_path):
    path = tmp_path / "t.db"
    store = open_store(path)
    run_id, _ = store.create_run("p", ["a"], time.time(), status=RUNNING)
    store.end_run(run_id, FINISHED, time.time())
    shutil.copy(path, tmp_path / "before.db")
    assert store.checkpoint()
    shutil.copy(path, tmp_path / "after.db")
    assert Store(tmp_path / "after.db", read_only=True).get_run(run_id).status == FINISHED
    with pytest.raises(NotADatabase):  # without the checkpoint the file alone lacked even the tables
        Store(tmp_path / "before.db", read_only=True)
    assert not Store(tmp_path / "t.db", read_only=True).checkpoint()  # a reader never writes


def test_a_read_only_store_refuses_writes(tmp_path):
    path = tmp_path / "t.db"
    _make_db(path)
    store = Store(path, read_only=True)
    with pytest.raises(StoreError, match="opened for reading only"):
        store.create_run("p", ["x"], time.time(), status=RUNNING)
    assert [info.name for info in store.list_runs()] == ["beta", "alpha"]
    store.close()
