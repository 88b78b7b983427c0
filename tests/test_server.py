"""REST endpoints of the server extension, through a real Jupyter server (pytest-jupyter's jp_fetch)."""

from __future__ import annotations

import json
import math
import os
import time

import pytest
from fakes import not_databases

# The fixtures are imported here rather than enabled as a plugin, so that their autouse event loop
# stays out of every other test module.
from pytest_jupyter.jupyter_server import *  # noqa: F403
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from jupyter_tracker.models import FINISHED, RUNNING
from jupyter_tracker.server.payload import downsample
from jupyter_tracker.store import open_store

API = ("jupyter-tracker", "api")


@pytest.fixture
def jp_server_config():
    return Config({"ServerApp": {"jpserver_extensions": {"jupyter_tracker.server": True}}})


@pytest.fixture
def api(jp_fetch, jp_asyncio_loop):
    """Synchronous GET of an API path; returns (status, headers, body) and never raises on HTTP errors."""

    def get(*parts, params=None, headers=None):
        try:
            response = jp_asyncio_loop.run_until_complete(
                jp_fetch(*API, *parts, params=params or {}, headers=headers)
            )
        except HTTPClientError as exc:
            response = exc.response
            if response is None:
                raise
        return response.code, response.headers, response.body.decode()

    return get


def make_runs(store):
    """Three runs in two projects: finished (with a long loss curve), failed, and one running now."""
    now = time.time()
    base, _ = store.create_run(
        "mnist", ["baseline"], now - 900, status=RUNNING, started=now - 900, heartbeat=now - 900
    )
    store.set_params(base, {"lr": 0.01, "epochs": 3})
    store.add_tags(base, ["cnn", "first"])
    keys = [(base, 1, "loss"), (base, 2, "acc"), (base, 3, "system/cpu")]
    points = [(base, 1, step, now - 900 + step * 0.1, 1.0 / (step + 1)) for step in range(5000)]
    points[2500] = (base, 1, 2500, now - 650, 50.0)  # a spike that downsampling must keep
    points += [(base, 2, step, now - 900 + step, step / 10) for step in range(10)]
    points += [(base, 2, 10, now - 880, math.nan), (base, 3, 0, now - 890, 12.5)]
    store.write_batch(base, keys, points, [(base, now - 890, "info", "epoch 1", "{}")], heartbeat=now - 600)
    store.end_run(base, FINISHED, now - 600)

    failed, _ = store.create_run("mnist", ["wide"], now - 500, status=RUNNING, started=now - 500)
    store.write_batch(failed, [(failed, 1, "loss")], [(failed, 1, 0, now - 499, math.inf)], [], now - 490)
    store.end_run(failed, "failed", now - 490, error="ValueError: boom")

    live, _ = store.create_run(
        "cifar", ["resnet"], now - 60, status=RUNNING, started=now - 60, heartbeat=now, pid=os.getpid()
    )
    store.add_tags(live, ["gpu"])
    store.write_batch(
        live, [(live, 1, "loss")], [(live, 1, s, now - 60 + s, 2.0 - s / 10) for s in range(5)], [], now
    )
    return {"baseline": base, "wide": failed, "resnet": live}


@pytest.fixture
def runs(jp_root_dir):
    store = open_store(jp_root_dir / ".tracker" / "tracker.db")
    yield store, make_runs(store)
    store.close()


def test_list_runs_of_the_default_database(api, runs):
    store, ids = runs
    code, headers, body = api("runs")
    assert code == 200 and headers["Content-Type"].startswith("application/json")
    reply = json.loads(body)
    assert reply["db"] == ".tracker/tracker.db" and reply["exists"] and reply["full"]
    assert [run["name"] for run in reply["runs"]] == ["resnet", "wide", "baseline"]
    assert sorted(reply["ids"]) == sorted(ids.values())
    base = next(run for run in reply["runs"] if run["name"] == "baseline")
    assert base["status"] == "finished" and base["project"] == "mnist"
    assert base["params"] == {"lr": 0.01, "epochs": 3} and base["tags"] == ["cnn", "first"]
    assert base["duration"] == pytest.approx(300, abs=1)
    # User keys first, hardware keys left out; summaries from the store (NaN -> "NaN", inf -> "Infinity").
    assert list(base["metrics"]) == ["loss", "acc"] and base["metric_count"] == 3
    assert base["metrics"]["loss"]["max"] == 50.0 and base["metrics"]["loss"]["count"] == 5000
    assert base["metrics"]["acc"]["last"] == "NaN" and base["last_step"] == 4999
    wide = next(run for run in reply["runs"] if run["name"] == "wide")
    assert wide["status"] == "failed" and wide["metrics"]["loss"]["last"] == "Infinity"
    resnet = next(run for run in reply["runs"] if run["name"] == "resnet")
    assert resnet["status"] == "running" and resnet["metrics"]["loss"]["last"] == pytest.approx(1.6)


