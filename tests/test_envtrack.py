import dataclasses
import hashlib
import os
import shlex
import signal
import sys
import threading
import time

import numpy as np
import psutil
import pytest

import jupyter_tracker as jt
from jupyter_tracker.errors import CommandFailed, InvalidArgument, NoActiveRun, RunClosed
from jupyter_tracker.tracking.envtrack import parse_value, track_this, tracked_variables

PY = shlex.quote(sys.executable)


def _points(name):
    record = jt.load_run(name)
    return {(key, step): value for key, step, value, _ in record.store.points(record.id)}


def test_parsing_names_steps_and_values():
    found = tracked_variables(
        {
            "TRACKER_TRACK_ANSWER": "42",
            "TRACKER_TRACK_LOSS_STEP_3": "0.5",
            "TRACKER_TRACK_SPAM": "hello",
            "TRACKER_TRACKING_FILE": "/tmp/x",
            "TRACKER_TRACK_": "nameless",
            "OTHER": "1",
        }
    )
    assert sorted(found) == [("answer", None, 42), ("loss", 3, 0.5), ("spam", None, "hello")]
    assert parse_value("1e-3") == 0.001 and parse_value(" -7 ") == -7 and parse_value("true") == "true"
    assert parse_value('{"ham": "world"}') == {"ham": "world"} and parse_value("{oops") == "{oops"
    assert parse_value("[1, 2]") == [1, 2]


def test_environment_variables_are_tracked_when_a_run_starts(db, monkeypatch):
    monkeypatch.setenv("TRACKER_TRACK_ANSWER", "42")
    monkeypatch.setenv("TRACKER_TRACK_ACC_STEP_2", "0.75")
    monkeypatch.setenv("TRACKER_TRACK_SPAM", "hello")
    monkeypatch.setenv("TRACKER_TRACK_EGGS", '{"ham": "world", "n": 3}')
    with jt.start_run(name="env", system=False) as run:
        run.log(loss=1.0)
    points = _points("env")
    assert points[("answer", 0)] == 42 and points[("eggs.n", 0)] == 3 and points[("acc", 2)] == 0.75
    assert points[("loss", 2)] == 1.0  # a new key joins the current step (the latest tracked one)
    assert jt.load_run("env").params == {"spam": "hello", "eggs.ham": "world"}


@pytest.mark.parametrize("prefix", ["MAGNUS_TRACK_", "RUNNABLE_TRACK_", "runnable_TRACK_"])
def test_magnus_and_runnable_variables_are_read_like_ours(db, monkeypatch, prefix):
    # As their docs have it: strings only, numbers become metrics, JSON objects are dicts, no booleans,
    # and _STEP_<N> puts a value at step N (the step defaults to 0).
    monkeypatch.setenv(f"{prefix}ANSWER", "42")
    monkeypatch.setenv(f"{prefix}SPAM", "hello")
    monkeypatch.setenv(f"{prefix}EGGS", '{"ham": "world"}')
    monkeypatch.setenv(f"{prefix}IS_IT_TRUE", "false")
    monkeypatch.setenv(f"{prefix}SPAM_STEP_1", "hey")
    monkeypatch.setenv(f"{prefix}ACC_STEP_1", "0.75")
    with jt.start_run(name="magnus", system=False):
        pass
    assert _points("magnus") == {("answer", 0): 42, ("acc", 1): 0.75}
    record = jt.load_run("magnus")
    assert record.params == {"spam": "hey", "eggs.ham": "world", "is_it_true": "false"}
    stepped = [(e["value"], e["step"]) for e in record.events().extra if e.get("param") == "spam"]
    assert ("hey", 1) in stepped


def test_text_tracked_per_step_keeps_every_step_as_an_event(db):
    with jt.start_run(name="steps", system=False):
        track_this(step=0, spam="hello", eggs={"ham": "world"}, answer=42.0)
        track_this(step=1, spam="hey", eggs={"ham": "universe"})
    record = jt.load_run("steps")
    assert record.params == {"spam": "hey", "eggs.ham": "universe"}  # the latest values
    history = [(e["param"], e["step"], e["value"]) for e in record.events().extra if "param" in e]
    assert history == [
        ("spam", 0, "hello"),
        ("eggs.ham", 0, "world"),
        ("spam", 1, "hey"),
        ("eggs.ham", 1, "universe"),
    ]


