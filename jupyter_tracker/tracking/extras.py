"""log_extra(): fields attached to everything a run records from now on (omega|ml's spelling).

The caller's thread does no per-point work for them: each call stores the run's whole set of fields with
the step and time it was made at, and `experiment(...).data()` joins them to every point logged at that
step or later, or at that time or later (so hardware samples get them too), and to every later record.
Events logged afterwards also carry them in their `extra`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from .errors import InvalidParam

# Columns of experiment data() that a field may not shadow.
RESERVED = frozenset({"experiment", "run", "step", "event", "key", "value", "dt", "node", "userid"})


class ExtrasMixin:
    """Expects the Run's `_store`, `id`, `_step` and `_extra` (merged into every later event)."""

    def log_extra(self, fields: Mapping[str, object] | None = None, /, **more: object) -> dict:
        """Attach fields (JSON values) to every later point and event: `run.log_extra(tag="v1.5")`.

        A field given again takes the new value from then on. Returns all fields now in force."""
        from .validation import check_param

        merged = {**(fields or {}), **more}
        for key, value in merged.items():
            check_param(key, value)
            if key in RESERVED:
                raise InvalidParam(f"log_extra field {key!r} would hide the data() column of that name")
        self._extra = {**self._extra, **merged}
        self._store.add_extra(self.id, self._step, time.time(), self._extra)
        return dict(self._extra)
