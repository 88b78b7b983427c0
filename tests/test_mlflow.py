"""Sharing runs through a real MLflow tracking server: push, pull, the live mirror, the CLI and the magic.

The server (`mlflow server`, sqlite backend, artifacts proxied) is started once per session (conftest.py);
each test uses experiments (= projects) of its own.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import math
import ssl
import struct
import subprocess
import sys
import textwrap
import threading
import time
import uuid
import zlib
from collections import Counter
from pathlib import Path

import pytest
from mlflow_harness import Relay, api, artifact, remote_run, start_mlflow_server, stop
from waiting import stored_points, wait_until

import jupyter_tracker as jt
from jupyter_tracker.errors import InvalidArgument, ServerUnreachable, SharingError
from jupyter_tracker.sharing.mapping import remote_key
from jupyter_tracker.sharing.pushing import RunPush
from jupyter_tracker.sharing.rest import MlflowRest


def _project() -> str:
    return f"p-{uuid.uuid4().hex[:8]}"


def _remote_id(url: str, project: str, name: str) -> str:
    experiment = api(url, "experiments/get-by-name", experiment_name=project)["experiment"]["experiment_id"]
    runs = api(url, "runs/search", {"experiment_ids": [experiment], "max_results": 100})["runs"]
    return next(r["info"]["run_id"] for r in runs if r["info"]["run_name"] == name)


def _logged_run(project: str, name: str = "baseline", steps: int = 200, **options):
    with jt.start_run(name=name, project=project, system=False, **options) as run:
        run.log_params({"lr": 0.01, "opt": "adam w", "layers": [64, 32], "flag": True})
        run.add_tags("cnn", team="vision")
        for step in range(steps):
            run.log(loss=1 / (step + 1), acc=step / steps)
        run.log({"gap": math.nan, "peak": math.inf, "floor": -math.inf})
    return run


def test_push_sends_params_tags_every_point_status_and_the_card(mlflow_server, db):
    project = _project()
    run = _logged_run(project, description="first try")
    [pushed] = jt.push("baseline", url=mlflow_server)
    assert (pushed.points, pushed.params, pushed.card, pushed.complete) == (403, 4, True, True)
    remote = remote_run(mlflow_server, pushed.remote_id)
    assert remote["info"]["run_name"] == "baseline" and remote["info"]["status"] == "FINISHED"
    assert remote["info"]["end_time"] == round(run.info.ended * 1000)
    # text as it is, anything else as JSON, so a pull reads it back as it was
    assert remote["params"] == {"lr": "0.01", "opt": "adam w", "layers": "[64, 32]", "flag": "true"}
    tags = remote["tags"]
    assert tags["cnn"] == "" and tags["team"] == "vision" and tags["mlflow.note.content"] == "first try"
    assert tags["jupyter_tracker.uuid"] == run.uuid and tags["jupyter_tracker.project"] == project
    loss = remote["metrics"]["loss"]
    assert [step for step, _, _ in loss] == list(range(200)) and loss[9][1] == pytest.approx(0.1)
    assert remote["metrics"]["gap"][0][1] == "NaN"  # MLflow keeps NaN; an infinity becomes the largest float
    assert remote["metrics"]["peak"][0][1] == sys.float_info.max
    assert remote["metrics"]["floor"][0][1] == -sys.float_info.max
    card = artifact(mlflow_server, remote, "jupyter-tracker/card.html").decode()
    assert card.startswith("<!DOCTYPE html>") and "baseline" in card
    jt.load_run("baseline").add_note("lr too high")
    assert jt.push("baseline", mlflow=mlflow_server)[0].card is True  # an edit: a new card and events
    events = artifact(mlflow_server, remote, "jupyter-tracker/events.jsonl").decode().splitlines()
    assert json.loads(events[-1])["message"] == "note: lr too high"
    assert (
        pushed.url
        == f"{mlflow_server}/#/experiments/{remote['info']['experiment_id']}/runs/{pushed.remote_id}"
    )


def _png(width: int = 4, height: int = 3) -> bytes:
    """A small valid PNG (grey pixels), written with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = b"".join(b"\x00" + bytes([128] * width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


def _history(client, remote_id: str, key: str) -> list[tuple[int, float]]:
    return sorted((m.step, m.value) for m in client.get_metric_history(remote_id, key))


@pytest.mark.slow
def test_a_whole_run_reads_back_through_mlflows_client_and_a_resumed_run_sends_only_its_new_points(
    mlflow_server, db, tmp_path
):
    from mlflow.artifacts import download_artifacts
    from mlflow.tracking import MlflowClient

    project, keys = _project(), [f"m{k}" for k in range(5)]
    (tmp_path / "preds.png").write_bytes(image := _png())
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "summary.txt").write_text("all good")
    with jt.start_run(
        name="full", project=project, params={"lr": 0.01, "layers": [64, 32]}, tags=["cnn"], interval=0.1
    ) as run:
        run.add_tags(team="vision")
        run.log_event("data loaded", rows=60_000)
        for step in range(5000):
            run.log({key: step * 0.5 + k for k, key in enumerate(keys)})
        run.save(tmp_path / "preds.png", name="images/preds.png")
        run.log_artifact(str(tmp_path / "notes"))
        wait_until(lambda: len(stored_points(run, "system/cpu/percent")) >= 2, timeout=20, what="hardware")
    [pushed] = jt.push("full", url=mlflow_server)
    client = MlflowClient(tracking_uri=mlflow_server)
    remote = client.get_run(pushed.remote_id)
    assert remote.data.params == {"lr": "0.01", "layers": "[64, 32]"} and remote.info.status == "FINISHED"
    assert remote.data.tags["cnn"] == "" and remote.data.tags["team"] == "vision"
    for k, key in enumerate(keys):  # every point, with its step
        assert _history(client, pushed.remote_id, key) == [(step, step * 0.5 + k) for step in range(5000)]
    counted = Counter(key for key, *_ in run.store.points(run.id))
    system = {key: count for key, count in counted.items() if key.startswith("system/")}
    assert system and {key: len(client.get_metric_history(pushed.remote_id, key)) for key in system} == system
    listed = {item.path for folder in ("", "artifacts", "artifacts/images", "artifacts/notes", "jupyter-tracker")
              for item in client.list_artifacts(pushed.remote_id, folder or None)}  # fmt: skip
    assert {
        "artifacts/images/preds.png",
        "artifacts/notes/summary.txt",
        "jupyter-tracker/card.html",
    } <= listed
    assert pushed.files == 2 and pushed.card is True

    def download(path: str) -> bytes:
        where = download_artifacts(
            run_id=pushed.remote_id,
            artifact_path=path,
            dst_path=str(tmp_path / "down"),
            tracking_uri=mlflow_server,
        )
        return Path(where).read_bytes()

    assert download("artifacts/images/preds.png") == image
    card = download("jupyter-tracker/card.html").decode()
    assert card.startswith("<!DOCTYPE html>") and "full" in card and "vision" in card
    assert "data loaded" in download("jupyter-tracker/events.jsonl").decode()

    again = jt.push("full", url=mlflow_server)[0]  # nothing twice: still one run, the same histories
    assert not again.changed and again.remote_id == pushed.remote_id
    assert len(client.search_runs([remote.info.experiment_id])) == 1
    assert all(len(client.get_metric_history(pushed.remote_id, key)) == 5000 for key in keys)

    with jt.reconnect("full", system=False) as resumed:  # a new segment
        for step in range(5000, 5100):
            resumed.log({key: step * 0.5 + k for k, key in enumerate(keys)})
    [third] = jt.push("full", url=mlflow_server)
    assert (third.points, third.files, third.remote_id) == (500, 0, pushed.remote_id)
    mark = run.store.sync_row(run.id, mlflow_server)["watermark"]["keys"]
    assert all(mark[key][0] == 5099 and mark[key][2] == 5100 for key in keys)
    assert all(len(client.get_metric_history(pushed.remote_id, key)) == 5100 for key in keys)
    finished = client.get_run(pushed.remote_id).info
    assert finished.status == "FINISHED" and finished.end_time == round(jt.load_run("full").info.ended * 1000)


def test_pushing_again_sends_only_what_changed_since(mlflow_server, db):
    project = _project()
    _logged_run(project, steps=50)
    [first] = jt.push(url=mlflow_server, project=project)
    assert jt.push(url=mlflow_server, project=project) == []  # every ended run not yet pushed: none
    assert jt.push("baseline", url=mlflow_server)[0].changed is False  # nothing twice, not even the card
    record = jt.load_run("baseline")
    record.add_tags("keep")
    record.remove_tags("cnn")
    record.rename("baseline-v2")
    with jt.reconnect("baseline-v2", system=False) as run:  # resumed: more points, one at an earlier step
        run.log(loss=0.001)
        run.log(loss=0.5, step=3, time=0.5)
    [again] = jt.push(url=mlflow_server, project=project)
    assert again.remote_id == first.remote_id and again.card is True
    assert (
        again.points == 52
    )  # the new point, then `loss` again from its start (MLflow keeps one copy of each)
    remote = remote_run(mlflow_server, first.remote_id)
    assert (
        remote["info"]["run_name"] == "baseline-v2"
        and "cnn" not in remote["tags"]
        and remote["tags"]["keep"] == ""
    )
    assert len(remote["metrics"]["loss"]) == 52 and remote["metrics"]["loss"][-1][:2] == (50, 0.001)


def test_two_pushers_of_one_run_at_once_share_one_remote_run_and_keep_every_mark(mlflow_server, db):
    project = _project()
    with jt.start_run(name="twice", project=project, system=False) as run:
        for step in range(3000):
            run.log(loss=1 / (step + 1), acc=step / 3000)
    start = threading.Barrier(2)
    done: list = []

    def push() -> None:  # the live mirror's thread and a push() at the same time, each with its client
        client = MlflowRest(mlflow_server)
        start.wait()
        try:
            done.append(RunPush(run.store, run.id, client).push(card=False))
        except Exception as exc:
            done.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=push) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(done) == 2 and done[0].remote_id == done[1].remote_id
    experiment = api(mlflow_server, "experiments/get-by-name", experiment_name=project)["experiment"]
    [remote] = api(mlflow_server, "runs/search", {"experiment_ids": [experiment["experiment_id"]]})["runs"]
    assert remote["info"]["run_id"] == done[0].remote_id  # the other one, if made, was deleted again
    histories = remote_run(mlflow_server, done[0].remote_id)["metrics"]
    assert {key: len(points) for key, points in histories.items()} == {"loss": 3000, "acc": 3000}
    mark = run.store.sync_row(run.id, mlflow_server)["watermark"]["keys"]
    assert mark["loss"][2] == mark["acc"][2] == 3000
    assert jt.push("twice", url=mlflow_server)[0].points == 0

    # A pusher that read the record before another one sent more never moves it back when it saves.
    late = RunPush(run.store, run.id, MlflowRest(mlflow_server))  # no request made: nothing to close
    late.remote_id, late.experiment_id = done[0].remote_id, experiment["experiment_id"]
    late.mark = {"keys": {"loss": [999, mark["loss"][1] - 1, 1000]}, "tags": {"extra": "x"}}
    late._save()
    saved = run.store.sync_row(run.id, mlflow_server)["watermark"]
    assert saved["keys"] == mark and saved["tags"]["extra"] == "x"