def test_track_this_numbers_dicts_dataclasses_models_and_the_rest(db):
    @dataclasses.dataclass
    class Config:
        lr: float
        name: str

    class Model:  # the shape of a pydantic v2 model: dumped with its aliases
        def model_dump(self, by_alias=False):
            return {"batchSize" if by_alias else "batch_size": 32}

    with jt.start_run(name="tt", system=False):
        track_this(answer=42, eggs={"ham": "world", "deep": {"x": np.float32(0.5)}}, spam="hello")
        track_this(step=2, config=Config(0.1, "adam"), model=Model(), flag=True, shape=(3, 4), obj=object())
        with pytest.raises(InvalidArgument, match="step"):
            track_this(step=-1, x=1)
    points = _points("tt")
    assert points == {
        ("answer", 0): 42,
        ("eggs.deep.x", 0): 0.5,
        ("config.lr", 2): 0.1,
        ("model.batchSize", 2): 32,
        ("flag", 2): 1,
    }
    params = jt.load_run("tt").params
    assert params["eggs.ham"] == "world" and params["spam"] == "hello" and params["config.name"] == "adam"
    assert params["shape"] == [3, 4] and params["obj"].startswith("<object object")


def test_track_this_with_a_real_pydantic_model(db):
    pydantic = pytest.importorskip("pydantic")

    class Settings(pydantic.BaseModel):
        learning_rate: float = pydantic.Field(0.1, alias="lr")
        optimizer: str = "adam"

    with jt.start_run(name="pd", system=False):
        track_this(settings=Settings())
    assert _points("pd") == {("settings.lr", 0): 0.1}
    assert jt.load_run("pd").params == {"settings.optimizer": "adam"}


def test_track_this_outside_a_run(db):
    with pytest.raises(NoActiveRun, match="run.shell"):
        track_this(x=1)


def test_shell_streams_output_keeps_it_as_an_artifact_and_records_exit_code_and_duration(db, capfd):
    with jt.start_run(name="sh", system=False) as run:
        run.log(loss=1.0)
        result = run.shell(f"echo hello; echo 'to stderr' >&2; {PY} -c \"print('from python')\"")
        second = run.shell(["echo", "argv", "list"], step=7)
    out = capfd.readouterr().out
    assert "hello\nto stderr\nfrom python\n" in out and "argv list" in out
    assert result.exit_code == 0 and result.step == 1 and result.log == "1.execution.log"
    assert 0 < result.duration < 30 and second.log == "7.execution.log"
    stored = run.load_artifact("1.execution.log")
    assert stored.read_text() == "hello\nto stderr\nfrom python\n"
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == result.sha256
    artifacts = run.artifacts().set_index("name")
    assert (
        artifacts.category["1.execution.log"] == "output"
        and artifacts.mime["1.execution.log"] == "text/plain"
    )
    event = jt.load_run("sh").events().extra[0]
    assert event["exit_code"] == 0 and event["log"] == "1.execution.log" and event["sha256"] == result.sha256
    assert event["duration"] == pytest.approx(result.duration)


def test_values_set_by_the_command_and_its_child_processes_are_tracked(db, monkeypatch):
    monkeypatch.setenv("TRACKER_TRACK_INHERITED", "1")
    child = (
        "from jupyter_tracker.tracking.envtrack import track_this; "
        "track_this(step=5, acc=0.9, cfg={'layers': 3, 'act': 'relu'}); track_this(f1=0.5)"
    )
    command = (
        "export TRACKER_TRACK_LOSS=0.25 TRACKER_TRACK_NOTE=hello TRACKER_TRACK_LR_STEP_9=0.01\n"
        'echo "TRACKER_TRACK_WRITTEN=7" >> "$TRACKER_TRACKING_FILE"\n'
        f'{PY} -c "{child}"'
    )
    with jt.start_run(name="child", system=False) as run:
        result = run.shell(command, step=3)
    points = _points("child")
    assert points[("inherited", 0)] == 1  # tracked once, when the run started
    assert {k: v for k, v in points.items() if k[0] != "inherited"} == {
        ("loss", 3): 0.25,
        ("lr", 9): 0.01,
        ("written", 3): 7,
        ("acc", 5): 0.9,
        ("cfg.layers", 5): 3,
        ("f1", 0): 0.5,
    }
    assert jt.load_run("child").params == {"note": "hello", "cfg.act": "relu"}
    assert result.tracked["loss"] == 0.25 and "inherited" not in result.tracked


