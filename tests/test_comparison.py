"""Comparison data: the table, filters, differing params, series; the widget's table payload; the
live panel's streaming downsampler."""

from __future__ import annotations

import json
import math

import pytest

import jupyter_tracker as jt
from jupyter_tracker.errors import InvalidArgument, RunNotFound
from jupyter_tracker.notebook.widgets.compare import table_columns, table_rows
from jupyter_tracker.notebook.widgets.series import LiveSeries
from jupyter_tracker.reading.comparison import Comparison, compare


@pytest.fixture
def runs(db):
    made = {}
    for name, lr, opt, tags in [
        ("a", 0.1, "adam", ["sweep"]),
        ("b", 0.01, "adam", ["sweep", "best"]),
        ("c", 0.01, "sgd", []),
    ]:
        with jt.start_run(name=name, project="p", params={"lr": lr, "opt": opt, "layers": [4]}, tags=tags,
                          system=False) as run:  # fmt: skip
            for step in range(50):
                run.log(loss=1.0 / (step + 1) + lr, acc=step / 50)
            made[name] = run.id
    with jt.start_run(name="other", project="q", params={"lr": 1}, system=False) as run:
        run.log(val=1.0)
    failed = jt.start_run(name="bad", project="p", params={"lr": 5.0, "opt": "adam"}, system=False)
    failed.log(loss=math.nan)
    failed.fail(ValueError("diverged"))
    made["bad"] = failed.id
    return made


def test_table_has_one_row_per_run_with_params_and_metric_stats(runs):
    comparison = compare(project="p")
    frame = comparison.frame
    assert list(frame["name"]) == ["bad", "c", "b", "a"]  # newest first
    assert comparison.runs == list(frame["id"])
    for column in ["name", "status", "started", "duration", "tags", "params.lr", "params.opt"]:
        assert column in frame.columns
    assert [c for c in frame.columns if c.startswith("metrics.")] == [
        "metrics.loss.last", "metrics.loss.min", "metrics.loss.max",
        "metrics.acc.last", "metrics.acc.min", "metrics.acc.max",
    ]  # fmt: skip
    a = frame.set_index("name").loc["a"]
    assert a["metrics.loss.last"] == pytest.approx(1 / 50 + 0.1)
    assert a["metrics.loss.max"] == pytest.approx(1.1)
    assert a["metrics.acc.min"] == 0.0
    assert a["params.layers"] == "[4]"
    assert frame.set_index("name").loc["bad", "status"] == "failed"
    assert math.isnan(frame.set_index("name").loc["bad", "metrics.loss.last"])


def test_filters_and_explicit_runs(runs):
    assert compare(project="p", status="finished").frame["name"].tolist() == ["c", "b", "a"]
    assert compare(project="p", tags="best").frame["name"].tolist() == ["b"]
    assert compare(project="p", tags=["sweep"], last=1).frame["name"].tolist() == ["b"]
    assert compare(["a", runs["c"]]).frame["name"].tolist() == ["c", "a"]
    assert compare(project="p", metrics=["acc"]).metrics == ["acc"]
    with pytest.raises(RunNotFound):
        compare(["nope"])
    empty = compare(project="nobody")
    assert empty.frame.empty and empty.runs == [] and empty.overlay_chart() is None


def test_typos_in_filters_are_errors_not_empty_results(runs):
    with pytest.raises(InvalidArgument, match="no compared run logged 'los'; the metrics are loss"):
        compare(project="p", metrics=["los"])
    with pytest.raises(InvalidArgument, match="unknown status done; the statuses are running, finished"):
        jt.runs(status="done")


def test_differing_params(runs):
    comparison = compare(project="p")
    assert comparison.differing_params() == ["params.lr", "params.opt", "params.layers"]
    assert comparison.differing_params([runs["a"], runs["b"]]) == ["params.lr"]
    assert comparison.differing_params([runs["b"], runs["c"]]) == ["params.opt"]


def test_series_and_overlay(runs):
    comparison = compare(project="p")
    series = comparison.series("loss", [runs["a"], runs["b"]])
    assert set(series["name"]) == {"a", "b"} and len(series) == 100
    spec = comparison.overlay_chart("loss", [runs["a"], runs["b"]]).to_dict()
    assert spec["encoding"]["color"]["scale"]["domain"] == ["a", "b"]


