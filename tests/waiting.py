"""Waiting for a condition in tests: poll with a deadline, never a bare sleep that hopes it was enough."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], object], timeout: float = 10.0, what: str = "the condition") -> None:
    """Return as soon as `condition()` is true; fail the test if it is still false after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


def stored_points(run, key: str) -> list[tuple]:
    """A run's points of `key` that are in the database now, after handing over what was logged so far."""
    run.flush()
    return run.store.points(run.id, [key])
