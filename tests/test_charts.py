"""Chart specs, downsampling and static images (no browser: vl-convert draws them)."""

from __future__ import annotations

import json
import math

import altair as alt
import numpy as np
import pandas as pd
import pytest

from jupyter_tracker.charts import overlay, vega
from jupyter_tracker.charts.downsample import downsample

T0 = 1_700_000_000.0


def long_frame(keys=("loss", "acc"), n=50, runs=None):
    rows = []
    for run in runs or [None]:
        for key in keys:
            for step in range(n):
                row = {"key": key, "step": step, "value": math.sin(step / 7) + len(key), "time": T0 + step}
                if run is not None:
                    row.update(run=run, name=f"run-{run}")
                rows.append(row)
    return pd.DataFrame(rows)


def dataset(spec: dict) -> list[dict]:
    (values,) = spec["datasets"].values()
    return values


# -- downsample --------------------------------------------------------------------------------------------
def test_downsample_leaves_short_series_alone():
    frame = long_frame(n=100)
    assert downsample(frame, 2000) is frame


def test_downsample_caps_each_series_and_keeps_shape():
    n = 100_000
    values = np.random.default_rng(0).normal(size=n)
    values[12_345] = 50.0  # a spike must survive
    values[77_777] = -40.0
    frame = pd.DataFrame({"key": "loss", "step": np.arange(n), "value": values, "time": T0 + np.arange(n)})
    small = downsample(frame, 2000)
    assert len(small) <= 2000
    assert small["value"].max() == 50.0 and small["value"].min() == -40.0
    assert small["step"].iloc[0] == 0 and small["step"].iloc[-1] == n - 1
    assert small["step"].is_monotonic_increasing


def test_downsample_per_key_and_per_run():
    n = 5000
    frame = pd.concat(
        [
            pd.DataFrame({"run": run, "key": key, "step": np.arange(n), "value": np.arange(n) * run})
            for run in (1, 2)
            for key in ("a", "b")
        ]
    )
    small = downsample(frame, 500)
    counts = small.groupby(["run", "key"]).size()
    assert len(counts) == 4 and (counts <= 500).all() and (counts > 200).all()


def test_downsample_sorts_along_x_and_ignores_nan_for_extremes():
    n = 10_000
    steps = np.random.default_rng(1).permutation(n)
    values = steps.astype(float)
    values[::3] = np.nan
    frame = pd.DataFrame({"key": "k", "step": steps, "value": values})
    small = downsample(frame, 100)
    assert len(small) <= 100
    assert {0, n - 1} <= set(small["step"])
    assert small["value"].notna().sum() >= len(small) - 2


def test_downsample_by_time_with_datetimes():
    n = 9000
    frame = pd.DataFrame(
        {
            "key": "k",
            "step": 0,
            "value": np.arange(n, dtype=float),
            "time": pd.to_datetime(T0 + np.arange(n), unit="s", utc=True),
        }
    )
    small = downsample(frame, 300, x="time")
    assert len(small) <= 300 and small["value"].max() == n - 1


# -- chart specs -------------------------------------------------------------------------------------------
def test_metric_chart_small_multiples_with_independent_scales():
    spec = overlay.metric_chart(long_frame(("loss", "acc", "lr"))).to_dict()
    assert spec["facet"]["field"] == "key" and spec["facet"]["sort"] == ["loss", "acc", "lr"]
    assert spec["columns"] == 3
    assert spec["resolve"]["scale"]["y"] == "independent"
    enc = spec["spec"]["encoding"]
    assert enc["x"]["field"] == "step" and enc["x"]["type"] == "quantitative"
    assert enc["y"]["field"] == "value"
    assert len(dataset(spec)) == 150


def test_metric_chart_time_axis_uses_epoch_ms():
    spec = overlay.metric_chart(long_frame(("loss",)), x="time").to_dict()
    assert spec["encoding"]["x"] == {**spec["encoding"]["x"], "field": "time", "type": "temporal"}
    assert dataset(spec)[0]["time"] == T0 * 1000
    assert spec["title"]["text"] == "loss"


def test_metric_chart_datetime_column_matches_epoch_seconds():
    frame = long_frame(("loss",))
    dated = frame.assign(time=pd.to_datetime(frame["time"], unit="s", utc=True))
    assert dataset(overlay.metric_chart(dated).to_dict()) == dataset(overlay.metric_chart(frame).to_dict())


def test_metric_chart_rejects_unknown_axis():
    with pytest.raises(ValueError, match="step"):
        overlay.metric_chart(long_frame(), x="epoch")


def test_million_points_never_raise_max_rows():
    n = 1_000_000
    frame = pd.DataFrame({"key": "loss", "step": np.arange(n), "value": np.random.rand(n), "time": T0})
    spec = overlay.metric_chart(frame).to_dict()  # validated, through Altair's own data path
    assert len(dataset(spec)) <= vega.MAX_POINTS
    with alt.data_transformers.enable("default", max_rows=5000):
        overlay.overlay_chart(frame.assign(run=1, name="a"), "loss").to_dict()


