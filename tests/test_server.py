"""REST endpoints of the server extension, through a real Jupyter server (pytest-jupyter's jp_fetch)."""

from __future__ import annotations

import json
import math
import os
import secrets
import time
from http.cookies import SimpleCookie

import pytest
from fakes import not_databases
from jupyter_server.auth.authorizer import Authorizer

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
    """Synchronous request of an API path (GET, or POST when given a `body`: a JSON value); returns
    (status, headers, body) and never raises on HTTP errors."""

    def get(*parts, params=None, headers=None, body=None):
        options = {} if body is None else {"method": "POST", "body": json.dumps(body)}
        try:
            response = jp_asyncio_loop.run_until_complete(
                jp_fetch(*API, *parts, params=params or {}, headers=headers, **options)
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
    db = "elsewhere/.tracker/tracker.db"
    code, _, body = api("runs", params={"db": db})
    reply = json.loads(body)
    assert code == 200 and reply["exists"] is False and reply["runs"] == [] and reply["db"] == db
    assert not (jp_root_dir / "elsewhere").exists()  # listing never creates a database
    assert api("runs", "1", params={"db": db})[0] == 404


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
    for path in (
        ("stores",),
        ("runs",),
        ("runs", "1"),
        ("runs", "1", "metrics"),
        ("runs", "1", "card"),
        ("compare",),
    ):
        code, _, _ = api(*path, params={"ids": "1,2"}, headers={"Authorization": ""})
        assert code == 403, path


def test_stores_lists_every_store_under_the_root(api, jp_root_dir):
    reply = json.loads(api("stores")[2])
    assert reply == {"stores": [], "default": ".tracker/tracker.db", "truncated": False}
    for folder in ("notebooks/b", "notebooks/a", "node_modules/x", ".cache"):
        open_store(jp_root_dir / folder / ".tracker" / "tracker.db").close()
    reply = json.loads(api("stores")[2])
    assert reply["stores"] == ["notebooks/a/.tracker/tracker.db", "notebooks/b/.tracker/tracker.db"]
    assert reply["default"] == "notebooks/a/.tracker/tracker.db"  # no store at the root: the first
    open_store(jp_root_dir / ".tracker" / "tracker.db").close()
    reply = json.loads(api("stores")[2])
    assert reply["stores"][0] == reply["default"] == ".tracker/tracker.db" and len(reply["stores"]) == 3
    for db in reply["stores"]:  # each one can be listed
        assert json.loads(api("runs", params={"db": db})[2])["db"] == db


@pytest.mark.parametrize(
    "db",
    [
        "../.tracker/tracker.db",
        "/etc/.tracker/tracker.db",
        "a/../../../.tracker/tracker.db",
        "a/../../.tracker/tracker.db",
        "..",
    ],
)
def test_paths_outside_the_server_root_are_refused(api, runs, db):
    for path in (("runs",), ("runs", "1"), ("runs", "1", "metrics"), ("runs", "1", "card"), ("compare",)):
        code, _, body = api(*path, params={"db": db, "ids": "1,2"})
        assert code == 400 and "outside the server root" in json.loads(body)["message"], (path, body)


def test_any_database_under_the_root_can_be_named_and_other_files_are_refused_untouched(
    api, runs, jp_root_dir
):
    make_runs(open_store(jp_root_dir / "exp" / "runs.db"))  # a TRACKER_DB of another name
    code, _, body = api("runs", params={"db": "exp/runs.db"})
    assert code == 200 and json.loads(body)["runs"]
    (jp_root_dir / "notes.txt").write_text("not runs")
    code, _, body = api("runs", params={"db": "notes.txt"})
    assert code == 400 and "notes.txt" in json.loads(body)["message"]
    assert (jp_root_dir / "notes.txt").read_text() == "not runs"


def test_a_symlink_out_of_the_root_is_refused(api, jp_root_dir, tmp_path):
    outside = tmp_path / "outside" / ".tracker"
    outside.mkdir(parents=True)
    make_runs(open_store(outside / "tracker.db"))
    (jp_root_dir / "link").symlink_to(outside.parent)
    code, _, body = api("runs", params={"db": "link/.tracker/tracker.db"})
    assert code == 400 and "outside the server root" in json.loads(body)["message"]


def test_a_database_in_a_subfolder(api, jp_root_dir):
    make_runs(open_store(jp_root_dir / "exp" / ".tracker" / "tracker.db"))
    reply = json.loads(api("runs", params={"db": "exp/./.tracker/tracker.db"})[2])
    assert reply["db"] == "exp/.tracker/tracker.db" and len(reply["runs"]) == 3


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

    scratch = jp_root_dir / "scratch"
    scratch.mkdir()
    cases = {}
    for name, reason in not_databases(scratch).items():  # each one put where a store would be
        db = f"{name.replace('.', '-')}/.tracker/tracker.db"
        (jp_root_dir / db).parent.mkdir(parents=True)
        (scratch / name).rename(jp_root_dir / db)
        cases[db] = reason
    scratch.rmdir()

    def files():
        return {
            p.relative_to(jp_root_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in jp_root_dir.rglob("*")
            if p.is_file()
        }

    before = files()
    endpoints = [("runs",), ("runs", "1"), ("runs", "1", "metrics"), ("runs", "1", "card"), ("compare",)]
    for db, reason in cases.items():
        for path in endpoints:
            code, _, body = api(*path, params={"db": db, "ids": "1,2"})
            message = json.loads(body)["message"]
            assert code == 400, (db, path, code, message)
            assert message.startswith(db) and reason in message, (db, path, message)
            assert str(jp_root_dir) not in message and str(jp_root_dir.resolve()) not in message
    assert files() == before  # nothing created, changed or switched to WAL (no -wal/-shm beside them)


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

    folder = jp_root_dir / "old" / ".tracker"
    folder.mkdir(parents=True)
    _version_1(folder / "tracker.db")
    before = hashlib.sha256((folder / "tracker.db").read_bytes()).hexdigest()
    db = "old/.tracker/tracker.db"
    code, _, body = api("runs", params={"db": db})
    assert code == 200 and [run["name"] for run in json.loads(body)["runs"]] == ["old"]
    assert api("runs", "old", params={"db": db})[0] == 200
    assert hashlib.sha256((folder / "tracker.db").read_bytes()).hexdigest() == before
    assert sorted(p.name for p in folder.iterdir()) == ["tracker.db"]


# -- the two edits (POST) ---------------------------------------------------------------------------
def test_rename_and_tag_edits_land_in_the_store(api, runs):
    store, ids = runs
    code, _, body = api("runs", "baseline", "rename", body={"name": "  baseline-v2 "})
    assert code == 200, body
    assert json.loads(body)["run"]["name"] == "baseline-v2"
    assert store.get_run(ids["baseline"]).name == "baseline-v2"
    code, _, body = api(
        "runs", str(ids["baseline"]), "tags", body={"add": ["best", "cnn"], "remove": ["first"]}
    )
    assert code == 200, body
    assert sorted(json.loads(body)["run"]["tags"]) == ["best", "cnn"]
    assert sorted(store.get_run(ids["baseline"]).tags) == ["best", "cnn"]
    # The listing shows them, and the next incremental listing sends the run again.
    listed = {run["id"]: run for run in json.loads(api("runs")[2])["runs"]}
    assert listed[ids["baseline"]]["name"] == "baseline-v2"


def test_an_edit_in_a_subfolder_store(api, jp_root_dir):
    store = open_store(jp_root_dir / "nb" / ".tracker" / "tracker.db")
    ids = make_runs(store)
    params = {"db": "nb/.tracker/tracker.db"}
    assert api("runs", "wide", "rename", params=params, body={"name": "narrow"})[0] == 200
    assert store.get_run(ids["wide"]).name == "narrow"
    assert not (jp_root_dir / ".tracker").exists()


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("rename", {"name": ""}, "name must be non-empty text"),
        ("rename", {"name": "   "}, "name must be non-empty text"),
        ("rename", {"name": 7}, "name must be non-empty text"),
        ("rename", {}, "name must be non-empty text"),
        ("rename", {"name": "x" * 251}, "at most 250"),
        ("rename", ["baseline"], "JSON object"),
        ("rename", {"name": "wide"}, "wide"),  # taken in the project
        ("tags", {}, "give tags to add or remove"),
        ("tags", {"add": "cnn"}, "add must be a list of non-empty strings"),
        ("tags", {"add": [1]}, "add must be a list of non-empty strings"),
        ("tags", {"remove": [""]}, "remove must be a list of non-empty strings"),
        ("tags", {"add": ["t"] * 101}, "at most 100"),
        ("tags", {"add": ["x" * 201]}, "longer than 200"),
    ],
)
def test_edits_refuse_bad_input_and_change_nothing(api, runs, path, body, words):
    store, ids = runs
    before = store.get_run(ids["baseline"])
    code, _, reply = api("runs", "baseline", path, body=body)
    assert code == 400 and words in json.loads(reply)["message"], reply
    after = store.get_run(ids["baseline"])
    assert (after.name, after.tags) == (before.name, before.tags)


