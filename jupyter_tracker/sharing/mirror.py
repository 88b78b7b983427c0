"""The live mirror: a run started with `mlflow=URL` (or after `%track_config mlflow=URL`) is pushed while
it runs, from one daemon thread per process, never from the caller's thread.

Every second the thread pushes what each mirrored run logged since (pushing.py: from the watermark on), so
logging never waits for the network. When a run ends, finish() waits at most FINAL_WAIT_SECONDS for its
last points and status to go; the artifact files and the card follow from the thread. A server that does not answer costs one
warning event on the run; the watermark stays where it was and the thread tries again, waiting 1, 2, 4...
up to 60 seconds between tries, so what the run logged meanwhile goes once the server is back (or with
`jupyter-tracker push`, from any process, later).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ..errors import RunClosed, ServerUnreachable, TrackerError
from ..models import ENDED_STATUSES, RUNNING
from .pushing import RunPush
from .rest import MlflowRest

ROUND_SECONDS = 1.0  # between two pushes of a running run
ROUND_BUDGET_SECONDS = 2.0  # a long push gives the other runs a turn after this long
FINAL_WAIT_SECONDS = 1.0  # the most finish() waits for the last push
SOCKET_SECONDS = 5.0  # the mirror's connections time out sooner than a push's
MOST_BACKOFF_SECONDS = 60.0
logger = logging.getLogger("jupyter_tracker")


def backoff(failures: int) -> float:
    """Seconds to wait after `failures` failures in a row: 1, 2, 4... at most MOST_BACKOFF_SECONDS."""
    return min(2.0 ** max(failures - 1, 0), MOST_BACKOFF_SECONDS)


class _Job:
    """One mirrored run: its pusher, whether it ended, and how the server has been answering."""

    def __init__(self, run: Any, url: str):
        self.run, self.url = run, url
        self.pusher: RunPush | None = None  # made on the mirror's thread, with its client
        self.ended = False
        self.settled = threading.Event()  # a push begun after the end is over (sent, or failed)
        self.failures, self.next_try, self.warned = 0, 0.0, False
        self.reported: set[str] = set()  # params MLflow could not take, said once
        self.url_shown: str | None = None


class Mirror:
    """The process's mirror thread and the runs it serves (started with the first run)."""

    def __init__(self) -> None:
        self._jobs: list[_Job] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._clients: dict[str, MlflowRest] = {}
        self._thread: threading.Thread | None = None

    def add(self, run: Any, url: str) -> _Job:
        job = _Job(run, url)
        with self._lock:
            self._jobs.append(job)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="jupyter-tracker-mlflow", daemon=True)
                self._thread.start()
        run.subscribe(lambda points, events, status: self._heard(job, points, events, status))
        self._wake.set()
        return job

    def _heard(self, job: _Job, points: list, events: list, status: str) -> None:
        """The run's listener: its last call (no rows, an ended status) comes from finish(), which waits
        here at most FINAL_WAIT_SECONDS for the last push."""
        if points or events or status == RUNNING or job.ended:
            return
        job.ended, job.next_try = True, 0.0  # try at once, even while backing off
        self._wake.set()
        job.settled.wait(FINAL_WAIT_SECONDS)

    def _loop(self) -> None:
        while True:
            self._wake.wait(ROUND_SECONDS)
            self._wake.clear()
            with self._lock:
                jobs = list(self._jobs)
            for job in jobs:
                try:
                    self._serve(job)
                except Exception as exc:  # never let the thread die: one more warning, then drop the run
                    self._warn(job, f"mirroring to MLflow stopped: {type(exc).__name__}: {exc}")
                    self._drop(job)

    def _serve(self, job: _Job) -> None:
        if time.monotonic() < job.next_try:
            return
        ended = job.ended
        try:
            if job.pusher is None:
                job.pusher = RunPush(job.run.store, job.run.id, self._client(job.url))
            pushed = job.pusher.push(
                card=False, files=False, deadline=time.monotonic() + ROUND_BUDGET_SECONDS
            )
        except ServerUnreachable as exc:
            job.failures += 1
            job.next_try = time.monotonic() + backoff(job.failures)
            if not job.warned:
                job.warned = True
                self._warn(
                    job,
                    f"{exc}; the run is kept here and sent when the server answers (or with `jupyter-tracker push`)",
                )
            self._settle(job, ended)
            return
        except TrackerError as exc:  # refused (not a passing outage): say so and stop trying
            self._warn(job, f"mirroring to MLflow stopped: {exc}; `jupyter-tracker push` tries again")
            self._settle(job, ended)
            self._drop(job)
            return
        job.failures = 0
        self._report(job, pushed.skipped_params)
        if not pushed.complete:
            self._wake.set()  # more to send: no pause
        elif ended and pushed.run.status in ENDED_STATUSES:
            self._settle(job, ended)
            self._drop(job)
            job.pusher.push(card=True)  # after finish() has returned: the card takes a while to render

    def _settle(self, job: _Job, ended: bool) -> None:
        if ended:
            job.settled.set()

    def _client(self, url: str) -> MlflowRest:
        if url not in self._clients:
            # One request at a time: no more threads in the user's process, none to wait for at its exit.
            self._clients[url] = MlflowRest(url, timeout=SOCKET_SECONDS, in_flight=1)
        return self._clients[url]

    def _drop(self, job: _Job) -> None:
        with self._lock:
            if job in self._jobs:
                self._jobs.remove(job)

    def _report(self, job: _Job, skipped: list[str]) -> None:
        for key in skipped:
            if key not in job.reported:
                job.reported.add(key)
                self._warn(
                    job,
                    f"param {key!r} changed after it was sent to MLflow, which keeps a param's first value",
                )

    def _warn(self, job: _Job, message: str) -> None:
        """A warning event on the run (open or ended) and on the logger; never printed into a cell."""
        run = job.run
        logger.warning("run %r: %s", run.name, message)
        try:
            if run.status == RUNNING:
                try:
                    run.log_event(message, "warning", mlflow=job.url)
                    return
                except RunClosed:  # it ended meanwhile: straight to the store, as for an ended run
                    pass
            run.store.add_event(run.id, time.time(), "warning", message, {"mlflow": job.url})
        except Exception:  # the store is gone: the logger has it
            pass


_mirror = Mirror()


def mirror_run(run: Any, url: str) -> None:
    """Mirror `run` (a tracking Run, just started) to the MLflow server at `url` while it runs."""
    _mirror.add(run, url)
