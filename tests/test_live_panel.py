"""The live panel's batching, without a browser: LiveSeries (per-key downsampling, what each update
carries) and LivePanel (what reaches the widget: custom `rows` messages and synced traits).

The widget objects are created for real (anywidget; outside a kernel their comm is a dummy) and each
panel's `send` is replaced on the instance to capture the messages the browser would get. The run is a
small fake with the `info` / `subscribe()` surface LivePanel uses; a batch is handed over exactly as the
writer thread does, by calling the subscribed callback.
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
import time

import fakes
import pytest

from jupyter_tracker.notebook.widgets.live import MAX_EVENTS, LivePanel
from jupyter_tracker.notebook.widgets.pusher import PUSHER
from jupyter_tracker.notebook.widgets.series import LiveSeries

T0 = 1_700_000_000.0
WAIT = 10.0


# ---- LiveSeries -------------------------------------------------------------------------------------


def _fill(series: LiveSeries, values, step0: int = 0) -> None:
    for i, value in enumerate(values):
        series.add(step0 + i, float(value), T0 + step0 + i)


def _browser(messages: list[dict]) -> list[list]:
    """Apply the updates as run_panel.js does: drop the rows from bucket `from` on, append the new ones."""
    rows: list[list] = []
    for change in messages:
        rows = [row for row in rows if row[0] < change["from"]] + change["rows"]
    return rows


def test_a_short_series_keeps_every_point_as_a_row():
    series = LiveSeries(max_rows=100)
    _fill(series, [3, 1, 2])
    assert series.rows() == [
        [0, 0, 3.0, T0 * 1000],
        [1, 1, 1.0, (T0 + 1) * 1000],
        [2, 2, 2.0, (T0 + 2) * 1000],
    ]
    assert series.take() == {"from": 0, "rows": series.rows()}
    assert series.take() is None  # nothing new, nothing to send


def test_an_update_carries_only_the_buckets_touched_since_the_last_one():
    series = LiveSeries(max_rows=100)
    _fill(series, range(10))
    series.take()
    _fill(series, [10, 11], step0=10)
    change = series.take()
    assert change == {
        "from": 10,
        "rows": [[10, 10, 10.0, (T0 + 10) * 1000], [11, 11, 11.0, (T0 + 11) * 1000]],
    }


def test_full_buckets_merge_keep_the_extremes_and_resend_everything():
    series = LiveSeries(max_rows=8)  # 4 buckets of [low, high]
    _fill(series, [5, 1, 9, 2])
    series.take()
    assert series.width == 1 and len(series.buckets) == 4
    _fill(series, [7], step0=4)  # a 5th bucket would be one too many: neighbours merge
    assert series.width == 2 and len(series.buckets) == 3
    change = series.take()
    assert change["from"] == 0  # the browser gets the whole (coarser) series again
    values = [row[2] for row in change["rows"]]
    assert values == [5.0, 1.0, 9.0, 2.0, 7.0]  # each merged bucket keeps its min and max, in step order
    assert [row[0] for row in change["rows"]] == [0, 0, 1, 1, 2]


@pytest.mark.parametrize("max_rows", [7, 200, 2000])
def test_rows_and_memory_stay_bounded_and_keep_the_extremes(max_rows):
    series = LiveSeries(max_rows=max_rows)
    n = 100_000
    values = [math.sin(i / 500) * (1 + i / n) for i in range(n)]
    values[12_345], values[67_890] = -50.0, 80.0  # spikes a min/max downsampler must not lose
    _fill(series, values)
    rows = series.rows()
    assert len(series.buckets) <= max(max_rows // 2, 2) and len(rows) <= max(max_rows, 4)
    assert series.width & (series.width - 1) == 0  # doubles each time
    assert [row[1] for row in rows] == sorted(row[1] for row in rows)  # in step order
    assert (12_345, -50.0) in {(row[1], row[2]) for row in rows}
    assert (67_890, 80.0) in {(row[1], row[2]) for row in rows}
    assert series.summary() == {
        "count": n,
        "last": values[-1],
        "last_text": None,
        "min": -50.0,
        "max": 80.0,
        "step": n - 1,
    }


def test_a_long_run_sends_a_few_rows_per_update_and_the_browser_ends_up_with_every_row():
    series = LiveSeries(max_rows=200)
    messages, resets = [], 0
    for start in range(0, 100_000, 100):  # 1,000 updates of 100 points
        _fill(series, (math.cos(i / 700) for i in range(start, start + 100)), step0=start)
        change = series.take()
        messages.append(change)
        if change["from"] == 0:
            resets += 1
        else:
            # 100 new points at a width of >= 64 touch at most 3 buckets: at most 6 rows
            assert len(change["rows"]) <= 6 or series.width < 64
        assert len(change["rows"]) <= 200
    assert resets <= 12  # the width doubles about log2(100_000 / 100) times, each a full resend
    assert sum(len(m["rows"]) for m in messages) < 100_000 / 10  # far less than the points
    assert _browser(messages) == series.rows()


def test_nan_and_infinity_are_counted_but_never_drawn():
    series = LiveSeries(max_rows=10)
    _fill(series, [1.0, math.nan, math.inf, -math.inf, 2.0])
    assert [row[2] for row in series.rows()] == [1.0, 2.0]
    assert series.summary() == {"count": 5, "last": 2.0, "last_text": None, "min": 1.0, "max": 2.0, "step": 4}
    series.add(5, math.nan, T0 + 5)
    summary = series.summary()
    assert summary["last"] is None and summary["last_text"] == "nan" and summary["count"] == 6
    json.dumps(series.take(), allow_nan=False)  # JSON.parse in the browser rejects NaN


def test_summary_of_an_empty_series():
    assert LiveSeries().summary() == {
        "count": 0,
        "last": None,
        "last_text": None,
        "min": None,
        "max": None,
        "step": None,
    }


# ---- LivePanel --------------------------------------------------------------------------------------


class FakeRun(fakes.FakeRun):
    """A running run as the panel sees it."""

    def __init__(self, params=None):
        params = dict(params or {"lr": 0.1})
        super().__init__(
            id=7, uuid="0" * 32, name="fake-run", status="running", ended=None, params=params, tags=("demo",)
        )


class Sent:
    """Stands in for the widget's `send`: keeps every message, and lets a test wait for them."""

    def __init__(self):
        self.messages: list[dict] = []
        self.threads: list[threading.Thread] = []
        self.changed = threading.Condition()

    def __call__(self, content, buffers=None):
        json.dumps(content, allow_nan=False)  # what the comm must be able to serialise
        with self.changed:
            self.messages.append(content)
            self.threads.append(threading.current_thread())
            self.changed.notify_all()

    def wait_for(self, count: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.messages) >= count, WAIT), self.messages


