import json
import math
import sqlite3
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import jupyter_tracker as jt
from jupyter_tracker.errors import InvalidArgument, InvalidMetric, NoActiveRun, RunClosed, TrackerError
from jupyter_tracker.tracking import writer


def _steps(name: str) -> dict[str, list[int]]:
    frame = jt.load_run(name).metrics()
    return {key: group.step.tolist() for key, group in frame.groupby("key", sort=False)}


def test_the_step_advances_when_a_key_repeats_and_explicit_steps_are_kept(db):
    with jt.start_run(name="s", system=False) as run:
        run.log(a=1)
        run.log(a=2, b=3)  # a repeats: step 1, and b joins it
        run.log({"a": 4}, step=10)
        run.log(a=5)
        run.log_metric("b", 6, step=3)  # an earlier step leaves the current one as it is
        run.log(c=7)  # new at the current step (11): joins it
        assert (run.step, run.next_step) == (11, 12)
    assert _steps("s") == {"a": [0, 1, 10, 11], "b": [1, 3], "c": [11]}
    assert jt.load_run("s").metrics().value.dtype == float


def test_separate_calls_for_different_keys_share_a_step(db):
    with jt.start_run(name="epochs", system=False) as run:
        for epoch in range(3):
            run.log_metric("train_loss", 1 / (epoch + 1))
            run.log_metric("val_loss", 2 / (epoch + 1))
            assert run.step == epoch
    assert _steps("epochs") == {"train_loss": [0, 1, 2], "val_loss": [0, 1, 2]}


def test_an_epoch_value_lands_at_the_step_of_the_batch_before_it(db):
    with jt.start_run(name="batches", system=False) as run:
        for _epoch in range(2):
            for _batch in range(3):
                run.log(loss=0.5)
            run.log(val_loss=0.4)  # new at the current step: it joins the last batch's step
    assert _steps("batches") == {"loss": [0, 1, 2, 3, 4, 5], "val_loss": [2, 5]}


def test_log_metric_takes_step_and_timestamp_by_keyword_only(db):
    with jt.start_run(name="kw", system=False) as run:
        with pytest.raises(InvalidArgument, match="pass step= or timestamp= by keyword"):
            run.log_metric("loss", 0.5, 1_767_225_600_000)  # OpsML's log_metric(key, value, timestamp)
        with pytest.raises(InvalidArgument, match="milliseconds, pass timestamp=1767225600000 / 1000"):
            run.log_metric("loss", 0.5, timestamp=1_767_225_600_000)
        run.log_metric("loss", 0.5, step=4, timestamp=1_767_225_600)
    assert _steps("kw") == {"loss": [4]}
    assert jt.load_run("kw").store.points(run.id)[0][3] == 1_767_225_600


def test_values_numpy_scalars_and_0d_tensors(db):
    class Tensor0d:  # the shape of a 0-d torch tensor: .item() and .ndim
        ndim = 0

        def item(self):
            return 0.25

    with jt.start_run(name="v", system=False) as run:
        run.log(
            i=3,
            b=True,
            f32=np.float32(0.5),
            i64=np.int64(7),
            arr=np.array(1.5),
            t=Tensor0d(),
            nan=math.nan,
            inf=-math.inf,
        )
    last = jt.load_run("v").summary()["last"]
    assert last["i"] == 3 and last["b"] == 1 and last["f32"] == 0.5 and last["i64"] == 7
    assert last["arr"] == 1.5 and last["t"] == 0.25 and math.isnan(last["nan"]) and last["inf"] == -math.inf
    # an int beyond float64 (10**400) is refused, no longer stored as inf: see test_validation.py


@pytest.mark.parametrize("value", ["0.3", None, [1.0], np.array([1.0, 2.0]), {"a": 1}, 1j])
def test_non_numeric_values_are_refused_naming_key_and_type(db, value):
    with jt.start_run(name="bad", system=False) as run:
        with pytest.raises(InvalidMetric, match=r"metric 'loss' got a .*values must be numbers"):
            run.log(loss=value)
        run.log(ok=1)  # the run goes on
    assert jt.load_run("bad").summary().index.tolist() == ["ok"]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "non-empty"),
        ("x" * 251, "at most 250"),
        ("a\nb", "control character"),
        ("tab\t", "control character"),
    ],
)
def test_bad_keys(db, key, message):
    with jt.start_run(system=False) as run, pytest.raises(InvalidMetric, match=message):
        run.log({key: 1.0})


