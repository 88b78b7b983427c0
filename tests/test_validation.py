"""Values are checked at the door: what the writer thread could not store is refused in the caller's thread,
naming the key, and the run goes on (issue 11, items 1 and 11)."""

from __future__ import annotations

import json
import math
import sqlite3
import time
from datetime import datetime, timezone

import numpy as np
import pytest

import jupyter_tracker as jt
from jupyter_tracker import cards as export
from jupyter_tracker.errors import InvalidArgument, InvalidMetric, InvalidParam, TrackerError

# On the old code several of these calls were accepted and the writer then retried forever, so finish()
# hung: fail such a test after a minute instead of waiting for the suite's default timeout.
pytestmark = pytest.mark.timeout(60)

MAX_STEP = 2**63 - 1
SURROGATE = "\ud800"


def stored(run) -> list[tuple]:
    """(key, step, value) of the run's user metrics in the database, in logging order."""
    frame = jt.load_run(run.id, db=run.store).metrics()
    return list(zip(frame.key, frame.step, frame.value, strict=True))


# -- steps ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "step",
    [2**63, 2**64, 10**30, float("inf"), np.uint64(2**63)],
    ids=["2**63", "2**64", "10**30", "inf", "uint64(2**63)"],
)
def test_a_step_outside_int64_is_refused(db, step):
    with jt.start_run(name="s", system=False) as run:
        with pytest.raises(InvalidArgument, match=r"step must be a whole number"):
            run.log(x=1.0, step=step)
        run.log(x=2.0, step=MAX_STEP)  # the largest step SQLite holds is fine
    assert stored(run) == [("x", MAX_STEP, 2.0)]


def test_the_automatic_step_after_the_largest_is_refused_and_explicit_steps_go_on(db):
    with jt.start_run(name="auto", system=False) as run:
        run.log(x=1.0, step=MAX_STEP)
        with pytest.raises(InvalidArgument, match=r"automatic step would be 2\*\*63.*pass step= explicitly"):
            run.log(x=2.0)
        run.log_metric("y", 2.0)  # a key new to the current step joins it
        with pytest.raises(InvalidArgument, match="automatic step"):
            run.log_metric("y", 2.5)
        run.log(x=3.0, step=7)
    assert stored(run) == [("x", 7, 3.0), ("x", MAX_STEP, 1.0), ("y", MAX_STEP, 2.0)]


# -- times -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("when", "message"),
    [
        ({"time": math.nan}, "time= must be a finite number"),
        ({"time": math.inf}, "time= must be a finite number"),
        ({"time": "abc"}, "time= must be a number of seconds"),
        ({"timestamp": math.nan}, "timestamp must be a finite number"),
        ({"timestamp": -math.inf}, "timestamp must be a finite number"),
        ({"timestamp": 10**400}, "timestamp must be a finite number"),
    ],
)
def test_times_that_are_not_finite_are_refused(db, when, message):
    with jt.start_run(name="t", system=False) as run:
        with pytest.raises(InvalidArgument, match=message):
            run.log(x=1.0, **when)
        if "timestamp" in when:
            with pytest.raises(InvalidArgument, match=message):
                run.log_event("e", timestamp=when["timestamp"])
        run.log(x=2.0, time=1.5)
        run.log(x=3.0, timestamp=datetime(2026, 1, 31, tzinfo=timezone.utc), step=5)
        run.log(x=4.0, timestamp="2026-01-31T12:00:00Z", step=6)
        run.log(x=5.0, timestamp=np.float32(1.5e9), step=7)  # NumPy numbers are numbers
    assert [value for _, _, value in stored(run)] == [2.0, 3.0, 4.0, 5.0]


# -- numbers ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "big", [10**400, -(10**400), np.array(10**400, dtype=object)], ids=["10**400", "-10**400", "0-d array"]
)
def test_an_integer_beyond_float64_is_refused_not_made_infinite(db, big):
    with jt.start_run(name="big", system=False) as run:
        with pytest.raises(InvalidMetric, match=r"metric 'big' got an integer of \d+ bits, beyond float64"):
            run.log(ok=1.0, big=big)
        run.log(inf=math.inf, ninf=-math.inf, nan=math.nan, large=2**1000)  # the float64 contract as before
    values = {key: value for key, _, value in stored(run)}
    assert "big" not in values and "ok" not in values  # a refused call stores none of its points
    assert values["inf"] == math.inf and values["ninf"] == -math.inf and math.isnan(values["nan"])
    assert values["large"] == float(2**1000)


