"""The last step of a run's end: its final status stored, or kept safe when the store cannot take it."""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

from ..errors import StorageWarning
from ..store import is_contention
from . import active
from .recovery import end_later, not_stored_message
from .stores import checkpoint_if_idle

logger = logging.getLogger("jupyter_tracker")


def store_the_end(
    run: Any, status: str, error: str | None, stored: bool, timeout: float
) -> KeyboardInterrupt | None:
    """Store `run`'s final status (waiting at most `timeout` seconds for the lock), or leave it in the
    recovery file and to a later try; warn when anything was not stored; tell the listeners. An interrupt
    meanwhile is handed back, to be raised once all is said.

    Contract: `run` is a Run whose writer has closed; this uses its `store`, `id`, `name`, `recovery`,
    `_writer` and `_listeners`."""
    ended, interrupt = time.time(), None
    try:
        run.store.end_run(run.id, status, ended, error, timeout=timeout)
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
