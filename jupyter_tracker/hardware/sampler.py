"""The sampler thread: reads the probes every interval and hands each tick's values to a `sink` callable.

It knows nothing of the store or of IPython. The metric names are in metrics.py, the probes in probes.py
and gpu.py, the machine snapshot in machine.py.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from .metrics import DEFAULT_INTERVAL, Probe, check_interval
from .probes import default_probes_and_status

# stop() waits this long at least for a probe stuck in a driver call before giving the thread up.
STOP_TIMEOUT = 5.0

Sink = Callable[[float, list], Any]
OnError = Callable[[str, BaseException], Any]


class HardwareSampler:
    """Samples the probes every `interval` seconds on a daemon thread and hands the values to `sink`.

    `sink(time, values)` runs on the sampler thread once per tick that read anything (never concurrently),
    with the tick's wall-clock time and a fresh list of (name, value) pairs. The first time a
    probe fails, `on_error(probe_name, exc)` is called and that probe is switched off; the others go on.
    A failing sink is reported once as "sink". No exception leaves the thread.
    """

    def __init__(
        self,
        sink: Sink,
        interval: float = DEFAULT_INTERVAL,
        probes: Sequence[Probe] | None = None,
        on_error: OnError | None = None,
    ):
        self.interval = check_interval(interval)
        if probes is None:
            probes, self.gpu_status = default_probes_and_status()
        else:
            probes = list(probes)
            self.gpu_status = next(
                (p.status for p in probes if getattr(p, "name", None) == "gpu" and hasattr(p, "status")),
                "no GPU metrics: no GPU probe was given",
            )
        self._probes = list(probes)
        self._active = list(probes)
        self._sink = sink
        self._on_error = on_error
        self._reported: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._abandon = threading.Event()
        self.ticks = 0
        self.cpu_time = 0.0  # seconds of sampler-thread CPU spent in ticks (probes and sink)

    @property
    def probes(self) -> tuple[Probe, ...]:
        return tuple(self._probes)

    @property
    def switched_off(self) -> list[str]:
        """Names of the probes switched off after a failure."""
        return [p.name for p in self._probes if p not in self._active]

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread; it takes a first sample at once. Does nothing if already running."""
        with self._lock:
            if self._thread is not None:
                return
            for probe in list(self._active):
                self._guard(probe, probe.reset)
            self._stop, self._abandon = threading.Event(), threading.Event()
            self._thread = threading.Thread(
                target=self._loop,
                args=(self._stop, self._abandon),
                name="jupyter-tracker-sampler",
                daemon=True,
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop within one interval: the thread takes a last sample and is joined. Idempotent."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            stop, abandon = self._stop, self._abandon
            stop.set()
        if thread is threading.current_thread():
            return
        thread.join(max(STOP_TIMEOUT, 2 * self.interval))
        if thread.is_alive():
            # A probe is stuck (a GPU driver call can hang): leave the daemon thread, silenced, behind.
            abandon.set()
            self._report("sampler", TimeoutError("the sampler thread did not stop; a probe may be stuck"))

    def collect(self) -> tuple[float, list[tuple[str, float]]]:
        """Sample every active probe once: (wall-clock time, values). Failing probes are switched off."""
        now = time.time()
        values: list[tuple[str, float]] = []
        for probe in list(self._active):
            got = self._guard(probe, probe.sample, now)
            if got:
                values.extend(got)
        return now, values

    def _guard(self, probe: Probe, fn: Callable, *args):
        try:
            return fn(*args)
        except BaseException as exc:  # a probe must never take the thread down
            if probe in self._active:
                self._active.remove(probe)
            self._report(getattr(probe, "name", type(probe).__name__), exc)
            return None

    def _report(self, name: str, exc: BaseException) -> None:
        if name in self._reported:
            return
        self._reported.add(name)
        if self._on_error is not None:
            # the reporter failing must not stop sampling either
            with contextlib.suppress(BaseException):
                self._on_error(name, exc)

    def _tick(self, abandon: threading.Event) -> None:
        started = time.thread_time()
        now, values = self.collect()
        if values and not abandon.is_set():
            try:
                self._sink(now, values)
            except BaseException as exc:
                self._report("sink", exc)
        self.cpu_time += time.thread_time() - started
        self.ticks += 1

    def _loop(self, stop: threading.Event, abandon: threading.Event) -> None:
        try:
            self._tick(abandon)
            due = time.monotonic()
            while True:
                due += self.interval
                delay = due - time.monotonic()
                if delay < 0:  # fell behind (suspended machine, starved thread): drop the missed ticks
                    due, delay = time.monotonic(), 0.0
                if stop.wait(delay):
                    break
                self._tick(abandon)
            self._tick(abandon)
        except BaseException:  # nothing may escape the thread; _tick already reports what it can
            pass


def default_probes(nvml: Any = None) -> list[Probe]:
    """CPU, memory, disk, network and process probes, plus the GPU probe when NVML starts.

    `nvml` replaces the `pynvml` module (tests pass a fake one).
    """
    return default_probes_and_status(nvml)[0]
