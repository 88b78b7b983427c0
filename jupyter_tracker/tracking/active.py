"""The runs open in this process, innermost last: `active_run()` and `log()` find the run to log to.

A process-wide stack rather than a ContextVar: ipykernel runs each cell in its own context copy, and threads
the user starts do not inherit one, yet `tracker.log()` must find the run from a later cell or from a
data-loading thread.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from ..errors import NoActiveRun

# Runs (tracking.run.Run, which imports this module: the type is not named here), innermost last.
_open: list[Any] = []
_lock = threading.Lock()


def push(run: Any) -> None:
    """Make `run` the active run (again, if it was open already)."""
    with _lock:
        if run in _open:
            _open.remove(run)
        _open.append(run)


def remove(run: Any) -> None:
    with _lock:
        if run in _open:
            _open.remove(run)


def open_runs() -> list[Any]:
    """The open runs, innermost last."""
    with _lock:
        return list(_open)


def active_run() -> Any | None:
    """The innermost run open in this process (a Run), or None."""
    with _lock:
        return _open[-1] if _open else None


def log(metrics: Mapping[str, object] | None = None, /, step: int | None = None, **values: object) -> None:
    """Log to the active run: `jupyter_tracker.log(loss=0.3)`."""
    run = active_run()
    if run is None:
        raise NoActiveRun(
            "no active run: start one with `%%track_run` in a notebook cell, or "
            "`with jupyter_tracker.start_run(name=...) as run:` in Python"
        )
    run.log(metrics, step, **values)
