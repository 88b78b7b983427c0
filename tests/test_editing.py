"""Runs edited after the fact (tags, name, description, notes), the traceback a failed run keeps, and the
active time of a resumed run."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest
from notebooks import CellExecutionError, execute, make_notebook
from waiting import wait_until

import jupyter_tracker as jt
from jupyter_tracker.errors import InvalidArgument, RunNotFound, StoreError
from jupyter_tracker.tracking.ending import TRACEBACK_CHARS, TRACEBACK_FRAMES


def _finished(db, name="alpha", project="p", **kwargs):
    with jt.start_run(name=name, project=project, db=db, system=False, **kwargs) as run:
        run.log(loss=0.5)
    return jt.load_run(run.id, db=db)


def _edits(record) -> list[tuple[str, dict]]:
    events = record.events()
    return [(m, e) for m, e in zip(events["message"], events["extra"], strict=True) if e.get("kind")]


# -- editing ------------------------------------------------------------------------------------------------
def test_edits_change_the_run_and_each_is_kept_as_an_event(tmp_path):
    db = tmp_path / "t.db"
    _finished(db, "other")
    record = _finished(db, tags="cnn")
    assert record.add_tags("x", "y,cnn", ["z"]) == ["x", "y", "z"]
    assert record.remove_tags("y", "never-had") == ["y"]
    assert record.add_tags("cnn") == [] and record.remove_tags("gone") == []  # no change, no event
    record.rename("  beta ")
    assert record.name == "beta" and jt.load_run("beta", db=db).id == record.id
    record.rename("beta")  # its own name: nothing to do
    record.set_description("second try")
    record.set_description("")
    record.add_note("lr too high\nnext: 0.001")
    record.add_note("plateau after epoch 3")
    info = record.info
    assert info.tags == ("cnn", "x", "z") and info.name == "beta" and info.description is None
    assert [n["text"] for n in record.notes()] == ["lr too high\nnext: 0.001", "plateau after epoch 3"]
    assert record.notes()[0]["time"].tzinfo is not None
    assert [m for m, _ in _edits(record)] == [
        "tags added: x, y, z",
        "tags removed: y",
        "renamed from 'alpha' to 'beta'",
        "description set: second try",
        "description cleared",
        "note: lr too high\nnext: 0.001",
        "note: plateau after epoch 3",
    ]
    assert _edits(record)[2][1] == {"kind": "edit", "edit": "name", "from": "alpha", "to": "beta"}
    assert info.status == "finished"  # editing never changes how the run ended


def test_bad_edits_are_refused_at_the_door_naming_the_argument(tmp_path):
    db = tmp_path / "t.db"
    _finished(db, "taken")
    record = _finished(db)
    cases = [
        (lambda: record.rename("taken"), r"project 'p' already has a run named 'taken' \(id 1\)"),
        (lambda: record.rename("   "), "name must be non-empty text"),
        (lambda: record.rename(42), "name must be non-empty text, got 42"),
        (lambda: record.rename("2024"), "name '2024' is all digits, which reads as a run id"),
        (lambda: record.rename("a\tb"), "name 'a\\\\tb' contains a control character"),
        (lambda: record.rename("n" * 300), "name 'nnnn.*300 characters; at most 250"),
        (lambda: record.rename("bad\ud800"), "name .* is not valid UTF-8"),
        (lambda: record.add_tags(), "tags: add_tags needs at least one tag"),
        (lambda: record.add_tags(" , "), "tags: add_tags needs at least one tag"),
        (lambda: record.remove_tags(), "tags: remove_tags needs at least one tag"),
        (lambda: record.add_tags(3), "tags must be strings"),
        (lambda: record.add_note("  "), "note must be non-empty text"),
        (lambda: record.add_note(None), "note must be non-empty text, got None"),
        (lambda: record.set_description(["a"]), r"description must be text or None, got \['a'\]"),
    ]
    for call, message in cases:
        with pytest.raises(InvalidArgument, match=message):
            call()
    assert record.info.name == "alpha" and record.info.tags == () and _edits(record) == []


def test_edits_of_a_run_still_running_in_another_process(tmp_path):
    db, stop = tmp_path / "t.db", tmp_path / "stop"
    script = textwrap.dedent(
        f"""
        import pathlib, time
        import jupyter_tracker as jt
        with jt.start_run(name="live", project="p", db={str(db)!r}, system=False) as run:
            step = 0
            while not pathlib.Path({str(stop)!r}).exists():
                run.log(loss=1.0 / (step + 1))
                step += 1
                time.sleep(0.01)
            run.log_event("stopping")
        """
    )
    with subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True) as child:
        try:
            wait_until(lambda: _has_points(db, "live"), 60, "the run and its first points")
            record = jt.load_run("live", db=db)
            assert record.status == "running"
            record.add_tags("watching")
            record.rename("live-renamed")
            record.add_note("looked at it while it ran")
            record.set_description("set from outside")
            stop.touch()
            _, errors = child.communicate(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
    assert child.returncode == 0, errors
    info = jt.load_run(record.id, db=db).info
    assert info.status == "finished" and info.name == "live-renamed" and info.tags == ("watching",)
    assert info.description == "set from outside" and info.error is None
    messages = jt.load_run(record.id, db=db).events()["message"].tolist()
    assert messages[-1] == "stopping" and "note: looked at it while it ran" in messages


def _has_points(db, name: str) -> bool:
    """Whether run `name` is in `db` with points stored (False while the other process creates the file)."""
    try:
        return not jt.load_run(name, db=db).summary().empty
    except (StoreError, RunNotFound):
        return False


# -- failures keep their traceback --------------------------------------------------------------------------
def _fail_inside(db, error: BaseException, depth: int = 1):
    def user_function(n):
        if n <= 1:
            raise error
        user_function(n - 1)

    with pytest.raises(type(error)), jt.start_run(name="broken", db=db, system=False):
        user_function(depth)
    return jt.load_run("broken", db=db).info


def test_a_failed_run_keeps_a_one_line_error_and_the_traceback_of_the_users_frames(tmp_path):
    info = _fail_inside(tmp_path / "t.db", ValueError("bad\ninput  data"))
    assert info.status == "failed" and info.error == "ValueError: bad input data"
    tb = info.traceback
    assert tb.startswith("Traceback (most recent call last):") and tb.rstrip().endswith("input  data")
    assert "in user_function" in tb and "test_editing.py" in tb and "raise error" in tb
    assert "jupyter_tracker" not in tb  # run.py's __exit__ and fail() are not the user's frames


def test_the_traceback_keeps_chained_exceptions_and_stays_bounded(tmp_path):
    db = tmp_path / "t.db"
    try:
        try:
            {}["missing"]
        except KeyError as exc:
            raise RuntimeError("while loading") from exc
    except RuntimeError as exc:
        chained = exc
    with pytest.raises(RuntimeError), jt.start_run(name="chained", db=db, system=False):
        raise chained
    tb = jt.load_run("chained", db=db).info.traceback
    assert "KeyError: 'missing'" in tb and "direct cause" in tb and tb.rstrip().endswith("while loading")
    deep = _fail_inside(tmp_path / "deep.db", ValueError("deep"), depth=200).traceback
    # The innermost TRACEBACK_FRAMES frames: three shown, the 46 repeats counted, then the one that raised.
    assert deep.count("in user_function") == 4 and f"repeated {TRACEBACK_FRAMES - 4} more times" in deep
    assert deep.rstrip().endswith("raise error\nValueError: deep")
    huge = _fail_inside(tmp_path / "huge.db", ValueError("x" * 100_000)).traceback
    assert len(huge) < TRACEBACK_CHARS + 100 and huge.startswith("[") and "left out" in huge.splitlines()[0]


def test_an_uncaught_exception_in_a_script_keeps_its_traceback(tmp_path):
    db = tmp_path / "t.db"
    script = textwrap.dedent(
        f"""
        import jupyter_tracker as jt
        def train():
            raise ZeroDivisionError("lr was 0")
        run = jt.start_run(name="script", db={str(db)!r}, system=False)
        train()
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "ZeroDivisionError" in done.stderr
    info = jt.load_run("script", db=db).info
    assert info.status == "failed" and info.error == "ZeroDivisionError: lr was 0"
    assert "in train" in info.traceback and "<module>" in info.traceback
    assert "jupyter_tracker" not in info.traceback