@pytest.fixture
def open_panel():
    """LivePanel(fake run) with its sends captured; by default the pusher waits an hour after a panel's
    first push, so every later update in a test comes from an explicit flush() (no race with the pusher)."""
    panels = []

    def make(run=None, interval=3600, **kwargs):
        run = run or FakeRun()
        panel = LivePanel(run, interval=interval, **kwargs)
        sent = Sent()
        panel.widget.send = sent
        panels.append(panel)
        return run, panel, sent

    yield make
    for panel in panels:
        panel.close()
        panel.widget.close()


def _points(key, values, step0=0):
    return [(key, step0 + i, float(v), T0 + step0 + i) for i, v in enumerate(values)]


def test_the_timer_pushes_the_first_batch_without_being_asked(open_panel):
    run, panel, sent = open_panel()
    run.deliver(_points("loss", [0.9, 0.5, 0.7]) + _points("acc", [0.1, 0.2, 0.3]))
    sent.wait_for(1)
    (message,) = sent.messages
    assert message["type"] == "rows" and message["seq"] == 1
    assert set(message["series"]) == {"loss", "acc"}
    assert message["series"]["loss"] == {
        "from": 0,
        "rows": [[i, i, v, (T0 + i) * 1000] for i, v in enumerate([0.9, 0.5, 0.7])],
    }
    summary = panel.widget.summary
    assert summary["loss"] == {"count": 3, "last": 0.7, "last_text": None, "min": 0.5, "max": 0.9, "step": 2}
    assert panel.widget.info["name"] == "fake-run" and panel.widget.info["status"] == "running"
    assert panel.widget.params == {"lr": 0.1}


def test_each_update_sends_only_what_changed(open_panel):
    run, panel, sent = open_panel()
    run.deliver(_points("loss", range(50)) + _points("acc", range(50)))
    sent.wait_for(1)
    run.deliver(_points("loss", [50], step0=50))
    panel.flush()
    assert len(sent.messages) == 2
    update = sent.messages[1]
    assert update["seq"] == 2
    assert update["series"] == {"loss": {"from": 50, "rows": [[50, 50, 50.0, (T0 + 50) * 1000]]}}
    assert panel.widget.summary["loss"]["count"] == 51 and panel.widget.summary["acc"]["count"] == 50
    panel.flush()  # nothing new: no message
    run.deliver([], [(T0 + 60, "info", "epoch done", "{}")])
    panel.flush()  # an event alone changes a trait, sends no rows
    assert len(sent.messages) == 2
    assert panel.widget.events == [[(T0 + 60) * 1000, "info", "epoch done", {}]]


