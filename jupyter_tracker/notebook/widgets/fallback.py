"""Static summaries of runs and comparisons: inline-styled HTML (GitHub strips <style> and scripts) and
terminal text. Every piece of user text is escaped."""

from __future__ import annotations

import json
import math
from datetime import datetime
from html import escape

from ..textfmt import DASH, duration, number, text_table

STATUS_COLOURS = {
    "running": "#2f6feb",
    "finished": "#1a7f37",
    "failed": "#cf222e",
    "interrupted": "#bc4c00",
    "crashed": "#8250df",
}
STATUS_MARKS = {"running": "…", "finished": "✓", "failed": "✗", "interrupted": "■", "crashed": "✗"}
ALERT_LEVELS = ("warning", "error", "critical")
# The JupyterLab extension shows HTML carrying this in place of a saved panel whose widget is gone.
MARKER = 'data-jupyter-tracker="fallback"'
_BOX = (
    "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:13px;line-height:1.45;"
    "border:1px solid #d1d9e0;border-radius:10px;padding:12px 16px;max-width:1100px;"
)
_TH = "text-align:right;padding:3px 10px;border-bottom:1px solid #d1d9e0;font-size:11px;color:#59636e;"
_TD = "text-align:right;padding:3px 10px;border-bottom:1px solid #eaeef2;font-variant-numeric:tabular-nums;"


def when(epoch) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S") if epoch else DASH


def badge(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#59636e")
    return (
        f'<span style="display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:600;'
        f'color:{colour};border:1px solid {colour};">{escape(status)}</span>'
    )


def _value(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)


def run_html(info, summaries: dict, events: list, images: list[tuple[str, str]]) -> str:
    """One run: header, params, metric table, alerts, and the charts as inline PNG images."""
    colour = STATUS_COLOURS.get(info.status, "#59636e")
    tags = " ".join(
        f'<span style="padding:0 7px;border-radius:999px;background:#ddf4ff;color:#0969da;font-size:11px;">'
        f"{escape(t)}</span>"
        for t in info.tags
    )
    parts = [
        f'<div {MARKER} style="{_BOX}border-top:3px solid {colour};">',
        '<div style="display:flex;gap:10px;align-items:center;flex-wrap:wrap;">',
        badge(info.status),
        f'<span style="font-size:16px;font-weight:650;">{escape(info.name)}</span>',
        f'<span style="color:#59636e;">{escape(info.project)} · run #{info.id} · {when(info.started)} · '
        f"took {duration(info.duration)}</span> {tags}</div>",
    ]
    if info.error:
        last = info.error.strip().splitlines()[-1] if info.error.strip() else ""
        parts.append(f'<div style="color:#cf222e;margin-top:6px;font-family:monospace;">{escape(last)}</div>')
    if info.params:
        cells = "".join(
            f'<span style="display:inline-block;margin:6px 6px 0 0;border:1px solid #d1d9e0;border-radius:6px;'
            f'padding:1px 7px;font-size:12px;"><span style="color:#59636e;">{escape(str(k))}</span> '
            f"<code>{escape(_value(v))}</code></span>"
            for k, v in info.params.items()
        )
        parts.append(f"<div>{cells}</div>")
    if summaries:
        head = "".join(f'<th style="{_TH}">{h}</th>' for h in ("latest", "min", "max", "count"))
        rows = "".join(
            f'<tr><td style="{_TD}text-align:left;font-weight:500;">{escape(key)}</td>'
            f'<td style="{_TD}font-weight:650;">{number(s.get("last"))}</td>'
            f'<td style="{_TD}">{number(s.get("min"))}</td><td style="{_TD}">{number(s.get("max"))}</td>'
            f'<td style="{_TD}color:#818b98;">{number(s.get("count"))}</td></tr>'
            for key, s in summaries.items()
        )
        parts.append(
            f'<table style="border-collapse:collapse;margin-top:10px;font-size:12.5px;">'
            f'<thead><tr><th style="{_TH}text-align:left;">metric</th>{head}</tr></thead><tbody>{rows}</tbody></table>'
        )
    alerts = [e for e in events if e[1] in ALERT_LEVELS or "alert" in (e[3] or {})]
    for t, level, message, _ in alerts[-5:][::-1]:
        stamp = datetime.fromtimestamp(t / 1000.0).strftime("%H:%M:%S")
        parts.append(
            f'<div style="margin-top:6px;padding:4px 10px;border-left:3px solid #cf222e;background:#ffebe9;">'
            f'<b>{escape(level)}</b> {escape(message)} <span style="color:#818b98;">{stamp}</span></div>'
        )
    for title, data in images:
        parts.append(
            f'<div style="margin-top:12px;"><div style="font-weight:600;margin-bottom:4px;">{escape(title)}</div>'
            f'<img alt="{escape(title)} charts" style="max-width:100%;" src="data:image/png;base64,{data}"></div>'
        )
    parts.append("</div>")
    return "".join(parts)


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


def comparison_html(comparison, image: str | None, max_rows: int = 200) -> str:
    """The comparison table (first `max_rows` runs) with differing params marked, and the overlay chart."""
    frame = comparison.frame
    shown = frame.head(max_rows)
    differing = set(comparison.differing_params())
    head = "".join(
        f'<th style="{_TH}{"background:#fff8c5;" if c in differing else ""}">{escape(str(c))}</th>'
        for c in shown.columns
    )
    body = []
    for _, row in shown.iterrows():
        cells = []
        for column in shown.columns:
            value = row[column]
            text = badge(value) if column == "status" else escape(_cell_text(value))
            mark = "background:#fff8c5;" if column in differing else ""
            cells.append(f'<td style="{_TD}{mark}">{text}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    more = len(frame) - len(shown)
    parts = [
        f'<div {MARKER} style="{_BOX}">',
        f'<div style="font-weight:650;font-size:15px;margin-bottom:8px;">Comparison of {len(frame)} runs</div>',
        '<div style="overflow-x:auto;"><table style="border-collapse:collapse;font-size:12px;">',
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>",
    ]
    if more > 0:
        parts.append(f'<div style="color:#818b98;margin-top:4px;">… {more} more runs</div>')
    if image:
        parts.append(
            f'<img alt="overlay chart" style="max-width:100%;margin-top:12px;" src="data:image/png;base64,{image}">'
        )
    parts.append("</div>")
    return "".join(parts)


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return number(value)
    return str(value)
