"""What Simvue users write: `Run()` first, then `run.init(name=...)`, and its status words.

A `Run()` made with no arguments is unstarted (status "created"); `init(...)` takes start_run()'s
arguments (name, metadata, tags, description, folder, and project, params, db, system, interval) and
starts it in place. `set_status()` reads Simvue's 'completed', 'terminated' and 'lost' as finished,
interrupted and crashed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import InvalidArgument, TrackerError
from ..models import CRASHED, FINISHED, INTERRUPTED, RUNNING

CREATED = "created"  # a Run() whose init() has not been called yet
STATUS_ALIASES = {"completed": FINISHED, "terminated": INTERRUPTED, "lost": CRASHED}


class SimvueStyle:
    """Mixin of Run: `init()` starts a Run() made unstarted. Expects `_status` and `name`."""

    _status: str
    name: Any

    def init(
        self,
        name: str | None = None,
        metadata: Mapping | None = None,
        tags: str | Iterable[str] | Mapping | None = None,
        description: str | None = None,
        folder: str | None = None,
        status: str | None = None,
        **options: Any,
    ) -> Any:
        """Start this unstarted `Run()`: start_run()'s arguments (Simvue's init); returns the run."""
        if self._status != CREATED:
            raise TrackerError(f"run {self.name!r} has started already: init() starts a Run() once")
        if status not in (None, RUNNING):
            raise InvalidArgument(
                f"init(status={status!r}): runs here start running (there is no 'created' state); leave it out"
            )
        from .. import start_run  # start_run makes Runs: reach it through the facade

        start_run(
            name,
            metadata=metadata,
            tags=tags,
            description=description,
            folder=folder,
            _into=self,  # type: ignore[arg-type]  # the Run this mixin is part of
            **options,
        )
        return self