def test_push_without_runs_takes_every_ended_run_not_pushed_since_it_changed(mlflow_server, db, tmp_path):
    project = _project()
    _logged_run(project, name="a", steps=5)
    _logged_run(project, name="b", steps=5)
    live = jt.start_run(name="live", project=project, system=False)
    live.log(loss=1.0)
    pushed = {done.run.name: done for done in jt.push(url=mlflow_server, project=project)}
    assert sorted(pushed) == ["a", "b"]  # ended runs only
    assert jt.push(url=mlflow_server, project=project) == []
    jt.load_run("a").add_note("lr too high")  # changed since
    live.finish()
    assert [done.run.name for done in jt.push(url=mlflow_server, project=project)] == ["a", "live"]
    teammate = tmp_path / "teammate.db"  # runs pulled from the server are not pushed back to it
    [only] = jt.pull(project, mlflow=mlflow_server, db=teammate, runs=[pushed["b"].remote_id])
    assert only.name == "b" and len(jt.pull(project, mlflow=mlflow_server, db=teammate)) == 3
    assert jt.push(url=mlflow_server, db=teammate) == []
    with pytest.raises(SharingError, match="pulled from the MLflow run"):
        jt.push("b", url=mlflow_server, db=teammate)
    with pytest.raises(SharingError, match="has no run nope"):
        jt.pull(project, mlflow=mlflow_server, db=teammate, runs=["nope"])


