"""Never hang, never lose: the writer and a run's end under a store that refuses, stalls, fills up or
vanishes, interrupts at the wrong moment, a killed process, and the recovery file that keeps what the store
could not take (with `jupyter-tracker recover` to load it back)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from waiting import wait_until

import jupyter_tracker as jt
from jupyter_tracker.errors import StorageWarning
from jupyter_tracker.models import FAILED, FINISHED, INTERRUPTED
from jupyter_tracker.store import Store
from jupyter_tracker.tracking import writer as writer_module
from jupyter_tracker.tracking.recovery import RecoveryFile, read
from jupyter_tracker.tracking.writer import BatchWriter

T0 = 1_700_000_000.0


class Refusing:
    """A store for the writer whose write_batch raises `error` (always, or the next `times` calls)."""

    def __init__(self, store: Store, error: Exception, times: int | None = None):
        self.store, self.error, self.times, self.calls = store, error, times, 0

    def write_batch(self, *args, **kwargs):
        self.calls += 1
        if self.times is None or self.times > 0:
            if self.times is not None:
                self.times -= 1
            raise self.error
        self.store.write_batch(*args, **kwargs)


def writer(store, run_id, tmp_path, **kwargs):
    recovery = RecoveryFile(tmp_path / "t.db", {"uuid": "u" * 32, "name": "r", "project": "p"})
    errors: list[BaseException] = []
    w = BatchWriter(store, run_id, recovery=recovery, on_error=errors.append, **kwargs)
    w.add_key(0, "loss")
    return w, recovery, errors


def points(run_id, n, key=0, step0=0):
    return [(run_id, key, step0 + i, T0 + i, float(i)) for i in range(n)]


def test_a_row_the_store_refuses_is_set_apart_and_the_rest_of_its_batch_is_stored(store, run_id, tmp_path):
    w, recovery, errors = writer(store, run_id, tmp_path)
    rows = points(run_id, 100)
    rows[37] = (
        run_id,
        0,
        37,
        T0,
        2**70,
    )  # an int SQLite cannot hold: the whole batch used to be retried forever
    w.add_points(rows)
    w.add_event((run_id, T0, "info", "fine", "{}"))
    w.add_event((run_id, T0, "info", "bad \ud800 text", "{}"))  # cannot be encoded as UTF-8
    started = time.monotonic()
    assert w.flush(timeout=10)
    assert time.monotonic() - started < 5
    assert [p[1] for p in store.points(run_id)] == [i for i in range(100) if i != 37]
    assert [e[2] for e in store.events(run_id)] == ["fine"]
    # One report naming what was set apart and where it went; the rows are in the recovery file.
    assert len(errors) == 1 and "1 points, 1 events could not be stored" in str(errors[0])
    assert str(recovery.path) in str(errors[0])
    saved = read(recovery.path)
    assert [p[1] for p in saved["points"]] == [37] and saved["events"][0][2] == "bad \ud800 text"
    w.add_points(points(run_id, 5, step0=100))  # later points are stored as usual
    assert w.close() is False  # something was not stored: the run's end says so
    assert len(store.points(run_id)) == 104


def test_close_on_a_store_that_refuses_every_write_returns_at_once_and_saves_everything(
    store, run_id, tmp_path
):
    refusing = Refusing(store, sqlite3.OperationalError("database or disk is full"))
    w, recovery, errors = writer(refusing, run_id, tmp_path)
    w.add_points(points(run_id, 1000))
    w.add_event((run_id, T0, "warning", "kept", "{}"))
    started = time.monotonic()
    assert w.close(timeout=30) is False
    assert (
        time.monotonic() - started < 3
    )  # no need to wait out the timeout: the store is not busy, it is full
    assert "disk is full" in str(w.failure) and errors and "disk is full" in str(errors[0])
    saved = read(recovery.path)
    assert len(saved["points"]) == 1000 and saved["events"][0][2] == "kept"
    assert "disk is full" in saved["header"]["reason"]
    assert w.not_stored == {"points": 1000, "events": 1} and w.lost == 0


def test_close_on_a_locked_database_waits_its_timeout_then_saves_the_rest(store, run_id, tmp_path):
    w, recovery, _ = writer(Refusing(store, sqlite3.OperationalError("database is locked")), run_id, tmp_path)
    w.add_points(points(run_id, 10))
    started = time.monotonic()
    assert w.close(timeout=1.0) is False
    assert 0.9 < time.monotonic() - started < 4
    assert len(read(recovery.path)["points"]) == 10


def test_a_locked_database_is_waited_for_and_nothing_is_lost(store, run_id, tmp_path):
    w, recovery, errors = writer(
        Refusing(store, sqlite3.OperationalError("database is locked"), times=3), run_id, tmp_path
    )
    w.add_points(points(run_id, 10))
    assert w.close() is True
    assert len(store.points(run_id)) == 10 and recovery.path is None


def test_logging_into_a_dead_store_never_blocks(store, run_id, tmp_path, monkeypatch):
    monkeypatch.setattr(writer_module, "MAX_PENDING", 1_000)
    monkeypatch.setattr(writer_module, "BATCH_POINTS", 500)
    w, recovery, _ = writer(Refusing(store, sqlite3.OperationalError("disk I/O error")), run_id, tmp_path)
    done = threading.Event()

    def produce():
        for start in range(0, 5_000, 100):
            w.add_points(points(run_id, 100, step0=start))
        done.set()

    threading.Thread(target=produce, daemon=True).start()
    assert done.wait(20), "log() stayed blocked behind a store that takes nothing"
    assert w.close(timeout=1) is False
    assert len(read(recovery.path)["points"]) == 5_000  # memory stayed bounded, nothing was dropped


def test_each_transaction_holds_at_most_one_batch(store, run_id, tmp_path, monkeypatch):
    monkeypatch.setattr(writer_module, "BATCH_POINTS", 1_000)
    sizes = []
    original = store.write_batch

    def spy(run, keys, pts, events, heartbeat, **kwargs):
        sizes.append(len(pts))
        original(run, keys, pts, events, heartbeat, **kwargs)

    monkeypatch.setattr(store, "write_batch", spy)
    w, _, _ = writer(store, run_id, tmp_path)
    w.add_points(points(run_id, 10_500))
    assert w.close() is True
    assert max(sizes) <= 1_000 and sum(sizes) == 10_500


def test_the_real_sqlite_error_is_reported_not_the_rollbacks(tmp_path):
    store = Store(tmp_path / "t.db")
    with pytest.raises(sqlite3.OperationalError, match="database or disk is full"), store.db.transaction():
        raise sqlite3.OperationalError("database or disk is full")  # SQLite has rolled back already


def test_an_interrupt_while_the_last_points_are_written_still_stores_a_status(tmp_path, monkeypatch):
    run = jt.start_run("slow", db=tmp_path / "t.db", system=False)
    gate = threading.Event()
    original = run.store.write_batch

    def held(*args, **kwargs):
        gate.wait(30)
        original(*args, **kwargs)

    monkeypatch.setattr(run.store, "write_batch", held)
    run.log(loss=1.0)
    seen = []
    run.subscribe(lambda points, events, status: seen.append(status))
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    with pytest.warns(StorageWarning, match="recover"), pytest.raises(KeyboardInterrupt):
        run.finish()  # waits for the held write: Kernel > Interrupt lands here
    assert time.monotonic() - started < 5
    assert run.status == INTERRUPTED and run.store.get_run(run.id).status == INTERRUPTED
    assert seen[-1] == INTERRUPTED  # the panel hears the final status
    gate.set()  # the database answers again: the batch that was in flight still lands
    deadline = time.monotonic() + 10
    while not run.store.points(run.id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p[2] for p in run.store.points(run.id)] == [1.0]


def test_a_failure_while_a_run_starts_ends_it_and_leaves_no_thread(tmp_path, monkeypatch):
    from jupyter_tracker.hardware import sampler

    def broken(*args, **kwargs):
        raise RuntimeError("no sampler today")

    monkeypatch.setattr(sampler, "HardwareSampler", broken)
    with pytest.raises(RuntimeError, match="no sampler today"):
        jt.start_run("broken", db=tmp_path / "t.db", system=True)
    (info,) = Store(tmp_path / "t.db").list_runs()
    assert info.status == FAILED and "no sampler today" in info.error
    assert not [t for t in threading.enumerate() if t.name.endswith(f"writer-{info.id}") and t.is_alive()]
    assert jt.active_run() is None


def test_a_bad_setting_is_refused_at_the_door():
    with pytest.raises(jt.InvalidArgument, match="interval must be at least 0.1"):
        jt.configure(interval=0.01)
    with pytest.raises(jt.InvalidArgument, match="finish_timeout"):
        jt.configure(finish_timeout=-1)
    assert "interval" not in jt.configure()


def test_params_and_tags_are_stored_with_the_run_in_one_transaction(tmp_path, monkeypatch):
    store = jt.tracking.stores.store_for(tmp_path / "t.db")
    monkeypatch.setattr(store, "set_params", lambda *a: pytest.fail("params written in a second transaction"))
    monkeypatch.setattr(store, "add_tags", lambda *a: pytest.fail("tags written in a second transaction"))
    with jt.start_run("one", db=store, params={"lr": 0.1}, tags=["a", "b"], system=False) as run:
        assert run.params == {"lr": 0.1} and run.tags == ["a", "b"]


@contextmanager
def locked_by_another_program(db: Path, *, finish_timeout: float):
    """Another connection holds the database's write lock; runs wait at most `finish_timeout` to end."""
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    jt.configure(finish_timeout=finish_timeout)
    try:
        yield
    finally:
        jt.configure(finish_timeout=None)
        holder.execute("ROLLBACK")
        holder.close()