def test_filters(api, runs):
    def names(**params):
        return [run["name"] for run in json.loads(api("runs", params=params)[2])["runs"]]

    assert names(project="mnist") == ["wide", "baseline"]
    assert names(status="running") == ["resnet"]
    assert names(status="failed,finished") == ["wide", "baseline"]
    assert names(tag="cnn") == ["baseline"]
    assert names(q="LR=0.01") == ["baseline"]
    assert names(q="mnist wide") == ["wide"]
    code, _, body = api("runs", params={"status": "sleeping"})
    assert code == 400 and "unknown status sleeping" in json.loads(body)["message"]


def test_since_sends_only_changes_and_every_id(api, runs):
    store, ids = runs
    first = json.loads(api("runs")[2])
    later = json.loads(api("runs", params={"since": first["now"]})[2])
    assert not later["full"] and sorted(later["ids"]) == sorted(ids.values())
    assert [run["name"] for run in later["runs"]] == ["resnet"]  # live runs always come along
    store.end_run(ids["resnet"], FINISHED, time.time())
    after = json.loads(api("runs", params={"since": later["now"]})[2])
    assert [(run["name"], run["status"]) for run in after["runs"]] == [("resnet", "finished")]
    store.delete_run(ids["wide"])
    gone = json.loads(api("runs", params={"since": after["now"]})[2])
    # Deleted runs drop out of `ids` (runs changed within the last seconds may come again: merged by id).
    assert ids["wide"] not in gone["ids"] and "wide" not in [run["name"] for run in gone["runs"]]
    assert api("runs", params={"since": "yesterday"})[0] == 400


def test_a_missing_database_is_an_empty_list(api, jp_root_dir):
    code, _, body = api("runs", params={"db": "elsewhere/none.db"})
    reply = json.loads(body)
    assert (
        code == 200
        and reply["exists"] is False
        and reply["runs"] == []
        and reply["db"] == "elsewhere/none.db"
    )
    assert not (jp_root_dir / "elsewhere").exists()  # listing never creates a database
    assert api("runs", "1", params={"db": "elsewhere/none.db"})[0] == 404


def test_one_run_by_id_or_name(api, runs):
    _, ids = runs
    code, _, body = api("runs", str(ids["baseline"]))
    run = json.loads(body)
    assert code == 200 and run["name"] == "baseline" and list(run["metrics"]) == ["loss", "acc", "system/cpu"]
    assert run["events"][0]["message"] == "epoch 1" and run["summary"]["loss"]["count"] == 5000
    assert json.loads(api("runs", "wide")[2])["error"] == "ValueError: boom"
    code, _, body = api("runs", "9999")
    assert code == 404 and "no run with id 9999" in json.loads(body)["message"]


def test_metrics_are_downsampled_keeping_ends_and_spikes(api, runs):
    _, ids = runs
    code, _, body = api(
        "runs", str(ids["baseline"]), "metrics", params={"keys": "loss,acc", "max_points": 200}
    )
    reply = json.loads(body)
    assert code == 200 and set(reply["series"]) == {"loss", "acc"}
    loss = reply["series"]["loss"]
    assert loss["count"] == 5000 and loss["downsampled"] and len(loss["steps"]) <= 200
    assert loss["steps"][0] == 0 and loss["steps"][-1] == 4999 and 50.0 in loss["values"]
    assert loss["steps"] == sorted(loss["steps"])
    acc = reply["series"]["acc"]
    assert not acc["downsampled"] and acc["values"][-1] == "NaN" and len(acc["steps"]) == 11
    default = json.loads(api("runs", str(ids["baseline"]), "metrics")[2])
    assert len(default["series"]["loss"]["steps"]) <= 2000 and "system/cpu" in default["series"]


def test_downsample_is_exact_below_the_limit_and_bounded_above():
    points = [(s, float(s % 7), float(s)) for s in range(1000)]
    assert downsample(points[:50], 50) == points[:50]
    for limit in (4, 5, 99, 500):
        kept = downsample(points, limit)
        assert len(kept) <= limit and kept[0] == points[0] and kept[-1] == points[-1]