def test_keys_and_values_are_mapped_to_what_mlflow_accepts(mlflow_server, db):
    project = _project()
    odd = {"val loss": 1.0, "a:b": 2.0, "ünï": 3.0, "x//y": 4.0, "/lead": 5.0, "../up": 6.0, "k:" * 125: 7.0}
    with jt.start_run(name="odd", project=project, system=False, params={"long": "v" * 7000}) as run:
        run.log(odd)
        run.log_param("lr", 0.1)
    [pushed] = jt.push(run.id, url=mlflow_server)
    remote = remote_run(mlflow_server, pushed.remote_id)
    assert set(remote["metrics"]) == {remote_key(key) for key in odd}
    assert "val loss" in remote["metrics"]  # allowed as it is: unchanged
    assert remote_key("a:b").startswith("a_b_") and remote_key("x//y").startswith("x/y_")
    assert len(remote_key("k:" * 125)) == 250 and remote_key("k:" * 125) != remote_key("k:" * 124 + "k;")
    assert len(remote["params"]["long"]) == 6000 and remote["params"]["long"].endswith("…")
    with jt.reconnect(run.id, system=False) as again:
        again.log_param("lr", 0.2)  # MLflow keeps a param's first value: reported, not sent
    [second] = jt.push(run.id, url=mlflow_server)
    assert (
        second.skipped_params == ["lr"]
        and remote_run(mlflow_server, pushed.remote_id)["params"]["lr"] == "0.1"
    )