def test_a_long_run_keeps_each_message_small_and_the_browser_in_step(open_panel):
    run, panel, sent = open_panel(max_rows=200)
    run.deliver(_points("loss", [1.0]))
    sent.wait_for(1)
    for start in range(1, 50_001, 250):
        run.deliver(_points("loss", (math.exp(-i / 9000) for i in range(start, start + 250)), step0=start))
        panel.flush()
    sizes = [len(m["series"]["loss"]["rows"]) for m in sent.messages]
    assert max(sizes) <= 200  # never more than max_rows per key
    assert sum(1 for m in sent.messages if m["series"]["loss"]["from"] == 0) <= 10  # full resends: rare
    assert [m["seq"] for m in sent.messages] == list(range(1, len(sent.messages) + 1))
    shown = _browser([m["series"]["loss"] for m in sent.messages])
    assert [[row[1], row[2], row[3]] for row in shown] == [
        [p["step"], p["value"], p["time"]] for p in panel.points()
    ]
    assert panel.widget.summary["loss"]["count"] == 50_001


def test_nan_infinity_and_odd_event_extras_reach_the_widget_as_valid_json(open_panel):
    run, panel, sent = open_panel(FakeRun(params={"lr": 0.1, "missing": math.nan, "shape": {1, 2}}))
    run.deliver(
        _points("loss", [1.0, math.nan, math.inf]),
        [
            (T0, "warning", "odd extras", {"value": math.nan, "obj": object()}),
            (T0 + 1, "info", "from the writer", '{"lr": 0.01}'),
            (T0 + 2, "info", "broken text", "{not json"),
        ],
    )
    sent.wait_for(1)
    assert sent.messages[0]["series"]["loss"]["rows"] == [[0, 0, 1.0, T0 * 1000]]
    widget = panel.widget
    for trait in (widget.summary, widget.events, widget.params, widget.info):
        json.dumps(trait, allow_nan=False)
    assert widget.summary["loss"]["last"] is None and widget.summary["loss"]["last_text"] == "inf"
    assert widget.params["missing"] == "nan" and widget.params["lr"] == 0.1
    extras = [event[3] for event in widget.events]
    assert extras[0]["value"] == "nan" and extras[0]["obj"].startswith("<object")
    assert extras[1:] == [{"lr": 0.01}, {}]


def test_events_are_capped_to_the_latest(open_panel):
    run, panel, sent = open_panel()
    run.deliver([], [(T0 + i, "info", f"event {i}", "{}") for i in range(MAX_EVENTS + 50)])
    panel.flush()
    assert len(panel.widget.events) == MAX_EVENTS
    assert (
        panel.widget.events[0][2] == "event 50" and panel.widget.events[-1][2] == f"event {MAX_EVENTS + 49}"
    )


def test_hardware_keys_get_a_layout_and_stay_apart_from_the_metrics(open_panel):
    run, panel, sent = open_panel()
    run.deliver(
        _points("loss", [1, 2])
        + _points("system/cpu/percent", [10, 20])
        + _points("system/memory/percent", [5])
    )
    sent.wait_for(1)
    layout = panel.widget.system_layout
    assert set(layout) == {"system/cpu/percent", "system/memory/percent"}
    assert {"rank", "panel", "unit", "label", "axis"} <= set(layout["system/cpu/percent"])
    assert {p["key"] for p in panel.points()} == {"loss"}
    assert {p["key"] for p in panel.points(system=True)} == {"system/cpu/percent", "system/memory/percent"}
    run.deliver(_points("system/gpu0/utilization", [50]))
    panel.flush()
    assert "system/gpu0/utilization" in panel.widget.system_layout and len(panel.widget.system_layout) == 3


