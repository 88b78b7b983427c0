"""The one thread per process that pushes live panels' changes to the browser.

ipykernel 7 gives every thread that sends output (print, display, a comm message such as a widget update)
a pipe of its own, an open file descriptor, and sweeps the pipes of dead threads only every ~10 s. A thread
per panel, that is per run cell, piles descriptors up while cells run (Run All of a long notebook, a
loop over `%%track_run` cells) and makes one more thread the kernel must manage per cell. So panels share
one daemon thread, started on first use and never stopped: a panel registers when it opens, calls
`wake()` when new data has been folded in (from the writer thread, which itself never sends), and
unregisters when it closes. Each panel is pushed at most every `panel.interval` seconds. Nothing here
prints.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Protocol


class Pushable(Protocol):
    interval: float

    def push(self) -> None: ...


class Pusher:
    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[Pushable, float] = {}  # registered panel -> monotonic time it may push again
        self._dirty: set[Pushable] = set()
        self._thread: threading.Thread | None = None

    # -- called from any thread -------------------------------------------------------------------
    def register(self, panel: Pushable) -> None:
        with self._cond:
            self._due[panel] = 0.0
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="jupyter-tracker-panels", daemon=True)
                self._thread.start()

    def unregister(self, panel: Pushable) -> None:
        """After this returns the thread starts no new push of `panel` (one under way may still finish:
        the panel serialises its own pushes)."""
        with self._cond:
            self._due.pop(panel, None)
            self._dirty.discard(panel)

    def wake(self, panel: Pushable) -> None:
        """`panel` has something new to show; never blocks beyond a short lock."""
        with self._cond:
            if panel in self._due:
                self._dirty.add(panel)
                self._cond.notify()

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    # -- the thread -------------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            for panel in self._next_due():
                try:
                    panel.push()
                except Exception:
                    pass  # one panel's failure must not stop the others' updates

    def _next_due(self) -> list[Pushable]:
        """Wait until some changed panel may push; mark those as pushed now and return them."""
        with self._cond:
            while True:
                now = time.monotonic()
                ready = [panel for panel in self._dirty if self._due[panel] <= now]
                if ready:
                    for panel in ready:
                        self._dirty.discard(panel)
                        self._due[panel] = now + panel.interval
                    return ready
                waits = [self._due[panel] - now for panel in self._dirty]
                self._cond.wait(min(waits) if waits else None)


PUSHER = Pusher()

if hasattr(os, "register_at_fork"):  # a forked child has none of the parent's threads: start afresh
    os.register_at_fork(after_in_child=PUSHER._reset)
