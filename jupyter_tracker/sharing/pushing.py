"""Pushing a run to an MLflow tracking server: what the server lacks, from the run's watermark on.

One run of ours is one MLflow run in the experiment named like its project. The sync record (store/syncs.py)
keeps the remote run and the watermark: per metric key the last point sent and how many were sent
([step, time, count]), the params and tags sent, the status and name, and which card was uploaded. A push
sends only what is beyond it, so pushing again, or after the live mirror, sends nothing twice; if a point
lands before the watermark (an explicit earlier step), its key is sent again from the start, and MLflow
keeps one copy of each identical point.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..models import ENDED_STATUSES, RunInfo
from ..store import Store
from .mapping import (
    MAX_METRICS_PER_BATCH,
    MAX_PARAMS_TAGS_PER_BATCH,
    MLFLOW_PREFIX,
    OUR_PREFIX,
    TO_MLFLOW,
    UUID_TAG,
    param_text,
    remote_key,
    run_tags,
    wire,
)
from .rest import MlflowRest, NotFound, ms
from .uploads import upload_card

PUSH = "push"
READ_POINTS = 20_000  # points of one key read from the store at a time
SAVE_EVERY = 20  # requests between two saves of the watermark during a long push


@dataclass
class Pushed:
    """What one push of one run did."""

    run: RunInfo = field(repr=False)
    remote_id: str
    url: str
    points: int = 0
    params: int = 0
    tags: int = 0
    card: bool = False
    complete: bool = True  # False when a deadline stopped it: the rest goes next time
    skipped_params: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.points or self.params or self.tags or self.card)


class RunPush:
    """Pushes one run of `store` to the server of `client`; `push()` may be called again and again."""

    def __init__(self, store: Store, run_id: int, client: MlflowRest, *, experiment: str | None = None):
        self.store, self.run_id, self.client, self.experiment = store, run_id, client, experiment
        self.remote_id = self.experiment_id = ""
        self.mark: dict[str, Any] = {}
        self._requests = 0

    def push(self, *, card: bool = True, deadline: float | None = None) -> Pushed:
        """Send what the server lacks: params, tags, metric points, status and name, then (for an ended run
        and `card`) the HTML card. Stops between two requests once `deadline` (time.monotonic()) passes."""
        info = self.store.get_run(self.run_id)
        self._connect(info)
        done = Pushed(info, self.remote_id, self.client.run_url(self.experiment_id, self.remote_id))
        try:
            self._params(info, done)
            self._tags(info, done)
            done.complete = self._metrics(done, deadline)
            if done.complete:
                self._status(info)
                if card and info.status in ENDED_STATUSES:
                    done.card = self._card(info)
        finally:
            self._save()
        return done

    # -- the remote run -----------------------------------------------------------------------------
    def _connect(self, info: RunInfo) -> None:
        """Find the remote run (the sync record, else a run tagged with our uuid) or create it."""
        if not self.remote_id:
            row = self.store.sync_row(self.run_id, self.client.url)
            if row is not None:
                self.remote_id, self.experiment_id = row["remote_id"], row["experiment_id"]
                self.mark = row["watermark"]
        if self.remote_id and self.remote_id not in self.client.checked:
            try:
                self.client.call("runs/get", query={"run_id": self.remote_id}, method="GET")
                self.client.checked.add(self.remote_id)
            except NotFound:  # deleted on the server (or a new server at that address): start over
                self.remote_id, self.mark = "", {}
        if not self.remote_id:
            self._find_or_create(info)
            self.client.checked.add(self.remote_id)
            self._save()

    def _find_or_create(self, info: RunInfo) -> None:
        self.experiment_id = experiment_id(self.client, self.experiment or info.project)
        found = self.client.call(
            "runs/search",
            {
                "experiment_ids": [self.experiment_id],
                "filter": f"tags.`{UUID_TAG}` = '{info.uuid}'",  # a uuid is hex: nothing to escape
                "max_results": 1,
            },
        ).get("runs", [])
        if found:
            self.remote_id, self.mark = found[0]["info"]["run_id"], {}
            self.mark["artifact_uri"] = found[0]["info"].get("artifact_uri", "")
            return
        created = self.client.call(
            "runs/create",
            {
                "experiment_id": self.experiment_id,
                "run_name": info.name,
                "start_time": ms(info.started or info.created),
                "user_id": info.user or "",
                "tags": [{"key": UUID_TAG, "value": info.uuid}],
            },
        )["run"]["info"]
        self.remote_id, self.mark = created["run_id"], {"artifact_uri": created.get("artifact_uri", "")}

    def _save(self) -> None:
        if self.remote_id:
            self.store.save_sync(
                self.run_id, self.client.url, self.remote_id, self.experiment_id, PUSH, self.mark, time.time()
            )

    # -- params and tags ----------------------------------------------------------------------------
    def _params(self, info: RunInfo, done: Pushed) -> None:
        """New params; MLflow keeps a param's first value, so a changed one is reported, not sent."""
        sent: dict[str, str] = self.mark.setdefault("params", {})
        wanted = {remote_key(key): param_text(value) for key, value in info.params.items()}
        new = {key: text for key, text in wanted.items() if key not in sent}
        done.skipped_params = [key for key, text in wanted.items() if key in sent and sent[key] != text]
        for chunk in _chunks(list(new.items()), MAX_PARAMS_TAGS_PER_BATCH):
            self._batch(params=[{"key": key, "value": text} for key, text in chunk])
            sent.update(chunk)
            done.params += len(chunk)

    def _tags(self, info: RunInfo, done: Pushed) -> None:
        sent: dict[str, str] = self.mark.setdefault("tags", {})
        wanted = run_tags(info)
        changed = [(key, value) for key, value in wanted.items() if sent.get(key) != value]
        for chunk in _chunks(changed, MAX_PARAMS_TAGS_PER_BATCH):
            self._batch(tags=[{"key": key, "value": value} for key, value in chunk])
            sent.update(chunk)
            done.tags += len(chunk)
        for key in [key for key in sent if key not in wanted]:  # a tag removed here
            if not key.startswith((MLFLOW_PREFIX, OUR_PREFIX)):
                self.client.call("runs/delete-tag", {"run_id": self.remote_id, "key": key})
            del sent[key]
            done.tags += 1

    # -- metrics ------------------------------------------------------------------------------------
    def _metrics(self, done: Pushed, deadline: float | None) -> bool:
        """Send every point beyond the watermark, at most MAX_METRICS_PER_BATCH per request; False when
        the deadline came first."""
        marks: dict[str, list] = self.mark.setdefault("keys", {})
        batch: list[dict] = []
        advanced: dict[str, list] = {}
        for name, key_id in self.store.metric_keys(self.run_id).items():
            for rows in self._new_points(name, key_id, marks):
                mark = advanced.setdefault(name, list(marks.get(name) or (-1, 0.0, 0)))
                for step, when, value in rows:
                    batch.append(
                        {"key": remote_key(name), "value": wire(value), "timestamp": ms(when), "step": step}
                    )
                    mark[0], mark[1], mark[2] = step, when, mark[2] + 1
                    if len(batch) == MAX_METRICS_PER_BATCH:
                        self._send_points(batch, advanced, marks, done)
                        if deadline is not None and time.monotonic() > deadline:
                            return False
        self._send_points(batch, advanced, marks, done)
        return True

    def _new_points(self, name: str, key_id: int, marks: dict[str, list]) -> Iterator[list[tuple]]:
        """The key's points beyond its watermark, a store read at a time."""
        mark = marks.get(name)
        if mark is not None and self.store.count_through(self.run_id, key_id, mark[0], mark[1]) != mark[2]:
            del marks[name]  # a point landed at or before the watermark: send the key again (deduplicated)
            mark = None
        step, when = (mark[0], mark[1]) if mark else (-1, 0.0)
        while rows := self.store.points_after(self.run_id, key_id, step, when, READ_POINTS):
            yield rows
            step, when = rows[-1][0], rows[-1][1]
            if len(rows) < READ_POINTS:
                return

    def _send_points(self, batch: list[dict], advanced: dict, marks: dict, done: Pushed) -> None:
        if batch:
            self._batch(metrics=batch)
            done.points += len(batch)
            batch.clear()
        for name, mark in advanced.items():  # every point read so far is in the server now
            marks[name] = list(mark)
        if self._requests % SAVE_EVERY == 0:
            self._save()

    def _batch(self, **lists: list[dict]) -> None:
        self.client.call("runs/log-batch", {"run_id": self.remote_id, **lists})
        self._requests += 1

    # -- status, name and card ----------------------------------------------------------------------
    def _status(self, info: RunInfo) -> None:
        state = [TO_MLFLOW[info.status], info.name, info.ended]
        if self.mark.get("state") == state:
            return
        update: dict[str, Any] = {"run_id": self.remote_id, "status": state[0], "run_name": info.name}
        if info.ended is not None and info.status in ENDED_STATUSES:
            update["end_time"] = ms(info.ended)
        self.client.call("runs/update", update)
        self.mark["state"] = state

    def _card(self, info: RunInfo) -> bool:
        """Upload the HTML card when the run changed since the last one sent; True when it was."""
        counts = sum(mark[2] for mark in self.mark.get("keys", {}).values())
        made = [info.ended, info.name, self.store.last_event_id(self.run_id), counts]
        if self.mark.get("card") == made:
            return False
        uri = self.mark.get("artifact_uri") or self._artifact_uri()
        upload_card(self.client, self.store, self.run_id, self.remote_id, uri)
        self.mark["card"] = made
        return True

    def _artifact_uri(self) -> str:
        found = self.client.call("runs/get", query={"run_id": self.remote_id}, method="GET")
        self.mark["artifact_uri"] = uri = found["run"]["info"].get("artifact_uri", "")
        return uri


def experiment_id(client: MlflowRest, name: str) -> str:
    """The id of the experiment `name`, created when the server has none."""
    if name not in client.experiments:
        try:
            found = client.call("experiments/get-by-name", query={"experiment_name": name}, method="GET")
            client.experiments[name] = found["experiment"]["experiment_id"]
        except NotFound:
            client.experiments[name] = client.call("experiments/create", {"name": name})["experiment_id"]
    return client.experiments[name]


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
