"""Sharing runs with a team through an MLflow tracking server: push, pull and the live mirror.

`push()` sends runs (only what the server lacks), `pull()` brings an experiment's runs back, and a run
started with `mlflow=URL` is mirrored while it runs (mirror.py). The server is spoken to over MLflow's
REST API with the standard library; MLflow's own client (the `mlflow` extra) is needed only for artifact
stores the server does not proxy.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..models import ENDED_STATUSES
from ..store import Store
from ..tracking.stores import DbArg, store_for
from .mapping import run_page
from .pulling import Pulled, pull_run, remote_runs
from .pushing import Pushed, RunPush
from .rest import MlflowRest, server_url

__all__ = ["Pulled", "Pushed", "pull", "push", "remote_url", "server_url"]


def push(
    runs: int | str | Iterable[int | str] | None = None,
    *,
    mlflow: str | None = None,
    url: str | None = None,
    db: DbArg = None,
    project: str | None = None,
    experiment: str | None = None,
    card: bool = True,
) -> list[Pushed]:
    """Push runs to the MLflow server at `mlflow` (a URL; default: %track_config mlflow=..., else
    $TRACKER_MLFLOW_URI, else $MLFLOW_TRACKING_URI; `url` is the same).

    `runs`: ids, names or uuids (default: every ended run of the store, or of `project`; those pushed in full
    before cost one look-up each). Each goes to the MLflow
    experiment named like its project (or `experiment`); only what the server lacks is sent, so pushing
    again is cheap. An ended run's HTML card is stored among its artifacts (`card=False`: not).
    """
    client = MlflowRest(mlflow or url)  # a missing or bad URL is refused before any store is opened
    store = store_for(db, write=True)
    ids = _run_ids(store, runs, project)
    try:
        return [RunPush(store, run_id, client, experiment=experiment).push(card=card) for run_id in ids]
    finally:
        client.close()


def pull(
    experiments: str | Iterable[str],
    *,
    mlflow: str | None = None,
    url: str | None = None,
    db: DbArg = None,
    project: str | None = None,
    runs: Iterable[str] | None = None,
) -> list[Pulled]:
    """Bring the runs of MLflow experiments (names) into the local store: new ones are added, ones pulled
    before are brought up to date, and runs that were pushed from this store are left as they are.

    Pulled runs go to the project they were pushed from (tag `jupyter_tracker.project`), else the project
    named like their experiment; `project` puts them all in one."""
    names = [experiments] if isinstance(experiments, str) else list(experiments)
    store = store_for(db, write=True)
    client = MlflowRest(url)
    try:
        return [
            pull_run(store, client, remote, project) for name in names for remote in remote_runs(client, name)
        ]
    finally:
        client.close()


def remote_url(store: Store, run_id: int) -> str | None:
    """The MLflow UI page of the run, when it was pushed to (or pulled from) a server; the latest one."""
    rows = store.sync_rows([run_id]).get(run_id)
    if not rows:
        return None
    row = rows[-1]
    return run_page(row["target"], row["experiment_id"], row["remote_id"])


def _run_ids(store: Store, runs: int | str | Iterable[int | str] | None, project: str | None) -> list[int]:
    if runs is None:  # every ended run, oldest first
        return [info.id for info in reversed(store.list_runs(project=project, status=ENDED_STATUSES))]
    refs = [runs] if isinstance(runs, int | str) else list(runs)
    return [store.find_run(ref, project).id for ref in refs]