def script(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    code = textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def test_the_exit_status_comes_from_the_program_not_from_sys_last_value(tmp_path):
    db = tmp_path / "t.db"
    done = script(
        tmp_path,
        f"""
        import sys, jupyter_tracker as jt
        sys.last_value = ValueError("a cell that failed long ago")  # as IPython leaves it
        run = jt.start_run("left-open", db={str(db)!r}, system=False)
        run.log(x=1)
        """,
    )
    assert done.returncode == 0, done.stderr
    failing = script(
        tmp_path,
        f"""
        import jupyter_tracker as jt
        run = jt.start_run("dies", db={str(db)!r}, system=False)
        raise SystemError("the program died of this")
        """,
    )
    assert failing.returncode == 1
    runs = {info.name: info for info in Store(db).list_runs()}
    assert runs["left-open"].status == FINISHED and runs["left-open"].error is None
    assert runs["dies"].status == FAILED and "the program died of this" in runs["dies"].error


@pytest.mark.slow
def test_sigkill_in_a_tight_loop_loses_at_most_about_half_a_second(tmp_path):
    db = tmp_path / "t.db"
    code = textwrap.dedent(
        f"""
        import sys, time, jupyter_tracker as jt
        run = jt.start_run("tight", db={str(db)!r}, system=False)
        run.log(t=time.time())
        run.flush()
        print("logging", flush=True)
        while True:
            run.log(t=time.time())
        """
    )
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout.readline().strip() == "logging"
        time.sleep(3)
        killed_at = time.time()
        child.send_signal(signal.SIGKILL)
        child.wait()
    (info,) = Store(db).list_runs()
    last = max(value for _, _, value, _ in Store(db).points(info.id))
    lost = killed_at - last
    print(f"SIGKILL in a tight loop: the last {lost:.3f} s of points were lost")
    assert lost < 1.0


def fill(folder: Path, leave: int) -> Path:
    """Fill the file system of `folder` up to `leave` bytes free; the filler is the returned file."""
    filler = folder / "filler"
    free = shutil.disk_usage(folder).free
    with open(filler, "wb") as out:
        out.write(b"\0" * max(free - leave, 0))
    return filler


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("mount"), reason="mounting a small tmpfs needs root"
)
def test_a_full_disk_ends_the_run_in_bounded_time_and_recover_loads_everything_back(tmp_path):
    volume = tmp_path / "volume"
    volume.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(volume)], check=True)
    try:
        db = volume / ".tracker" / "t.db"
        run = jt.start_run("full", db=db, system=False)
        run.log(loss=0.0)
        assert run.flush()
        filler = fill(volume, leave=16 * 1024)
        for step in range(1, 20_001):
            run.log(loss=float(step))
        started = time.monotonic()
        with pytest.warns(StorageWarning) as warned:
            run.finish()
        waited = time.monotonic() - started
        print(f"finish() on a full disk returned after {waited:.2f} s")
        assert waited < 5
        message = str(warned[0].message)
        assert "disk is full" in message and "jupyter-tracker recover" in message
        path = run.recovery.path
        assert path is not None and str(path) in message
        filler.unlink()  # room again
        loaded = subprocess.run(
            [sys.executable, "-m", "jupyter_tracker.cli", "recover", str(path)],
            capture_output=True,
            text=True,
        )
        assert loaded.returncode == 0, loaded.stderr
        assert "status finished" in loaded.stdout
        store = Store(db)
        assert [p[1] for p in store.points(run.id)] == list(range(20_001))  # every point, once
        assert store.get_run(run.id).status == FINISHED
        again = subprocess.run(
            [sys.executable, "-m", "jupyter_tracker.cli", "recover", str(path)], capture_output=True
        )
        assert again.returncode == 0 and len(store.points(run.id)) == 20_001  # loading twice changes nothing
        store.close()
    finally:
        subprocess.run(["umount", "--lazy", str(volume)], check=False)  # the shared store may still hold it


