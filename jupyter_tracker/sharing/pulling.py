"""Pulling runs from an MLflow tracking server into the local store: a teammate's runs, read like ours.

A remote run becomes a local run with its name, times, status, params, tags and every metric point. It keeps
its identity: the uuid of a run a jupyter-tracker pushed (tag `jupyter_tracker.uuid`), else MLflow's run
id (32 hex digits, like our uuids). A run already here is left alone when it came from this store, and
brought up to date when it was pulled before and changed on the server since.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import SharingError
from ..models import ENDED_STATUSES, INTERRUPTED, RUNNING
from ..store import Store
from ..tracking import names
from .mapping import (
    FROM_MLFLOW,
    HOST_TAG,
    NOTE_TAG,
    PROJECT_TAG,
    USER_TAG,
    UUID_TAG,
    local,
    local_tags,
    param_value,
)
from .rest import MlflowRest, NotFound

PULL = "pull"
HISTORY_PAGE = 25_000
SEARCH_PAGE = 1000


@dataclass
class Pulled:
    """What the pull of one remote run did: "new", "updated", "unchanged" or "ours" (pushed from here)."""

    run_id: int
    name: str
    project: str
    outcome: str
    points: int
    url: str


def remote_runs(client: MlflowRest, experiment: str) -> Iterator[dict]:
    """Every active run of the experiment named `experiment`, oldest first."""
    try:
        found = client.call("experiments/get-by-name", query={"experiment_name": experiment}, method="GET")
    except NotFound:
        raise NotFound(f"the MLflow server at {client.url} has no experiment named {experiment!r}") from None
    experiment_id = found["experiment"]["experiment_id"]
    token = None
    while True:
        body = {
            "experiment_ids": [experiment_id],
            "max_results": SEARCH_PAGE,
            "order_by": ["attributes.start_time ASC"],
        }
        page = client.call("runs/search", {**body, **({"page_token": token} if token else {})})
        yield from page.get("runs", [])
        token = page.get("next_page_token")
        if not token:
            return


def pull_run(store: Store, client: MlflowRest, remote: dict, project: str | None) -> Pulled:
    """Bring one remote run (as runs/search or runs/get lists it) into `store`; a refusal or an outage
    raises SharingError (ServerUnreachable) naming the run."""
    try:
        return _pull_run(store, client, remote, project)
    except SharingError as exc:
        info = remote["info"]
        name = f" ({info['run_name']})" if info.get("run_name") else ""
        raise type(exc)(f"pulling MLflow run {info['run_id']}{name}: {exc}") from None


def _pull_run(store: Store, client: MlflowRest, remote: dict, project: str | None) -> Pulled:
    info, data = remote["info"], remote.get("data", {})
    tags = {tag["key"]: tag["value"] for tag in data.get("tags", [])}
    remote_id = info["run_id"]
    url = client.run_url(info["experiment_id"], remote_id)
    uuid = tags.get(UUID_TAG) or remote_id
    local_id = store.synced_run(client.url, remote_id) or store.run_by_uuid(uuid)
    state = [info.get("status"), info.get("end_time"), _latest(data)]
    if local_id is not None:
        row = store.sync_row(local_id, client.url)
        found = store.get_run(local_id)
        if row is None or row["direction"] != PULL:
            return Pulled(local_id, found.name, found.project, "ours", 0, url)
        if row["watermark"].get("state") == state:
            return Pulled(local_id, found.name, found.project, "unchanged", 0, url)
    project = project or tags.get(PROJECT_TAG) or _experiment_name(client, info["experiment_id"])
    fresh = local_id is None
    if local_id is None:
        local_id = _create(store, info, tags, data, project, uuid)
    else:
        store.set_params(local_id, _params(data))
        store.add_tags(local_id, local_tags(tags))
    try:
        points = _fill(store, client, local_id, remote_id, data)
        _end(store, local_id, info)
    except BaseException:
        if fresh:  # never leave half a run behind: the next pull starts it again
            store.delete_run(local_id)
        raise
    store.save_sync(
        local_id, client.url, remote_id, info["experiment_id"], PULL, {"state": state}, time.time()
    )
    found = store.get_run(local_id)
    return Pulled(local_id, found.name, found.project, "new" if fresh else "updated", points, url)


def _latest(data: dict) -> list:
    """The latest point of every metric: what changes when a run gets new points."""
    return sorted([m["key"], m.get("step", 0), m.get("timestamp", 0)] for m in data.get("metrics", []))


def _experiment_name(client: MlflowRest, experiment_id: str) -> str:
    for name, known in client.experiments.items():
        if known == experiment_id:
            return name
    found = client.call("experiments/get", query={"experiment_id": experiment_id}, method="GET")
    name = found["experiment"]["name"]
    client.experiments[name] = experiment_id
    return name


def _params(data: dict) -> dict[str, Any]:
    return {param["key"]: param_value(param["value"]) for param in data.get("params", [])}


def _create(store: Store, info: dict, tags: dict[str, str], data: dict, project: str, uuid: str) -> int:
    started = info.get("start_time", 0) / 1000 or time.time()
    run_id, _ = store.create_run(
        project,
        names.numbered(info.get("run_name") or tags.get("mlflow.runName") or info["run_id"][:8]),
        started,
        uuid=uuid,
        status=RUNNING,
        started=started,
        heartbeat=started,
        description=tags.get(NOTE_TAG),
        user=tags.get(USER_TAG) or info.get("user_id") or None,
        host=tags.get(HOST_TAG),
        notebook=tags.get("mlflow.source.name") if tags.get("mlflow.source.type") == "NOTEBOOK" else None,
        git_commit=tags.get("mlflow.source.git.commit"),
        params=_params(data),
        tags=local_tags(tags),
    )
    return run_id


def _fill(store: Store, client: MlflowRest, run_id: int, remote_id: str, data: dict) -> int:
    """Every point of every metric of the remote run (points already here are written over as they are)."""
    key_ids = store.metric_keys(run_id)
    new_keys, total = [], 0
    for metric in data.get("metrics", []):
        name = metric["key"]
        if name not in key_ids:
            key_ids[name] = len(key_ids)
            new_keys.append((run_id, key_ids[name], name))
        points = [
            (
                run_id,
                key_ids[name],
                int(point.get("step", 0)),
                point.get("timestamp", 0) / 1000,
                local(point["value"]),
            )
            for point in _history(client, remote_id, name)
        ]
        store.write_batch(run_id, new_keys, points, [], time.time())
        new_keys, total = [], total + len(points)
    return total


def _history(client: MlflowRest, remote_id: str, key: str) -> Iterator[dict]:
    token = None
    while True:
        query = {"run_id": remote_id, "metric_key": key, "max_results": HISTORY_PAGE}
        page = client.call(
            "metrics/get-history", query={**query, **({"page_token": token} if token else {})}, method="GET"
        )
        yield from page.get("metrics", [])
        token = page.get("next_page_token")
        if not token:
            return


def _end(store: Store, run_id: int, info: dict) -> None:
    """The remote status; a run still going there reads here as interrupted until the next pull."""
    status = FROM_MLFLOW.get(info.get("status", ""), INTERRUPTED)
    if status in ENDED_STATUSES and info.get("end_time"):
        ended = info["end_time"] / 1000
        store.end_run(run_id, status, ended)
        store.update_run(run_id, heartbeat=ended)
        return
    now = time.time()
    store.end_run(run_id, INTERRUPTED, now)
    message = "pulled while it was still running on the MLflow server: pull again for what came since"
    store.add_event(run_id, now, "warning", message, {"kind": "pull", "snapshot": True})
