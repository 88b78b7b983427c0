"""Sharing runs with a team through an MLflow tracking server: push, pull and the live mirror.

`push()` sends runs (only what the server lacks), `pull()` brings an experiment's runs back, and a run
started with `mlflow=URL` is mirrored while it runs (mirror.py). The server is spoken to over MLflow's
REST API with the standard library; MLflow's own client (the `mlflow` extra) is needed only for artifact
stores the server does not proxy.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import InvalidArgument
from ..models import ENDED_STATUSES
from ..store import Store
from ..tracking.stores import DbArg, store_for
from .pulling import Pulled, pull_run, remote_runs
from .pushing import Pushed, RunPush, needs_push
from .rest import MlflowRest, NotFound, server_url

__all__ = ["Pulled", "Pushed", "pull", "push", "server_url"]


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

    `runs`: ids, names or uuids (default: every ended run of the store, or of `project`, not yet pushed in
    full to that server since it last changed; runs pulled from it are not pushed back). Each goes to the
    MLflow experiment named like its project (or `experiment`); only what the server lacks is sent, so
    pushing again is cheap. An ended run's HTML card is stored among its artifacts (`card=False`: not).
    """
    refs = None if runs is None else ([runs] if isinstance(runs, int | str) else list(runs))
    try:
        client = MlflowRest(mlflow or url)  # a missing or bad URL is refused before any store is opened
    except InvalidArgument as exc:
        if refs:
            raise InvalidArgument(f"cannot push {', '.join(map(str, refs))}: {exc}") from None
        raise
    store = store_for(db, write=True)
    try:
        ids = _run_ids(store, refs, project, client.url)
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

    `mlflow` (or `url`): the server, as for push(). `runs`: only these MLflow run ids. Pulled runs go to the
    project they were pushed from (tag `jupyter_tracker.project`), else the project named like their
    experiment; `project` puts them all in one."""
    names = [experiments] if isinstance(experiments, str) else list(experiments)
    client = MlflowRest(mlflow or url)  # a missing or bad URL is refused before any store is created
    wanted = None if runs is None else set(runs)
    try:
        store = store_for(db, write=True)
        found = [remote for name in names for remote in remote_runs(client, name)]
        if wanted is not None:
            found = [remote for remote in found if remote["info"]["run_id"] in wanted]
            missing = wanted - {remote["info"]["run_id"] for remote in found}
            if missing:
                raise NotFound(
                    f"the MLflow server at {client.url} has no run {', '.join(sorted(missing))} in "
                    f"{', '.join(map(repr, names))}"
                )
        return [pull_run(store, client, remote, project) for remote in found]
    finally:
        client.close()


def _run_ids(store: Store, refs: list[int | str] | None, project: str | None, target: str) -> list[int]:
    if refs is not None:
        return [store.find_run(ref, project).id for ref in refs]
    ended = list(reversed(store.list_runs(project=project, status=ENDED_STATUSES)))  # oldest first
    synced = store.sync_rows([info.id for info in ended])
    return [info.id for info in ended if needs_push(store, info, synced.get(info.id, []), target)]
