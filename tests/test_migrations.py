"""A database written by an older schema is upgraded in place, its data kept."""

import sqlite3

import sqlite_utils
from sqlite_utils import Migrations

from jupyter_tracker.store import SCHEMA_VERSION, Store, schema


def _version_1(path):
    """A database exactly as the first schema left it, with one run in it."""
    conn = sqlite3.connect(path)
    migrations = Migrations(schema.MIGRATION_SET)
    name, statements = schema.MIGRATIONS[0]

    @migrations(name=name)
    def apply(db):
        for statement in statements:
            db.execute(statement)

    migrations.apply(sqlite_utils.Database(conn))
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO runs (id, uuid, project, name, status, created) VALUES (1, 'u1', 'p', 'old', 'finished', 1.5)"
    )
    conn.execute("INSERT INTO params (run, key, value) VALUES (1, 'lr', '0.1')")
    conn.execute("INSERT INTO metric_keys (run, id, name) VALUES (1, 0, 'loss')")
    conn.executemany(
        "INSERT INTO metrics (run, key, step, time, value) VALUES (1, 0, ?, ?, ?)",
        [(0, 2.0, 0.5), (1, 3.0, 0.25)],
    )
    conn.execute(
        "INSERT INTO alerts (run, name, rule, state, triggered_at) VALUES (1, 'a', '{}', 'critical', 2.5)"
    )
    conn.commit()
    conn.close()


def test_a_version_1_database_is_migrated_with_its_data_kept(tmp_path):
    path = tmp_path / "v1.db"
    _version_1(path)
    store = Store(path)
    conn = sqlite3.connect(path)
    assert SCHEMA_VERSION == 6 and conn.execute("PRAGMA user_version").fetchone()[0] == 6
    applied = [name for (name,) in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
    assert applied == [
        "m001_initial",
        "m002_run_extras_alert_times",
        "m003_runs_newest_index",
        "m004_run_idle_and_traceback",
        "m005_tag_values",
        "m006_sync",
    ]
    # Listing newest first uses the index (the plan names it), not a sort of every run.
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM runs ORDER BY created DESC, id DESC LIMIT 5"
    ).fetchall()
    assert any("runs_newest" in str(row) for row in plan), plan
    info = store.get_run(1)
    assert info.name == "old" and info.params == {"lr": 0.1}
    assert info.idle == 0 and info.traceback is None  # m004: never paused, no traceback kept
    assert store.points(1) == [("loss", 0, 0.5, 2.0), ("loss", 1, 0.25, 3.0)]
    assert store.alert_rows([1]) == [
        {"run": 1, "name": "a", "rule": {}, "state": "critical", "triggered_at": 2.5, "changed_at": None}
    ]
    store.add_extra(1, 0, 4.0, {"tag": "v1"})  # the new table is there
    assert store.extras([1]) == {1: [(0, 4.0, {"tag": "v1"})]}
    # m006: the sync table is there, empty: nothing of the old file was shared
    assert store.sync_row(1, "http://mlflow") is None and store.sync_rows([1]) == {}
    store.save_sync(1, "http://mlflow", "abc", "7", "push", {"keys": {"loss": [1, 3.0, 2]}}, 5.0)
    assert store.sync_row(1, "http://mlflow")["watermark"] == {"keys": {"loss": [1, 3.0, 2]}}
    assert store.synced_run("http://mlflow", "abc") == 1
    store.close()
    conn.close()
    Store(path).close()  # reopening the migrated file changes nothing


def test_an_older_file_read_as_it_is_lists_its_runs_with_the_newer_columns_defaulted(tmp_path):
    path = tmp_path / "v1.db"
    _version_1(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE runs SET started = 1.5, ended = 4.0, error = 'Traceback ...' WHERE id = 1")
    conn.commit()
    conn.close()
    reader = Store(path, read_only=True)  # never migrated: it has no idle or traceback column
    assert reader.sync_rows([1]) == {} and reader.sync_row(1, "http://mlflow") is None  # nor a sync table
    info = reader.get_run(1)
    assert (info.idle, info.traceback, info.duration, info.span) == (0.0, None, 2.5, 2.5)
    assert [run.name for run in reader.list_runs()] == ["old"]
    reader.close()
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == 1
    check.close()
