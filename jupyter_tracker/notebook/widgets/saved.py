"""What a finished cell keeps for JupyterLab's extension to draw the panel (or the comparison) again, with no
kernel: the mime types RUN_MIME and COMPARE_MIME, whose data is JSON.

Notebooks are saved with one value per line, indented: long lists of numbers or of table rows would take
several times their size. So series are columns of comma-separated numbers (steps and times as differences
from the previous point, values to 5 significant digits), and the nested parts (summaries, events, layout,
Vega-Lite templates, table rows) are JSON text. JupyterLab's extension parses those (JSON_FIELDS) and
common.js's `unpack` reads the series.
"""

from __future__ import annotations

import json
import math

from ...charts import specs as chart_specs
from ...charts.vega import PALETTE
from .compare import PRESELECT
from .images import thin

RUN_MIME = "application/vnd.jupyter-tracker.run+json"
COMPARE_MIME = "application/vnd.jupyter-tracker.compare+json"
VERSION = 1
METRIC_ROWS = 600  # per metric: a min and a max for each of 300 pixel columns of a wide chart
SYSTEM_ROWS = 240
MAX_EVENTS = 100
COMPARE_POINTS = 400  # per series at most
COMPARE_BUDGET = 6000  # points in all: many runs and metrics get fewer points each
_QUIET_SYSTEM = ("system/cpu/core",)  # per-core lines: the live panel's business, not the saved one's


def _number(value: float) -> str:
    text = f"{value:.5g}"
    return text.replace("e+0", "e").replace("e-0", "e-")


JSON_FIELDS = ("params", "summary", "events", "system_layout", "specs", "columns", "rows")


def _text(value) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _rounded(value):
    """Floats to 6 significant digits (the panel shows 5)."""
    return float(f"{value:.6g}") if isinstance(value, float) and math.isfinite(value) else value


def pack(points) -> dict[str, str]:
    """(step, value, time in epoch ms) points as three columns of text: {"step", "value", "time"}."""
    steps, values, times = [], [], []
    last_step, last_time = 0, 0
    for step, value, when in points:
        if not math.isfinite(value):
            continue
        ms = round(when)
        steps.append(str(int(step) - last_step))
        times.append(str(ms - last_time))
        values.append(_number(value))
        last_step, last_time = int(step), ms
    return {"step": ",".join(steps), "value": ",".join(values), "time": ",".join(times)}


def _kept(key: str) -> bool:
    return not key.startswith(_QUIET_SYSTEM)


def run_payload(panel, info: dict, params: dict) -> dict:
    """The RUN_MIME data of a finished panel (a LivePanel): what run_panel.js draws, minus the kernel."""
    series = {}  # in the order the keys came: the panel's order (nbformat sorts the keys of objects)
    for key, rows in panel.rows().items():
        if not _kept(key):
            continue
        limit = SYSTEM_ROWS if key.startswith("system/") else METRIC_ROWS
        points = [(step, value, ms) for _, step, value, ms in rows]
        series[key] = {"key": key, **pack(thin(points, limit, value=lambda p: p[1]))}
    summaries = panel.summaries()
    layout = {k: v for k, v in panel.widget.system_layout.items() if k in series}
    return {
        "version": VERSION,
        "info": info,
        "params": _text(params),
        "summary": _text(
            {
                key: {name: _rounded(value) for name, value in summary.items()}
                for key, summary in summaries.items()
                if key in series or not key.startswith("system/")
            }
        ),
        "events": _text(panel.events[-MAX_EVENTS:]),
        "system_layout": _text(layout),
        "series": list(series.values()),
        "specs": _text(panel.widget.specs),
    }


def series_of(comparison, metric: str, runs: list[int], limit: int = COMPARE_POINTS) -> dict[str, dict]:
    """{run id: packed points} of one metric, at most `limit` points per run. (Thinned here, not through
    Comparison.series(max_points=...): its cache would then hand the coarse series to the user's calls.)"""
    frame = comparison.series(metric, runs)
    per_run: dict[str, list] = {str(run): [] for run in runs}
    columns = (frame[name].tolist() for name in ("run", "step", "value", "time"))
    for run, step, value, when in zip(*columns, strict=True):
        if math.isfinite(value):
            per_run[str(run)].append((step, value, when * 1000.0))
    return {run: pack(thin(points, limit, value=lambda p: p[1])) for run, points in per_run.items()}


def compare_payload(comparison, columns: list[dict], rows: list[dict], source: str) -> dict:
    """The COMPARE_MIME data of a Comparison: its table, and the series of its first runs (every metric);
    the others' come from the kernel that showed it, asked by `source` (no path of the user's is saved)."""
    selected = comparison.runs[:PRESELECT]
    series: dict[str, dict[str, dict]] = {}
    each = COMPARE_BUDGET // max(len(selected) * len(comparison.metrics), 1)
    each = max(min(each, COMPARE_POINTS), 60)
    for metric in comparison.metrics:
        series[metric] = series_of(comparison, metric, selected, each)
    specs = {
        "overlay": {"step": chart_specs.overlay_spec("step"), "time": chart_specs.overlay_spec("time")},
        "palette": PALETTE,
    }
    return {
        "version": VERSION,
        "columns": _text(columns),
        "rows": _text(rows),
        "metrics": list(comparison.metrics),
        "selected": selected,
        "series": series,
        "specs": _text(specs),
        "source": source,
    }
