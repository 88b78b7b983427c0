"""Pure chart functions: long metric DataFrames -> downsampled Altair charts, static images, offline JS.

Frames are long: key, step, value, time (a datetime or epoch seconds), plus run/name for comparisons.
Charts carry their rows as inline data (never through Altair's row-limit transformer), each series
downsampled to about `MAX_POINTS`, so no chart raises MaxRowsError whatever the run logged.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

MAX_POINTS = 2000
SYSTEM_PREFIX = "system/"
ACCENT = "#3b82f6"
# Tableau-like palette with enough contrast on white and on JupyterLab's dark background.
PALETTE = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
]
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
VL_VERSION = "6.4"


# -- downsampling --------------------------------------------------------------------------------------
def downsample(frame: pd.DataFrame, max_points: int = MAX_POINTS, x: str = "step") -> pd.DataFrame:
    """At most about `max_points` rows per series (per key, and per run when a "run" column exists).

    Long series are cut into equal buckets along `x`; each bucket keeps its minimum and its maximum,
    and the first and last points are always kept, so spikes, plateaus and the x range survive.
    Rows come back in their original order; shorter series are returned whole.
    """
    if frame is None or len(frame) <= max_points:
        return frame
    max_points = max(int(max_points), 4)
    groups = [c for c in ("run", "key") if c in frame.columns]
    values = frame["value"].to_numpy(dtype="float64", na_value=np.nan)
    xs = _numeric(frame[x]) if x in frame.columns else np.arange(len(frame), dtype="float64")
    if groups:
        codes = _group_codes(frame, groups)
        order = np.lexsort((xs, codes))
        bounds = np.flatnonzero(np.diff(codes[order])) + 1
        chunks = np.split(order, bounds)
    else:
        chunks = [np.argsort(xs, kind="stable")]
    keep = []
    for chunk in chunks:
        if len(chunk) <= max_points:
            keep.append(chunk)
        else:
            keep.append(chunk[_extremes(values[chunk], max_points)])
    positions = np.sort(np.concatenate(keep)) if keep else np.arange(0)
    return frame.iloc[positions]


def _group_codes(frame: pd.DataFrame, groups: list[str]) -> np.ndarray:
    codes = np.zeros(len(frame), dtype="int64")
    for column in groups:
        part, uniques = pd.factorize(frame[column], use_na_sentinel=False)
        codes = codes * max(len(uniques), 1) + part
    return codes


def _extremes(values: np.ndarray, max_points: int) -> np.ndarray:
    """Positions (sorted) of the first, the last, and the min and max of each bucket of `values`."""
    n = len(values)
    buckets = (max_points - 2) // 2
    size = -(-n // buckets)
    count = -(-n // size)
    finite = np.isfinite(values)
    low = np.full(count * size, np.inf)
    high = np.full(count * size, -np.inf)
    low[:n] = np.where(finite, values, np.inf)
    high[:n] = np.where(finite, values, -np.inf)
    base = np.arange(count) * size
    lo = base + low.reshape(count, size).argmin(axis=1)
    hi = base + high.reshape(count, size).argmax(axis=1)
    picked = np.concatenate(([0, n - 1], lo, hi))
    picked = picked[picked < n]
    picked = picked[finite[picked] | (picked == 0) | (picked == n - 1)]
    return np.unique(picked)


def _numeric(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


# -- data for Vega-Lite ------------------------------------------------------------------------------------
def epoch_ms(column: pd.Series) -> np.ndarray:
    """Milliseconds since the epoch from datetimes or epoch seconds (what Vega's temporal scales read)."""
    if pd.api.types.is_datetime64_any_dtype(column):
        stamps = column.dt.tz_convert("UTC") if column.dt.tz is not None else column
        return stamps.to_numpy(dtype="datetime64[ns]").astype("int64") / 1e6
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64") * 1000.0


def records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict]:
    """JSON-ready rows: time in epoch ms, non-finite values dropped (JSON has no NaN), numpy types unwrapped."""
    if frame is None or frame.empty:
        return []
    columns = columns or [c for c in ("run", "name", "key", "step", "value", "time") if c in frame.columns]
    values = frame["value"].to_numpy(dtype="float64", na_value=np.nan)
    mask = np.isfinite(values)
    data = {}
    for column in columns:
        if column == "time":
            data[column] = epoch_ms(frame[column])[mask].tolist()
        elif column == "value":
            data[column] = values[mask].tolist()
        else:
            data[column] = frame[column].to_numpy()[mask].tolist()
    return [dict(zip(columns, row, strict=True)) for row in zip(*data.values(), strict=True)]


def _x_encoding(x: str, title: bool = True):
    if x == "time":
        return alt.X("time:T", title="wall time" if title else None, axis=alt.Axis(format="%H:%M:%S"))
    # Per-label SI format: 500, 1.5k, 2M (an axis-wide "~s" prints "0k" and "0.5k").
    labels = "abs(datum.value) < 1000 ? format(datum.value, ',~r') : format(datum.value, '.3~s')"
    return alt.X("step:Q", title="step" if title else None, axis=alt.Axis(labelExpr=labels, tickCount=5))


def _check_x(x: str) -> None:
    if x not in ("step", "time"):
        raise ValueError(f"x must be 'step' or 'time', got {x!r}")


BASE_CONFIG = {
    "font": FONT,
    "view": {"stroke": None},
    "axis": {
        "labelColor": "#5f6368",
        "titleColor": "#5f6368",
        "gridColor": "#e8eaed",
        "domainColor": "#c4c7c5",
        "tickColor": "#c4c7c5",
        "labelFontSize": 10,
        "titleFontSize": 10,
        "titleFontWeight": "normal",
    },
    "header": {"labelFontSize": 12, "labelFontWeight": "bold", "labelColor": "#202124", "title": None},
}


