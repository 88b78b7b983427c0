"""The comparison widget: a sortable, filterable run table and an overlay chart of the selected runs.

Sorting, filtering, selection and the highlighting of differing params happen in the browser. Series for
the overlay come with the widget for the first selection; others are asked for by a message and
answered from `Comparison.series` (through the Store, never SQL here).
"""

from __future__ import annotations

import math
from typing import Any

import traitlets

from ...charts import specs as chart_specs
from ...charts.vega import PALETTE
from .assets import BundledWidget

PRESELECT = 5


class ComparisonWidget(BundledWidget):
    kind = traitlets.Unicode("compare").tag(sync=True)
    columns: traitlets.List[Any] = traitlets.List().tag(sync=True)
    rows: traitlets.List[Any] = traitlets.List().tag(sync=True)
    metrics: traitlets.List[Any] = traitlets.List().tag(sync=True)
    selected: traitlets.List[Any] = traitlets.List().tag(sync=True)
    series = traitlets.Dict().tag(sync=True)

    def __init__(self, comparison, **kwargs):
        self.comparison = comparison
        selected = comparison.runs[:PRESELECT]
        metrics = list(comparison.metrics)
        series = {}
        if metrics and selected:
            series = {metrics[0]: self._series_rows(metrics[0], selected)}
        super().__init__(
            columns=table_columns(comparison.frame),
            rows=table_rows(comparison.frame),
            metrics=metrics,
            selected=selected,
            series=series,
            specs={
                "overlay": {
                    "step": chart_specs.overlay_spec("step"),
                    "time": chart_specs.overlay_spec("time"),
                },
                "palette": PALETTE,
            },
            **kwargs,
        )
        self.on_msg(self._on_message)

    def _series_rows(self, metric: str, runs) -> dict:
        frame = self.comparison.series(metric, runs)
        out: dict[str, list] = {str(run): [] for run in runs}
        steps, values, times = frame["step"].to_numpy(), frame["value"].to_numpy(), frame["time"].to_numpy()
        for run, step, value, when in zip(frame["run"].to_numpy(), steps, values, times, strict=True):
            if math.isfinite(value):
                out[str(run)].append([int(step), float(value), float(when) * 1000.0])
        return out

    def _on_message(self, _widget, content, _buffers) -> None:
        if not isinstance(content, dict) or content.get("type") != "series":
            return
        metric = str(content.get("metric", ""))
        known = set(self.comparison.runs)
        runs = [int(r) for r in content.get("runs", []) if int(r) in known]
        if metric not in self.comparison.metrics or not runs:
            return
        try:
            data = self._series_rows(metric, runs)
        except Exception as exc:  # answer, so the browser stops waiting
            self.send({"type": "series", "metric": metric, "data": {}, "error": str(exc)})
            return
        self.send({"type": "series", "metric": metric, "data": data})


def table_columns(frame) -> list[dict]:
    """Column descriptions for the browser, in reading order: name and status, each metric's last/min/max,
    the params, then started, duration, tags (and project when there are several), id."""
    run, params, metrics = [], [], []
    kinds = {"started": "date", "duration": "duration", "status": "status", "id": "number"}
    for column in frame.columns:
        if column.startswith("params."):
            params.append({"id": column, "label": column[7:], "group": "params", "kind": "value"})
        elif column.startswith("metrics."):
            metric, stat = column[8:].rsplit(".", 1)
            metrics.append({"id": column, "label": stat, "group": metric, "kind": "number", "metric": metric})
        elif column != "project" or frame["project"].nunique() > 1:
            run.append({"id": column, "label": column, "group": "run", "kind": kinds.get(column, "text")})
    first = [c for c in run if c["id"] in ("name", "status")]
    rest = [c for c in run if c["id"] not in ("name", "status", "id")]
    last = [{**c, "group": "more"} for c in rest] + [{**c, "group": "more"} for c in run if c["id"] == "id"]
    return first + metrics + params + last


def table_rows(frame) -> list[dict]:
    """Rows as JSON-safe dicts: times in epoch ms, NaN as null."""
    records = []
    started = frame["started"]
    ms = (started.astype("int64") // 1_000_000).tolist() if len(frame) else []
    data = frame.drop(columns=["started"]).to_dict("records")
    for record, when, is_null in zip(data, ms, started.isna().tolist(), strict=True):
        clean = {k: _json(v) for k, v in record.items()}
        clean["started"] = None if is_null else when
        records.append(clean)
    return records


def _json(value):
    if value is None:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str):
        return value
    item = getattr(value, "item", None)
    if item is not None:
        return _json(item())
    return str(value)
