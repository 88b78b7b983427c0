"""BatchWriter, the thread that moves a run's points, keys and events into the store.

Against a real Store on a temporary database; a thin wrapper around it records each transaction, and can
hold a write (a gate) or fail it, which a real SQLite file cannot do on cue. Nothing here waits on a sleep
for correctness: tests wait on `flush()`, on the writer's own signals, or on a gate they control.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from jupyter_tracker.store import Store
from jupyter_tracker.tracking import writer as writer_module
from jupyter_tracker.tracking.writer import BatchWriter

WAIT = 10.0  # generous upper bound for anything the writer does "soon"


class Recording:
    """A store for the writer: records every write_batch, can hold it at a gate or fail it, then delegates."""

    def __init__(self, store: Store, *, failures: int = 0, error: Exception | None = None):
        self.store = store
        self.calls: list[dict] = []
        self.threads: set[str] = set()
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()  # set when a write_batch call starts
        self.failures = failures  # the next `failures` calls raise `error`
        self.error = error or sqlite3.OperationalError("database is locked")
        self.delay = 0.0

    def write_batch(self, run_id, keys, points, events, heartbeat, **kwargs):
        self.threads.add(threading.current_thread().name)
        self.entered.set()
        assert self.gate.wait(WAIT * 3), "the test never opened the gate"
        if self.delay:
            time.sleep(self.delay)  # a slow disk, on purpose
        call = {"keys": list(keys), "points": list(points), "events": list(events), "ok": False}
        self.calls.append(call)
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        self.store.write_batch(run_id, keys, points, events, heartbeat, **kwargs)
        call["ok"] = True

    def written(self) -> list[dict]:
        return [c for c in self.calls if c["ok"]]


@pytest.fixture
def make_writer():
    """BatchWriter(...) that is closed at the end of the test whatever happens (no thread left behind)."""
    made = []

    def make(store, run_id, **kwargs):
        made.append(BatchWriter(store, run_id, **kwargs))
        return made[-1]

    yield make
    for w in made:
        w.close()


def _points(run_id, key, values, step0=0, t0=1_700_000_000.0):
    return [(run_id, key, step0 + i, t0 + i, float(v)) for i, v in enumerate(values)]


def _thread_names() -> set[str]:
    return {t.name for t in threading.enumerate()}


def test_flush_waits_for_everything_handed_over_before_the_call(store, run_id, make_writer):
    w = make_writer(store, run_id)
    w.add_key(0, "loss")
    w.add_points(_points(run_id, 0, range(100)))
    w.add_event((run_id, 1_700_000_000.5, "info", "hello", "{}"))
    assert w.flush() is True
    # No wait after flush(): it returned only once the rows were committed.
    assert [p[1] for p in store.points(run_id)] == list(range(100))
    assert store.metric_keys(run_id) == {"loss": 0}
    assert [e[2] for e in store.events(run_id)] == ["hello"]


def test_flush_really_waits_for_a_slow_write_and_times_out_on_a_stuck_one(store, run_id, make_writer):
    spy = Recording(store)
    w = make_writer(spy, run_id)
    w.add_key(0, "x")
    spy.gate.clear()  # the store hangs
    w.add_points(_points(run_id, 0, [1, 2, 3]))
    assert spy.entered.wait(WAIT)  # the writer is inside write_batch, held at the gate
    assert w.flush(timeout=0.2) is False  # a timeout is an answer, not an exception

    result = []
    waiter = threading.Thread(target=lambda: result.append(w.flush(timeout=WAIT * 3)))
    waiter.start()
    waiter.join(0.3)  # give it time to return too early, if it would
    assert waiter.is_alive() and result == []
    spy.gate.set()
    waiter.join(WAIT * 3)
    assert result == [True]
    assert len(store.points(run_id)) == 3


def test_flush_with_nothing_pending_returns_and_beats_the_heart(store, run_id, make_writer):
    store.update_run(run_id, heartbeat=0.0)
    w = make_writer(store, run_id)
    assert w.flush() is True  # waiters force a write even with no rows: the heartbeat
    assert store.get_run(run_id).heartbeat > 0.0


def test_points_handed_over_during_a_write_go_together_in_the_next_transaction(
    store, run_id, make_writer, monkeypatch
):
    monkeypatch.setattr(writer_module, "HEARTBEAT_SECONDS", 3600.0)  # the held write is ours, not a heartbeat
    spy = Recording(store)
    w = make_writer(spy, run_id)
    w.add_key(0, "x")
    w.add_points(_points(run_id, 0, [0]))
    assert w.flush()
    spy.gate.clear()
    spy.entered.clear()
    w.add_points(_points(run_id, 0, [1], step0=1))
    assert spy.entered.wait(WAIT)  # that point is being written, the writer is busy
    for step in range(2, 502):  # 500 separate log() calls while it is busy
        w.add_points(_points(run_id, 0, [step], step0=step))
    spy.gate.set()
    assert w.flush()
    sizes = [len(c["points"]) for c in spy.written() if c["points"]]
    assert sizes == [1, 1, 500]  # one transaction for the 500, not 500 transactions
    assert [p[1] for p in store.points(run_id)] == list(range(502))


def test_a_full_batch_wakes_the_writer_before_its_tick(store, run_id, make_writer, monkeypatch):
    monkeypatch.setattr(writer_module, "FLUSH_SECONDS", 3600.0)  # no timed tick during the test
    monkeypatch.setattr(writer_module, "BATCH_POINTS", 1000)
    spy = Recording(store)
    w = make_writer(spy, run_id)
    w.add_key(0, "x")
    spy.entered.clear()
    w.add_points(_points(run_id, 0, range(1000)))  # a full batch
    assert spy.entered.wait(WAIT)  # written long before the hour-long tick
    assert w.flush()
    assert len(store.points(run_id)) == 1000


def test_close_writes_what_is_left_and_stops_the_thread(store, run_id, make_writer, monkeypatch):
    monkeypatch.setattr(writer_module, "FLUSH_SECONDS", 3600.0)  # only close() makes it write
    spy = Recording(store)
    w = make_writer(spy, run_id)
    name = f"jupyter-tracker-writer-{run_id}"
    assert name in _thread_names()
    w.add_key(0, "x")
    w.add_points(_points(run_id, 0, range(10)))
    w.add_key(1, "y")  # keys and points added last still land
    w.add_points(_points(run_id, 1, range(5)))
    w.close()
    assert name not in _thread_names()
    assert store.metric_keys(run_id) == {"x": 0, "y": 1}
    assert len(store.points(run_id)) == 15
    w.close()  # idempotent
    assert w.flush() is True  # nothing left to wait for
    assert spy.threads == {name}  # every write came from the writer thread


def test_close_writes_a_remainder_after_full_batches_without_waiting_for_the_tick(
    store, run_id, make_writer, monkeypatch
):
    # The usual end of a run: full batches, then the sampler's last few points. The writer takes close()'s
    # wake-up while it writes a full batch; the short remainder must still go at once, not after a tick.
    monkeypatch.setattr(writer_module, "FLUSH_SECONDS", 3600.0)
    monkeypatch.setattr(writer_module, "BATCH_POINTS", 1000)
    spy = Recording(store)
    w = make_writer(spy, run_id)
    w.add_key(0, "x")
    spy.gate.clear()
    w.add_points(_points(run_id, 0, range(3000)))  # full batches: the writer starts on the first one
    assert spy.entered.wait(WAIT)
    w.add_points(_points(run_id, 0, range(7), step0=3000))  # the remainder
    closing = threading.Thread(target=w.close, args=(WAIT,))
    closing.start()
    spy.gate.set()
    closing.join(WAIT * 2)
    assert not closing.is_alive(), "close() waited for the hour-long tick"
    assert len(store.points(run_id)) == 3007 and not w.lost


def test_events_and_keys_land_with_their_values(store, run_id, make_writer):
    w = make_writer(store, run_id)
    w.add_key(0, "loss")
    w.add_key(1, "val/acc")
    assert w.key_names == {0: "loss", 1: "val/acc"}
    w.add_points([(run_id, 0, 0, 1_700_000_000.0, 0.5), (run_id, 1, 0, 1_700_000_000.0, float("nan"))])
    w.add_event((run_id, 1_700_000_001.0, "warning", "lr dropped", '{"lr": 0.01}'))
    w.add_event((run_id, 1_700_000_002.0, "info", "epoch 1", "{}"))
    assert w.flush()
    assert store.metric_keys(run_id) == {"loss": 0, "val/acc": 1}
    points = store.points(run_id)
    assert points[0] == ("loss", 0, 0.5, 1_700_000_000.0)
    assert points[1][0] == "val/acc" and points[1][2] != points[1][2]  # NaN comes back as NaN
    assert store.events(run_id) == [
        (1_700_000_001.0, "warning", "lr dropped", {"lr": 0.01}),
        (1_700_000_002.0, "info", "epoch 1", {}),
    ]


def test_on_flush_gets_the_rows_after_they_are_stored_on_the_writer_thread(store, run_id, make_writer):
    seen = []

    def on_flush(points, events):
        stored = len(store.points(run_id))  # listeners only hear about what is in the database
        seen.append((list(points), list(events), stored, threading.current_thread().name))

    w = make_writer(store, run_id, on_flush=on_flush)
    w.add_key(0, "x")
    sent = []
    for chunk in range(5):
        rows = _points(run_id, 0, range(chunk * 10, chunk * 10 + 10), step0=chunk * 10)
        sent += rows
        w.add_points(rows)
        if chunk == 2:
            w.add_event((run_id, 1_700_000_100.0, "info", "middle", "{}"))
        w.flush()
    assert w.flush()  # a heartbeat-only write calls no one
    assert [row for points, _, _, _ in seen for row in points] == sent
    assert [e[3] for _, events, _, _ in seen for e in events] == ["middle"]
    assert all(stored >= len(points) for points, _, stored, _ in seen)
    assert {thread for *_, thread in seen} == {f"jupyter-tracker-writer-{run_id}"}


def test_submitted_jobs_run_on_the_writer_thread_and_flush_waits_for_them(store, run_id, make_writer):
    w = make_writer(store, run_id)
    ran = []

    def job():
        # flush() from the writer thread itself answers at once instead of waiting for itself
        ran.append((threading.current_thread().name, w.flush(timeout=None)))

    w.submit(job)
    assert w.flush(timeout=WAIT)  # False here would mean the job hung the writer
    assert ran == [(f"jupyter-tracker-writer-{run_id}", True)]


def test_a_failing_job_is_reported_and_the_data_still_lands(store, run_id, make_writer):
    errors = []
    w = make_writer(store, run_id, on_error=errors.append)
    w.add_key(0, "x")
    w.submit(lambda: 1 / 0)
    w.add_points(_points(run_id, 0, range(3)))
    assert w.flush()
    assert len(store.points(run_id)) == 3
    assert [type(e) for e in errors] == [ZeroDivisionError]


def test_a_failing_write_is_retried_reported_once_and_nothing_is_lost_or_doubled(store, run_id, make_writer):
    errors, flushed = [], []
    spy = Recording(store, failures=3)
    w = make_writer(spy, run_id, on_error=errors.append, on_flush=lambda p, e: flushed.append(len(p)))
    w.add_key(0, "x")
    w.add_points(_points(run_id, 0, range(50)))
    w.add_event((run_id, 1_700_000_000.0, "info", "kept", "{}"))
    assert w.flush(timeout=WAIT)  # waits through the failed attempts for the successful one
    assert [c["ok"] for c in spy.calls[:4]] == [False, False, False, True]
    # reported once, not once per retry
    assert len(errors) == 1 and isinstance(errors[0], sqlite3.OperationalError)
    assert [p[1] for p in store.points(run_id)] == list(range(50))
    assert [e[2] for e in store.events(run_id)] == ["kept"]
    assert sum(flushed) == 50  # listeners hear about the rows once, after the successful write


def test_rows_added_while_writes_fail_keep_their_order(store, run_id, make_writer):
    spy = Recording(store, failures=2)
    w = make_writer(spy, run_id, on_error=lambda exc: None)
    w.add_key(0, "x")
    for step in range(30):
        w.add_points(_points(run_id, 0, [step], step0=step))
    assert w.flush(timeout=WAIT)
    assert [p[1] for p in store.points(run_id)] == list(range(30))


def test_an_error_in_on_error_or_on_flush_does_not_stop_the_writer(store, run_id, make_writer):
    def broken(*args):
        raise RuntimeError("listener broke")

    spy = Recording(store, failures=1)
    w = make_writer(spy, run_id, on_error=broken, on_flush=broken)
    w.add_key(0, "x")
    w.add_points(_points(run_id, 0, range(3)))
    assert w.flush(timeout=WAIT)
    w.add_points(_points(run_id, 0, range(3), step0=3))
    assert w.flush(timeout=WAIT)
    assert len(store.points(run_id)) == 6


def test_back_pressure_bounds_the_buffer_and_never_deadlocks(store, run_id, make_writer, monkeypatch):
    monkeypatch.setattr(writer_module, "MAX_PENDING", 2_000)
    monkeypatch.setattr(writer_module, "BATCH_POINTS", 500)
    spy = Recording(store)
    spy.delay = 0.002  # a slow disk: the producer outruns it
    w = make_writer(spy, run_id)
    w.add_key(0, "x")
    total, chunk = 20_000, 100
    producer_done = threading.Event()

    def produce():
        for start in range(0, total, chunk):
            w.add_points(_points(run_id, 0, range(start, start + chunk), step0=start))
        producer_done.set()

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    assert producer_done.wait(60), "log() stayed blocked: back-pressure deadlocked"
    assert w.flush(timeout=WAIT * 3)
    assert len(store.points(run_id)) == total
    biggest = max(len(c["points"]) for c in spy.calls)
    assert biggest <= 2_000 + chunk  # never more than MAX_PENDING (plus one call's rows) waiting


def test_close_from_a_stuck_store_finishes_once_the_store_recovers(store, run_id, make_writer):
    spy = Recording(store, failures=2)
    w = make_writer(spy, run_id, on_error=lambda exc: None)
    w.add_key(0, "x")
    w.add_points(_points(run_id, 0, range(10)))
    w.close()  # retries through the failures, then writes and stops
    assert len(store.points(run_id)) == 10
    assert f"jupyter-tracker-writer-{run_id}" not in _thread_names()