def test_pull_brings_runs_back_and_leaves_our_own_alone(mlflow_server, db, tmp_path):
    project = _project()
    run = _logged_run(project, steps=30)
    jt.push(url=mlflow_server, project=project)
    elsewhere = tmp_path / "teammate.db"
    [pulled] = jt.pull(project, url=mlflow_server, db=elsewhere)
    assert pulled.outcome == "new" and pulled.points == 63
    copy = jt.load_run("baseline", db=elsewhere)
    assert copy.uuid == run.uuid and copy.project == project and copy.status == "finished"
    assert copy.params == {"lr": 0.01, "opt": "adam w", "layers": [64, 32], "flag": True}
    assert copy.info.tag_values == {"cnn": None, "team": "vision"}
    summary = copy.summary()
    assert summary.loc["loss", "count"] == 30 and summary.loc["loss", "last"] == pytest.approx(1 / 30)
    assert math.isnan(summary.loc["gap", "first"]) and summary.loc["peak", "last"] == math.inf
    assert summary.loc["floor", "last"] == -math.inf
    assert jt.pull(project, url=mlflow_server, db=elsewhere)[0].outcome == "unchanged"
    assert jt.pull(project, url=mlflow_server)[0].outcome == "ours"  # pushed from this store
    with jt.start_run(name="mine", project=project, db=elsewhere, system=False, params={"lr": 0.1}) as mine:
        mine.log(loss=0.5)
    table = jt.compare(["baseline", "mine"], project=project, db=elsewhere).frame.set_index("name")
    assert table.loc["baseline", "metrics.loss.last"] == pytest.approx(1 / 30)  # the teammate's, beside ours
    assert table.loc["mine", "metrics.loss.last"] == 0.5
    assert (table.loc["baseline", "params.lr"], table.loc["mine", "params.lr"]) == (0.01, 0.1)


