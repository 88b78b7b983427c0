"""Pure chart functions: long metric DataFrames -> downsampled Altair charts (for cards and comparisons).

Frames are long: key, step, value, time (a datetime or epoch seconds), plus run/name for comparisons.
Charts carry their rows as inline data (never through Altair's row-limit transformer), each series
downsampled to about `MAX_POINTS`, so no chart raises MaxRowsError whatever the run logged.
Downsampling (chart_data), static images and the offline JavaScript (vega) live in Altair-free modules and
are re-exported here.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from . import vega
from .downsample import downsample, epoch_ms, records
from .specs import system_grid
from .vega import (
    ACCENT,
    BASE_CONFIG,
    FONT,
    MAX_POINTS,
    PALETTE,
    VL_VERSION,
    check_x,
    javascript_bundle,
    message,
    spec,
    to_png,
    to_svg,
    vega_bundle_js,
    x_encoding,
)

__all__ = [
    "ACCENT",
    "BASE_CONFIG",
    "FONT",
    "MAX_POINTS",
    "PALETTE",
    "VL_VERSION",
    "downsample",
    "epoch_ms",
    "javascript_bundle",
    "metric_chart",
    "overlay_chart",
    "records",
    "run_labels",
    "spec",
    "system_chart",
    "to_png",
    "to_svg",
    "vega_bundle_js",
]


def _base_config(chart):
    return chart.configure(**BASE_CONFIG)


def _empty(text: str) -> alt.Chart:
    return alt.Chart.from_dict(message(text), validate=False)


# -- charts -----------------------------------------------------------------------------------------------
def metric_chart(
    frame: pd.DataFrame, x: str = "step", *, columns: int = 3, width: int = 220, height: int = 130
) -> alt.Chart:
    """Small multiples, one line chart per metric key, each with its own y scale."""
    check_x(x)
    if frame is None or frame.empty:
        return _empty("No metrics logged yet")
    data = records(downsample(frame, MAX_POINTS, x), ["key", "step", "value", "time"])
    keys = list(pd.unique(frame["key"]))
    base = alt.Chart({"values": data}).mark_line(
        color=ACCENT, strokeWidth=1.6, interpolate="linear", point=True if len(frame) <= 1 else alt.Undefined
    )
    tooltip = vega.tooltip({"field": "key", "type": "nominal", "title": "metric"})
    y = alt.Y("value:Q", title=None, scale=alt.Scale(zero=False), axis=alt.Axis(tickCount=4))
    chart = base.encode(x=alt.X(**x_encoding(x)), y=y, tooltip=tooltip).properties(width=width, height=height)
    if len(keys) == 1:
        chart = chart.properties(title=alt.TitleParams(keys[0], anchor="start", fontSize=12))
        return _base_config(chart)
    faceted = chart.facet(
        facet=alt.Facet("key:N", sort=keys, title=None, header=alt.Header(labelAnchor="start")),
        columns=min(columns, len(keys)),
        spacing={"row": 18, "column": 24},
    ).resolve_scale(y="independent", x="independent")
    return _base_config(faceted)


def system_chart(frame: pd.DataFrame, *, columns: int = 2, width: int = 300, height: int = 110) -> dict:
    """Hardware charts against wall time, as a Vega-Lite spec (a dict): one panel per device and unit, one
    colour per series (see `chart_specs.system_grid`)."""
    data = records(downsample(frame, MAX_POINTS, "time"), ["key", "value", "time"])
    return system_grid(data, columns=columns, width=width, height=height)


def run_labels(frame: pd.DataFrame) -> pd.Series:
    """One label per run: its name, with the id added where names repeat."""
    if "name" not in frame.columns:
        return frame["run"].map(lambda r: f"run {r}")
    if "run" not in frame.columns:
        return frame["name"].astype(str)
    pairs = frame[["run", "name"]].drop_duplicates()
    repeated = set(pairs["name"][pairs["name"].duplicated(keep=False)])
    return (
        frame["name"]
        .astype(str)
        .where(~frame["name"].isin(repeated), frame["name"].astype(str) + " #" + frame["run"].astype(str))
    )


def overlay_chart(
    frame: pd.DataFrame, metric: str, x: str = "step", *, width: int = 560, height: int = 260
) -> alt.Chart:
    """One metric of several runs in one chart, one colour per run ("run" and/or "name" columns)."""
    check_x(x)
    part = frame[frame["key"] == metric] if frame is not None and not frame.empty else frame
    if part is None or part.empty:
        return _empty(f"No values of {metric!r} in the selected runs")
    part = part.assign(label=run_labels(part))
    if "run" not in part.columns:
        part = part.assign(run=part["label"])
    data = records(downsample(part, MAX_POINTS, x), ["run", "label", "key", "step", "value", "time"])
    labels = list(pd.unique(part["label"]))
    palette = [PALETTE[i % len(PALETTE)] for i in range(len(labels))]
    chart = (
        alt.Chart({"values": data})
        .mark_line(strokeWidth=1.8, point=True if len(part) <= len(labels) else alt.Undefined)
        .encode(
            x=alt.X(**x_encoding(x)),
            y=alt.Y("value:Q", title=metric, scale=alt.Scale(zero=False)),
            color=alt.Color(
                "label:N",
                title="run",
                sort=labels,
                scale=alt.Scale(domain=labels, range=palette),
                legend=alt.Legend(orient="right", labelLimit=180),
            ),
            tooltip=vega.tooltip({"field": "label", "type": "nominal", "title": "run"}),
        )
        .properties(width=width, height=height, title=alt.TitleParams(metric, anchor="start", fontSize=13))
    )
    return _base_config(chart)
