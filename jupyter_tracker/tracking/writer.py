"""BatchWriter: the one thread that moves a run's logged points and events into the store.

The caller's thread only appends ready-made rows to a list under a lock; this thread takes them out and
writes them in small transactions (at most BATCH_POINTS points each) about every 200 ms, or at once when a
batch fills up, so a killed process loses a fraction of a second at most.

It never wedges: only a busy or locked database is waited for; a row the store refuses is set apart (the
rest of its batch is stored) and saved to the run's recovery file; a store that cannot take anything (a
full disk, a read-only or vanished file) keeps the rows pending until `close()`, which waits a bounded
time and then saves what is left to the recovery file. Nothing is dropped without a count and a path.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..store import DATA_ERRORS, is_contention

FLUSH_SECONDS = 0.2
BATCH_POINTS = 20_000
# Back-pressure: past this many unwritten points log() waits for the writer, so a crash loses little and
# memory stays bounded (~150 bytes a point). A store that cannot write sends them to the recovery file.
MAX_PENDING = 200_000
# ...and once its oldest unwritten points are this old, so a crash loses little even on a machine too busy
# for the writer to keep up (the age is read from a mark left every MARK_EVERY points).
MAX_LAG_SECONDS = 0.25
MARK_EVERY = 5_000
HEARTBEAT_SECONDS = 5.0
CLOSE_SECONDS = 15.0
ROOM_WAIT_SECONDS = 5.0
# One write waits at most this long for the database's lock, then lets go and tries again later, so the
# process's other users of the connection (readers, the run's end) are never held up for long.
WRITE_LOCK_SECONDS = 1.0


class BatchWriter:
    """Buffers rows for one run and writes them from a daemon thread.

    `recovery` (a tracking.recovery.RecoveryFile) receives what cannot be stored; `on_error(exc)` hears of
    each new kind of failure, `on_flush(points, events)` of each stored batch (both on the writer thread).
    """

    def __init__(
        self,
        store: Any,
        run_id: int,
        *,
        on_flush: Callable | None = None,
        on_error: Callable | None = None,
        recovery: Any = None,
    ):
        self._store, self._run_id = store, run_id
        self._on_flush, self._on_error, self._recovery = on_flush, on_error, recovery
        self._lock = threading.Lock()
        self._progress = threading.Condition(self._lock)
        self._points: list[tuple] = []
        self._events: list[tuple] = []
        self._keys: list[tuple] = []
        self._jobs: list[Callable] = []
        # Progress counters: rows handed over / handled (stored or set aside), jobs, and heartbeat writes
        # asked for by flush() / done; flush() waits for the counts of the moment it was called.
        self._added = self._handled = self._jobs_added = self._jobs_done = self._beats = self._beat = 0
        self._marks: deque[tuple[int, float]] = deque()  # (rows added, when) every MARK_EVERY points
        self._next_mark = MARK_EVERY
        self._wake, self._abandon = threading.Event(), threading.Event()
        # Set when the loop has ended. Waited on instead of Thread.join(): an interrupted join marks a
        # running thread as stopped on Python 3.11 (bpo-45274's fix), and Ctrl-C during finish() is normal.
        self._ended = threading.Event()
        self._in_flight: tuple[list, list] | None = None  # the points and events of the write under way
        self._stopping = self._done = False
        self._failures = 0
        self.failure: BaseException | None = None  # the store's error while it refuses every write
        self.not_stored = {"points": 0, "events": 0}  # set apart or left over, saved to recovery (or lost)
        self.lost = 0  # rows that could not even be saved to a recovery file
        self.key_names: dict[int, str] = {}
        self._thread = threading.Thread(
            target=self._loop, name=f"jupyter-tracker-writer-{run_id}", daemon=True
        )
        self._thread.start()

    # -- called from any thread ----------------------------------------------------------------
    def add_points(self, rows: list[tuple]) -> None:
        if self._done:  # the run has ended meanwhile (a thread still logging): save, never drop
            self._late(rows, [])
            return
        with self._lock:
            self._points.extend(rows)
            self._added += len(rows)
            pending = len(self._points)
            if self._added >= self._next_mark:
                self._marks.append((self._added, time.monotonic()))
                self._next_mark = self._added + MARK_EVERY
        if pending >= BATCH_POINTS:
            self._wake.set()
            if pending >= MAX_PENDING or self._lag() > MAX_LAG_SECONDS:
                self._wait_for_room()

    def _lag(self) -> float:
        """Seconds since the oldest mark not yet written was left."""
        with self._lock:
            return self._lag_locked()

    def _lag_locked(self) -> float:
        while self._marks and self._marks[0][0] <= self._handled:
            self._marks.popleft()
        return time.monotonic() - self._marks[0][1] if self._marks else 0.0

    def add_key(self, key_id: int, name: str) -> None:
        with self._lock:
            self._keys.append((self._run_id, key_id, name))
            self._added += 1
            self.key_names[key_id] = name

    def add_event(self, row: tuple) -> None:
        if self._done:
            self._late([], [row])
            return
        with self._lock:
            self._events.append(row)
            self._added += 1
        self._wake.set()

    def _late(self, points: list, events: list) -> None:
        with self._lock:
            self._added += len(points) + len(events)
        self._set_aside(points, events, RuntimeError("logged after the run had ended"), counted=False)

    def submit(self, job: Callable[[], object]) -> None:
        """Run `job` on the writer thread, before the next write (slow captures, snapshots)."""
        with self._lock:
            self._jobs.append(job)
            self._jobs_added += 1
        self._wake.set()

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until everything handed over before this call is stored (or set apart); False on timeout."""
        if self._ended.is_set() or self._thread is threading.current_thread():
            return not self._has_data()
        with self._lock:
            target, jobs = self._added, self._jobs_added
            self._beats += 1  # a write after the call, even of nothing, beats the heart
            beat = self._beats
            self._wake.set()
            return self._progress.wait_for(
                lambda: (
                    self._done or (self._handled >= target and self._jobs_done >= jobs and self._beat >= beat)
                ),
                timeout,
            )

    def close(self, timeout: float | None = None, reason: BaseException | None = None) -> bool:
        """Write what is left and stop the thread, waiting at most `timeout` seconds (CLOSE_SECONDS by
        default); what could not be written by then goes to the recovery file. True if all was stored."""
        with self._lock:
            self._stopping = True
        self._wake.set()
        if self._thread is threading.current_thread():  # a job ending its own run: the loop ends after it
            return True
        waited = CLOSE_SECONDS if timeout is None else timeout
        if not self._ended.wait(waited):
            # Still waiting for a busy database, or a write that hangs: what is left goes aside, and so does a
            # copy of the write under way (the process may exit before it lands; loading it twice is harmless).
            self._abandon.set()
            why = reason or TimeoutError(f"the database did not take the last points within {waited:g} s")
            with self._lock:
                in_flight, self._in_flight = self._in_flight, None
            if in_flight is not None:
                self._set_aside(*in_flight, why)
            self._set_aside_pending(why)
        else:
            self._thread.join(1.0)  # it has ended its loop: let it leave the thread list too
            if self._has_data():  # the loop died of a bug: try once from here, then set the rest aside
                self._write_chunk(time.time())
                self._set_aside_pending(self.failure or RuntimeError("the writer thread stopped"))
        return not any(self.not_stored.values()) and not self.lost

    # -- back-pressure -------------------------------------------------------------------------
    def _wait_for_room(self) -> None:
        deadline = time.monotonic() + ROOM_WAIT_SECONDS
        with self._progress:
            while not self._ended.is_set() and (
                len(self._points) >= MAX_PENDING // 2 or self._lag_locked() > MAX_LAG_SECONDS / 2
            ):
                if (
                    self.failure is not None and not is_contention(self.failure)
                ) or time.monotonic() > deadline:
                    break  # the store refuses writes, or stayed busy too long
                self._wake.set()
                self._progress.wait(0.5)
            else:
                return
        # The store takes nothing (or far too slowly): keep memory bounded, save the oldest rows aside.
        with self._lock:
            oldest, self._points = self._points[: MAX_PENDING // 2], self._points[MAX_PENDING // 2 :]
        self._set_aside(
            oldest, [], self.failure or TimeoutError("the database did not keep up"), counted=False
        )

    # -- the writer thread ---------------------------------------------------------------------
    def _loop(self) -> None:
        try:
            self._serve()
        finally:  # whatever happened, say so: close() and flush() wait for this
            with self._progress:
                self._done = True
                self._progress.notify_all()
            self._ended.set()

    def _serve(self) -> None:
        last_beat = 0.0
        while not self._abandon.is_set():
            # Once stopping, what is left goes at once: the wake-up that said so may have been taken already.
            if len(self._points) < BATCH_POINTS and not self._stopping:
                self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            with self._lock:
                stopping, jobs, self._jobs = self._stopping, self._jobs, []
                beats = self._beats
            self._run_jobs(jobs)
            now = time.time()
            if self._has_data() or now - last_beat >= HEARTBEAT_SECONDS or stopping or beats > self._beat:
                if self._write_chunk(now):
                    last_beat = now
                elif stopping and not is_contention(self.failure):
                    break  # a store that refuses writes will not take them at the end either
                else:
                    self._abandon.wait(min(1.0, 0.05 * self._failures))  # back off; close() cuts it short
            if stopping and not self._has_data():
                break
        self._set_aside_pending(self.failure or TimeoutError("the run ended before the database took them"))

    def _run_jobs(self, jobs: list[Callable]) -> None:
        for job in jobs:
            try:
                job()
            except Exception as exc:  # a failed capture must not stop the data from landing
                self._report(exc)
        with self._progress:
            self._jobs_done += len(jobs)
            self._progress.notify_all()

    def _has_data(self) -> bool:
        return bool(self._points or self._events or self._keys)

    def _write_chunk(self, now: float) -> bool:
        """Write the keys, events and at most BATCH_POINTS points in one transaction; False if it failed."""
        with self._progress:
            keys, self._keys = self._keys, []
            events, self._events = self._events, []
            points, self._points = self._points[:BATCH_POINTS], self._points[BATCH_POINTS:]
            beat = self._beats
            self._in_flight = (points, events)
            self._progress.notify_all()  # room for a producer waiting on back-pressure
        try:
            self._store.write_batch(self._run_id, keys, points, events, now, timeout=WRITE_LOCK_SECONDS)
        except DATA_ERRORS:
            return self._isolate(keys, points, events, now)
        except Exception as exc:
            self._failed(exc, keys, points, events)
            return False
        finally:
            with self._lock:
                self._in_flight = None
        self._written(keys, points, events, beat)
        return True

    def _written(self, keys: list, points: list, events: list, beat: int | None = None) -> None:
        with self._progress:
            self._handled += len(keys) + len(points) + len(events)
            if beat is not None:
                self._beat = max(self._beat, beat)
            self._progress.notify_all()
        self._failures, self.failure = 0, None
        if self._on_flush is not None and (points or events):
            try:
                self._on_flush(points, events)
            except Exception as exc:
                self._report(exc)

    def _failed(self, exc: BaseException, keys: list, points: list, events: list) -> None:
        """The store refused the whole write: keep the rows, in order, for the next try."""
        if self._abandon.is_set():  # close() gave up on this write: its rows are in the recovery file already
            return
        with self._lock:
            self._points[:0], self._events[:0], self._keys[:0] = points, events, keys
        self._failures += 1
        if self.failure is None or type(exc) is not type(self.failure) or self._failures in (10, 100):
            self._report(exc)
        self.failure = exc

    def _isolate(self, keys: list, points: list, events: list, now: float) -> bool:
        """Some row's values cannot be stored: write the batch in halves until each bad row stands alone,
        store the rest, and set the bad rows apart with one warning event."""
        work = [
            (kind, rows) for kind, rows in (("events", events), ("points", points), ("keys", keys)) if rows
        ]
        bad: dict[str, list] = {"keys": [], "points": [], "events": []}
        while work:
            kind, rows = work.pop()
            part = {"keys": [], "points": [], "events": [], kind: rows}
            try:
                self._store.write_batch(
                    self._run_id,
                    part["keys"],
                    part["points"],
                    part["events"],
                    now,
                    timeout=WRITE_LOCK_SECONDS,
                )
            except DATA_ERRORS as exc:
                if len(rows) == 1:
                    bad[kind].append((rows[0], exc))
                else:
                    middle = len(rows) // 2
                    work += [(kind, rows[middle:]), (kind, rows[:middle])]
                continue
            except Exception as exc:  # the store itself failed meanwhile: the rest waits for the next try
                if any(bad.values()):
                    self._set_apart(bad)
                left: dict[str, list] = {"keys": [], "points": [], "events": []}
                for left_kind, left_rows in [(kind, rows), *reversed(work)]:  # in the order they came
                    left[left_kind] += left_rows
                self._failed(exc, left["keys"], left["points"], left["events"])
                return False
            self._written(part["keys"], part["points"], part["events"])
        self._set_apart(bad)
        return True

    def _set_apart(self, bad: dict[str, list]) -> None:
        first = next(exc for kind in ("keys", "points", "events") for _, exc in bad[kind])
        with self._progress:
            self._handled += len(bad["keys"])
        points, events = [r for r, _ in bad["points"]], [r for r, _ in bad["events"]]
        where = self._set_aside(points, events, first, counted=False)
        what = ", ".join(f"{len(bad[k])} {k}" for k in ("points", "events", "keys") if bad[k])
        self._report(ValueError(f"{what} could not be stored ({type(first).__name__}: {first}){where}"))

    def _set_aside_pending(self, exc: BaseException) -> None:
        with self._progress:
            points, events, keys = self._points, self._events, self._keys
            self._points, self._events, self._keys = [], [], []
            self._handled += len(keys)
            self._progress.notify_all()
        if points or events:
            self._set_aside(points, events, exc, counted=False)

    def _set_aside(self, points: list, events: list, exc: BaseException, *, counted: bool = True) -> str:
        """Save rows the store did not take to the recovery file; the text says where (or that they are lost).
        Unless `counted` (rows handled already), they count as handled, so flush() and back-pressure go on."""
        with self._progress:
            self.not_stored["points"] += len(points)
            self.not_stored["events"] += len(events)
            if not counted:
                self._handled += len(points) + len(events)
                self._progress.notify_all()
        if not points and not events:
            return ""
        if self._recovery is not None:
            try:
                path = self._recovery.write(
                    self.key_names, points, events, reason=f"{type(exc).__name__}: {exc}"
                )
                return f"; saved to {path}"
            except Exception as error:  # noqa: BLE001 - even the temp folder is full: say so
                self._report(error)
        with self._lock:
            self.lost += len(points) + len(events)
        return "; they could not be saved anywhere"

    def _report(self, exc: BaseException) -> None:
        if self._on_error is not None:
            try:
                self._on_error(exc)
            except Exception:
                pass