TEAMMATE = textwrap.dedent(
    """
    import math, sys
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(sys.argv[1])
    mlflow.set_experiment(sys.argv[2])
    with mlflow.start_run(run_name="alice"):
        mlflow.log_params({"lr": 0.1, "opt": "sgd"})
        mlflow.set_tag("owner", "alice")
        for step in range(20):
            mlflow.log_metrics({"loss": 1 / (step + 1), "val/acc": step / 20}, step=step)
        mlflow.log_metric("gap", math.nan, step=0)
    client = MlflowClient()
    experiment = mlflow.get_experiment_by_name(sys.argv[2]).experiment_id
    live = client.create_run(experiment, run_name="bob")
    client.log_metric(live.info.run_id, "loss", 0.5, step=0)
    print(live.info.run_id)
    """
)


def test_pull_reads_runs_logged_with_mlflow_itself_and_updates_a_running_one(mlflow_server, db):
    project = _project()
    done = subprocess.run(
        [sys.executable, "-c", TEAMMATE, mlflow_server, project], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    bob = done.stdout.split()[-1]
    pulled = {p.name: p for p in jt.pull(project, url=mlflow_server)}
    assert {p.outcome for p in pulled.values()} == {"new"}
    alice = jt.load_run("alice")
    assert (
        alice.project == project and alice.status == "finished" and alice.params == {"lr": 0.1, "opt": "sgd"}
    )
    assert alice.info.tag_values == {"owner": "alice"} and alice.info.user
    frame = alice.metrics()
    assert len(frame[frame.key == "val/acc"]) == 20 and math.isnan(frame[frame.key == "gap"].value.iloc[0])
    live = jt.load_run("bob")
    assert live.uuid == bob and live.status == "interrupted"
    assert "still running on the MLflow server" in live.events().message.iloc[-1]
    api(
        mlflow_server,
        "runs/log-batch",
        {"run_id": bob, "metrics": [{"key": "loss", "value": 0.25, "timestamp": 1, "step": 1}]},
    )
    api(
        mlflow_server,
        "runs/update",
        {"run_id": bob, "status": "FINISHED", "end_time": int(time.time() * 1000)},
    )
    outcomes = {p.name: p.outcome for p in jt.pull(project, url=mlflow_server)}
    assert outcomes == {"alice": "unchanged", "bob": "updated"}
    assert jt.load_run("bob").status == "finished" and len(jt.load_run("bob").metrics()) == 2


def test_live_mirror_sends_points_while_the_run_runs_and_finish_waits_little(mlflow_server, db):
    project = _project()
    run = jt.start_run(name="live", project=project, system=False, mlflow=mlflow_server, params={"lr": 0.1})
    for step in range(100):
        run.log(loss=1 / (step + 1))
    wait_until(
        lambda: _has_points(mlflow_server, project, "live", 100), timeout=20, what="points on the server"
    )
    for step in range(100, 150):
        run.log(loss=1 / (step + 1))
    started = time.monotonic()
    run.finish()
    assert time.monotonic() - started < 1.5
    remote_id = _remote_id(mlflow_server, project, "live")
    wait_until(
        lambda: remote_run(mlflow_server, remote_id)["info"]["status"] == "FINISHED",
        timeout=10,
        what="the end",
    )
    remote = remote_run(mlflow_server, remote_id)
    assert len(remote["metrics"]["loss"]) == 150 and remote["params"] == {"lr": "0.1"}
    wait_until(
        lambda: jt.load_run("live").store.sync_row(run.id, mlflow_server)["watermark"].get("card"),
        timeout=30,
        what="the card",
    )
    assert b"live" in artifact(mlflow_server, remote, "jupyter-tracker/card.html")
    assert jt.push("live", url=mlflow_server)[0].changed is False  # the mirror left nothing to push


def _has_points(url: str, project: str, name: str, count: int) -> bool:
    try:
        remote_id = _remote_id(url, project, name)
    except (KeyError, StopIteration, OSError):
        return False
    return (
        len(api(url, "metrics/get-history", run_id=remote_id, metric_key="loss").get("metrics", [])) >= count
    )


@pytest.mark.slow
def test_an_unreachable_server_costs_one_warning_and_the_mirror_catches_up(mlflow_server, db):
    relay = Relay(mlflow_server)  # the server as the run sees it: off first, on later
    project = _project()
    run = jt.start_run(name="patient", project=project, system=False, mlflow=relay.url)
    started = time.monotonic()
    for step in range(20_000):
        run.log(loss=1 / (step + 1))
    assert time.monotonic() - started < 5  # logging never waits for the network
    wait_until(lambda: len(run.events()) == 1, timeout=10, what="the warning event")
    time.sleep(2.5)  # a few retries, still one warning
    [event] = run.events().itertuples()
    assert event.level == "warning" and "did not answer" in event.message and relay.url in event.message
    started = time.monotonic()
    run.finish()
    assert time.monotonic() - started < 1.5  # finish() does not wait for a server that does not answer
    assert run.store.sync_row(run.id, relay.url) is None  # nothing went: nothing marked as sent
    relay.on()
    try:
        wait_until(
            lambda: _has_points(relay.url, project, "patient", 20_000), timeout=90, what="the catch-up"
        )
        remote_id = _remote_id(mlflow_server, project, "patient")
        wait_until(
            lambda: remote_run(mlflow_server, remote_id)["info"]["status"] == "FINISHED",
            timeout=30,
            what="the end",
        )
    finally:
        relay.off()


def _shell(server: str, project: str, **names):
    """IPython with our magics, the session mirrored to `server`, and `names` in the cells' namespace."""
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "jupyter_tracker")
    ip.run_line_magic("track_config", f"mlflow={server} project={project} system=False")
    ip.user_ns.update(names)
    return ip


