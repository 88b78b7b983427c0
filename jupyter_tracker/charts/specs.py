"""Vega-Lite templates for live views (one chart per metric, per hardware panel, the comparison overlay)
and the naming of hardware series. The browser fills the named dataset "table"; see widgets/run_panel.js.
The static grids (`metric_grid`, `system_grid`) put the same templates side by side with inline rows.
Plain dicts, no Altair: the notebook panel and its static fallback never import it."""

from __future__ import annotations

from ..models import SYSTEM_PREFIX
from .vega import ACCENT, BASE_CONFIG, PALETTE, SCHEMA_URL, message, tooltip, x_encoding

_DEVICES = {"cpu": "CPU", "memory": "Memory", "swap": "Memory", "disk": "Disk", "network": "Network"}
_DEVICES.update({"process": "This process", "cores": "CPU cores"})
_UNITS: tuple[tuple[str, str], ...]
_UNITS = (("bytes_per_s", "B/s"), ("percent", "%"), ("utilization", "%"), ("bytes", "B"))
_UNITS += (("temperature_c", "°C"), ("power_w", "W"))


def system_series(key: str) -> tuple[str, str, str]:
    """(panel title, unit, series label) of a system/ key: `system/memory/used_bytes` -> ("Memory", "B", "used")."""
    parts = (key[len(SYSTEM_PREFIX) :] if key.startswith(SYSTEM_PREFIX) else key).split("/")
    device, rest = parts[0], parts[1:] or [parts[0]]
    if device == "cpu" and len(rest) > 1 and rest[0].startswith("core"):
        device = "cores"
    elif device == "swap":
        rest = ["swap", *rest]
    title = f"GPU {device[3:]}".strip() if device.startswith("gpu") else _DEVICES.get(device, device.title())
    leaf = rest[-1]
    unit = ""
    for suffix, symbol in _UNITS:
        if leaf.endswith(suffix):
            unit, leaf = symbol, leaf[: -len(suffix)].rstrip("_") or suffix.split("_")[0]
            break
    words = [*rest[:-1], leaf] if device != "cores" else rest[:1]
    return title, unit, " ".join(words).replace("_", " ")


_ORDER = ("CPU", "CPU cores", "Memory", "Disk", "Network", "This process")


def panel_rank(title: str, unit: str) -> int:
    """Where a hardware panel goes: CPU, cores, memory, disk, network, process, then GPUs; %-charts first."""
    base = _ORDER.index(title) if title in _ORDER else (len(_ORDER) if title.startswith("GPU") else 20)
    return base * 10 + (0 if unit == "%" else 1 if unit else 5)


def system_panels(keys) -> dict[str, dict]:
    """System keys grouped into charts that share a unit: {"Memory · B": {"unit": "B", "keys": [...]}}."""
    panels: dict[str, dict] = {}
    for key in keys:
        title, unit, label = system_series(key)
        panel = panels.setdefault(
            f"{title} · {unit}" if unit else title, {"unit": unit, "keys": [], "labels": []}
        )
        panel["keys"].append(key)
        panel["labels"].append(label)
    return panels


def unit_axis(unit: str) -> dict:
    """Axis settings that print a unit: bytes in kB/MB/GB, percentages with a %."""
    if unit in ("B", "B/s"):
        return {"labelExpr": f"format(datum.value, '.3~s') + '{unit}'", "tickCount": 4}
    if unit:
        return {"labelExpr": f"format(datum.value, '~g') + '{unit}'", "tickCount": 4}
    return {"tickCount": 4}


def system_spec(unit: str, *, height: int = 110) -> dict:
    """Vega-Lite template of one live hardware panel on the named dataset "table" (key, series, value, time)."""
    return {
        "$schema": SCHEMA_URL,
        "data": {"name": "table"},
        "height": height,
        "mark": {"type": "line", "strokeWidth": 1.4},
        "encoding": {
            "x": {
                "field": "time",
                "type": "temporal",
                "title": None,
                "axis": {"format": "%H:%M:%S", "tickCount": 4},
            },
            "y": {"field": "value", "type": "quantitative", "title": None, "axis": unit_axis(unit)},
            "color": {
                "field": "series",
                "type": "nominal",
                "scale": {"range": PALETTE},
                "legend": {"title": None, "orient": "top", "direction": "horizontal", "labelLimit": 120},
            },
            "tooltip": [
                {"field": "series", "type": "nominal"},
                {"field": "value", "type": "quantitative", "format": ".4~s"},
                {"field": "time", "type": "temporal", "format": "%H:%M:%S"},
            ],
        },
    }


def _metric_line() -> dict:
    """The line of a metric chart, live or static."""
    return {"type": "line", "color": ACCENT, "strokeWidth": 1.6}


