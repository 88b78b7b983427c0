"""reconnect(): get hold of a run again, whether it is still open in this process or has ended."""

from __future__ import annotations

from .query import store_for
from .run import Run, _open, _open_lock, start_run


def reconnect(
    name_or_id: int | str,
    *,
    project: str | None = None,
    db=None,
    system: bool | None = None,
    interval: float | None = None,
) -> Run:
    """The run `name_or_id` (id, uuid or name), ready to log to, and made the active run.

    A run still open in this process is handed back as it is; one that ended, was interrupted or whose
    process died is resumed (its steps and metric keys carry on). A run open in another live process is
    refused."""
    store = store_for(db)
    info = store.find_run(name_or_id, project)
    with _open_lock:
        for run in reversed(_open):
            if run.id == info.id and run.store is store:
                _open.remove(run)
                _open.append(run)
                return run
    return start_run(resume=info.id, db=store, system=system, interval=interval)