def _points_seen(url: str, project: str, name: str, count: int) -> str:
    """Wait (from inside a cell) until the server has `count` points of `loss`; the remote run's status."""
    wait_until(lambda: _has_points(url, project, name, count), timeout=30, what="points on the server")
    return remote_run(url, _remote_id(url, project, name))["info"]["status"]


def test_track_config_mlflow_mirrors_a_cell_while_it_runs(mlflow_server, db):
    project = _project()
    ip = _shell(mlflow_server, project, seen=lambda: _points_seen(mlflow_server, project, "cell", 10))
    assert jt.configure()["mlflow"] == mlflow_server
    body = "for i in range(10):\n    run.log(loss=i)\nstatus_seen = seen()\n"  # waits in the cell
    ip.run_cell_magic("track_run", "name=cell lr=0.5 --no-panel", body)
    assert ip.user_ns["status_seen"] == "RUNNING"  # the points were there before the cell ended
    remote_id = _remote_id(mlflow_server, project, "cell")
    wait_until(
        lambda: remote_run(mlflow_server, remote_id)["info"]["status"] == "FINISHED",
        timeout=10,
        what="the end",
    )
    assert remote_run(mlflow_server, remote_id)["params"] == {"lr": "0.5"}
    ip.run_cell_magic(
        "track_run", "--resume cell --no-panel", "for i in range(10, 15):\n    run.log(loss=i)\n"
    )
    wait_until(lambda: _has_points(mlflow_server, project, "cell", 15), timeout=10, what="the new segment")
    history = remote_run(mlflow_server, remote_id)["metrics"]["loss"]
    assert [step for step, _, _ in history] == list(range(15))  # the resumed run's points, once each
    with pytest.raises(InvalidArgument, match="MLFLOW_TRACKING_USERNAME"):
        jt.configure(mlflow="http://alice:secret@127.0.0.1:5000")


