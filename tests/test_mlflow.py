"""Sharing runs through a real MLflow tracking server: push, pull, the live mirror, the CLI and the magic.

The server (`mlflow server`, sqlite backend, artifacts proxied) is started once per session (conftest.py);
each test uses experiments (= projects) of its own.
"""

from __future__ import annotations

import base64
import http.server
import json
import math
import subprocess
import sys
import textwrap
import threading
import time
import uuid

import pytest
from mlflow_harness import Relay, api, artifact, remote_run, start_mlflow_server, stop
from waiting import wait_until

import jupyter_tracker as jt
from jupyter_tracker.errors import InvalidArgument, SharingError
from jupyter_tracker.sharing.mapping import remote_key


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


def test_pushing_again_sends_only_what_changed_since(mlflow_server, db):
    project = _project()
    _logged_run(project, steps=50)
    [first] = jt.push(url=mlflow_server, project=project)
    assert jt.push(url=mlflow_server, project=project)[0].changed is False  # nothing twice, not even the card
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


def test_track_config_mlflow_mirrors_every_new_run_of_the_session(mlflow_server, db):
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "jupyter_tracker")
    project = _project()
    ip.run_line_magic("track_config", f"mlflow={mlflow_server} project={project} system=False")
    assert jt.configure()["mlflow"] == mlflow_server
    ip.run_cell_magic(
        "track_run", "name=cell lr=0.5 --no-panel", "for i in range(10):\n    run.log(loss=i)\n"
    )
    remote_id = _remote_id(mlflow_server, project, "cell")
    wait_until(
        lambda: remote_run(mlflow_server, remote_id)["info"]["status"] == "FINISHED",
        timeout=10,
        what="the end",
    )
    assert remote_run(mlflow_server, remote_id)["params"] == {"lr": "0.5"}
    with pytest.raises(InvalidArgument, match="MLFLOW_TRACKING_USERNAME"):
        jt.configure(mlflow="http://alice:secret@127.0.0.1:5000")


def test_urls_are_checked_and_a_missing_one_names_every_way_to_give_it(db, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(InvalidArgument, match="MLFLOW_TRACKING_URI"):
        jt.push()
    for bad in ("ftp://host", "127.0.0.1:5000", "http://host:port", "http://host/?q=1"):
        with pytest.raises(InvalidArgument):
            jt.start_run(name="never", mlflow=bad)
    with pytest.raises(InvalidArgument, match="credentials"):
        jt.start_run(name="never", mlflow="https://u:p@mlflow.example")
    assert not db.exists()  # refused before any run was created


def test_credentials_come_from_mlflow_variables_and_are_never_stored(db, monkeypatch):
    seen: list[str | None] = []

    class Refusing(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802  (http.server's naming)
            seen.append(self.headers.get("Authorization"))
            body = b'{"error_code": "UNAUTHENTICATED", "message": "bad credentials"}'
            self.send_response(401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with jt.start_run(name="secret", system=False) as run:
            run.log(loss=1.0)
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok-123")
        with pytest.raises(SharingError, match="MLFLOW_TRACKING_TOKEN") as refused:
            jt.push(url=url)
        assert "tok-123" not in str(refused.value) and seen[-1] == "Bearer tok-123"
        monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "pw-456")
        with pytest.raises(SharingError):
            jt.push(url=url)
        assert seen[-1] == "Basic " + base64.b64encode(b"alice:pw-456").decode()
    finally:
        server.shutdown()
        server.server_close()
    stored = b"".join(p.read_bytes() for p in db.parent.glob("tracker.db*"))
    assert b"tok-123" not in stored and b"pw-456" not in stored


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
    again = _cli("push", "--to", mlflow_server, db=db)
    assert "up to date" in again.stdout
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
        project = _project()
        _logged_run(project, steps=5)
        [pushed] = jt.push(url=url)
        assert pushed.card is True
        cards = list(root.rglob("card.html"))
        assert len(cards) == 1 and cards[0].parent.name == "jupyter-tracker"
        # Without MLflow's client the message names the extra to install.
        blocked = subprocess.run(
            [sys.executable, "-c", "import sys; sys.modules['mlflow'] = None; import jupyter_tracker as jt; "
             f"jt.load_run('baseline').add_note('again'); jt.push(url={url!r})"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert blocked.returncode != 0 and 'pip install "jupyter-tracker[mlflow]"' in blocked.stderr
    finally:
        stop(process)