def test_requests_without_the_token_get_403(api, runs):
    for path in (("runs",), ("runs", "1"), ("runs", "1", "metrics"), ("runs", "1", "card"), ("compare",)):
        code, _, _ = api(*path, params={"ids": "1,2"}, headers={"Authorization": ""})
        assert code == 403, path


@pytest.mark.parametrize("db", ["../outside.db", "/etc/passwd", "a/../../../x.db"])
def test_paths_outside_the_server_root_are_refused(api, runs, db):
    code, _, body = api("runs", params={"db": db})
    assert code == 403 and "outside the server root" in json.loads(body)["message"]


def test_a_symlink_out_of_the_root_is_refused(api, jp_root_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    make_runs(open_store(outside / "t.db"))
    (jp_root_dir / "link").symlink_to(outside)
    assert api("runs", params={"db": "link/t.db"})[0] == 403


def test_a_database_in_a_subfolder(api, jp_root_dir):
    make_runs(open_store(jp_root_dir / "exp" / "runs.db"))
    reply = json.loads(api("runs", params={"db": "exp/runs.db"})[2])
    assert reply["db"] == "exp/runs.db" and len(reply["runs"]) == 3


def test_card_and_comparison_html(api, runs):
    _, ids = runs
    code, headers, body = api("runs", "baseline", "card")
    assert code == 200 and headers["Content-Type"].startswith("text/html") and "baseline" in body
    code, headers, body = api("compare", params={"ids": f"{ids['baseline']},{ids['wide']}"})
    assert code == 200 and "baseline" in body and "wide" in body
    assert api("compare", params={"ids": "1"})[0] == 400
    assert api("compare", params={"ids": "1,x"})[0] == 400
    code, _, body = api("compare", params={"ids": f"{ids['baseline']},777"})
    assert code == 404 and "777" in json.loads(body)["message"]


def test_card_failures_are_reported_with_their_message(api, runs, monkeypatch):
    import jupyter_tracker.cards as cards

    def broken(store, run_id):
        raise ValueError("no charts for you")

    monkeypatch.setattr(cards, "run_card_html", broken)
    code, _, body = api("runs", "baseline", "card")
    assert code == 500 and "ValueError: no charts for you" in json.loads(body)["message"]


def test_real_card(api, runs):
    code, headers, body = api("runs", "baseline", "card")
    assert code == 200 and headers["Content-Type"].startswith("text/html") and "baseline" in body


def test_non_databases_answer_400_with_paths_relative_to_the_root(api, jp_root_dir):
    import hashlib

    cases = not_databases(jp_root_dir)
    before = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in jp_root_dir.iterdir() if p.is_file()
    }
    endpoints = [("runs",), ("runs", "1"), ("runs", "1", "metrics"), ("runs", "1", "card"), ("compare",)]
    for db, reason in cases.items():
        for path in endpoints:
            code, _, body = api(*path, params={"db": db, "ids": "1,2"})
            message = json.loads(body)["message"]
            assert code == 400, (db, path, code, message)
            assert message.startswith(db) and reason in message, (db, path, message)
            assert str(jp_root_dir) not in message and str(jp_root_dir.resolve()) not in message
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in jp_root_dir.iterdir() if p.is_file()}
    assert after == before  # nothing created, changed or switched to WAL (no -wal/-shm beside them)


def test_messages_show_no_absolute_server_paths(api, runs, jp_root_dir):
    code, _, body = api("runs", "9999")
    message = json.loads(body)["message"]
    assert code == 404 and message.startswith("no run with id 9999 in .tracker/tracker.db")
    code, _, body = api("runs", "nope")
    message = json.loads(body)["message"]
    assert code == 404 and "in .tracker/tracker.db" in message and str(jp_root_dir) not in message


def test_an_older_schema_is_served_without_being_migrated(api, jp_root_dir):
    import hashlib

    from test_migrations import _version_1

    _version_1(jp_root_dir / "v1.db")
    before = hashlib.sha256((jp_root_dir / "v1.db").read_bytes()).hexdigest()
    code, _, body = api("runs", params={"db": "v1.db"})
    assert code == 200 and [run["name"] for run in json.loads(body)["runs"]] == ["old"]
    assert api("runs", "old", params={"db": "v1.db"})[0] == 200
    assert hashlib.sha256((jp_root_dir / "v1.db").read_bytes()).hexdigest() == before
    assert sorted(p.name for p in jp_root_dir.iterdir() if p.name.startswith("v1.db")) == ["v1.db"]