def test_a_server_stopped_mid_cell_never_fails_the_cell_and_a_later_push_completes_the_run(mlflow_server, db):
    relay = Relay(mlflow_server)  # the server as the run sees it
    relay.on()
    project, stopped = _project(), []
    ip = _shell(
        relay.url,
        project,
        seen=lambda: _points_seen(relay.url, project, "cut", 100),
        stop_server=lambda: (relay.off(), stopped.append(time.monotonic())),
    )
    body = (
        "for i in range(100):\n    run.log(loss=i)\nseen()\nstop_server()\n"
        "for i in range(100, 5100):\n    run.log(loss=i)\n"
    )
    try:
        result = ip.run_cell(f"%%track_run name=cut --no-panel\n{body}")
        took = time.monotonic() - stopped[0]
        assert result.success and took < 5, took  # 5,000 more points and the run's end, with no server
        run = jt.load_run("cut")
        assert run.status == "finished" and len(run.metrics()) == 5100
        [warning] = [e for e in run.events().itertuples() if e.level == "warning"]
        assert (
            "did not answer" in warning.message and relay.url in warning.message and "cut" in warning.message
        )
        relay.on()  # the server is back: a push sends what the mirror could not
        [pushed] = jt.push("cut", url=relay.url)
        assert pushed.complete and pushed.card
        remote = remote_run(mlflow_server, pushed.remote_id)
        assert remote["info"]["status"] == "FINISHED" and len(remote["metrics"]["loss"]) == 5100
        experiment = remote["info"]["experiment_id"]
        assert len(api(mlflow_server, "runs/search", {"experiment_ids": [experiment]})["runs"]) == 1
        assert artifact(mlflow_server, remote, "jupyter-tracker/card.html").startswith(b"<!DOCTYPE html>")
    finally:
        relay.off()