@pytest.mark.parametrize("rows", [0, 1])
def test_empty_and_single_point(rows):
    frame = long_frame(("loss",), n=rows)
    chart = overlay.metric_chart(frame)
    spec = chart.to_dict()
    if rows == 1:
        assert spec["mark"]["point"] is True and len(dataset(spec)) == 1
    else:
        assert spec["mark"]["type"] == "text"
    assert vega.to_svg(chart).startswith("<svg")


def test_nan_and_inf_are_left_out_of_chart_data():
    frame = long_frame(("loss",), n=5)
    frame.loc[1, "value"] = np.nan
    frame.loc[2, "value"] = np.inf
    spec = overlay.metric_chart(frame).to_dict()
    assert [row["step"] for row in dataset(spec)] == [0, 3, 4]
    json.dumps(spec, allow_nan=False)


def test_overlay_chart_one_colour_per_run():
    frame = long_frame(("loss", "acc"), runs=[1, 2, 3])
    frame.loc[frame["run"] == 3, "name"] = "run-1"  # a repeated name gets its id
    spec = overlay.overlay_chart(frame, "loss").to_dict()
    color = spec["encoding"]["color"]
    assert color["field"] == "label"
    assert color["scale"]["domain"] == ["run-1 #1", "run-2", "run-1 #3"]
    assert len(set(color["scale"]["range"])) == 3
    assert {row["key"] for row in dataset(spec)} == {"loss"}
    assert spec["encoding"]["y"]["title"] == "loss"


def test_overlay_chart_without_the_metric_is_a_message():
    spec = overlay.overlay_chart(long_frame(runs=[1]), "nope").to_dict()
    assert spec["mark"]["type"] == "text"


def test_system_series_names_panels_units_and_labels():
    from jupyter_tracker.charts.specs import system_panels, system_series

    assert system_series("system/memory/used_bytes") == ("Memory", "B", "used")
    assert system_series("system/cpu/core3/percent") == ("CPU cores", "%", "core3")
    assert system_series("system/gpu1/power_w") == ("GPU 1", "W", "power")
    assert system_series("system/network/recv_bytes_per_s") == ("Network", "B/s", "recv")
    panels = system_panels(["system/cpu/percent", "system/memory/percent", "system/memory/used_bytes"])
    assert list(panels) == ["CPU · %", "Memory · %", "Memory · B"]


def test_system_chart_one_panel_per_device_and_unit():
    keys = [
        "system/cpu/percent",
        "system/memory/percent",
        "system/memory/used_bytes",
        "system/gpu0/utilization",
    ]
    spec = overlay.system_chart(long_frame(keys))
    titles = [panel["title"]["text"] for panel in spec["concat"]]
    assert titles == ["CPU · %", "Memory · %", "Memory · B", "GPU 0 · %"]
    memory = spec["concat"][2]
    assert memory["encoding"]["x"]["type"] == "temporal"
    assert memory["encoding"]["color"]["field"] == "series"
    assert "B'" in memory["encoding"]["y"]["axis"]["labelExpr"]


def test_metric_grid_draws_the_live_template_per_key():
    from jupyter_tracker.charts.specs import metric_grid

    rows = [{"key": k, "step": s, "value": s * len(k), "time": T0 * 1000 + s} for s in range(5) for k in "ab"]
    spec = metric_grid(rows, columns=3)
    assert [panel["title"]["text"] for panel in spec["concat"]] == ["a", "b"]
    first = spec["concat"][0]
    assert first["data"]["values"] == [row for row in rows if row["key"] == "a"]
    assert first["encoding"]["x"]["title"] == "step" and first["layer"][1]["mark"]["type"] == "circle"
    json.dumps(spec, allow_nan=False)
    assert vega.to_png(spec).startswith(b"\x89PNG")
    assert metric_grid([])["mark"]["type"] == "text"


def test_live_templates_use_the_named_dataset():
    from jupyter_tracker.charts.specs import metric_spec, overlay_spec, system_spec

    for spec in (metric_spec("step"), metric_spec("time"), overlay_spec("step"), system_spec("%")):
        assert spec["data"] == {"name": "table"}
    assert metric_spec("time")["encoding"]["x"]["type"] == "temporal"
    assert overlay_spec()["encoding"]["color"]["field"] == "label"


# -- images and JavaScript ---------------------------------------------------------------------------------
def test_static_images():
    chart = overlay.metric_chart(long_frame(("loss", "acc", "lr", "val/loss")))
    assert vega.to_png(chart).startswith(b"\x89PNG")
    svg = vega.to_svg(chart)
    assert svg.startswith("<svg") and "val/loss" in svg


def test_vega_bundle_is_cached_and_offline():
    first = vega.vega_bundle_js()
    assert vega.vega_bundle_js() is first
    assert "window.vegaEmbed" in first and "cdn.jsdelivr" not in first