def test_values_exported_before_exit_are_still_seen(db):
    with jt.start_run(name="exit", system=False) as run:
        result = run.shell("export TRACKER_TRACK_DONE=1; exit 3", fail_run=False)
        run.log(after=1)
    assert result.exit_code == 3 and _points("exit")[("done", 0)] == 1
    assert run.status == "finished"
    events = jt.load_run("exit").events()
    assert events.level[0] == "error" and "exited 3" in events.message[0]


def test_a_command_may_export_magnus_and_runnable_variables(db):
    with jt.start_run(name="pipeline", system=False) as run:
        result = run.shell("export MAGNUS_TRACK_LOSS=0.5 RUNNABLE_TRACK_SPAM=hello")
    assert result.tracked == {"loss": 0.5, "spam": "hello"} and _points("pipeline") == {("loss", 0): 0.5}


def test_a_failing_command_fails_the_run(db):
    failing = pytest.raises(CommandFailed, match="exited 2.*0.execution.log.*fail_run=False")
    with failing, jt.start_run(name="bad", system=False) as run:
        run.shell("echo partial; exit 2")
    record = jt.load_run("bad")
    assert record.status == "failed" and "CommandFailed" in record.info.error
    assert record.load_artifact("0.execution.log").read_text() == "partial\n"
    with pytest.raises(RunClosed):
        run.shell("echo more")


def test_a_command_past_its_timeout_is_stopped(db):
    with jt.start_run(name="slow", system=False) as run:
        started = time.perf_counter()
        result = run.shell(f"{PY} -c 'import time; time.sleep(30)'", timeout=0.5, fail_run=False)
        assert time.perf_counter() - started < 10
        run.shell("echo same step", step=result.step)
    assert result.exit_code != 0 and "timed out" in jt.load_run("slow").events().message[0]
    names = set(run.artifacts().name)
    assert names == {"0.execution.log", "0-2.execution.log"}


def test_interrupting_the_cell_stops_the_command_and_everything_it_started(db, tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    script = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"

    def interrupt_once_started():  # what Ctrl-C / "interrupt the kernel" does, once the command runs
        deadline = time.time() + 20
        while not pid_file.exists() and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGINT)

    interrupt = threading.Thread(target=interrupt_once_started)
    with pytest.raises(KeyboardInterrupt), jt.start_run(name="int", system=False) as run:
        interrupt.start()
        run.shell(f'echo started; {PY} -c "{script}"')
    interrupt.join()
    assert jt.load_run("int").status == "interrupted"
    assert run.load_artifact("0.execution.log").read_text() == "started\n"
    grandchild = int(pid_file.read_text())
    deadline = time.time() + 10
    while psutil.pid_exists(grandchild) and psutil.Process(grandchild).status() != psutil.STATUS_ZOMBIE:
        assert time.time() < deadline, "the command's own child process outlived the interrupt"
        time.sleep(0.05)
    assert "was interrupted" in jt.load_run("int").events().message[0]


def test_shell_output_lands_in_the_cell_of_a_real_kernel(db, tmp_path):
    from notebooks import execute, make_notebook, outputs_text

    nb = make_notebook(
        "import jupyter_tracker as jt\nrun = jt.start_run(name='nb', system=False)",
        "result = run.shell('echo one; sleep 0.2; echo two')",
        "print('next cell'); run.close()",
    )
    execute(nb, tmp_path, db=db)
    assert outputs_text(nb.cells[1]) == "one\ntwo\n"
    assert outputs_text(nb.cells[2]) == "next cell\n"
    assert jt.load_run("nb").load_artifact("0.execution.log").read_text() == "one\ntwo\n"