def test_urls_are_checked_and_a_missing_one_names_every_way_to_give_it(db, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(InvalidArgument, match="MLFLOW_TRACKING_URI"):
        jt.push()
    for bad in ("ftp://host", "127.0.0.1:5000", "http://host:port", "http://host/?q=1"):
        with pytest.raises(InvalidArgument):
            jt.start_run(name="never", mlflow=bad)
    with pytest.raises(InvalidArgument, match="credentials"):
        jt.start_run(name="never", mlflow="https://u:p@mlflow.example")
    with pytest.raises(InvalidArgument) as local_store:  # what MLflow's own client would take
        jt.push(["baseline", 2], mlflow="sqlite:///mlflow.db")
    assert str(local_store.value).startswith("cannot push baseline, 2: mlflow must be an http:// or https://")
    assert "'sqlite:///mlflow.db'; a sqlite: store is shared by serving it: mlflow server" in str(
        local_store.value
    )
    assert not db.exists()  # refused before any run was created


class _Refusing(http.server.BaseHTTPRequestHandler):
    """A server that answers every request 401, and keeps the Authorization headers it was sent."""

    seen: list[str | None] = []

    def do_GET(self):  # noqa: N802  (http.server's naming)
        self.seen.append(self.headers.get("Authorization"))
        body = b'{"error_code": "UNAUTHENTICATED", "message": "bad credentials"}'
        self.send_response(401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def _refusing_server(folder=None):
    """The URL of a _Refusing server on 127.0.0.1; over HTTPS with a self-signed certificate made in
    `folder` when one is given."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    scheme = "http"
    if folder is not None:
        made = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
             "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
            capture_output=True, timeout=60,
        )  # fmt: skip
        if made.returncode != 0:
            pytest.skip(f"openssl could not make a certificate: {made.stderr[-300:]!r}")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_credentials_come_from_mlflow_variables_and_are_never_stored(db, monkeypatch):
    seen = _Refusing.seen
    with _refusing_server() as url:
        with jt.start_run(name="secret", system=False) as run:
            run.log(loss=1.0)
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok-123")
        with pytest.raises(SharingError, match="MLFLOW_TRACKING_TOKEN") as refused:
            jt.push(url=url)
        assert "tok-123" not in str(refused.value) and seen[-1] == "Bearer tok-123"
        assert str(refused.value).startswith(
            f"pushing run {run.info.project}/secret (id 1): the MLflow server at {url}"
        )
        monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "pw-456")
        with pytest.raises(SharingError):
            jt.push(url=url)
        assert seen[-1] == "Basic " + base64.b64encode(b"alice:pw-456").decode()
    stored = b"".join(p.read_bytes() for p in db.parent.glob("tracker.db*"))
    assert b"tok-123" not in stored and b"pw-456" not in stored


def test_insecure_tls_skips_the_certificate_check_only_when_asked(db, monkeypatch, tmp_path):
    with jt.start_run(name="tls", system=False) as run:
        run.log(loss=1.0)
    with _refusing_server(tmp_path) as url:
        monkeypatch.delenv("MLFLOW_TRACKING_INSECURE_TLS", raising=False)
        with pytest.raises(ServerUnreachable, match="CERTIFICATE_VERIFY_FAILED") as unchecked:
            jt.push("tls", url=url)
        assert f"pushing run {run.info.project}/tls (id 1): the MLflow server at {url}" in str(
            unchecked.value
        )
        monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
        with pytest.raises(SharingError, match="answered 401"):  # reached it: refused for credentials
            jt.push("tls", url=url)


def _cli(*args: str, db) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_tracker.cli", "--db", str(db), *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_cli_push_and_pull(mlflow_server, db, tmp_path):
    project = _project()
    _logged_run(project, steps=10)
    pushed = _cli("push", "baseline", "--mlflow", mlflow_server, db=db)
    assert pushed.returncode == 0, pushed.stderr
    assert (
        pushed.stdout.startswith(f"{project}/baseline (id 1): 23 points, 4 params,")
        and "card" in pushed.stdout
    )
    assert f"-> {mlflow_server}/#/experiments/" in pushed.stdout
    assert "nothing to push" in _cli("push", "--to", mlflow_server, db=db).stdout
    assert "(id 1): up to date" in _cli("push", "1", "--to", mlflow_server, db=db).stdout
    fresh = tmp_path / "new" / "pulled.db"  # pull starts a store where there is none
    pulled = _cli("pull", "--experiment", project, "--mlflow", mlflow_server, "--project", "team", db=fresh)
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stdout.startswith("team/baseline (id 1): new, 23 points <- ")
    missing = _cli("pull", "no-such-experiment", "--from", mlflow_server, db=fresh)
    assert missing.returncode == 1 and "no experiment named 'no-such-experiment'" in missing.stderr


@pytest.mark.slow
def test_an_artifact_store_the_server_does_not_proxy_is_written_by_mlflows_client(db, tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    root = folder / "artifacts"
    process, url = start_mlflow_server(folder, "--no-serve-artifacts", "--default-artifact-root", str(root))
    try:
        (tmp_path / "weights.bin").write_bytes(bytes(range(256)) * 4)
        with jt.start_run(name="baseline", project=_project(), system=False) as run:
            run.log(loss=1.0)
            run.save(tmp_path / "weights.bin", name="model/weights.bin")
        [pushed] = jt.push(url=url)
        assert pushed.card is True and pushed.files == 1
        cards = list(root.rglob("card.html"))
        assert len(cards) == 1 and cards[0].parent.name == "jupyter-tracker"
        [weights] = root.rglob("weights.bin")
        assert weights.parent.parent.name == "artifacts" and weights.read_bytes() == bytes(range(256)) * 4
        # Without MLflow's client the message names the extra to install.
        blocked = subprocess.run(
            [sys.executable, "-c", "import sys; sys.modules['mlflow'] = None; import jupyter_tracker as jt; "
             f"jt.load_run('baseline').add_note('again'); jt.push(url={url!r})"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert blocked.returncode != 0 and 'pip install "jupyter-tracker[mlflow]"' in blocked.stderr
    finally:
        stop(process)