def test_bad_steps_and_timestamps(db):
    with jt.start_run(system=False) as run:
        with pytest.raises(InvalidArgument, match="whole number"):
            run.log(a=1, step=1.5)
        with pytest.raises(InvalidArgument, match=">= 0"):
            run.log(a=1, step=-1)
        with pytest.raises(InvalidArgument, match="ISO-8601"):
            run.log(a=1, timestamp="yesterday")


def test_timestamps_keep_microseconds(db):
    with jt.start_run(name="ts", system=False) as run:
        run.log(a=1, timestamp="2026-01-31T12:00:00.123456")
        run.log(a=2, timestamp="2026-01-31T12:00:01.000001Z")
        run.log(a=3, time=2.5)
        started = run.started
    times = jt.load_run("ts").store.points(jt.load_run("ts").id)
    assert [round(t, 6) for *_, t in times[:2]] == [1769860800.123456, 1769860801.000001]
    assert times[2][3] == pytest.approx(started + 2.5)


def test_log_outside_a_run_says_how_to_start_one(db):
    with pytest.raises(NoActiveRun, match="%%track_run.*start_run"):
        jt.log(loss=1)


def test_module_log_reaches_the_active_run_from_any_thread(db):
    with jt.start_run(name="t", system=False):
        worker = threading.Thread(target=lambda: jt.log(from_thread=1.0))
        worker.start()
        worker.join()
        jt.log(main=2.0)
    assert set(jt.load_run("t").summary().index) == {"from_thread", "main"}
    assert jt.active_run() is None


def test_exceptions_end_the_run_with_the_right_status(db):
    with pytest.raises(ZeroDivisionError), jt.start_run(name="f", system=False) as run:
        run.log(a=1)
        1 / 0  # noqa: B018
    with pytest.raises(KeyboardInterrupt), jt.start_run(name="i", system=False) as run:
        run.log(a=1)
        raise KeyboardInterrupt
    failed, interrupted = jt.load_run("f").info, jt.load_run("i").info
    assert failed.status == "failed" and "ZeroDivisionError" in failed.error
    assert interrupted.status == "interrupted" and "KeyboardInterrupt" in interrupted.error
    assert jt.load_run("f").summary()["count"]["a"] == 1


def test_logging_after_the_end_is_refused_saying_how_to_resume(db):
    with jt.start_run(name="my run", system=False) as run:
        pass
    how = r"resume it to log more: `%%track_run --resume 'my run'`.*jupyter_tracker.reconnect\('my run'\)"
    for call in (lambda: run.log(a=1), lambda: run.log_param("a", 1), lambda: run.track_this(a=1)):
        with pytest.raises(RunClosed, match=how.replace("log more", ".*")):
            call()
    with pytest.raises(RunClosed, match="save artifacts"):
        run.log_artifact({"x": 1}, "x")


def test_resume_continues_steps_and_keys(db):
    with jt.start_run(name="r", system=False) as run:
        run.log(loss=1.0)
        run.log(loss=0.5)
    with jt.start_run(resume="r", system=False) as again:
        assert again.id == run.id
        again.log(loss=0.25, acc=0.9)
    frame = jt.load_run("r").metrics()
    assert frame[frame.key == "loss"].step.tolist() == [0, 1, 2]
    assert jt.load_run("r").status == "finished"


def test_resume_of_a_running_run_is_refused(db):
    with jt.start_run(name="busy", system=False), pytest.raises(TrackerError, match="still running"):
        jt.start_run(resume="busy", system=False)


def test_params_tags_metadata_events(db):
    with jt.start_run(name="m", params={"lr": 0.1}, tags="a, b", metadata={"team": "x"}, system=False) as run:
        run.log_params({"layers": [64, 32]}, dropout=0.5)
        run.log_param("lr", 0.2)
        run.add_tags("c", ["d", "a"])
        assert run.update_metadata(owner="me") == {"team": "x", "owner": "me"}
        run.log_event("checkpoint saved", level="warning", path="/tmp/x")
        with pytest.raises(InvalidArgument, match="level"):
            run.log_event("x", level="loud")
    record = jt.load_run("m")
    assert record.params == {"lr": 0.2, "layers": [64, 32], "dropout": 0.5}
    assert record.tags == ["a", "b", "c", "d"]
    assert record.info.metadata == {"team": "x", "owner": "me"}
    events = record.events()
    assert events.message.tolist() == ["param 'lr' changed: 0.1 -> 0.2", "checkpoint saved"]
    assert events.extra[1] == {"path": "/tmp/x"}