# -- text ------------------------------------------------------------------------------------------------
BAD_TEXT = [
    (
        "metric key",
        lambda run: run.log({"loss" + SURROGATE: 1.0}),
        InvalidMetric,
        r"metric key 'loss\\ud800'",
    ),
    (
        "event message",
        lambda run: run.log_event("bad" + SURROGATE),
        InvalidArgument,
        r"event message 'bad\\ud800'",
    ),
    (
        "event field name",
        lambda run: run.log_event("x", **{"k" + SURROGATE: 1}),
        InvalidArgument,
        r"event field name 'k\\ud800'",
    ),
    (
        "event field value",
        lambda run: run.log_event("x", k="v" + SURROGATE),
        InvalidArgument,
        "event field 'k'",
    ),
    (
        "param name",
        lambda run: run.log_params({"lr" + SURROGATE: 0.1}),
        InvalidParam,
        r"parameter name 'lr\\ud800'",
    ),
    ("param value", lambda run: run.log_param("opt", ["adam" + SURROGATE]), InvalidParam, "parameter 'opt'"),
    ("metadata", lambda run: run.update_metadata(note=SURROGATE), InvalidParam, "metadata field 'note'"),
    ("extra field", lambda run: run.log_extra(v=SURROGATE), InvalidParam, "log_extra field 'v'"),
    ("tag", lambda run: run.add_tags("cnn", "t" + SURROGATE), InvalidArgument, r"tag 't\\ud800'"),
]


@pytest.mark.parametrize(("what", "call", "error", "message"), BAD_TEXT, ids=[case[0] for case in BAD_TEXT])
def test_text_that_is_not_utf8_is_refused_naming_the_key(db, what, call, error, message):
    with jt.start_run(name="text", system=False) as run:
        with pytest.raises(error, match=message + ".*not valid UTF-8 text"):
            call(run)
        run.log(ok=1.0)
    record = jt.load_run("text")
    assert record.status == "finished" and stored(run) == [("ok", 0, 1.0)]
    assert record.tags == [] and record.params == {} and record.events().empty


def test_start_run_refuses_params_and_tags_that_are_not_utf8(db):
    with pytest.raises(InvalidParam, match="parameter 'opt'"):
        jt.start_run(params={"opt": SURROGATE}, system=False)
    with pytest.raises(InvalidArgument, match="tag"):
        jt.start_run(tags=["a" + SURROGATE], system=False)
    assert jt.runs().empty  # refused before any run was created


# -- params: NumPy values ----------------------------------------------------------------------------------
def test_numpy_scalars_and_arrays_as_params_are_stored_as_python_values(db):
    params = {
        "lr": np.float32(0.1),
        "epochs": np.int64(3),
        "shuffle": np.bool_(True),
        "eps": np.float64(1e-8),
        "layers": np.array([64, 32]),
        "grid": np.arange(4, dtype=np.float64).reshape(2, 2),
        "nested": {"sizes": (np.int32(1), np.int16(2)), "rate": np.float16(0.5)},
        "nan": np.float32("nan"),
    }
    with jt.start_run(
        name="np", params={"seed": np.int64(7)}, metadata={"m": np.float32(0.25)}, system=False
    ) as run:
        run.log_params(params)
        run.update_metadata(batch=np.int64(128))
        run.log_extra(version=np.int8(2))
        run.log_event("epoch done", loss=np.float32(0.3), step=np.int64(4))
    got = jt.load_run("np").params
    assert got["lr"] == 0.1 and type(got["lr"]) is float  # the float32's own digits, not 0.10000000149011612
    assert got["epochs"] == 3 and type(got["epochs"]) is int
    assert got["shuffle"] is True and got["eps"] == 1e-8 and got["seed"] == 7
    assert got["layers"] == [64, 32] and got["grid"] == [[0.0, 1.0], [2.0, 3.0]]
    assert got["nested"] == {"sizes": [1, 2], "rate": 0.5} and math.isnan(got["nan"])
    info = jt.load_run("np").info
    assert info.metadata["m"] == 0.25 and info.metadata["batch"] == 128
    extra = jt.load_run("np").events().extra.iloc[-1]
    assert extra == {"version": 2, "loss": 0.3, "step": 4}
    with sqlite3.connect(db) as conn:  # stored as JSON numbers, not as the text str() gives
        raw = dict(conn.execute("SELECT key, value FROM params"))
    assert json.loads(raw["lr"]) == 0.1 and raw["shuffle"] == "true" and raw["layers"] == "[64, 32]"


def test_params_that_are_not_json_are_refused_naming_the_key(db):
    with jt.start_run(name="p", system=False) as run:
        with pytest.raises(InvalidParam, match=r"parameter 'when' cannot be stored: a datetime.datetime"):
            run.log_params(when=datetime(2026, 1, 1))
        with pytest.raises(InvalidParam, match=r"parameter 'model' cannot be stored: a builtins.object"):
            run.log_param("model", {"layer": object()})
        with pytest.raises(InvalidParam, match="parameter names must be non-empty strings"):
            run.log_params({3: "x"})
        with pytest.raises(
            InvalidParam, match=r"parameter 'x' cannot be stored: a numpy.longdouble has no JSON"
        ):
            run.log_param("x", np.longdouble(1.5))


