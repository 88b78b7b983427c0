import math
import threading
import time

import pytest
from waiting import wait_until

import jupyter_tracker as jt
from jupyter_tracker.errors import InvalidArgument
from jupyter_tracker.tracking.alerts import AlertChange


def _alert_events(name):
    events = jt.load_run(name).events()
    return [(e.level, e.extra.get("state")) for e in events.itertuples() if "alert" in e.extra]


def _wait_until(condition, seconds: float = 5.0) -> None:
    """Alerts are checked on the writer thread: give it a moment."""
    deadline = time.time() + seconds
    while not condition() and time.time() < deadline:
        time.sleep(0.01)


def test_a_metric_alert_fires_and_clears_over_a_window(db):
    changes = []
    with jt.start_run(name="w", system=False) as run:
        run.add_alert(
            "loss high", metric="loss", rule="is above", threshold=1.0, window=3, notify=changes.append
        )
        # means over the last 3 points: 0.5, 0.75, 1.0, 1.83 (fires), 1.67, 1.5, 0.83 (clears)
        for value in [0.5, 1.0, 1.5, 3.0, 0.5, 1.0, 1.0]:
            run.log(loss=value, other=100.0)
        run.log(other=5.0)
    alerts = run.alerts()
    assert alerts.name.tolist() == ["loss high"] and alerts.state[0] == "ok"
    assert alerts.triggered_at[0] < alerts.changed_at[0]
    assert _alert_events("w") == [("critical", "critical"), ("info", "ok")]
    events = jt.load_run("w").events()
    fired = events.extra[0]
    assert fired["alert"] == "loss high" and fired["value"] == pytest.approx(11 / 6)
    assert "loss averaged 1.83333 over the last 3 points, which is above 1" in events.message[0]
    points = jt.load_run("w").store.points(run.id, ["loss"])
    assert run.alerts().triggered_at[0].timestamp() == pytest.approx(points[3][3])  # the 4th point fired it
    _wait_until(lambda: len(changes) >= 2)
    assert [(c.alert, c.state) for c in changes] == [("loss high", "critical"), ("loss high", "ok")]
    assert isinstance(changes[0], AlertChange) and changes[0].run == "w"


def test_state_is_stored_while_running(db):
    with jt.start_run(name="live", system=False) as run:
        run.add_alert("acc low", metric="acc", rule="is below", threshold=0.5, window=1)
        run.log(acc=0.9)
        run.log(acc=0.1)
        _wait_until(lambda: run.alerts().state[0] == "critical")
        assert run.alerts().state[0] == "critical"
        assert not math.isnan(run.alerts().changed_at[0].timestamp())


@pytest.mark.parametrize(
    "rule, values, expected",
    [
        ("is above", [1, 5, 1], ["critical", "ok"]),
        ("is below", [5, 1, 5], ["critical", "ok"]),
        ("is outside range", [2, 9, 2, -9], ["critical", "ok", "critical"]),
        ("is inside range", [9, 2, 9], ["critical", "ok"]),
    ],
)
def test_rules(db, rule, values, expected):
    with jt.start_run(name="r", system=False) as run:
        run.add_alert("a", metric="m", rule=rule, threshold=3, range_low=0, range_high=4, window=1)
        for value in values:
            run.log(m=value)
    assert [state for _, state in _alert_events("r")] == expected


def test_frequency_checks_every_n_points_and_nan_is_skipped(db):
    with jt.start_run(name="f", system=False) as run:
        run.add_alert("a", metric="m", rule="is above", threshold=10, window=1, frequency=3)
        for value in [50, 50, 1, 50, math.nan, 50, 50]:  # checked at the 3rd and 6th real values
            run.log(m=value)
    events = jt.load_run("f").events()
    assert [e["state"] for e in events.extra] == ["critical"]
    assert "averaged 50" in events.message[0]


def test_an_events_alert_matches_a_pattern_and_ignores_its_own_events(db):
    with jt.start_run(name="e", system=False) as run:
        run.add_alert("oom", source="events", pattern=r"out of memory|alert", window=2)
        run.log_event("epoch 1 done")
        run.log_event("CUDA out of memory", level="error")
        assert run.flush()  # checked on this batch; the alert's own events (which say "alert") come later
        run.log_event("retrying with a smaller batch")
        run.log_event("epoch 2 done")
    assert _alert_events("e") == [("critical", "critical"), ("info", "ok")]
    assert run.alerts().rule[0] == {
        "source": "events",
        "window": 2,
        "frequency": 1,
        "pattern": r"out of memory|alert",
        "notify": False,
    }


