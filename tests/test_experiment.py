import os
import subprocess
import sys
import time
from datetime import datetime, timezone

import pandas as pd
import pytest

import jupyter_tracker as jt
from jupyter_tracker.errors import InvalidArgument, InvalidParam, RunNotFound, TrackerError
from jupyter_tracker.reading.experiment import COLUMNS, experiment
from jupyter_tracker.tracking.folders import folders, set_folder_details
from jupyter_tracker.tracking.start import reconnect


def _three_runs():
    jt.start_run(name="elsewhere", project="other", system=False).finish()  # ids and numbers differ
    ids = []
    for i, accs in enumerate([[0.5, 0.6], [0.7, 0.8, 0.9], [0.2]]):
        with jt.start_run(name=f"r{i}", project="iris", params={"lr": 0.1 * (i + 1)}, system=False) as run:
            for acc in accs:
                run.log(acc=acc, loss=1 - acc)
            run.log_event(f"run {i} done")
        ids.append(run.id)
    return ids


def test_data_is_long_with_the_omegaml_columns(db):
    ids = _three_runs()
    exp = experiment("iris")
    latest = exp.data()
    assert list(latest.columns) == COLUMNS
    assert ids == [2, 3, 4] and set(latest.run) == {3}  # run=None: the latest run, numbered in its experiment
    assert latest.event.tolist() == ["start", "param", "metric", "metric", "event", "stop"]
    assert latest.experiment.unique().tolist() == ["iris"] and latest.node.notna().all()
    assert latest.set_index("event").value["stop"] == "finished"
    assert latest[latest.event == "param"].value.tolist() == [pytest.approx(0.3)]
    everything = exp.data(run="*")
    assert sorted(set(everything.run)) == [1, 2, 3]
    acc = exp.data(event="metric", key="acc", run="*")
    assert acc.value.dtype == "float64" and acc.value.round(6).tolist() == [0.5, 0.6, 0.7, 0.8, 0.9, 0.2]
    assert acc.step.tolist() == [0, 1, 0, 1, 2, 0]
    assert len(exp.data(key="acc", run=[1, "r2"])) == 3  # the experiment's first run (omega|ml's numbers)
    assert exp.data(event="param", run=2).value.tolist() == [pytest.approx(0.2)]
    assert exp.runs().run.tolist() == [3, 2, 1] and exp.runs().id.tolist() == [4, 3, 2]
    assert set(exp.data(run=exp.runs().run[0]).run) == {3}  # numpy numbers from runs() work too
    assert set(exp.data(event=["start", "stop"], run="*").event) == {"start", "stop"}
    with pytest.raises(InvalidArgument, match="unknown event"):
        exp.data(event="metrics")
    with pytest.raises(RunNotFound, match="numbered 1 to 3"):
        exp.data(run=4)  # the id of r2, but the experiment has three runs


def test_data_plots_directly(db):
    _three_runs()
    pytest.importorskip("matplotlib").use("Agg")
    axes = experiment("iris").data(event="metric", key="acc", run="*").plot(x="run", y="value")
    assert len(axes.get_lines()[0].get_xdata()) == 6


def test_summary_per_metric_key_over_several_runs(db):
    _three_runs()
    exp = experiment("iris")
    summary = exp.summary(run="*").set_index("key")
    assert list(summary.columns) == ["event", "count", "mean", "std", "min", "25%", "50%", "75%", "max"]
    expected = pd.Series([0.5, 0.6, 0.7, 0.8, 0.9, 0.2]).describe()
    assert summary.loc["acc", "count"] == 6
    for stat in ["mean", "std", "min", "25%", "50%", "75%", "max"]:
        assert summary.loc["acc", stat] == pytest.approx(expected[stat])
    assert exp.summary().set_index("key").loc["acc", "count"] == 1  # the latest run alone
    assert experiment("nothing").summary().empty


def test_since_and_timestamps_round_trip_with_microseconds(db):
    with jt.start_run(name="ts", project="t", system=False) as run:
        run.log_metrics({"a": 1}, timestamp="2026-01-31T12:00:00.123456")
        run.log_metrics({"a": 2}, timestamp="2026-01-31T12:00:01.000001Z")
        run.log_metrics({"a": 3}, timestamp=datetime(2026, 1, 31, 12, 0, 2, 999999, tzinfo=timezone.utc))
        run.log_metrics({"a": 4}, time=0.000123)
        run.log_event("checkpoint", timestamp="2026-01-31T12:00:03.000007+00:00")
        started = run.started
    data = experiment("t").data(event=["metric", "event"])
    dts = [dt.isoformat() for dt in data.dt[:4]]
    assert dts == [
        "2026-01-31T12:00:00.123456+00:00",
        "2026-01-31T12:00:01.000001+00:00",
        "2026-01-31T12:00:02.999999+00:00",
        "2026-01-31T12:00:03.000007+00:00",
    ]
    assert data.dt[4] == pd.Timestamp(round((started + 0.000123) * 1e6), unit="us", tz="UTC")
    since = experiment("t").data(event="metric", since="2026-01-31T12:00:01.000001")
    assert since.value.tolist() == [2, 3, 4]


