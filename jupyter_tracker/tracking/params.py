"""The params of an open run, with their history: `params` holds each key's latest value, earlier ones are events.

OpsML's `log_parameter` keeps every value a key was given, and runnable's `track_this(step=N, spam="hi")`
gives a text value per step. Here a key logged again takes the new value, and the change is recorded as an
event (level info, extra {"param": key, "value": new, "previous": old}); a value tracked at a step
(track_this) is always recorded as an event with its step (extra {"param", "value", "step"}), so
`run.events()` holds every value each key had.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from .validation import clean_params, show

_MISSING = object()


class RunParams:
    """Writes a run's params and records their history.

    Contract: `run` is the Run it serves; this reads its `store`, `id` and `info` (the params stored when
    the run started or was resumed) and records events through its `_log_event()`."""

    def __init__(self, run):
        self._run = run
        self._lock = threading.Lock()
        self._current: dict | None = None  # read from the store on first use

    def log(self, params: Mapping, step: int | None = None) -> dict:
        """Store `params` (JSON values); a changed value, or any value given with a `step`, is also recorded
        as an event. Returns the params as stored."""
        clean = clean_params(params)
        if not clean:
            return clean
        with self._lock:  # the comparison and the write as one: two threads see each other's values
            if self._current is None:
                self._current = dict(self._run.info.params)
            history = [(key, value, self._current.get(key, _MISSING)) for key, value in clean.items()]
            self._run.store.set_params(self._run.id, clean)
            self._current.update(clean)
        for key, value, previous in history:
            if step is not None:
                self._run._log_event(
                    f"{key} = {show(value)} at step {step}", param=key, value=value, step=step
                )
            elif previous is not _MISSING and previous != value:
                self._run._log_event(
                    f"param {key!r} changed: {show(previous)} -> {show(value)}",
                    param=key,
                    value=value,
                    previous=previous,
                )
        return clean