def test_edits_of_what_is_not_there(api, runs, jp_root_dir):
    assert api("runs", "9999", "rename", body={"name": "x"})[0] == 404
    code, _, body = api("runs", "1", "rename", params={"db": "no/.tracker/tracker.db"}, body={"name": "x"})
    assert code == 404 and "no database at no/.tracker/tracker.db" in json.loads(body)["message"]
    assert not (jp_root_dir / "no").exists()  # an edit never creates a store
    assert api("runs", "1", "tags", params={"db": "../.tracker/tracker.db"}, body={"add": ["x"]})[0] == 400
    (jp_root_dir / "notes.db").write_text("not runs")  # a file that is no database: refused, left as it was
    assert api("runs", "1", "tags", params={"db": "notes.db"}, body={"add": ["x"]})[0] == 400
    assert (jp_root_dir / "notes.db").read_text() == "not runs"


def _cookies(headers) -> str:
    jar = SimpleCookie()
    for value in headers.get_list("Set-Cookie"):
        jar.load(value)
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


def test_edits_need_the_token_or_a_login_cookie_with_xsrf(api, runs):
    store, ids = runs
    rename = ("runs", "baseline", "rename")
    # No credentials at all.
    assert api(*rename, headers={"Authorization": ""}, body={"name": "a"})[0] == 403
    # A login cookie (as a browser holds after logging in) but no XSRF token: refused.
    _, headers, _ = api("stores")  # a token-authenticated request: the server sets its login cookie
    login = _cookies(headers)
    assert login.startswith("username-")
    code, _, body = api(*rename, headers={"Authorization": "", "Cookie": login}, body={"name": "a"})
    assert code == 403 and "'_xsrf' argument missing" in body
    xsrf = secrets.token_hex(16)
    code, _, body = api(
        *rename,
        headers={
            "Authorization": "",
            "Cookie": f"{login}; _xsrf={xsrf}",
            "X-XSRFToken": secrets.token_hex(16),
        },
        body={"name": "a"},
    )
    assert code == 403 and "XSRF" in body  # a token that is not the cookie's
    assert store.get_run(ids["baseline"]).name == "baseline"
    # The cookie and the same XSRF token in the header, as JupyterLab sends them.
    code, _, body = api(
        *rename,
        headers={"Authorization": "", "Cookie": f"{login}; _xsrf={xsrf}", "X-XSRFToken": xsrf},
        body={"name": "from-the-browser"},
    )
    assert code == 200, body
    assert store.get_run(ids["baseline"]).name == "from-the-browser"