def test_log_extra_fields_become_columns_of_later_points_and_events(db):
    with jt.start_run(name="x", project="extra", system=False) as run:
        run.log(score=0.1)
        run.log_event("before")
        assert run.log_extra(tag="v1.5") == {"tag": "v1.5"}
        run.log(score=0.2)
        run.log(score=0.3, step=0)  # an earlier step logged later still gets the fields
        run.log_event("after")
        run.log_extra(tag="v2", batch=[1, 2])
        run.log(score=0.4)
        with pytest.raises(InvalidParam, match="hide the data"):
            run.log_extra(value=1)
    data = experiment("extra").data()
    scores = data[data.key == "score"]
    assert scores.value.tolist() == [0.1, 0.2, 0.3, 0.4]
    assert scores.tag.tolist()[0] is None or pd.isna(scores.tag.tolist()[0])
    assert scores.tag.tolist()[1:] == ["v1.5", "v1.5", "v2"]
    assert scores.batch.tolist()[3] == [1, 2]
    events = data[data.event == "event"]
    assert events.value.tolist() == ["before", "after"] and events.tag.tolist()[1] == "v1.5"
    assert data.set_index("event").tag["stop"] == "v2"
    assert jt.load_run("x").events().extra[1] == {"tag": "v1.5"}


def test_alerts_artifacts_system_snapshots_and_hardware_rows(db):
    with jt.start_run(name="all", project="kinds", system=False) as run:
        run.add_alert("hot", metric="system/cpu", rule="is above", threshold=90, window=1)
        run._record_sample(time.time(), [("system/cpu", 95.0)])  # what the hardware sampler hands over
        run.log_artifact({"w": 1}, "model")
        snapshot = run.log_system()
    exp = experiment("kinds")
    data = exp.data()
    assert "hardware" not in set(data.event)  # hardware samples only when asked for
    assert exp.data(event="hardware").key.tolist() == ["system/cpu"]
    assert exp.data(event="system").value[0] == snapshot  # omega|ml: the log_system() snapshots
    assert "event" not in set(data.event)  # the snapshot is not an event row too
    assert data.set_index("event").value["alert"] == "critical"
    artifact = data.set_index("event").value["artifact"]
    assert artifact["mime"] == "application/x-python-pickle" and artifact["size"] > 0


def test_experiment_as_a_context_manager_logs_a_run(db):
    with experiment("ctx") as exp:
        exp.log_metric("score", 0.5)
        exp.log_param("params", {"C": 1.0})
        exp.log_artifact(["a model"], "model")
        exp.log_extra(tag="v1")
    assert exp.data().event.tolist() == ["start", "param", "metric", "artifact", "stop"]
    assert len(exp.data(event="hardware")) > 0  # sampled (on by default), listed only when asked for
    assert exp.restore_artifacts() == [["a model"]] and exp.load_artifact("model") == ["a model"]
    with pytest.raises(AttributeError, match="inside `with experiment"):
        exp.log_metric("x", 1)
    with pytest.raises(ZeroDivisionError), experiment("ctx") as again:
        again.log_metric("score", 1)
        1 / 0  # noqa: B018
    assert exp.runs().status.tolist() == ["failed", "finished"]


def test_folders_details_and_listing(db):
    with jt.start_run(name="a", folder="/team/exp1", system=False) as run:
        details = run.set_folder_details(metadata={"owner": "ana"}, tags=["cnn"])
    jt.start_run(name="b", folder="team/exp2/", system=False).close()
    jt.start_run(name="c", folder="/other", system=False).close()
    assert details == {
        "path": "/team/exp1",
        "description": None,
        "metadata": {"owner": "ana"},
        "tags": ["cnn"],
    }
    merged = set_folder_details("/team/exp1/", metadata={"n": 2}, tags="cnn, small", description="first try")
    assert merged == {
        "path": "/team/exp1",
        "description": "first try",
        "metadata": {"owner": "ana", "n": 2},
        "tags": ["cnn", "small"],
    }
    assert sorted(jt.runs(folder="/team").name) == ["a", "b"]
    assert jt.runs(folder="/team/exp2").name.tolist() == ["b"]
    listing = folders().set_index("path")
    assert listing.runs.to_dict() == {"/": 3, "/other": 1, "/team": 2, "/team/exp1": 1, "/team/exp2": 1}
    assert listing.description["/team/exp1"] == "first try"
    with pytest.raises(InvalidArgument, match="'..'"):
        set_folder_details("/team/../x")
    assert sorted(experiment("default", folder="/team").runs().name) == ["a", "b"]


def test_metadata_description_status_and_close_without_a_context_manager(db):
    run = jt.start_run(name="plain", description="first", metadata={"team": "x", "n": 1}, system=False)
    assert run.update_metadata({"n": 2}, lr=0.1) == {"team": "x", "n": 2, "lr": 0.1}
    run.log(a=1)
    run.close()
    info = jt.load_run("plain").info
    assert info.status == "finished" and info.description == "first" and info.metadata["n"] == 2
    other = jt.start_run(name="stopped", system=False)
    other.set_status("interrupted")
    assert jt.load_run("stopped").status == "interrupted"


def test_reconnect_to_an_open_run_or_resume_an_ended_one(db):
    first = jt.start_run(name="open", system=False)
    second = jt.start_run(name="second", system=False)
    assert jt.active_run() is second
    assert reconnect("open") is first and jt.active_run() is first
    first.log(loss=1.0)
    first.set_status("interrupted")
    again = reconnect(first.id)
    assert again is not first and again.status == "running"
    again.log(loss=0.5)
    again.close()
    second.close()
    frame = jt.load_run("open").metrics()
    assert frame.step.tolist() == [0, 1] and jt.load_run("open").status == "finished"


def test_reconnect_refuses_a_run_live_in_another_process(db):
    script = (
        "import sys, time, jupyter_tracker as jt; run = jt.start_run(name='elsewhere', system=False); "
        "print('ready', flush=True); time.sleep(30)"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=os.environ.copy())
    try:
        assert child.stdout.readline().strip() == b"ready"
        with pytest.raises(TrackerError, match="still running"):
            reconnect("elsewhere")
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert reconnect("elsewhere").status == "running"  # its process is gone: the run is resumed
    jt.active_run().close()