# -- events and tags: wrong types -----------------------------------------------------------------------------
def test_an_object_in_an_event_field_is_refused_naming_the_field(db):
    with jt.start_run(name="ev", system=False) as run:
        with pytest.raises(InvalidArgument, match=r"event field 'obj' cannot be stored: a builtins.object"):
            run.log_event("x", ok=1, obj=object())
        run.log_event("fine", path="/tmp/x", sizes=(1, 2), norm=math.inf)
    events = jt.load_run("ev").events()
    assert events.message.tolist() == ["fine"]
    assert events.extra.iloc[0] == {"path": "/tmp/x", "sizes": [1, 2], "norm": math.inf}


@pytest.mark.parametrize("tags", [(5,), ("ok", 5), (["ok", None],), (b"bytes",), (3.5,)])
def test_tags_that_are_not_text_are_refused(db, tags):
    with jt.start_run(name="tags", system=False) as run:
        with pytest.raises(InvalidArgument, match="tags must be strings or lists of strings"):
            run.add_tags(*tags)
        with pytest.raises(InvalidArgument, match="tags must be strings"):
            run.remove_tags(*tags)
        run.add_tags("cnn", ["a,b"])
    assert jt.load_run("tags").tags == ["a", "b", "cnn"]


# -- after any refusal the run works, and finish() returns promptly ----------------------------------------------
REFUSED = [
    lambda run: run.log(x=1.0, step=2**63),
    lambda run: run.log(x=1.0, time=math.nan),
    lambda run: run.log(x=1.0, timestamp=math.nan),
    lambda run: run.log(x=1.0, timestamp=math.inf),
    lambda run: run.log({"loss" + SURROGATE: 1.0}),
    lambda run: run.log(big=10**400),
    lambda run: run.log_event("bad" + SURROGATE),
    lambda run: run.log_event("x", obj=object()),
    lambda run: run.log_params(opt=SURROGATE),
    lambda run: run.add_tags(5),
    lambda run: run.log(x=1.0, step=MAX_STEP) or run.log(x=2.0),  # the second call is the refused one
]


def test_after_each_refused_call_the_run_goes_on_and_finish_returns_promptly(db):
    run = jt.start_run(name="goes-on", system=False)
    for number, refused in enumerate(REFUSED):
        with pytest.raises((TrackerError, ValueError)):
            refused(run)
        run.log(ok=float(number), step=number)
        run.log_event(f"after {number}")
    run.log_params(lr=np.float32(0.5))
    run.add_tags("survived")
    assert run.flush(10), "the writer is stuck on something the door let through"
    started = time.monotonic()
    run.finish()
    assert time.monotonic() - started < 5
    record = jt.load_run("goes-on")
    assert record.status == "finished" and record.params == {"lr": 0.5} and record.tags == ["survived"]
    ok = [(step, value) for key, step, value in stored(run) if key == "ok"]
    assert ok == [(n, float(n)) for n in range(len(REFUSED))]
    assert [(k, s) for k, s, _ in stored(run) if k == "x"] == [("x", MAX_STEP)]  # the one valid x
    events = record.events()
    assert events.message.tolist() == [f"after {n}" for n in range(len(REFUSED))]  # no writer warnings


# -- importing a card --------------------------------------------------------------------------------------------
@pytest.fixture
def card(db):
    with jt.start_run(name="src", system=False) as run:
        run.log(loss=0.5, step=1)
        run.log_event("hi")
    return export.run_card(run.store, run.id)


@pytest.mark.parametrize(
    ("poison", "message"),
    [
        (lambda c: c["metrics"]["series"][0]["step"].__setitem__(0, 2**63), r"metric 'loss': step must be"),
        (
            lambda c: c["metrics"]["series"][0]["time"].__setitem__(0, "NaN"),
            r"metric 'loss': timestamp must be",
        ),
        (lambda c: c["metrics"]["series"][0]["time"].__setitem__(0, "Infinity"), r"metric 'loss': timestamp"),
        (
            lambda c: c["metrics"]["series"][0]["value"].__setitem__(0, 10**400),
            r"metric 'loss'.*beyond float64",
        ),
        (lambda c: c["timing"].__setitem__("created", "NaN"), r"timing.created: timestamp must be a finite"),
        (lambda c: c["events"][0].__setitem__("time", "-Infinity"), r"event 0: timestamp must be"),
    ],
)
def test_import_card_refuses_steps_and_times_the_store_cannot_hold(card, tmp_path, poison, message):
    poison(card)
    target = tmp_path / "other.db"
    with pytest.raises(InvalidArgument, match=r"cannot import run 'src', " + message):
        export.import_card(card, db=target)
    assert not target.exists()  # refused before the database was even opened