class ReadOnlyAuthorizer(Authorizer):
    """Lets users read the tracker's runs but not edit them."""

    def is_authorized(self, handler, user, action, resource):
        return not (resource == "jupyter_tracker" and action == "write")


class TestAnAuthorizerThatAllowsReadingOnly:
    @pytest.fixture
    def jp_server_config(self):
        return Config(
            {
                "ServerApp": {
                    "jpserver_extensions": {"jupyter_tracker.server": True},
                    "authorizer_class": ReadOnlyAuthorizer,
                }
            }
        )

    def test_reads_pass_and_edits_are_forbidden(self, api, runs):
        store, ids = runs
        assert api("runs")[0] == 200 and api("stores")[0] == 200
        code, _, body = api("runs", "baseline", "rename", body={"name": "nope"})
        assert code == 403, body
        assert api("runs", "baseline", "tags", body={"add": ["nope"]})[0] == 403
        assert (
            store.get_run(ids["baseline"]).name == "baseline"
            and "nope" not in store.get_run(ids["baseline"]).tags
        )


def test_a_run_shared_with_mlflow_carries_its_page_there(api, runs):
    store, ids = runs
    first = json.loads(api("runs")[2])
    assert {run["mlflow_url"] for run in first["runs"]} == {None}
    server, remote = "http://mlflow.example:5000", "0123456789abcdef0123456789abcdef"
    store.save_sync(ids["baseline"], server, remote, "7", "push", {"keys": {}}, time.time())
    page = f"{server}/#/experiments/7/runs/{remote}"
    # A push changes no field of the run, yet a client that listed it before gets it again with its link.
    later = json.loads(api("runs", params={"since": first["now"]})[2])
    assert {run["name"]: run["mlflow_url"] for run in later["runs"]} == {"resnet": None, "baseline": page}
    assert json.loads(api("runs", "baseline")[2])["mlflow_url"] == page