def test_a_param_logged_again_keeps_the_latest_and_its_history_as_events(db):
    with jt.start_run(name="hist", params={"lr": 0.1}, system=False) as run:
        run.log_parameter("lr", 0.01)  # OpsML's spelling
        run.log_param("lr", 0.01)  # the same value again: nothing changed
        run.log_params({"lr": 0.001, "opt": "adam"})
    record = jt.load_run("hist")
    assert record.params == {"lr": 0.001, "opt": "adam"}
    history = [e for e in record.events().extra if e.get("param") == "lr"]
    assert history == [
        {"param": "lr", "value": 0.01, "previous": 0.1},
        {"param": "lr", "value": 0.001, "previous": 0.01},
    ]


def test_key_value_tags_keep_their_values_and_plain_tags_stay_plain(db):
    with jt.start_run(name="kv", tags={"team": "vision"}, system=False) as run:
        run.add_tags("cnn", framework="torch")  # plain and key/value in one call
        run.add_tags({"dataset": "mnist", "version": 2})  # OpsML's add_tags(dict): values kept as text
        run.add_tag("owner", "ana")  # OpsML
        run.set_tag("framework", "jax")  # MLflow: a new value replaces the old
        run.add_tag("baseline")
        run.add_tags("framework")  # a plain add keeps the value the tag has
        with pytest.raises(InvalidArgument, match="carry values.*set_tag"):
            run.set_folder_details(tags={"a": "b"})  # folder tags are plain: values are refused, not dropped
        assert run.tag_values["framework"] == "jax"
    info = jt.load_run("kv").info
    assert info.tags == ("baseline", "cnn", "dataset", "framework", "owner", "team", "version")
    assert info.tag_values == {
        "baseline": None,
        "cnn": None,
        "dataset": "mnist",
        "framework": "jax",
        "owner": "ana",
        "team": "vision",
        "version": "2",
    }
    jt.reconnect("kv").remove_tags("framework", "cnn")
    jt.active_run().finish()
    assert jt.load_run("kv").info.tag_values == {
        "baseline": None,
        "dataset": "mnist",
        "owner": "ana",
        "team": "vision",
        "version": "2",
    }
    assert jt.runs(tags="owner").name.tolist() == ["kv"]  # filters match the tag's name
    assert jt.runs().tags[0] == "baseline, dataset, owner, team, version"


def test_tags_of_an_older_file_read_as_plain_without_migrating_it(db, tmp_path):
    from test_migrations import _version_1

    path = tmp_path / "old.db"
    _version_1(path)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO tags (run, tag) VALUES (1, 'cnn')")
    conn.commit()
    conn.close()
    info = jt.load_run("old", db=path).info
    assert info.tags == ("cnn",) and info.tag_values == {"cnn": None}
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 1  # never migrated


def test_simvue_run_then_init_and_its_status_words(db):
    run = jt.Run()
    assert run.status == "created"
    with pytest.raises(RunClosed, match=r"not started yet: call run.init\(name=...\) first"):
        run.log_metrics({"loss": 1.0})
    with pytest.raises(InvalidArgument, match="no 'created' state"):
        run.init(name="sim", status="created")
    assert (
        run.init(name="sim", metadata={"n": 1}, tags=["a"], description="d", folder="/x", system=False) is run
    )
    assert jt.active_run() is run and run.status == "running"
    run.log_metrics({"loss": 1.0})
    run.update_tags(["b"])
    with pytest.raises(TrackerError, match="started already"):
        run.init(name="again")
    run.set_status("completed")
    info = jt.load_run("sim").info
    assert (info.status, info.metadata, info.tags, info.description, info.folder) == (
        "finished",
        {"n": 1},
        ("a", "b"),
        "d",
        "/x",
    )
    for word, status in [("terminated", "interrupted"), ("lost", "crashed"), ("failed", "failed")]:
        other = jt.start_run(name=word, system=False)
        other.set_status(word)
        assert jt.load_run(word).status == status
    with pytest.raises(InvalidArgument, match="Simvue's completed, terminated, lost"):
        jt.start_run(system=False).set_status("done")
    jt.active_run().finish()