def test_resuming_a_failed_run_clears_its_error_and_traceback(tmp_path):
    db = tmp_path / "t.db"
    _fail_inside(db, ValueError("once"))
    with jt.start_run(resume="broken", db=db, system=False) as run:
        run.log(loss=1.0)
    info = jt.load_run("broken", db=db).info
    assert info.status == "finished" and info.error is None and info.traceback is None


@pytest.mark.kernel
def test_a_failing_track_run_cell_keeps_the_cells_frames_only(tmp_path):
    db = tmp_path / "t.db"
    nb = make_notebook(
        "%load_ext tracker",
        "def load_batch(i):\n    return [1, 2][i]",
        "%%track_run name=cell --no-panel --no-system\nrun.log(loss=1.0)\nload_batch(5)",
    )
    with pytest.raises(CellExecutionError, match="IndexError"):
        execute(nb, tmp_path, db=db)
    info = jt.load_run("cell", db=db).info
    assert info.status == "failed" and info.error == "IndexError: list index out of range"
    tb = info.traceback
    assert "load_batch(5)" in tb and "in load_batch" in tb and "return [1, 2][i]" in tb
    for machinery in ("jupyter_tracker", "IPython", "site-packages/ipykernel", "magics.py"):
        assert machinery not in tb, machinery
    assert tb.count('File "') == 2  # the cell and the function it called


