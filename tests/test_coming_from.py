"""Coming from another tracker: a short script in each tool's own style (as its docs in shared/seeds/ write
it) runs against our API, and what landed is checked. A trap a switching user would fall into is either
made to work or refused with a message saying what to write instead."""

import shlex
import sys
import textwrap
from pathlib import Path

import pytest

import jupyter_tracker as jt
from jupyter_tracker.errors import InvalidArgument

PY = shlex.quote(sys.executable)


def _points(name: str) -> dict:
    record = jt.load_run(name)
    return {(key, step): value for key, step, value, _ in record.store.points(record.id)}


def _param_history(name: str, key: str) -> list[tuple]:
    return [(e.get("step"), e["value"]) for e in jt.load_run(name).events().extra if e.get("param") == key]


def test_magnus_a_shell_step_and_a_python_step_with_track_this(db, tmp_path):
    # magnus: a shell task exports MAGNUS_TRACK_* variables; a Python task calls track_this(step=...).
    step = tmp_path / "emit_metrics.py"
    step.write_text(
        textwrap.dedent(
            """
            from jupyter_tracker import track_this  # magnus: from magnus import track_this

            track_this(step=0, spam="hello", eggs={"ham": "world"})
            track_this(step=1, spam="hey", eggs={"ham": "universe"}, answer=42.0)
            """
        )
    )
    with jt.start_run(name="blazing-colden", system=False) as run:
        run.shell(
            'export MAGNUS_TRACK_ANSWER=42.0 MAGNUS_TRACK_SPAM=hello MAGNUS_TRACK_EGGS=\'{"ham": "world"}\''
        )
        run.shell(f"{PY} {shlex.quote(str(step))}", step=1)
    assert (
        _points("blazing-colden")[("answer", 0)] == 42.0 and _points("blazing-colden")[("answer", 1)] == 42.0
    )
    record = jt.load_run("blazing-colden")
    assert record.params == {"spam": "hey", "eggs.ham": "universe"}  # the latest value of each
    # every step's value is kept, as magnus's user_defined_metrics {"spam": {"0": "hello", "1": "hey"}}
    assert _param_history("blazing-colden", "spam")[-2:] == [(0, "hello"), (1, "hey")]
    assert _param_history("blazing-colden", "eggs.ham")[-2:] == [(0, "world"), (1, "universe")]


def test_runnable_variables_with_steps_and_track_this(db, monkeypatch):
    # runnable: RUNNABLE_TRACK_<NAME>[_STEP_<N>] strings; numbers become metrics, JSON objects dicts.
    monkeypatch.setenv("RUNNABLE_TRACK_ANSWER", "42.0")
    monkeypatch.setenv("RUNNABLE_TRACK_SPAM_STEP_0", "hello")
    monkeypatch.setenv("RUNNABLE_TRACK_SPAM_STEP_1", "hey")
    monkeypatch.setenv("RUNNABLE_TRACK_EGGS_STEP_1", '{"ham": "universe"}')
    monkeypatch.setenv("RUNNABLE_TRACK_IS_IT_TRUE", "false")  # no booleans in variables: text
    with jt.start_run(name="blocking-stonebraker", system=False):
        jt.track_this(step=2, loss=0.25, stage={"name": "train"})
    assert _points("blocking-stonebraker") == {("answer", 0): 42.0, ("loss", 2): 0.25}
    record = jt.load_run("blocking-stonebraker")
    assert record.params == {
        "spam": "hey",
        "is_it_true": "false",
        "eggs.ham": "universe",
        "stage.name": "train",
    }
    assert _param_history("blocking-stonebraker", "spam") == [(0, "hello"), (1, "hey")]


def test_omegaml_experiment_data_summary_and_run_numbers(db):
    jt.start_run(name="unrelated", project="other", system=False).finish()  # global ids != omega's numbers
    for score in (0.5, 0.75):
        with jt.experiment("iris") as exp:  # omega: with om.runtime.experiment('iris') as exp:
            exp.log_extra(tag="v1.5")
            exp.log_metric("score", score)
            exp.log_param("params", {"C": 1.0, "penalty": "l2"})
            exp.log_artifact({"coef": [0.1, 0.2]}, "model")
            exp.log_system()
    exp = jt.experiment("iris")
    data = exp.data()  # the latest run
    assert list(data.columns[:9]) == [
        "experiment",
        "run",
        "step",
        "event",
        "key",
        "value",
        "dt",
        "node",
        "userid",
    ]
    assert set(data.run) == {2} and data.event.tolist() == [
        "start",
        "param",
        "metric",
        "artifact",
        "system",
        "stop",
    ]
    assert exp.data(event="metric", run=1).value.tolist() == [0.5]  # the experiment's first run
    scores = exp.data(event="metric", key="score", run="*")
    assert (
        scores.run.tolist() == [1, 2] and scores.value.tolist() == [0.5, 0.75] and set(scores.tag) == {"v1.5"}
    )
    system = exp.data(event="system").value[0]
    assert system["python_version"] and "packages" in system
    assert exp.data(event="hardware").key.str.startswith("system/").all()  # samples only when asked for
    summary = exp.summary(run="*").set_index("key")
    assert summary.loc["score", "count"] == 2 and summary.loc["score", "mean"] == pytest.approx(0.625)
    assert exp.restore_artifacts() == [{"coef": [0.1, 0.2]}]