def test_close_sends_the_rest_and_keeps_the_whole_history_for_the_saved_output(open_panel):
    run, panel, sent = open_panel(max_rows=20)
    run.deliver(_points("loss", range(5)))
    sent.wait_for(1)
    run.deliver(_points("loss", range(5, 100), step0=5), status="finished")
    run.info = dataclasses.replace(run.info, status="finished", ended=T0 + 100)
    panel.close()
    assert run.listeners == []  # unsubscribed: later batches are not folded
    assert sent.messages[-1]["seq"] == 2 and sent.messages[-1]["series"]["loss"]["from"] == 0
    rows = panel.rows()  # what the cell's saved output will carry (display.py)
    assert set(rows) == {"loss"} and len(rows["loss"]) <= 20
    assert rows["loss"] == _browser([m["series"]["loss"] for m in sent.messages])
    assert panel.widget.info["status"] == "finished" and panel.widget.info["ended"] == T0 + 100
    run.deliver(_points("loss", [1000], step0=100))
    assert panel.summaries()["loss"]["count"] == 100


def test_a_retired_panel_keeps_nothing_worth_saving(open_panel):
    """nbclient saves the last state of every widget it saw: a finished panel empties its state first."""
    from jupyter_tracker.notebook.widgets.assets import RETIRED_ESM

    run, panel, sent = open_panel()
    run.deliver(_points("loss", range(50)))
    panel.close()
    assert len(panel.widget._esm) > 20_000
    panel.retire()
    state = panel.widget.get_state()
    assert state["_esm"] == RETIRED_ESM and state["specs"] == {} and state["summary"] == {}
    assert len(json.dumps(state)) < 2_000
    # Still open: a browser's late request for the Vega runtime is answered after the cell; the next
    # panel closes it.
    assert panel.widget.comm is not None
    open_panel()
    assert panel.widget.comm is None


def test_a_bad_batch_never_raises_into_the_writer_thread(open_panel):
    run, panel, sent = open_panel()
    run.deliver([("loss",)], [("not", "an", "event")])  # malformed: swallowed by the panel
    run.deliver(_points("loss", [1.0]))
    panel.flush()
    assert panel.summaries()["loss"]["count"] == 1


# ---- one pusher thread for every panel ----------------------------------------------------------------


def test_every_panel_is_pushed_by_one_long_lived_thread(open_panel):
    """ipykernel 7 keeps a descriptor for each thread that ever sent output: panels share one thread."""
    open_panel()  # the pusher exists from the first panel on
    threads = threading.active_count()
    made = [open_panel() for _ in range(20)]
    assert threading.active_count() == threads  # no thread per panel
    for run, _, _ in made:
        run.deliver(_points("loss", [1.0, 2.0]))
    for _, _, sent in made:
        sent.wait_for(1)
    senders = {thread for _, _, sent in made for thread in sent.threads}
    assert senders == {PUSHER.thread} and PUSHER.thread.name == "jupyter-tracker-panels"
    assert PUSHER.thread.daemon
    for _, panel, _ in made:
        panel.close()
    assert not PUSHER._due.keys() & {panel for _, panel, _ in made}
    pusher = PUSHER.thread
    open_panel()[0].deliver(_points("loss", [1.0]))
    assert PUSHER.thread is pusher and pusher.is_alive()  # it never exits: the next panel reuses it


def test_updates_flow_while_the_run_logs_at_most_every_interval_per_panel(open_panel):
    slow_run, _, slow_sent = open_panel()  # parked for an hour after its first push
    run, panel, sent = open_panel(interval=0.25)
    slow_run.deliver(_points("loss", [1.0]))
    slow_sent.wait_for(1)
    started = time.monotonic()
    step = 0
    while time.monotonic() - started < 1.2:
        run.deliver(_points("loss", [float(step)], step0=step))
        slow_run.deliver(_points("loss", [float(step)], step0=step + 1))
        step += 1
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    # live while logging goes on (a parked panel does not hold the others up), yet throttled
    assert 3 <= len(sent.messages) <= elapsed / 0.25 + 2, len(sent.messages)
    assert len(slow_sent.messages) == 1
    panel.close()
    assert sum(m["series"]["loss"]["from"] == 0 for m in sent.messages) == 1
    assert _browser([m["series"]["loss"] for m in sent.messages]) == panel.rows()["loss"]
    assert panel.widget.summary["loss"]["count"] == step


def test_a_closed_panel_is_never_pushed_again(open_panel):
    run, panel, sent = open_panel(interval=0)
    run.deliver(_points("loss", [1.0]))
    sent.wait_for(1)
    panel.close()
    count = len(sent.messages)
    panel._on_batch(_points("loss", [2.0], step0=1), [], "finished")  # a late batch: folded, never sent
    panel.push()  # what the pusher would do had it picked the panel just before close()
    assert len(sent.messages) == count
