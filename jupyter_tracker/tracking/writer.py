"""BatchWriter: the one thread that moves a run's logged points and events into the store.

The caller's thread only appends ready-made rows to a list under a lock; this thread swaps the list out
and writes it in one transaction about every 200 ms, or sooner when a batch fills up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

FLUSH_SECONDS = 0.2
BATCH_POINTS = 20_000
# Back-pressure: past this many unwritten points log() waits for the writer, so memory stays bounded
# (about 150 bytes a point: 1,000,000 points is ~150 MB at most, reached only if SQLite stalls).
MAX_PENDING = 1_000_000
HEARTBEAT_SECONDS = 5.0


class BatchWriter:
    """Buffers rows for one run and writes them from a daemon thread."""

    def __init__(
        self, store, run_id: int, *, on_flush: Callable | None = None, on_error: Callable | None = None
    ):
        self._store = store
        self._run_id = run_id
        self._on_flush = on_flush
        self._on_error = on_error
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._points: list[tuple] = []
        self._events: list[tuple] = []
        self._keys: list[tuple] = []
        self._jobs: list[Callable] = []
        self._waiters: list[threading.Event] = []
        self._wake = threading.Event()
        self._stopping = False
        self._done = False
        self._failures = 0
        self.key_names: dict[int, str] = {}
        self._thread = threading.Thread(
            target=self._loop, name=f"jupyter-tracker-writer-{run_id}", daemon=True
        )
        self._thread.start()

    # -- called from any thread ----------------------------------------------------------------
    def add_points(self, rows: list[tuple]) -> None:
        with self._lock:
            self._points.extend(rows)
            pending = len(self._points)
        if pending >= BATCH_POINTS:
            self._wake.set()
            if pending >= MAX_PENDING:
                self._wait_for_room()

    def add_key(self, key_id: int, name: str) -> None:
        with self._lock:
            self._keys.append((self._run_id, key_id, name))
            self.key_names[key_id] = name

    def add_event(self, row: tuple) -> None:
        with self._lock:
            self._events.append(row)
        self._wake.set()

    def submit(self, job: Callable[[], object]) -> None:
        """Run `job` on the writer thread, before the next flush (slow captures, snapshots)."""
        with self._lock:
            self._jobs.append(job)
        self._wake.set()

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until everything handed over before this call is in the database; False on timeout."""
        if not self._thread.is_alive() or self._thread is threading.current_thread():
            return not self._has_data()
        done = threading.Event()
        with self._lock:
            if self._done:  # the thread has written its last batch
                return not self._has_data()
            self._waiters.append(done)
        self._wake.set()
        return done.wait(timeout)

    def close(self) -> None:
        """Write everything still buffered and stop the thread."""
        with self._lock:
            self._stopping = True
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        # The thread is gone (interpreter exit, or it died): write what is left from here.
        for _attempt in range(50):
            if not self._has_data():
                break
            self._flush()

    # -- the writer thread ---------------------------------------------------------------------
    def _wait_for_room(self) -> None:
        with self._room:
            while len(self._points) >= MAX_PENDING // 2 and self._thread.is_alive():
                self._wake.set()
                self._room.wait(0.5)

    def _loop(self) -> None:
        last_beat = 0.0
        while True:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            with self._lock:
                stopping = self._stopping
                jobs, self._jobs = self._jobs, []
                waiters, self._waiters = self._waiters, []
            for job in jobs:
                try:
                    job()
                except Exception as exc:  # a failed capture must not stop the data from landing
                    self._report(exc)
            now = time.time()
            if self._has_data() or now - last_beat >= HEARTBEAT_SECONDS or stopping or waiters:
                written = self._flush()
                if written:
                    last_beat = now
                    for waiter in waiters:
                        waiter.set()
                elif waiters:  # the write failed: they wait for the next one
                    with self._lock:
                        self._waiters[:0] = waiters
            if stopping and not self._has_data():
                with self._lock:
                    self._done = True
                    late, self._waiters = self._waiters, []
                for waiter in late:  # everything is written: nothing is left to wait for
                    waiter.set()
                return

    def _has_data(self) -> bool:
        return bool(self._points or self._events or self._keys)

    def _flush(self) -> bool:
        with self._room:
            points, self._points = self._points, []
            events, self._events = self._events, []
            keys, self._keys = self._keys, []
            self._room.notify_all()
        try:
            self._store.write_batch(self._run_id, keys, points, events, time.time())
        except Exception as exc:
            # Keep the rows and try again next tick; the database may be locked by another process for a while.
            with self._lock:
                self._points[:0] = points
                self._events[:0] = events
                self._keys[:0] = keys
            self._failures += 1
            if self._failures in (1, 10, 100):
                self._report(exc)
            time.sleep(min(1.0, 0.05 * self._failures))
            return False
        self._failures = 0
        if self._on_flush is not None and (points or events):
            try:
                self._on_flush(points, events)
            except Exception as exc:
                self._report(exc)
        return True

    def _report(self, exc: BaseException) -> None:
        if self._on_error is not None:
            try:
                self._on_error(exc)
            except Exception:
                pass
