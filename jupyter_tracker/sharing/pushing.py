"""Pushing a run to an MLflow tracking server: what the server lacks, from the run's watermark on.

One run of ours is one MLflow run in the experiment named like its project. The sync record (store/syncs.py)
keeps the remote run and the watermark (marks.py): per metric key the last point sent and how many were
sent ([step, time, count]), the params, tags and artifact files sent, the status and name, and which card
was uploaded. A push sends only what is beyond it, so pushing again, or after the live mirror, sends nothing
twice; if a point lands before the watermark (an explicit earlier step), its key is sent again from the
start, and MLflow keeps one copy of each identical point. Two pushers of one run at once (the mirror and a
push, two processes) merge what they sent into the record in one transaction, and share one remote run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import SharingError, UnsafeArtifactName
from ..models import ENDED_STATUSES, RunInfo
from ..store import Store
from ..tracking.artifacts import stored_path
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
from .marks import KEYS, NEVER_SENT, PARAMS, combined
from .rest import AlreadyExists, Lanes, MlflowRest, NotFound, ms
from .uploads import FILES_FOLDER, upload_card, upload_file

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
    files: int = 0  # artifact files uploaded
    card: bool = False
    complete: bool = True  # False when a deadline stopped it: the rest goes next time
    skipped_params: list[str] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)  # artifacts whose file is gone from the disk

    @property
    def changed(self) -> bool:
        return bool(self.points or self.params or self.tags or self.files or self.card)


def pushed_state(store: Store, info: RunInfo) -> list:
    """What an ended run looks like to a push: once its watermark's `done` says the same, nothing is left
    to send (an edit after the end, a note, a resume changes it)."""
    return [info.status, info.ended, info.name, store.last_event_id(info.id)]


def needs_push(store: Store, info: RunInfo, rows: list[dict], target: str) -> bool:
    """Whether a push to `target` without naming runs takes this ended run: not when it came from that
    server (pulled), nor when a push left nothing of it behind since it last changed."""
    row = next((row for row in rows if row["target"] == target), None)
    if row is None:
        return True
    return row["direction"] == PUSH and row["watermark"].get("done") != pushed_state(store, info)


class RunPush:
    """Pushes one run of `store` to the server of `client`; `push()` may be called again and again."""

    def __init__(self, store: Store, run_id: int, client: MlflowRest, *, experiment: str | None = None):
        self.store, self.run_id, self.client, self.experiment = store, run_id, client, experiment
        self.remote_id = self.experiment_id = ""
        self.mark: dict[str, Any] = {}
        self._requests = 0

    def push(self, *, card: bool = True, files: bool = True, deadline: float | None = None) -> Pushed:
        """Send what the server lacks: params, tags, metric points, status and name, then the artifact files
        (`files`) and, for an ended run and `card`, the HTML card. Stops between two requests once
        `deadline` (time.monotonic()) passes. A refusal or an outage raises SharingError (ServerUnreachable)
        naming the run; what was sent before it stays recorded."""
        info = self.store.get_run(self.run_id)
        try:
            return self._push(info, card, files, deadline)
        except SharingError as exc:
            raise type(exc)(f"pushing run {info.project}/{info.name} (id {info.id}): {exc}") from None

    def _push(self, info: RunInfo, card: bool, files: bool, deadline: float | None) -> Pushed:
        self._connect(info)
        done = Pushed(info, self.remote_id, self.client.run_url(self.experiment_id, self.remote_id))
        try:
            self._params(info, done)
            self._tags(info, done)
            done.complete = self._metrics(done, deadline)
            if done.complete:
                self._status(info)
                if files:
                    self._files(done)
                if card and info.status in ENDED_STATUSES:
                    state = pushed_state(self.store, info)  # read before the card: it shows at least that
                    done.card = self._card(info)
                    if files and not done.missing_files:
                        self.mark["done"] = state
        finally:
            self._save()
        return done

    # -- the remote run -----------------------------------------------------------------------------
    def _connect(self, info: RunInfo) -> None:
        """Take up the record of what was sent (another pusher may have added to it), check that its remote
        run still exists, else find a run tagged with our uuid or create one."""
        row = self.store.sync_row(self.run_id, self.client.url)
        if row is not None and row["direction"] != PUSH:
            raise SharingError(
                f"it was pulled from the MLflow run {row['remote_id']} of this server, which has it already"
            )
        self.remote_id, self.experiment_id, self.mark = (
            (row["remote_id"], row["experiment_id"], row["watermark"]) if row else ("", "", {})
        )
        gone = ""
        if self.remote_id and self.remote_id not in self.client.checked:
            try:
                self.client.call("runs/get", query={"run_id": self.remote_id}, method="GET")
            except NotFound:  # deleted on the server (or a new server at that address): start over
                gone, self.remote_id, self.mark = self.remote_id, "", {}
        if not self.remote_id:
            created = self._find_or_create(info)
            first = self._save(replacing=gone)
            if first is not None and first["remote_id"] != self.remote_id:  # another pusher was quicker
                if created:
                    self.client.call("runs/delete", {"run_id": self.remote_id})
                self.remote_id, self.experiment_id = first["remote_id"], first["experiment_id"]
                self.mark = first["watermark"]
        self.client.checked.add(self.remote_id)

    def _find_or_create(self, info: RunInfo) -> bool:
        """The remote run tagged with our uuid, else a new one (True)."""
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
            self.remote_id = found[0]["info"]["run_id"]
            self.mark = {"artifact_uri": found[0]["info"].get("artifact_uri", "")}
            return False
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
        return True

    def _save(self, replacing: str = "") -> dict | None:
        """Record what was sent, merged with what other pushers recorded meanwhile, in one transaction. A
        record of another remote run is left alone (and returned) unless it is `replacing`, gone."""
        if not self.remote_id:
            return None
        ours = {
            "run": self.run_id,
            "target": self.client.url,
            "remote_id": self.remote_id,
            "experiment_id": self.experiment_id,
            "direction": PUSH,
            "watermark": self.mark,
            "synced": time.time(),
        }

        def change(stored: dict | None) -> dict | None:
            if stored is None or (replacing and stored["remote_id"] == replacing):
                return ours
            if stored["remote_id"] != self.remote_id or stored["direction"] != PUSH:
                return None
            return {**ours, "watermark": combined(stored["watermark"], self.mark)}

        return self.store.update_sync(self.run_id, self.client.url, change)

    # -- params and tags ----------------------------------------------------------------------------
    def _params(self, info: RunInfo, done: Pushed) -> None:
        """New params; MLflow keeps a param's first value, so a changed one is reported, not sent."""
        sent: dict[str, str] = self.mark.setdefault(PARAMS, {})
        wanted = {remote_key(key): param_text(value) for key, value in info.params.items()}
        new = {key: text for key, text in wanted.items() if key not in sent}
        done.skipped_params = [key for key, text in wanted.items() if key in sent and sent[key] != text]
        for chunk in _chunks(list(new.items()), MAX_PARAMS_TAGS_PER_BATCH):
            self._batch(params=[{"key": key, "value": text} for key, text in chunk])
            sent.update(chunk)
            done.params += len(chunk)

    def _tags(self, info: RunInfo, done: Pushed) -> None:
        """Changed tags; a tag removed here is deleted there (not MLflow's or ours) and kept as None."""
        sent: dict[str, str | None] = self.mark.setdefault("tags", {})
        wanted = run_tags(info)
        changed = [(key, value) for key, value in wanted.items() if sent.get(key) != value]
        for chunk in _chunks(changed, MAX_PARAMS_TAGS_PER_BATCH):
            self._batch(tags=[{"key": key, "value": value} for key, value in chunk])
            sent.update(chunk)
            done.tags += len(chunk)
        for key in [key for key, value in sent.items() if key not in wanted and value is not None]:
            if not key.startswith((MLFLOW_PREFIX, OUR_PREFIX)):
                try:
                    self.client.call("runs/delete-tag", {"run_id": self.remote_id, "key": key})
                except NotFound:  # deleted there already (by another pusher)
                    pass
            sent[key] = None
            done.tags += 1

    # -- metrics ------------------------------------------------------------------------------------
    def _metrics(self, done: Pushed, deadline: float | None) -> bool:
        """Send every point beyond the watermark, at most MAX_METRICS_PER_BATCH per request and a few
        requests in flight; False when the deadline came first."""
        marks: dict[str, list] = self.mark.setdefault(KEYS, {})
        lanes = self.client.lanes
        batch: list[dict] = []
        position: dict[str, list] = {}  # per key, the last point put in a batch and the count so far
        touched: set[str] = set()  # the keys of the batch being filled
        try:
            for name, key_id in self.store.metric_keys(self.run_id).items():
                wire_key = remote_key(name)
                for rows in self._new_points(name, key_id, marks):
                    mark = position.setdefault(name, list(marks.get(name) or NEVER_SENT))
                    touched.add(name)
                    for step, when, value in rows:
                        batch.append(
                            {"key": wire_key, "value": wire(value), "timestamp": ms(when), "step": step}
                        )
                        mark[0], mark[1], mark[2] = step, when, mark[2] + 1
                        if len(batch) == MAX_METRICS_PER_BATCH:
                            self._send_points(
                                lanes, batch, {key: list(position[key]) for key in touched}, done
                            )
                            batch, touched = [], {name}
                            if deadline is not None and time.monotonic() > deadline:
                                lanes.drain()
                                return False
            if batch:
                self._send_points(lanes, batch, {key: list(position[key]) for key in touched}, done)
            lanes.drain()
            return True
        finally:
            lanes.abandon()  # after an error: nothing more goes, and nothing more is marked as sent

    def _new_points(self, name: str, key_id: int, marks: dict[str, list]) -> Iterator[list[tuple]]:
        """The key's points beyond its watermark, a store read at a time."""
        mark = marks.get(name)
        if mark is not None and self.store.count_through(self.run_id, key_id, mark[0], mark[1]) != mark[2]:
            del marks[name]  # a point landed at or before the watermark: send the key again (deduplicated)
            mark = None
        step, when = (mark[0], mark[1]) if mark else NEVER_SENT[:2]
        while rows := self.store.points_after(self.run_id, key_id, step, when, READ_POINTS):
            yield rows
            step, when = rows[-1][0], rows[-1][1]
            if len(rows) < READ_POINTS:
                return

    def _send_points(self, lanes: Lanes, batch: list[dict], reached: dict[str, list], done: Pushed) -> None:
        """One log-batch; once it and every one before it are answered, its keys' marks move to `reached`."""
        marks, count = self.mark[KEYS], len(batch)

        def sent() -> None:
            marks.update(reached)
            done.points += count
            self._requests += 1
            if self._requests % SAVE_EVERY == 0:
                self._save()

        lanes.call("runs/log-batch", {"run_id": self.remote_id, "metrics": batch}, sent)

    def _batch(self, **lists: list[dict]) -> None:
        self.client.call("runs/log-batch", {"run_id": self.remote_id, **lists})
        self._requests += 1

    # -- status, name, files and card ---------------------------------------------------------------
    def _status(self, info: RunInfo) -> None:
        state = [TO_MLFLOW[info.status], info.name, info.ended]
        if self.mark.get("state") == state:
            return
        update: dict[str, Any] = {"run_id": self.remote_id, "status": state[0], "run_name": info.name}
        if info.ended is not None and info.status in ENDED_STATUSES:
            update["end_time"] = ms(info.ended)
        self.client.call("runs/update", update)
        self.mark["state"] = state

    def _files(self, done: Pushed) -> None:
        """The run's artifact files not sent yet (or changed since: another sha256), under `artifacts/`
        with their names; the record is saved after each, so a long upload that stops keeps its progress."""
        sent: dict[str, str] = self.mark.setdefault("artifacts", {})
        for row in self.store.artifacts(self.run_id):
            name = row["name"]
            if sent.get(name) == row["sha256"]:
                continue
            try:
                path = stored_path(self.store, row)
            except UnsafeArtifactName:
                path = None
            if path is None or not path.is_file():
                done.missing_files.append(name)
                continue
            upload_file(
                self.client, self.remote_id, self._artifact_uri(), f"{FILES_FOLDER}/{name}", path, row["mime"]
            )
            sent[name] = row["sha256"]
            done.files += 1
            self._save()

    def _card(self, info: RunInfo) -> bool:
        """Upload the HTML card when the run changed since the last one sent; True when it was."""
        counts = sum(mark[2] for mark in self.mark.get(KEYS, {}).values())
        made = [info.ended, info.name, self.store.last_event_id(self.run_id), counts]
        if self.mark.get("card") == made:
            return False
        upload_card(self.client, self.store, self.run_id, self.remote_id, self._artifact_uri())
        self.mark["card"] = made
        return True

    def _artifact_uri(self) -> str:
        if not self.mark.get("artifact_uri"):
            found = self.client.call("runs/get", query={"run_id": self.remote_id}, method="GET")
            self.mark["artifact_uri"] = found["run"]["info"].get("artifact_uri", "")
        return self.mark["artifact_uri"]


def experiment_id(client: MlflowRest, name: str) -> str:
    """The id of the experiment `name`, created when the server has none."""
    if name not in client.experiments:
        for attempt in (1, 2):
            try:
                found = client.call("experiments/get-by-name", query={"experiment_name": name}, method="GET")
                client.experiments[name] = found["experiment"]["experiment_id"]
                break
            except NotFound:
                try:
                    client.experiments[name] = client.call("experiments/create", {"name": name})[
                        "experiment_id"
                    ]
                    break
                except AlreadyExists:  # another client created it meanwhile: look it up again
                    if attempt == 2:
                        raise
    return client.experiments[name]


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