def _base_config(chart):
    return chart.configure(**BASE_CONFIG)


def _empty(message: str) -> alt.Chart:
    chart = alt.Chart({"values": [{"text": message}]}).mark_text(color="#80868b", fontSize=13, font=FONT)
    return chart.encode(text="text:N").properties(width=320, height=60)


# -- charts -----------------------------------------------------------------------------------------------
def metric_chart(
    frame: pd.DataFrame, x: str = "step", *, columns: int = 3, width: int = 220, height: int = 130
) -> alt.Chart:
    """Small multiples, one line chart per metric key, each with its own y scale."""
    _check_x(x)
    if frame is None or frame.empty:
        return _base_config(_empty("No metrics logged yet"))
    data = records(downsample(frame, MAX_POINTS, x), ["key", "step", "value", "time"])
    keys = list(pd.unique(frame["key"]))
    base = alt.Chart({"values": data}).mark_line(
        color=ACCENT, strokeWidth=1.6, interpolate="linear", point=True if len(frame) <= 1 else alt.Undefined
    )
    tooltip = [
        alt.Tooltip("key:N", title="metric"),
        alt.Tooltip("step:Q", title="step", format=","),
        alt.Tooltip("value:Q", title="value", format=".6~g"),
        alt.Tooltip("time:T", title="time", format="%H:%M:%S"),
    ]
    y = alt.Y("value:Q", title=None, scale=alt.Scale(zero=False), axis=alt.Axis(tickCount=4))
    chart = base.encode(x=_x_encoding(x), y=y, tooltip=tooltip).properties(width=width, height=height)
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
    colour per series. Built as plain JSON from the live panel's templates: going through Altair's
    from_dict would validate every template against the schema, about 0.2 s a panel."""
    from .chart_specs import SCHEMA_URL, system_panels, system_series, system_spec

    if frame is None or frame.empty:
        return spec(_base_config(_empty("No hardware samples")))
    keys = list(pd.unique(frame["key"]))
    labels = {k: system_series(k)[2] for k in keys}
    panels = []
    for title, panel in system_panels(keys).items():
        part = frame[frame["key"].isin(panel["keys"])]
        part = part.assign(series=part["key"].map(labels))
        template = system_spec(panel["unit"], height=height)
        data = records(downsample(part, MAX_POINTS, "time"), ["series", "key", "value", "time"])
        panels.append(
            {k: v for k, v in template.items() if k not in ("$schema", "data")}
            | {
                "data": {"values": data},
                "width": width,
                "title": {"text": title, "anchor": "start", "fontSize": 12},
            }
        )
    return {
        "$schema": SCHEMA_URL,
        "concat": panels,
        "columns": columns,
        "spacing": 24,
        "resolve": {"scale": {"color": "independent"}},
        "config": BASE_CONFIG,
    }


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
    _check_x(x)
    part = frame[frame["key"] == metric] if frame is not None and not frame.empty else frame
    if part is None or part.empty:
        return _base_config(_empty(f"No values of {metric!r} in the selected runs"))
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
            x=_x_encoding(x),
            y=alt.Y("value:Q", title=metric, scale=alt.Scale(zero=False)),
            color=alt.Color(
                "label:N",
                title="run",
                sort=labels,
                scale=alt.Scale(domain=labels, range=palette),
                legend=alt.Legend(orient="right", labelLimit=180),
            ),
            tooltip=[
                alt.Tooltip("label:N", title="run"),
                alt.Tooltip("step:Q", format=","),
                alt.Tooltip("value:Q", format=".6~g"),
                alt.Tooltip("time:T", format="%H:%M:%S"),
            ],
        )
        .properties(width=width, height=height, title=alt.TitleParams(metric, anchor="start", fontSize=13))
    )
    return _base_config(chart)


# -- static images and offline JavaScript -------------------------------------------------------------
def spec(chart) -> dict:
    """The Vega-Lite dict of an Altair chart (or a dict passed through)."""
    return chart if isinstance(chart, dict) else chart.to_dict(validate=False)


def to_svg(chart) -> str:
    """The chart drawn as SVG text, without a browser (vl-convert)."""
    import vl_convert

    return vl_convert.vegalite_to_svg(spec(chart), vl_version=VL_VERSION)


def to_png(chart, scale: float = 1) -> bytes:
    """The chart drawn as PNG bytes, without a browser (vl-convert)."""
    import vl_convert

    return vl_convert.vegalite_to_png(spec(chart), vl_version=VL_VERSION, scale=scale)


def vega_bundle_js() -> str:
    """Vega, Vega-Lite and vega-embed as one script that sets `window.vegaEmbed`, `vega` and `vegaLite`
    (no CDN; built once by vl-convert, then cached in memory and on disk)."""
    return javascript_bundle(None)


def javascript_bundle(snippet: str | None) -> str:
    """vl-convert's bundle of `snippet` (ES module code using vegaEmbed/vegaLite; None: the globals script).

    Building takes about a second; the result is cached per snippet in memory and in the user cache folder.
    """
    return _bundle(snippet)


@functools.lru_cache(maxsize=8)
def _bundle(snippet: str | None) -> str:
    import vl_convert

    digest = hashlib.sha256(f"{vl_convert.__version__}\0{VL_VERSION}\0{snippet}".encode()).hexdigest()[:20]
    path = _cache_dir() / f"vega-bundle-{digest}.js"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    text = vl_convert.javascript_bundle(snippet, vl_version=VL_VERSION)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError:
        pass  # a read-only home only costs the rebuild next time
    return text


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jupyter-tracker"


def finite(value) -> float | None:
    """A float for JSON: None for NaN/inf/None."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
