"""log_extra(): fields attached to everything a run records from now on (omega|ml's spelling).

The caller's thread does no per-point work for them: each call stores the run's whole set of fields with
the step and time it was made at, and `experiment(...).data()` joins them to every point logged at that
step or later, or at that time or later (so hardware samples get them too), and to every later record.
Events logged afterwards also carry them in their `extra`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from ..errors import InvalidParam
from .validation import clean_params

# Columns of experiment data() that a field may not shadow.
RESERVED = frozenset({"experiment", "run", "step", "event", "key", "value", "dt", "node", "userid"})


class Extras:
    """The fields `run.log_extra()` attaches to a run from now on; `fields` is what events carry."""

    def __init__(self, store, run_id: int):
        self._store = store
        self._run_id = run_id
        self.fields: dict = {}

    def add(self, step: int, fields: Mapping[str, object]) -> dict:
        """Merge `fields` (JSON values) in at `step`; returns all fields now in force."""
        fields = clean_params(fields, "log_extra field")  # numpy values become plain ones
        for key in fields:
            if key in RESERVED:
                raise InvalidParam(f"log_extra field {key!r} would hide the data() column of that name")
        self.fields = {**self.fields, **fields}
        self._store.add_extra(self._run_id, step, time.time(), self.fields)
        return dict(self.fields)