def test_the_writer_thread_never_prints(tmp_path, capfd, caplog, monkeypatch):
    run = jt.start_run("quiet", db=tmp_path / "t.db", system=False)
    original = run.store.write_batch
    failures = iter([sqlite3.OperationalError("disk I/O error")])

    def flaky(*args, **kwargs):
        error = next(failures, None)
        if error is not None:
            raise error
        original(*args, **kwargs)

    monkeypatch.setattr(run.store, "write_batch", flaky)
    with caplog.at_level("WARNING", logger="jupyter_tracker"):
        run.log(x=1.0)
        assert run.flush(timeout=10)
        run.finish()
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert any("disk I/O error" in r.getMessage() for r in caplog.records)
    events = run.store.events(run.id)
    assert any("disk I/O error" in message and level == "warning" for _, level, message, _ in events)
    assert [p[2] for p in run.store.points(run.id)] == [1.0]
    json.dumps(events)  # events stay plain JSON


def test_finish_waits_at_most_finish_timeout_for_a_database_another_process_keeps_locked(tmp_path):
    db = tmp_path / "t.db"
    run = jt.start_run("locked-out", db=db, system=False)
    assert run.flush()
    with locked_by_another_program(db, finish_timeout=1):
        run.log(loss=1.0)
        started = time.monotonic()
        with pytest.warns(StorageWarning):
            run.finish()
        assert time.monotonic() - started < 4
    # the status waited for the lock; so did the point in flight
    wait_until(lambda: run.store.get_run(run.id).status == FINISHED, 10, "the final status")


