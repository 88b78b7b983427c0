"""The last step of a run's end: its final status stored, or kept safe when the store cannot take it."""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

from ..errors import StorageWarning
from ..store import is_contention
from . import active
from .recovery import end_later, not_stored_message
from .stores import checkpoint_if_idle

logger = logging.getLogger("jupyter_tracker")

# A stored traceback keeps the innermost frames of the user's code, and at most this much text of them.
TRACEBACK_FRAMES = 50
TRACEBACK_CHARS = 20_000
_OURS = Path(__file__).resolve().parents[1]  # the jupyter_tracker package
# The machinery a cell runs in: its frames tell the user nothing about their code.
_MACHINERY = ("IPython", "ipykernel", "tornado", "asyncio", "runpy")


def describe_failure(exc: BaseException) -> tuple[str, str]:
    """The one-line error of a failed run ("ValueError: bad input") and the traceback of the user's frames:
    those inside jupyter_tracker and the IPython/ipykernel machinery are left out, the innermost
    TRACEBACK_FRAMES of each exception (chained ones too) kept, the text cut to its last TRACEBACK_CHARS."""
    words = " ".join(str(exc).split())
    message = f"{type(exc).__name__}: {words}" if words else type(exc).__name__
    report = traceback.TracebackException(type(exc), exc, exc.__traceback__, compact=True)
    _keep_user_frames(report, _hidden_folders(), set())
    text = "".join(report.format())
    if len(text) > TRACEBACK_CHARS:
        cut = len(text) - TRACEBACK_CHARS
        text = f"[{cut:,} characters of the traceback's start left out]\n" + text[cut:]
    return message[:TRACEBACK_CHARS], text


def _hidden_folders() -> tuple[str, ...]:
    folders = [str(_OURS)]
    for name in _MACHINERY:
        module = sys.modules.get(name)  # only what is loaded can have frames here
        where = getattr(module, "__file__", None)
        if where:
            folders.append(str(Path(where).resolve().parent if name != "runpy" else Path(where).resolve()))
    return tuple(folders)


def _keep_user_frames(report: traceback.TracebackException, hidden: tuple[str, ...], seen: set[int]) -> None:
    """Drop the hidden frames from `report` and the exceptions it chains (each visited once)."""
    if id(report) in seen:
        return
    seen.add(id(report))
    frames = [f for f in report.stack if not _is_hidden(f.filename, hidden)][-TRACEBACK_FRAMES:]
    report.stack = traceback.StackSummary.from_list(frames)
    for other in (report.__cause__, report.__context__, *(getattr(report, "exceptions", None) or ())):
        if other is not None:
            _keep_user_frames(other, hidden, seen)


def _is_hidden(filename: str, hidden: tuple[str, ...]) -> bool:
    try:
        path = str(Path(filename).resolve())
    except (OSError, ValueError):
        return False
    return any(path == folder or path.startswith(folder + os.sep) for folder in hidden)


def store_the_end(
    run: Any, status: str, error: str | None, stored: bool, timeout: float
) -> KeyboardInterrupt | None:
    """Store `run`'s final status (waiting at most `timeout` seconds for the lock), or leave it in the
    recovery file and to a later try; warn when anything was not stored; tell the listeners. An interrupt
    meanwhile is handed back, to be raised once all is said.

    Contract: `run` is a Run whose writer has closed; this uses its `store`, `id`, `name`, `recovery`,
    `_writer`, `_listeners` and, when it failed, `_traceback` (see describe_failure)."""
    ended, interrupt = time.time(), None
    try:
        frames = getattr(run, "_traceback", None)
        run.store.end_run(run.id, status, ended, error, timeout=timeout, traceback=frames)
    except (Exception, KeyboardInterrupt) as exc:  # the status waits in the recovery file, and for the lock
        run.recovery.finish(status, ended, error)
        run._writer.failure, stored = run._writer.failure or exc, False
        interrupt = exc if isinstance(exc, KeyboardInterrupt) else None
        if interrupt is not None or is_contention(exc):
            end_later(run.store, run.id, status, ended, error)
    active.remove(run)
    checkpoint_if_idle(run.store)  # the .db file alone then holds every ended run
    if not stored:
        message = not_stored_message(run.name, run.store.path, run._writer, run.recovery)
        logger.warning(message)
        warnings.warn(message, StorageWarning, stacklevel=3)  # the caller of finish()
    for listener in list(run._listeners):
        try:
            listener([], [], status)
        except Exception:
            pass
    return interrupt