def test_log_system_keeps_each_snapshot_as_an_event(db):
    with jt.start_run(name="sys", system=False) as run:
        snapshot = run.log_system()
    record = jt.load_run("sys")
    assert record.info.environment["machine"]["python_version"] == snapshot["python_version"]
    assert record.events().extra[0]["system"]["os"] == snapshot["os"]


def test_names_default_project_and_rerun_suffix(db):
    with jt.start_run(system=False) as anonymous:
        pass
    adjective, noun = anonymous.name.split("-")
    assert adjective.isalpha() and noun.isalpha() and anonymous.project == "default"
    names = [jt.start_run(name="same", system=False) for _ in range(3)]
    for run in names:
        run.finish()
    assert [r.name for r in names] == ["same", "same-2", "same-3"]


def test_runs_frame_has_params_and_last_metrics(db):
    for lr in (0.1, 0.01):
        with jt.start_run(name=f"lr{lr}", project="p", params={"lr": lr}, tags=["grid"], system=False) as run:
            run.log(loss=lr * 10)
            run.log(loss=lr)
    frame = jt.runs(project="p")
    assert frame.name.tolist() == ["lr0.01", "lr0.1"]
    assert frame["params.lr"].tolist() == [0.01, 0.1]
    assert frame["metrics.loss"].tolist() == [0.01, 0.1]
    assert set(frame.columns) >= {"id", "status", "started", "duration", "tags"}
    assert jt.runs(status="failed").empty and len(jt.runs(tags="grid")) == 2


def test_run_captures_its_context(db):
    with jt.start_run(name="ctx", system=False, cell_source="print(1)", execution_count=7):
        pass
    info = jt.load_run("ctx").info
    assert info.host and info.pid and info.cell_source == "print(1)" and info.execution_count == 7
    assert info.environment["python"]["version"] == __import__("platform").python_version()
    assert "psutil" in info.environment["packages"]


def test_git_is_recorded_inside_a_repository(db, tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"],
        cwd=tmp_path,
        check=True,
    )
    with jt.start_run(name="git", system=False):
        pass
    info = jt.load_run("git").info
    assert len(info.git_commit) == 40 and info.git_branch in ("main", "master") and info.git_dirty is False


def test_flush_waits_for_everything_logged_so_far(db):
    with jt.start_run(name="open", system=False) as run:
        for step in range(5000):
            run.log(loss=step)
        run.log_event("half way")
        assert run._writer.flush(timeout=10)
        assert run.store.summaries([run.id])[run.id]["loss"]["count"] == 5000
        assert list(run.events().message) == ["half way"]
        card = run.export(db.parent / "open.json")  # exporting an open run writes all logged so far
        assert json.loads(card.read_text())["metrics"]["summaries"]["loss"]["count"] == 5000


def test_a_flush_racing_close_never_waits_out_its_timeout(db):
    with jt.start_run(name="racer", system=False) as run:
        store, run_id = run.store, run.id
    for _ in range(100):
        batch = writer.BatchWriter(store, run_id)
        result = {}
        flusher = threading.Thread(target=lambda b=batch, r=result: r.setdefault("ok", b.flush(timeout=5)))
        closer = threading.Thread(target=batch.close)
        closer.start(), flusher.start()
        flusher.join(2)
        closer.join(2)
        assert result.get("ok") is True


def test_threads_do_not_leak_across_100_runs(db):
    before = threading.active_count()
    for _ in range(100):
        with jt.start_run(system=False) as run:
            run.log(a=1)
    assert threading.active_count() == before


