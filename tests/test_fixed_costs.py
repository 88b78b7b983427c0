"""What a first run costs: no pandas or sqlite-utils import, one package scan per environment."""

import math
import sqlite3
import subprocess
import sys
import textwrap

import jupyter_tracker as jt
from jupyter_tracker.hardware import packages
from jupyter_tracker.models import CRASHED, FINISHED, RUNNING
from jupyter_tracker.store import SCHEMA_VERSION, Store, schema
from jupyter_tracker.tracking import context
from jupyter_tracker.tracking.stores import judge_running, store_for


def test_a_first_run_on_a_fresh_database_imports_neither_pandas_nor_sqlite_utils(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys
        import jupyter_tracker
        run = jupyter_tracker.start_run(project="p", db={str(tmp_path / "new.db")!r}, system=False)
        run.log(x=1)
        run.finish()
        print(sorted(m for m in ("pandas", "numpy", "sqlite_utils") if m in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path, check=True
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_a_new_database_has_the_schema_that_the_migrations_build(tmp_path):
    import sqlite_utils

    Store(tmp_path / "new.db").close()
    migrated = sqlite3.connect(tmp_path / "migrated.db")
    schema.build_migrations().apply(sqlite_utils.Database(migrated))

    def shape(conn):
        return sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall())

    new = sqlite3.connect(tmp_path / "new.db")
    assert shape(new) == shape(migrated)
    assert new.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    applied = new.execute("SELECT migration_set, name FROM _sqlite_migrations ORDER BY id").fetchall()
    assert applied == [(schema.MIGRATION_SET, name) for name, _ in schema.MIGRATIONS]
    # sqlite-utils sees nothing left to do in it
    assert schema.build_migrations().pending(sqlite_utils.Database(new)) == []
    new.close()
    migrated.close()


def test_the_package_scan_is_made_once_per_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # an empty cache folder
    scans = []
    real = packages._scan
    monkeypatch.setattr(packages, "_scan", lambda: scans.append(1) or real())
    packages.clear()
    first = packages.installed()
    assert packages.installed() is first and len(scans) == 1
    assert "psutil" in first.versions and "psutil" in first.owners["psutil"]
    assert context.imported_packages()["psutil"] == first.versions["psutil"]
    monkeypatch.setattr(packages, "environment_key", lambda: (("elsewhere", 1),))
    assert packages.installed() is not first and len(scans) == 2  # something was installed: scan again
    packages.clear()


def test_a_new_process_in_the_same_environment_reads_the_package_list_from_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    packages.clear()
    first = packages.installed()  # scanned, and written to the cache folder
    assert list(tmp_path.glob("jupyter-tracker/packages-*.json"))
    packages.clear()  # as a new process starts

    def no_scan():
        raise AssertionError("scanned again although the environment did not change")

    monkeypatch.setattr(packages, "_scan", no_scan)
    assert packages.installed().versions == first.versions
    for cached in tmp_path.glob("jupyter-tracker/packages-*.json"):
        cached.write_text("{damaged")
    packages.clear()
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert packages.installed().versions == first.versions  # a damaged cache is scanned over
    packages.clear()


# -- listing: the limit is in the SQL, with the same runs in the same order ---------------------------
def _runs(store, count):
    """`count` runs (some created at the same time, so the id breaks ties), every third one stored running
    with a dead process; params and tags on each."""
    ids = []
    for i in range(count):
        status = RUNNING if i % 3 == 0 else FINISHED
        run_id = store.create_run(
            "p", [f"r{i}"], 1000.0 + i // 2, status=status, pid=1 if status == RUNNING else None,
            host="elsewhere", heartbeat=0.0 if status == RUNNING else None,
            params={"i": i}, tags=[f"t{i % 2}"],
        )[0]  # fmt: skip
        ids.append(run_id)
    return ids


def test_a_limit_gives_the_newest_runs_in_the_order_of_the_whole_list(tmp_path):
    store = Store(tmp_path / "t.db", judge_running=judge_running)  # stale heartbeat: running reads crashed
    _runs(store, 30)
    everything = store.list_runs()
    assert [info.id for info in store.list_runs(limit=7)] == [info.id for info in everything[:7]]
    assert store.list_runs(limit=7) == everything[:7]  # params and tags too
    for status in (CRASHED, RUNNING, FINISHED, [CRASHED, FINISHED]):
        whole = store.list_runs(status=status)
        assert store.list_runs(status=status, limit=4) == whole[:4]
    assert store.list_runs(status=RUNNING) == []  # every stored-running run reads crashed
    assert len(store.list_runs(status=CRASHED)) == 10
    assert store.list_runs(tags="t1", limit=3) == store.list_runs(tags="t1")[:3]
    assert store.list_runs(limit=100) == everything
    store.close()


def test_compare_last_keeps_the_newest_runs(db):
    store = store_for(db)
    _runs(store, 12)
    table = jt.compare(last=5)
    expected = [info.id for info in store.list_runs()[:5]]
    assert table.runs == expected
    assert jt.compare(runs=expected[::-1] + [1], last=2).runs == expected[:2]
    assert len(jt.runs(limit=5)) == 5


# -- metrics(): filtered in the database, same frame ---------------------------------------------------
def _logged(db):
    with jt.start_run(name="m", system=False) as run:
        for step in range(10):
            run.log(loss=1.0 / (step + 1), acc=math.nan if step == 3 else step / 10, step=step)
        run.log_metric("system/cpu", 5.0, step=0)
    return jt.load_run("m")


def test_metrics_keeps_its_columns_and_dtypes_and_filters_steps_and_keys(db):
    record = _logged(db)
    frame = record.metrics()
    assert list(frame.columns) == ["key", "step", "value", "time"]
    assert [str(t) for t in frame.dtypes[:3]] == ["object", "int64", "float64"]
    assert str(frame.dtypes["time"]).startswith("datetime64") and str(frame.dtypes["time"]).endswith("UTC]")
    assert frame.key.tolist() == ["loss"] * 10 + ["acc"] * 10 and frame.step.tolist() == list(range(10)) * 2
    assert math.isnan(frame.value[13]) and frame.value[12] == 0.2
    assert record.metrics(system=True).key.tolist()[-1] == "system/cpu"
    assert record.metrics(steps=range(2, 5)).step.tolist() == [2, 3, 4, 2, 3, 4]
    assert record.metrics("acc", steps=[9, 0, 42]).step.tolist() == [0, 9]
    assert record.metrics(["loss"], steps=range(0, 10, 4)).step.tolist() == [0, 4, 8]
    assert record.metrics(steps=[]).empty and list(record.metrics("nothing").columns) == list(frame.columns)
    points = record.store.points(record.id, ["loss", "acc"])
    rows = list(record.metrics().itertuples(index=False))
    assert [(k, s) for k, s, _, _ in points] == [(k, s) for k, s, _, _ in rows]
