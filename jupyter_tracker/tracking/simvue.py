"""What Simvue users write: `Run()` first, then `run.init(name=...)`, and its status words.

A `Run()` made with no arguments is unstarted (status "created"); `init(...)` takes start_run()'s
arguments (name, metadata, tags, description, folder, and project, params, db, system, interval) and
starts it in place. `set_status()` reads Simvue's 'completed', 'terminated' and 'lost' as finished,
interrupted and crashed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import InvalidArgument, RunClosed, TrackerError
from ..models import CRASHED, FAILED, FINISHED, INTERRUPTED, RUNNING

CREATED = "created"  # a Run() whose init() has not been called yet
STATUS_ALIASES = {"completed": FINISHED, "terminated": INTERRUPTED, "lost": CRASHED}


class RunNotStarted(RunClosed, AttributeError):
    """A Simvue-style Run() used before init(); an AttributeError too, so hasattr() stays False."""


class SimvueStyle:
    """Mixin of Run: `init()` starts a Run() made unstarted, `set_status()` takes Simvue's words. Expects
    `_status`, `name`, `status` and `finish()`."""

    _status: str
    name: Any
    status: Any
    finish: Any

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

    def set_status(self, status: str, error: str | None = None) -> None:
        """'finished', 'failed' or 'interrupted' end the run ('completed', 'terminated' and 'lost', Simvue's
        words, read as finished, interrupted and crashed); 'running' is what it already is."""
        if status == RUNNING and self.status == RUNNING:
            return
        status = STATUS_ALIASES.get(status, status)
        if status not in (FINISHED, FAILED, INTERRUPTED, CRASHED):
            raise InvalidArgument(
                f"status must be one of {FINISHED}, {FAILED}, {INTERRUPTED} (or Simvue's "
                f"{', '.join(STATUS_ALIASES)}); got {status!r}"
            )
        self.finish(status, error)

    def __getattr__(self, attribute: str) -> Any:
        # Reached only for what a started run has and an unstarted Run() lacks (its store, its helpers):
        # say what to do instead of an AttributeError about a private name.
        if attribute.startswith("__") or self.__dict__.get("_status") != CREATED:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {attribute!r}")
        raise RunNotStarted("this Run() has not started yet: call run.init(name=...) first")
