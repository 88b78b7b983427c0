"""Static summaries of runs and comparisons: inline-styled HTML (GitHub strips <style> and scripts) that
reads on light and dark pages and fits narrow output areas, and terminal text. The HTML comes from the
Jinja2 templates in `templates/`, which escape every value; charts come as images (images.py)."""

from __future__ import annotations

import json
import math
from datetime import datetime

from ... import templating
from ...textfmt import DASH, duration, number, text_table

# Mid-tones: readable as text on white and on a dark background.
STATUS_COLOURS = {
    "running": "#4184e4",
    "finished": "#2e9e4f",
    "failed": "#e5534b",
    "interrupted": "#d47616",
    "crashed": "#9a6ce0",
}
STATUS_MARKS = {"running": "…", "finished": "✓", "failed": "✗", "interrupted": "■", "crashed": "✗"}
ALERT_LEVELS = ("warning", "error", "critical")
# The JupyterLab extension shows HTML carrying this in place of a saved panel whose widget is gone; the
# templates write it.
MARKER = 'data-jupyter-tracker="fallback"'


def templates():
    """The summaries' templates (one Jinja2 environment, made on first use, so that a kernel that shows no
    summary never imports Jinja2): autoescape on, every value escaped."""
    return templating.environment(__package__)


def render(template: str, /, **context) -> str:
    return templating.render(__package__, template, **context)


def when(epoch) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S") if epoch else DASH


def badge(status: str) -> dict:
    """A status and its colour, for the badge macro."""
    return {"status": status, "colour": STATUS_COLOURS.get(status, "#787c82")}


def _value(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)


def run_html(info, summaries: dict, events: list, charts: list[tuple[str, list[tuple[str, str]]]]) -> str:
    """One run: header, params, metric table, alerts, and the charts: (section title, [(chart label, image
    source)]) per section."""
    alerts = [e for e in events if e[1] in ALERT_LEVELS or "alert" in (e[3] or {})]
    return render(
        "run.html.j2",
        badge=badge(info.status),
        name=info.name,
        project=info.project,
        id=info.id,
        started=when(info.started),
        took=duration(info.duration),
        tags=info.tags,
        error=_last_line(info.error) if info.error else None,
        params=[(str(k), _value(v)) for k, v in info.params.items()],
        metrics=[
            (key, *(number(s.get(n)) for n in ("last", "min", "max", "count")))
            for key, s in summaries.items()
        ],
        alerts=[
            (level, message, datetime.fromtimestamp(t / 1000.0).strftime("%H:%M:%S"))
            for t, level, message, _ in alerts[-5:][::-1]
        ],
        charts=charts,
    )


def run_text(info, summaries: dict) -> str:
    """A few lines for a terminal: status, tags, params, and each metric's latest/min/max."""
    mark = STATUS_MARKS.get(info.status, "")
    lines = [
        f"{mark} run {info.name} ({info.project}, #{info.id}) {info.status} in {duration(info.duration)}".strip()
    ]
    if info.tags:
        lines.append("  tags: " + ", ".join(info.tags))
    if info.params:
        lines.append("  params: " + " ".join(f"{k}={_text_value(v)}" for k, v in info.params.items()))
    shown = list(summaries.items())[:30]
    rows = [
        [key, number(s.get("last")), number(s.get("min")), number(s.get("max")), number(s.get("count"))]
        for key, s in shown
    ]
    if rows:
        lines += text_table(["metric", "last", "min", "max", "points"], rows, indent="  ")
    if len(summaries) > 30:
        lines.append(f"  … and {len(summaries) - 30} more metrics")
    if info.error and info.error.strip():
        lines.append("  error: " + info.error.strip().splitlines()[-1])
    return "\n".join(lines)


def comparison_text(comparison, max_rows: int = 40, max_metrics: int = 4) -> str:
    """The comparison as a text table: name, status, duration, the params that differ, last metric values."""
    frame = comparison.frame
    if frame.empty:
        return "No runs to compare: none matched."
    keys = [c.removeprefix("params.") for c in comparison.differing_params()]
    metrics = comparison.metrics[:max_metrics]
    # A param and a metric may share a name: the param's column says which it is.
    header = ["name", "status", "duration"] + [f"{k} (param)" if k in metrics else k for k in keys] + metrics
    params = {info.id: info.params for info in comparison.infos}  # the values as logged, not as table text
    rows = []
    for _, row in frame.head(max_rows).iterrows():
        cells = [str(row["name"]), str(row["status"]), duration(row["duration"])]
        cells += [_text_value(params[row["id"]][k]) if k in params[row["id"]] else DASH for k in keys]
        cells += [number(_finite_or_none(row[f"metrics.{m}.last"])) for m in metrics]
        rows.append(cells)
    runs = len(frame)
    lines = [
        f"Comparison of {runs} run{'s' * (runs != 1)} (last value of each metric)",
        *text_table(header, rows),
    ]
    if runs > max_rows:
        lines.append(f"… and {runs - max_rows} more runs (.frame has them all)")
    if len(comparison.metrics) > max_metrics:
        lines.append(
            f"… and {len(comparison.metrics) - max_metrics} more metrics (choose with metrics=[...])"
        )
    return "\n".join(lines)


def _finite_or_none(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _text_value(value) -> str:
    """A param as the user would type it: bare words stay bare, everything else is a Python literal."""
    if isinstance(value, str) and value and all(ch.isalnum() or ch in "-_./:" for ch in value):
        return value
    return repr(value)


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1] if text.strip() else ""


def comparison_html(comparison, images: list[tuple[str, str]], max_rows: int = 200) -> str:
    """The comparison table (first `max_rows` runs) with differing params marked, and the overlay charts
    ([(metric, image source)])."""
    frame = comparison.frame
    shown = frame.head(max_rows)
    differing = set(comparison.differing_params())
    rows = [
        [
            {
                "text": _cell_text(row[column]),
                "badge": badge(row[column]) if column == "status" else None,
                "differs": column in differing,
            }
            for column in shown.columns
        ]
        for _, row in shown.iterrows()
    ]
    return render(
        "comparison.html.j2",
        total=len(frame),
        columns=[(str(c), c in differing) for c in shown.columns],
        rows=rows,
        more=len(frame) - len(shown),
        images=images,
        charts_title="Overlays" if len(images) > 1 else "Overlay",
    )


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return number(value)
    return str(value)