def test_points_logged_from_another_thread_after_the_run_ended_are_saved_not_dropped(store, run_id, tmp_path):
    w, recovery, _ = writer(store, run_id, tmp_path)
    w.add_points(points(run_id, 3))
    assert w.close() is True
    w.add_points(points(run_id, 2, step0=3))  # a data-loading thread that did not stop in time
    w.add_event((run_id, T0, "info", "late", "{}"))
    assert w.not_stored == {"points": 2, "events": 1}
    saved = read(recovery.path)
    assert [p[1] for p in saved["points"]] == [3, 4] and saved["events"][0][2] == "late"
    assert w.flush(timeout=1) is True  # nothing is left waiting


def test_a_few_seconds_of_lock_contention_are_waited_for_not_set_aside(store, run_id, tmp_path, monkeypatch):
    monkeypatch.setattr(writer_module, "MAX_PENDING", 2_000)
    monkeypatch.setattr(writer_module, "BATCH_POINTS", 500)
    locked = Refusing(store, sqlite3.OperationalError("database is locked"), times=10)  # about a second
    w, recovery, _ = writer(locked, run_id, tmp_path)
    for start in range(0, 10_000, 100):
        w.add_points(points(run_id, 100, step0=start))
    assert w.flush(timeout=30)
    assert recovery.path is None and w.not_stored == {"points": 0, "events": 0}
    assert len(store.points(run_id)) == 10_000
    assert w.close() is True


class FailsAfterTheBadRow(Refusing):
    """Refuses one row's values, then fails once as a store (the disk went away for a moment)."""

    def __init__(self, store):
        super().__init__(store, sqlite3.OperationalError("disk I/O error"), times=0)
        self.isolated = False

    def write_batch(self, run_id, keys, pts, events, heartbeat, **kwargs):
        if any(p[2] == 3 for p in pts):
            if len(pts) == 1:
                self.isolated = True
            raise sqlite3.IntegrityError("a bad row")
        if self.isolated and self.times == 0:
            self.times = -1
            raise self.error
        self.store.write_batch(run_id, keys, pts, events, heartbeat, **kwargs)


def test_rows_set_apart_before_the_store_fails_midway_are_saved(store, run_id, tmp_path):
    w, recovery, _ = writer(FailsAfterTheBadRow(store), run_id, tmp_path)
    w.add_points(points(run_id, 8))
    assert w.flush(timeout=10)
    assert w.close() is False
    assert [p[1] for p in store.points(run_id)] == [0, 1, 2, 4, 5, 6, 7]
    assert [p[1] for p in read(recovery.path)["points"]] == [3]


