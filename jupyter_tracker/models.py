"""Plain, frozen records that cross module boundaries. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RUNNING = "running"
FINISHED = "finished"
FAILED = "failed"
INTERRUPTED = "interrupted"
CRASHED = "crashed"
STATUSES = (RUNNING, FINISHED, FAILED, INTERRUPTED, CRASHED)
ENDED_STATUSES = (FINISHED, FAILED, INTERRUPTED, CRASHED)

# Hardware series are stored beside the user's metrics under this prefix.
SYSTEM_PREFIX = "system/"

# A running run whose writer has not touched its heartbeat for this long is shown as crashed.
HEARTBEAT_SECONDS = 5.0
STALE_AFTER_SECONDS = 60.0


@dataclass(frozen=True)
class RunInfo:
    """One row of the runs table, with its params and tags."""

    id: int
    uuid: str
    project: str
    name: str
    status: str
    created: float
    started: float | None = None
    ended: float | None = None
    heartbeat: float | None = None
    description: str | None = None
    folder: str = "/"
    pid: int | None = None
    host: str | None = None
    user: str | None = None
    notebook: str | None = None
    cell_source: str | None = None
    execution_count: int | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    git_dirty: bool | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    idle: float = 0.0
    traceback: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    # Every tag with its value: text for a key/value tag (set_tag("k", "v")), None for a plain tag.
    tag_values: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tags and not self.tag_values:  # made by hand with plain tags only
            object.__setattr__(self, "tag_values", dict.fromkeys(self.tags))

    @property
    def span(self) -> float | None:
        """Wall-clock seconds from start to end (or to the last heartbeat while running or after a crash)."""
        if self.started is None:
            return None
        end = self.ended or self.heartbeat
        return None if end is None else max(0.0, end - self.started)

    @property
    def duration(self) -> float | None:
        """Active seconds: the span less the time the run spent ended before it was resumed (`idle`)."""
        span = self.span
        return None if span is None else max(0.0, span - (self.idle or 0.0))


# The columns of a run's artifact list, in every place that shows one.
ARTIFACT_COLUMNS = ("name", "category", "path", "size", "sha256", "mime", "created")


@dataclass(frozen=True)
class Artifact:
    name: str
    category: str
    path: str
    size: int
    sha256: str
    mime: str | None
    created: float
