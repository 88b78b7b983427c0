"""The comparison's table for the browser: its columns in reading order and its rows as JSON-safe dicts
(compare.js sorts, filters and selects them; saved.compare_payload carries them in the output)."""

from __future__ import annotations

import math

PRESELECT = 5  # runs selected at first: their curves are overlaid


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