def _notify_failures(run) -> list[str]:
    return [e[2] for e in run.store.events(run.id) if "notify callback failed" in e[2]]


def test_errors_of_the_notify_callback_never_reach_the_caller(db):
    called = threading.Event()

    def broken(change):
        called.set()
        raise RuntimeError("mail server down")

    with jt.start_run(name="n", system=False) as run:
        run.add_alert("a", metric="m", rule="is above", threshold=0, window=1, notify=broken)
        run.log(m=1)
        assert called.wait(5)
        # the failure is logged by the notify thread once the callback has raised
        wait_until(lambda: run.flush() and _notify_failures(run), what="the notify failure event")
        run.log(m=2)
    assert run.status == "finished"
    messages = jt.load_run("n").events().message.tolist()
    assert any("notify callback failed: RuntimeError: mail server down" in m for m in messages)


def test_redefining_an_alert_replaces_it(db):
    with jt.start_run(name="again", system=False) as run:
        run.add_alert("a", metric="m", rule="is above", threshold=0, window=1)
        run.add_alert("a", metric="m", rule="is above", threshold=100, window=1)
        run.log(m=1)
    assert len(run.alerts()) == 1 and run.alerts().state[0] == "ok" and _alert_events("again") == []


def test_declaring_the_same_alert_again_keeps_its_state_and_window(db):
    with jt.start_run(name="same", system=False) as run:
        run.add_alert("a", metric="m", rule="is above", threshold=1, window=2)
        run.log(m=5)
        run.log(m=5)
        _wait_until(lambda: run.alerts().state[0] == "critical")
        changes = []
        run.add_alert("a", metric="m", rule="is above", threshold=1, window=2, notify=changes.append)
        run.log(m=-9)  # mean over the kept window (5, -9) is below 1: clears, and the new callback hears it
    assert _alert_events("same") == [("critical", "critical"), ("info", "ok")]
    _wait_until(lambda: changes)
    assert [c.state for c in changes] == ["ok"]


def test_a_resumed_run_carries_its_alerts_on(db):
    with jt.start_run(name="long", system=False) as run:
        run.add_alert("loss high", metric="loss", rule="is above", threshold=1.0, window=3)
        run.add_alert("nan seen", source="events", pattern="nan", window=1)
        for value in [3.0, 3.0, 3.0]:
            run.log(loss=value)
    assert run.alerts().state.tolist() == ["critical", "ok"]
    with jt.start_run(resume="long", system=False) as again:
        assert again.alerts().state.tolist() == ["critical", "ok"]  # no second "critical" event
        # the window refilled from the stored points: (3, 3, -9) averages -1, which clears the alert
        again.log(loss=-9.0)
        again.log_event("loss is nan")
    assert jt.load_run("long").alerts().state.tolist() == ["ok", "critical"]
    assert _alert_events("long") == [("critical", "critical"), ("info", "ok"), ("critical", "critical")]


def test_a_resumed_events_alert_keeps_its_window(db):
    with jt.start_run(name="ev", system=False) as run:
        run.add_alert("nan seen", source="events", pattern="nan", window=3)
        run.log_event("a")
        run.log_event("nan here")
    with jt.start_run(resume="ev", system=False) as again:
        again.log_event("b")  # the window (a, nan here, b) still holds the match
        again.log_event("c")
    assert jt.load_run("ev").alerts().state.tolist() == ["critical"]
    with jt.start_run(resume="ev", system=False) as third:
        third.log_event("d")  # (b, c, d): cleared
    assert _alert_events("ev") == [("critical", "critical"), ("info", "ok")]