def test_opsml_runcard_metrics_parameters_tags_and_artifacts(db, tmp_path):
    with jt.start_run(name="linear-reg", project="opsml-project", system=False) as run:  # project.run()
        run.log_metric("test_metric", 10)
        run.log_metrics({"test_metric2": 20})
        run.log_parameter("test_parameter", 10)
        run.log_parameter("test_parameter", 20)  # OpsML keeps the history of a parameter
        run.add_tag("model", "linear")
        run.add_tags({"owner": "ana", "stage": "dev"})
        Path("artifact.txt").write_text("This is a test")
        run.log_artifact_from_file("artifact", "artifact.txt")
        with pytest.raises(InvalidArgument, match="pass step= or timestamp= by keyword"):
            run.log_metric("test_metric", 11, 1_767_225_600_000)  # OpsML: log_metric(key, value, timestamp)
    assert _points("linear-reg") == {
        ("test_metric", 0): 10,
        ("test_metric2", 0): 20,
    }  # separate calls, one step
    record = jt.load_run("linear-reg")
    assert record.params == {"test_parameter": 20}
    assert _param_history("linear-reg", "test_parameter") == [(None, 20)]
    assert record.events().extra[0]["previous"] == 10
    assert record.info.tag_values == {"model": "linear", "owner": "ana", "stage": "dev"}
    assert record.load_artifact("artifact").read_text() == "This is a test"


def test_simvue_run_init_metrics_events_alerts_and_status(db, tmp_path):
    Path("input.csv").write_text("a,b\n1,2\n")
    run = jt.Run()  # simvue: from simvue import Run; run = Run()
    run.init(
        name="sim-1",
        metadata={"dataset": "mnist", "learning_rate": 0.1},
        tags=["tensorflow"],
        description="a first simulation",
        folder="/simvue/examples",
        system=False,
    )
    run.add_alert("loss high", source="metrics", metric="loss", rule="is above", threshold=0.8, window="1m")
    run.save("input.csv", "input")
    for step, loss in enumerate([0.9, 0.7, 0.5]):
        run.log_metrics({"loss": loss, "accuracy": 1 - loss}, step=step, timestamp=1_767_225_600 + step)
    run.log_event("training finished")
    run.update_metadata({"epochs": 3})
    run.update_tags(["finished-ok"])
    run.set_status("completed")
    record = jt.load_run("sim-1")
    info = record.info
    assert (info.status, info.folder, info.description) == (
        "finished",
        "/simvue/examples",
        "a first simulation",
    )
    assert info.metadata == {"dataset": "mnist", "learning_rate": 0.1, "epochs": 3}
    assert info.tags == ("finished-ok", "tensorflow")
    assert record.load_artifact("input.csv").read_text() == "a,b\n1,2\n"
    assert _points("sim-1")[("loss", 2)] == 0.5
    alerts = [m for m in record.events().message if m.startswith("alert")]
    assert len(alerts) == 2 and "over the last 1m (1 point)" in alerts[0]  # 0.9 fires
    assert "back to ok: loss averaged 0.8 over the last 1m (2 points)" in alerts[1]  # (0.9, 0.7) is not above
    assert "training finished" in record.events().message.tolist()


def test_mlflow_style_metrics_params_tags_and_artifacts(db, tmp_path):
    Path("model.pkl").write_bytes(b"\x80weights")
    with jt.start_run(name="mlflow-run", system=False) as run:  # mlflow.start_run(run_name=...)
        run.log_params({"lr": 0.01, "epochs": 2})
        for epoch in range(2):
            run.log_metric("train_loss", 1.0 / (epoch + 1))
            run.log_metric("val_loss", 1.5 / (epoch + 1))  # no step: shares the epoch's step
        run.log_metric("test_loss", 0.3, step=10)
        run.set_tag("framework", "torch")
        run.set_tag("release", "candidate")
        run.log_artifact("model.pkl")
        run.log_artifact("model.pkl", "checkpoints")  # artifact_path: a folder in the run's artifacts
        with pytest.raises(InvalidArgument, match="no file or folder there"):
            run.log_artifact("model.pt")  # a missing file is an error, never a pickled string
    points = _points("mlflow-run")
    assert [step for key, step in points if key == "val_loss"] == [0, 1]
    assert [step for key, step in points if key == "train_loss"] == [0, 1]
    assert points[("test_loss", 10)] == 0.3
    record = jt.load_run("mlflow-run")
    assert record.info.tag_values == {"framework": "torch", "release": "candidate"}
    assert record.load_artifact("checkpoints/model.pkl").read_bytes() == b"\x80weights"
    assert sorted(record.artifacts().name) == ["checkpoints/model.pkl", "model.pkl"]
