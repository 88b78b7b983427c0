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
    params: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (or to the last heartbeat while running or after a crash)."""
        if self.started is None:
            return None
        end = self.ended or self.heartbeat
        return None if end is None else max(0.0, end - self.started)


@dataclass(frozen=True)
class Point:
    key: str
    step: int
    value: float
    time: float


@dataclass(frozen=True)
class Event:
    time: float
    level: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Artifact:
    name: str
    category: str
    path: str
    size: int
    sha256: str
    mime: str | None
    created: float


def effective_status(
    status: str,
    heartbeat: float | None,
    pid: int | None,
    host: str | None,
    *,
    now: float,
    this_host: str,
    pid_alive,
) -> str:
    """A stored 'running' status, corrected to 'crashed' when its process is gone or silent."""
    if status != RUNNING:
        return status
    if host == this_host and pid is not None and not pid_alive(pid):
        return CRASHED
    if heartbeat is not None and now - heartbeat > STALE_AFTER_SECONDS:
        return CRASHED
    return status