def test_widget_table_payload_is_json(runs):
    frame = compare(project="p").frame
    columns = table_columns(frame)
    ids = [c["id"] for c in columns]
    assert "project" not in ids  # one project: no column for it
    assert ids[:3] == ["name", "status", "metrics.loss.last"] and ids[-1] == "id"
    assert {
        "id": "metrics.loss.min",
        "label": "min",
        "group": "loss",
        "kind": "number",
        "metric": "loss",
    } in columns
    rows = table_rows(frame)
    text = json.dumps(rows, allow_nan=False)
    assert '"name": "a"' in text
    assert rows[0]["metrics.loss.last"] is None and isinstance(rows[0]["started"], int)


def test_comparison_of_many_runs_is_quick(db):
    """1,000 runs build in well under a second (timed figures are in tests/perf/bench_charts.py)."""
    import time

    from jupyter_tracker.tracking.stores import store_for

    store = store_for(db)
    infos = []
    for i in range(300):
        with jt.start_run(
            name=f"r{i}", project="many", params={"lr": i / 1000, "seed": i}, system=False
        ) as run:
            run.log(loss=1.0 / (i + 1))
    infos = store.list_runs(project="many")
    started = time.perf_counter()
    comparison = Comparison(store, infos)
    assert len(comparison.frame) == 300
    assert (
        time.perf_counter() - started < 5
    )  # generous: shared machine; the benchmark reports the real figure


# -- live downsampling ----------------------------------------------------------------------------------
def test_live_series_keeps_rows_bounded_and_extremes():
    series = LiveSeries(max_rows=200)
    for step in range(10_000):
        series.add(step, math.sin(step / 100) + (5.0 if step == 4321 else 0.0), 1000.0 + step)
    rows = series.rows()
    assert len(rows) <= 200
    values = [r[2] for r in rows]
    assert max(values) == pytest.approx(5.0 + math.sin(43.21))
    assert rows[0][1] == 0 and rows[-1][1] >= 9_900
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)
    summary = series.summary()
    assert summary["count"] == 10_000 and summary["step"] == 9_999


def test_live_series_sends_only_what_changed():
    series = LiveSeries(max_rows=8)
    for step in range(3):
        series.add(step, float(step), 0.0)
    first = series.take()
    assert first["from"] == 0 and len(first["rows"]) == 3
    assert series.take() is None
    series.add(3, 3.0, 0.0)
    change = series.take()
    assert change == {"from": 3, "rows": [[3, 3, 3.0, 0.0]]}
    for step in range(4, 9):  # buckets fill up: they merge and everything is resent
        series.add(step, float(step), 0.0)
    merged = series.take()
    assert merged["from"] == 0 and series.width == 4 and len(merged["rows"]) <= 8


def test_live_series_nan_counts_but_is_not_drawn():
    series = LiveSeries()
    series.add(0, 1.0, 0.0)
    series.add(1, math.nan, 0.0)
    series.add(2, math.inf, 0.0)
    assert series.summary() == {
        "count": 3,
        "last": None,
        "last_text": "inf",
        "min": 1.0,
        "max": 1.0,
        "step": 2,
    }
    assert [r[1] for r in series.rows()] == [0]


def test_export_writes_a_comparison_card(runs, tmp_path):
    path = compare([runs["a"], runs["b"]]).export(tmp_path / "cmp.html")
    text = path.read_text()
    assert "a" in text and "b" in text and "<html" in text.lower()


def test_text_table_shows_params_as_logged_and_names_a_param_that_shares_a_metric_name(db):
    from jupyter_tracker.notebook.widgets.fallback import comparison_text

    for name, params, loss in [
        ("a", {"layers": [1, 2], "loss": "mse", "x": None}, 1.0),
        ("b", {"layers": [3], "loss": "l1"}, 2.0),
    ]:
        with jt.start_run(name=name, params=params, system=False) as run:
            run.log(loss=loss)
    lines = comparison_text(compare()).splitlines()
    assert lines[1].split() == ["name", "status", "duration", "layers", "loss", "(param)", "loss"]
    assert lines[2].split()[-3:] == ["[3]", "l1", "2"]
    assert lines[3].split()[-4:] == ["[1,", "2]", "mse", "1"]