def test_memory_stays_bounded_under_back_pressure(db, monkeypatch):
    monkeypatch.setattr(writer, "MAX_PENDING", 5_000)
    monkeypatch.setattr(writer, "BATCH_POINTS", 1_000)
    with jt.start_run(name="bp", system=False) as run:
        store = run.store
        original = store.write_batch
        peak = 0

        def slow_write(*args, **kwargs):
            nonlocal peak
            peak = max(peak, len(run._writer._points))
            __import__("time").sleep(0.01)
            original(*args, **kwargs)

        monkeypatch.setattr(store, "write_batch", slow_write)
        for i in range(20_000):
            run.log(x=i)
            peak = max(peak, len(run._writer._points))
    assert peak <= 5_000 + 1
    assert jt.load_run("bp").summary()["count"]["x"] == 20_000


def _python(code: str, db) -> subprocess.CompletedProcess:
    env = {**__import__("os").environ, "TRACKER_DB": str(db)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=60
    )


def test_interpreter_exit_flushes_open_runs(db):
    done = _python(
        """
        import jupyter_tracker as jt
        run = jt.start_run(name="left-open", system=False)
        for i in range(1000):
            run.log(x=i)
        """,
        db,
    )
    assert done.returncode == 0, done.stderr
    record = jt.load_run("left-open")
    assert record.status == "finished" and record.summary()["count"]["x"] == 1000


def test_an_uncaught_exception_at_exit_marks_the_run_failed(db):
    done = _python(
        """
        import jupyter_tracker as jt
        run = jt.start_run(name="dies", system=False)
        run.log(x=1)
        raise RuntimeError("boom")
        """,
        db,
    )
    assert done.returncode == 1
    info = jt.load_run("dies").info
    assert info.status == "failed" and "RuntimeError: boom" in info.error


def test_project_defaults_to_the_notebook_name(db, monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "experiments/mnist-cnn.ipynb")
    with jt.start_run(name="nb", system=False) as run:
        pass
    assert run.project == "mnist-cnn"
    assert jt.load_run("nb").info.notebook == "experiments/mnist-cnn.ipynb"


def test_what_log_cannot_take_is_refused_naming_what_to_write(tmp_path):
    with jt.start_run(db=tmp_path / "t.db", system=False) as run:
        for bad in (0.5, "loss", [{"a": 1}]):
            with pytest.raises(InvalidArgument, match=r"log\(\) takes metrics as a dict or as keywords"):
                run.log(bad)
        with pytest.raises(InvalidArgument, match=r"run.log_metric\('loss', value\)"):
            run.log("loss", 0.5)
    with pytest.raises(RunClosed, match="resume it to log events"):
        run.log_event("after the end")  # refused like log(), not set aside without a word


@pytest.mark.parametrize(
    ("name", "why"),
    [("42", "all digits"), ("a\nb", "control character"), ("x" * 251, "at most 250"), (" ", "non-empty")],
)
def test_run_names_that_could_not_be_looked_up_again_are_refused_at_start(tmp_path, name, why):
    with pytest.raises(InvalidArgument, match=why):
        jt.start_run(name=name, db=tmp_path / "t.db", system=False)
    assert not (tmp_path / "t.db").exists()  # refused before any file is touched


def test_surrounding_spaces_are_dropped_from_a_name_so_it_is_found_again(tmp_path):
    with jt.start_run(name="  padded  ", db=tmp_path / "t.db", system=False) as run:
        run.log(x=1)
    assert jt.load_run("padded", db=tmp_path / "t.db").name == "padded"


def test_an_unstarted_simvue_run_says_to_call_init(tmp_path):
    run = jt.Run()
    with pytest.raises(RunClosed, match=r"call run.init\(name=...\) first"):
        run.add_tags("x")
    assert not hasattr(run, "files")  # still an AttributeError for hasattr()
    run.init(name="later", db=tmp_path / "t.db", system=False)
    run.add_tags("x")
    run.close()
    assert jt.load_run("later", db=tmp_path / "t.db").tags == ["x"]


def test_a_name_shared_by_several_projects_is_refused_naming_them(tmp_path):
    db = tmp_path / "t.db"
    for project in ("mnist", "cifar"):
        with jt.start_run(name="baseline", project=project, db=db, system=False) as run:
            run.log(x=1)
    with pytest.raises(
        InvalidArgument, match=r"run name 'baseline' is in several projects: 'cifar' \(id 2\), 'mnist'"
    ):
        jt.load_run("baseline", db=db)
    assert jt.load_run("baseline", project="mnist", db=db).id == 1