# -- active time and wall span ------------------------------------------------------------------------------
def _ended_long_ago(db, name: str, seconds: float, ago: float) -> None:
    """Make run `name` a `seconds`-long run that ended `ago` seconds ago (as if resumed after a pause)."""
    record = _finished(db, name)
    ended = time.time() - ago
    record._writable().update_run(record.id, started=ended - seconds, ended=ended, heartbeat=ended)


def test_a_resumed_runs_duration_is_its_active_time_beside_its_span(tmp_path):
    db = tmp_path / "t.db"
    _ended_long_ago(db, "paused", seconds=0.8, ago=120)
    with jt.start_run(resume="paused", db=db, system=False) as run:
        run.log(loss=0.25)
    info = jt.load_run("paused", db=db).info
    assert info.idle == pytest.approx(120, abs=2)
    assert 0.8 <= info.duration < 5 and info.span == pytest.approx(info.duration + info.idle)
    assert jt.runs(db=db)["duration"].tolist() == [pytest.approx(info.duration)]
    assert jt.compare(["paused"], db=db).frame["duration"].tolist() == [pytest.approx(info.duration)]
    card = jt.load_run("paused", db=db).export(tmp_path / "c.json")
    timing = json.loads(card.read_text())["timing"]
    assert timing["duration"] == pytest.approx(info.duration) and timing["idle"] == pytest.approx(info.idle)
    assert timing["span"] == pytest.approx(info.span)


def test_a_crashed_runs_pause_counts_from_its_last_heartbeat(tmp_path):
    db = tmp_path / "t.db"
    record = _finished(db, "crashed")
    store = record._writable()
    now = time.time()
    # Stored as running with a stale heartbeat and no live process: it reads as crashed.
    store.update_run(
        record.id, status="running", ended=None, started=now - 300, heartbeat=now - 200, pid=None
    )
    assert jt.load_run("crashed", db=db).status == "crashed"
    with jt.start_run(resume="crashed", db=db, system=False):
        pass
    info = jt.load_run("crashed", db=db).info
    assert info.idle == pytest.approx(200, abs=2) and info.duration == pytest.approx(100, abs=2)


def test_renaming_to_the_same_name_writes_nothing_and_a_run_is_named_by_text_or_id(tmp_path):
    db = tmp_path / "t.db"
    with jt.start_run(name="same", project="p", db=db, system=False) as run:
        run.log(x=1)
    record = jt.load_run("same", db=db)
    before = len(record.events())
    record.rename("same")
    assert len(record.events()) == before
    with pytest.raises(InvalidArgument, match="not None"):
        jt.load_run(None, db=db)  # type: ignore[arg-type]