def _metric_y() -> dict:
    """The y channel of a metric chart, live or static: the value, its own scale (not from zero)."""
    return {
        "field": "value",
        "type": "quantitative",
        "title": None,
        "scale": {"zero": False},
        "axis": {"tickCount": 4},
    }


def metric_spec(x: str = "step", *, height: int = 130) -> dict:
    """Vega-Lite template of one live metric card on the named dataset "table": the line and its latest point."""
    return {
        "$schema": SCHEMA_URL,
        "data": {"name": "table"},
        "height": height,
        "encoding": {"x": x_encoding(x, title=False), "y": _metric_y(), "tooltip": tooltip()},
        "layer": [
            {"mark": _metric_line()},
            {
                "transform": [
                    {"joinaggregate": [{"op": "max", "field": x, "as": "_last"}]},
                    {"filter": f"datum.{x} === datum._last"},
                ],
                "mark": {"type": "circle", "color": ACCENT, "size": 36, "opacity": 1},
            },
        ],
    }


def metric_line(rows: list[dict], title: str, x: str = "step", *, width: int, height: int) -> dict:
    """One metric drawn from inline rows (key, step, value, time in epoch ms): the card's chart, with the
    live card's line, y scale and tooltip. Built as a dict: twenty of them through Altair cost 0.5 s."""
    mark: dict[str, object] = {**_metric_line(), "interpolate": "linear"}
    if len(rows) <= 1:
        mark["point"] = True  # a lone point draws no line
    return {
        "$schema": SCHEMA_URL,
        "config": BASE_CONFIG,
        "data": {"values": rows},
        "mark": mark,
        "encoding": {
            "x": x_encoding(x),
            "y": _metric_y(),
            "tooltip": tooltip({"field": "key", "type": "nominal", "title": "metric"}),
        },
        "width": width,
        "height": height,
        "title": {"text": title, "anchor": "start", "fontSize": 12},
    }


def overlay_spec(x: str = "step", *, height: int = 280) -> dict:
    """Vega-Lite template of the comparison chart on "table" (label, step, value, time); one colour per
    label. The browser sets `encoding.color.scale` so each run keeps the colour shown in the table."""
    return {
        "$schema": SCHEMA_URL,
        "data": {"name": "table"},
        "height": height,
        "mark": {"type": "line", "strokeWidth": 1.8},
        "encoding": {
            "x": x_encoding(x),
            "y": {"field": "value", "type": "quantitative", "title": None, "scale": {"zero": False}},
            "color": {
                "field": "label",
                "type": "nominal",
                "scale": {"range": PALETTE},
                "legend": {"title": None, "orient": "bottom", "direction": "horizontal", "labelLimit": 200},
            },
            "tooltip": tooltip({"field": "label", "type": "nominal", "title": "run"}),
        },
    }


# -- static grids: the live templates side by side, rows inline (images of a finished run) --------------
def metric_grid(
    rows: list[dict], x: str = "step", *, columns: int = 3, width: int = 220, height: int = 130
) -> dict:
    """One chart per metric as the live panel draws it, in the order the keys first come in `rows`
    (dicts with key, step, value and time in epoch ms)."""
    if not rows:
        return message("No metrics logged yet")
    template = metric_spec(x, height=height)
    template["encoding"]["x"] = x_encoding(x)  # an image has no x-axis picker: say what x is
    by_key: dict[str, list] = {}
    for row in rows:
        by_key.setdefault(row["key"], []).append(row)
    return _grid([_panel(template, data, key, width) for key, data in by_key.items()], columns)


def system_grid(rows: list[dict], *, columns: int = 2, width: int = 300, height: int = 110) -> dict:
    """One chart per device and unit with one colour per series, against wall time (rows: dicts with
    key, value and time in epoch ms)."""
    if not rows:
        return message("No hardware samples")
    panels = []
    for title, panel in system_panels(dict.fromkeys(row["key"] for row in rows)).items():
        labels = dict(zip(panel["keys"], panel["labels"], strict=True))
        data = [{**row, "series": labels[row["key"]]} for row in rows if row["key"] in labels]
        panels.append(_panel(system_spec(panel["unit"], height=height), data, title, width))
    return _grid(panels, columns) | {"resolve": {"scale": {"color": "independent"}}}


def _panel(template: dict, rows: list[dict], title: str, width: int) -> dict:
    return {k: v for k, v in template.items() if k not in ("$schema", "data")} | {
        "data": {"values": rows},
        "width": width,
        "title": {"text": title, "anchor": "start", "fontSize": 12},
    }


def _grid(panels: list[dict], columns: int) -> dict:
    return {"$schema": SCHEMA_URL, "concat": panels, "columns": columns, "spacing": 24, "config": BASE_CONFIG}