def test_a_stored_rule_this_version_cannot_read_does_not_stop_a_resume(db):
    with jt.start_run(name="odd", system=False) as run:
        run.log(loss=1.0)
    run.store.put_alert(run.id, "custom", {"kind": "from a newer tool"}, time.time())
    with jt.start_run(resume="odd", system=False) as again:
        again.log(loss=2.0)
    record = jt.load_run("odd")
    assert record.status == "finished" and record.summary().loc["loss", "count"] == 2
    assert any("alert 'custom' not re-armed" in m for m in record.events().message)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"metric": "m", "rule": "is big", "threshold": 1}, "rule must be one of"),
        ({"metric": "m", "rule": "is above"}, "numeric threshold"),
        (
            {"metric": "m", "rule": "is inside range", "range_low": 2, "range_high": 1},
            "range_low <= range_high",
        ),
        ({"rule": "is above", "threshold": 1}, "metric="),
        ({"metric": "m", "rule": "is above", "threshold": 1, "window": 0}, "window"),
        ({"metric": "m", "rule": "is above", "threshold": 1, "frequency": 1.5}, "frequency"),
        ({"metric": "m", "rule": "is above", "threshold": 1, "window": "5"}, "needs its unit: '30s'"),
        ({"metric": "m", "rule": "is above", "threshold": 1, "window": "0s"}, "duration such as"),
        ({"metric": "m", "rule": "is above", "threshold": 1, "window": "5 fortnights"}, "window"),
        ({"source": "events"}, "pattern="),
        ({"source": "events", "pattern": "("}, "not a regular expression"),
        ({"source": "logs", "pattern": "x"}, "source"),
        ({"metric": "m", "rule": "is above", "threshold": 1, "notify": "me@x"}, "callable"),
    ],
)
def test_bad_alert_arguments(db, kwargs, message):
    with jt.start_run(system=False) as run, pytest.raises(InvalidArgument, match=message):
        run.add_alert("bad", **kwargs)


T0 = 1_767_225_600.0  # points carry their own times: durations are measured on them


def test_a_window_may_be_a_duration(db):
    with jt.start_run(name="timed", system=False) as run:
        spec = run.add_alert("hot", metric="t", rule="is above", threshold=5, window="1m")
        assert spec["window"] == "1m"
        run.log(t=10, timestamp=T0)  # mean 10: fires
        run.log(t=0, timestamp=T0 + 30)  # (10, 0) in the last minute: mean 5, clears
        run.log(t=8, timestamp=T0 + 100)  # the older points left the window: mean 8, fires
    assert _alert_events("timed") == [("critical", "critical"), ("info", "ok"), ("critical", "critical")]
    assert "t averaged 8 over the last 1m (1 point)" in jt.load_run("timed").events().message.iloc[-1]


def test_a_frequency_may_be_a_duration_and_a_timedelta_works_too(db):
    from datetime import timedelta

    with jt.start_run(name="every", system=False) as run:
        spec = run.add_alert(
            "hot", metric="t", rule="is above", threshold=5, window=1, frequency=timedelta(minutes=1)
        )
        assert spec["frequency"] == "60s"
        run.log(t=10, timestamp=T0)  # checked: fires
        run.log(t=0, timestamp=T0 + 30)  # not checked before a minute has passed
        run.log(t=0, timestamp=T0 + 61)  # checked: clears
    assert _alert_events("every") == [("critical", "critical"), ("info", "ok")]
    events = jt.load_run("every").events()
    assert [round(t.timestamp()) for t in events.time] == [T0, T0 + 61]


def test_a_resumed_run_refills_a_time_window_from_its_points(db):
    with jt.start_run(name="again", system=False) as run:
        run.add_alert("hot", metric="t", rule="is above", threshold=5, window="1m")
        run.add_alert("seen", source="events", pattern="oom", window="1m")
        run.log(t=10, timestamp=T0)
        run.log_event("oom", timestamp=T0)
    with jt.start_run(resume="again", system=False) as resumed:
        resumed.log(t=4, timestamp=T0 + 20)  # (10, 4): mean 7, still critical: no new event
        resumed.log_event("fine", timestamp=T0 + 20)  # "oom" is still in the last minute
        resumed.log(t=4, timestamp=T0 + 90)  # (4, 4) in the last minute: clears
        resumed.log_event("fine", timestamp=T0 + 90)
    assert _alert_events("again") == [
        ("critical", "critical"),
        ("critical", "critical"),
        ("info", "ok"),
        ("info", "ok"),
    ]
    assert jt.load_run("again").alerts().state.tolist() == ["ok", "ok"]