def test_a_write_still_under_way_at_exit_is_saved_to_the_recovery_file(tmp_path):
    db = tmp_path / "t.db"
    done = script(
        tmp_path,
        f"""
        import time, jupyter_tracker as jt
        run = jt.start_run("slow-disk", db={str(db)!r}, system=False)
        assert run.flush()
        original = run.store.write_batch
        run.store.write_batch = lambda *a, **k: (time.sleep(5), original(*a, **k))
        jt.configure(finish_timeout=0.5)
        run.log(loss=1.0)
        run.finish()
        print(run.recovery.path)
        """,
    )
    assert done.returncode == 0, done.stderr
    assert "StorageWarning" in done.stderr and "recover" in done.stderr
    path = done.stdout.strip().splitlines()[-1]
    assert [p[3] for p in read(path)["points"]] == [1.0]  # (key, step, time, value)


def test_recover_twice_adds_each_event_once_and_leaves_a_resumed_run_running(tmp_path):
    db = tmp_path / "t.db"
    run = jt.start_run("twice", db=db, system=False)
    assert run.flush()
    run.recovery.write(run._writer.key_names, [], [(run.id, T0, "warning", "disk full", "{}")], reason="test")
    run.recovery.finish("failed", T0, "boom")
    run.finish()
    resumed = jt.reconnect("twice", db=db, system=False)  # taken up again before the file is loaded
    from jupyter_tracker.tracking.recovery import recover

    for _ in range(3):
        assert recover(run.recovery.path)["status"] == "running"
    assert [e[2] for e in resumed.store.events(run.id)].count("disk full") == 1
    assert resumed.store.get_run(run.id).status == "running"
    resumed.finish()


def test_a_failed_statement_in_the_interactive_interpreter_does_not_fail_later_runs(tmp_path):
    db = tmp_path / "t.db"
    session = f"import jupyter_tracker as jt\nundefined_name_typo\nrun = jt.start_run('good', db={str(db)!r}, system=False)\n"
    done = subprocess.run(
        [sys.executable, "-i"], input=session, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert "NameError" in done.stderr
    (info,) = Store(db).list_runs()
    assert info.status == FINISHED and info.error is None


def test_a_status_waiting_for_the_lock_never_blocks_this_process_s_reads(tmp_path):
    db = tmp_path / "t.db"
    run = jt.start_run("waits", db=db, system=False)
    assert run.flush()
    with locked_by_another_program(db, finish_timeout=0.5):
        with pytest.warns(StorageWarning):
            run.finish()
        started = time.monotonic()
        assert run.store.get_run(run.id).status == "running"  # read at once, while the status waits
        assert time.monotonic() - started < 1.5
    wait_until(lambda: run.store.get_run(run.id).status == FINISHED, 10, "the final status")


def test_a_pid_reused_by_another_process_does_not_keep_a_crashed_run_running(tmp_path):
    from jupyter_tracker.tracking.stores import HOST, store_for

    store = store_for(tmp_path / "t.db")
    now = time.time()
    me = {"pid": os.getpid(), "host": HOST, "heartbeat": now, "status": "running", "started": now}

    def run(name, environment):
        return store.create_run("p", [name], now, environment=environment, **me)[0]

    mine = run("mine", {"process": jt.tracking.context.process_identity()})
    reused = run("reused", {"process": {"pid": os.getpid(), "started": 12345.0}})  # the pid's earlier owner
    older = run("older", {})  # written before start times were kept: the heartbeat decides
    assert store.get_run(mine).status == "running"
    assert store.get_run(reused).status == "crashed"  # at once, not after the 60 s heartbeat
    assert store.get_run(older).status == "running"
    with jt.start_run("live", db=store, system=False) as live:
        assert live.info.status == "running" and live.info.environment["process"]["pid"] == os.getpid()


def test_a_run_deleted_while_it_runs_never_writes_into_the_run_given_its_id_next(tmp_path):
    db = tmp_path / "t.db"
    victim = jt.start_run(name="victim", project="p", db=db, system=False)
    victim.log(loss=1.0)
    assert victim.flush()
    other = Store(db)
    other.delete_run(victim.id)  # `jupyter-tracker rm --force` from another process
    victim.log(loss=2.0)  # still logging: these rows must not land under a reused id
    with pytest.warns(StorageWarning, match="deleted"):
        victim.finish()
    with jt.start_run(name="fresh", project="p", db=db, system=False) as fresh:
        fresh.log(acc=0.5)
    assert fresh.id == victim.id  # SQLite gives the id again...
    points = jt.load_run("fresh", project="p", db=db).metrics()
    assert points["key"].tolist() == ["acc"]  # ...but nothing of the deleted run comes with it
    other.close()
