"""The HTML run card: one self-contained page rendered from a run card dict.

Python prepares what the page shows (numbers, dates and units as text); the templates in `templates/`
(run.html.j2 and run/*.html.j2) lay it out, with Jinja2 escaping every value.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from ..charts import specs, vega
from ..jsonsafe import unnumber
from ..models import SYSTEM_PREFIX
from ..reading.query import notes_of
from . import axes, environment, fmt
from .page import Charts, document

CHART_POINTS = 600  # per series in the page: about one point per pixel of a chart's width
HEADLINE_TILES = 8
MAX_EVENTS = 1000
MAX_SYSTEM_CHARTS = 18
# Per-core CPU lines and constant totals make a wall of charts and say little; their summaries stay listed.
_QUIET_SYSTEM = re.compile(r"^system/(cpu/core\d+/|gpu\d+/memory_total_bytes$)")
# A load average counts processes but reads as a plain number; its window goes in the label instead.
_SHOWN_UNITS: dict[str | None, str | None] = {"processes": None}
_LEAVES = {"load_1m": "load (1 min)"}


class Label(NamedTuple):
    """A series key as shown: a dimmed prefix (None: none shown), the leaf, and a unit beside it."""

    prefix: str | None
    leaf: str
    unit: str | None = None


def render_run(card: dict) -> str:
    """The HTML page of a run card (built with about CHART_POINTS points per series)."""
    run = card["run"]
    graphs = Charts()
    sections = shown(
        [
            ("overview", "Overview", overview(card), None),
            ("params", "Parameters", params_part(card), len(card["params"]) or None),
            ("metrics", "Metrics", metrics_part(card, graphs), len(card["metrics"]["series"]) or None),
            ("system", "System", system_part(card, graphs), None),
            ("events", "Events", events_part(card), len(card["events"]) + len(card["alerts"]) or None),
            ("environment", "Environment", environment.environment_part(card), None, "environment.html.j2"),
            ("code", "Code", environment.code_part(card), None, "code.html.j2"),
            ("artifacts", "Artifacts", artifacts_part(card), len(card["artifacts"]) or None),
        ],
        folder="run",
    )
    return document(
        "run.html.j2",
        charts=graphs,
        card=card,
        download=f"{file_slug(run['project'])}-{file_slug(run['name'])}.card.json",
        kind="run-card",
        run=run,
        hero=hero(card),
        sections=sections,
        exported=fmt.exported(card["exported"]),
    )


def file_slug(text: str) -> str:
    """A file-name-friendly version of a run or project name: runs of other characters become "-"."""
    cleaned = re.sub(r"[^\w.-]+", "-", str(text)).strip("-.")
    return cleaned[:80] or "run"


def shown(parts: list[tuple], folder: str) -> list[dict]:
    """The sections that have something to show: (anchor, title, data, count[, template]) each; a section's
    template is `folder`/anchor.html.j2 unless given."""
    sections = []
    for anchor, title, data, count, *template in parts:
        if data:
            name = template[0] if template else f"{folder}/{anchor}.html.j2"
            sections.append(
                {"anchor": anchor, "title": title, "count": count, "data": data, "template": name}
            )
    return sections


# -- page parts -------------------------------------------------------------------------------------------
def hero(card: dict) -> dict:
    """The header's folder, facts and snapshot time (the rest comes from card["run"] as it is)."""
    run, timing, code = card["run"], card["timing"], card["code"]
    steps = max((s["step"][-1] for s in card["metrics"]["series"] if s["step"]), default=None)
    facts = [
        ("Started", fmt.date(timing["started"] if timing["started"] is not None else timing["created"])),
        ("Duration", duration(card, span=True)),
    ]
    if steps is not None:
        facts.append(("Steps", fmt.number(steps + 1)))
    if card["origin"]["host"]:
        user = card["origin"]["user"]
        facts.append(("Host", f"{user}@{card['origin']['host']}" if user else card["origin"]["host"]))
    git = code["git"]
    if git["commit"]:
        dirty = " (uncommitted changes)" if git["dirty"] else ""
        facts.append(("Git", f"{git['branch'] or 'detached'} @ {git['commit'][:8]}{dirty}"))
    if code["notebook"]:
        facts.append(("Notebook", code["notebook"]))
    return {
        "folder": run["folder"].strip("/") if run["folder"] and run["folder"] != "/" else None,
        "facts": facts,
        "snapshot": snapshot(card),
        "tags": fmt.tag_labels(run),
    }


def duration(card: dict, *, span: bool = False) -> str:
    """The run's (active) duration, with `span` its wall-clock span too when it was resumed after a pause;
    "so far" while it is still running (up to its last heartbeat)."""
    timing = card["timing"]
    if span:  # cards written before idle/span were kept read as never paused
        text = fmt.active_and_span(timing["duration"], timing.get("span"), timing.get("idle"))
    else:
        text = fmt.duration(timing["duration"])
    return f"{text} so far" if card["run"]["status"] == "running" and text != fmt.DASH else text


def snapshot(card: dict) -> str | None:
    """For a run still running: when the card caught it (what it shows stops there)."""
    if card["run"]["status"] != "running":
        return None
    return fmt.exported(card["exported"], seconds=True)


def split_key(key: str) -> Label:
    """`train/loss` with its prefix dimmed."""
    prefix, sep, leaf = key.rpartition("/")
    return Label(prefix + "/", leaf) if sep else Label(None, key)


def overview(card: dict) -> dict:
    """The run's error (its last line), its notes, and a tile for each of the first HEADLINE_TILES metrics."""
    error = card["run"]["error"]
    summaries = card["metrics"]["summaries"]
    tiles = []
    for series in card["metrics"]["series"][:HEADLINE_TILES]:
        summary = summaries.get(series["key"], {})
        limits = f"min {fmt.number(summary.get('min'), 4)} · max {fmt.number(summary.get('max'), 4)}"
        if series["count"] and fmt.nonfinite(series) == series["count"]:
            limits = f"{fmt.plural(series['count'], 'point')}, all {fmt.kinds(series)}"
        last = fmt.number(summary.get("last"))
        tiles.append(
            {"key": series["key"], "last": last, "spark": fmt.sparkline(series["value"]), "range": limits}
        )
    if error:
        last = error.strip().splitlines()[-1] if error.strip() else ""
        traced = bool(card["run"].get("traceback")) or "\n" in error.strip()  # older cards: all in error
        error = {"status": card["run"]["status"].capitalize(), "last": last, "traced": traced}
    notes = [
        {"date": fmt.date(when, seconds=True), "text": text}
        for when, text in notes_of(
            (unnumber(e["time"]), e["level"], e["message"], e["extra"]) for e in card["events"]
        )
    ]
    return {"error": error, "notes": notes, "tiles": tiles} if error or notes or tiles else {}


def params_part(card: dict) -> dict:
    params = [(k, fmt.value_text(v)) for k, v in card["params"].items()]
    metadata = [(k, fmt.value_text(v)) for k, v in card["metadata"].items()]
    return {"params": params, "metadata": metadata} if params or metadata else {}


def stats(summary: dict, series: dict, unit: str | None = None) -> list[tuple[str, str]]:
    show = (lambda v: fmt.with_unit(v, unit)) if unit else fmt.number
    items = [("min", show(summary.get("min"))), ("max", show(summary.get("max")))]
    items.append(("mean", show(summary.get("mean"))))
    count = summary.get("count", series["count"])
    items.append(("points", fmt.number(count)))
    if fmt.nonfinite(series):
        items.append(("NaN/±∞", fmt.number(fmt.nonfinite(series))))
    if series["downsampled"]:
        items.append(("plotted", fmt.number(len(series["step"]))))
    return items


def chart_card(
    graphs: Charts, series: dict, summary: dict, chart, *, label: Label, unit: str | None = None
) -> dict:
    """A chart with its key, last value and summary; `unit` is the stored one (bytes get binary axes)."""
    shown_unit = _SHOWN_UNITS.get(unit, unit)
    last = fmt.with_unit(summary.get("last"), shown_unit) if shown_unit else fmt.number(summary.get("last"))
    count, left_out = series["count"], fmt.nonfinite(series)
    view = {"label": label, "last": last, "stats": stats(summary, series, shown_unit)}
    if count and left_out == count:
        # Nothing to draw: an empty frame would look like a broken chart.
        empty = (
            f"All {count:,} values are {fmt.kinds(series)}"
            if count > 1
            else f"Its one value is {fmt.kinds(series)}"
        )
        return {**view, "chart": None, "empty": empty, "left_out": None}
    drawn = graphs.add(axes.y_axis(vega.spec(chart), series, unit), series["key"])
    note = None
    if left_out:
        verb = "is" if left_out == 1 else "are"
        note = f"{left_out:,} of {fmt.plural(count, 'point')} {verb} {fmt.kinds(series)}, not drawn"
    return {**view, "chart": drawn, "empty": None, "left_out": note}


def system_label(key: str, unit: str | None) -> Label:
    """`system/memory/used_bytes` -> "memory / used" with its unit dimmed."""
    parts = key.removeprefix(SYSTEM_PREFIX).split("/")
    leaf = _LEAVES.get(parts[-1]) or re.sub(r"(_bytes_per_s|_bytes|_percent|^percent)$", "", parts[-1])
    leaf = leaf.replace("_", " ")
    # Byte values carry their unit (804.7 MiB); others show it beside the name.
    unit = None if unit in axes.BYTE_UNITS else _SHOWN_UNITS.get(unit, unit)
    device = " ".join(parts[:-1])
    if not leaf:
        device, leaf = "", device
    return Label(f"{device} / " if device else "", leaf, unit)


def chart_rows(series: dict) -> list[dict]:
    """A card series as chart rows: its finite values only (JSON has no NaN), times in epoch ms."""
    key = series["key"]
    return [
        {"key": key, "step": step, "value": value, "time": when * 1000.0}
        for step, value, when in zip(series["step"], series["value"], series["time"], strict=True)
        if isinstance(value, int | float) and math.isfinite(value)
    ]


def metrics_part(card: dict, graphs: Charts) -> list[dict]:
    summaries = card["metrics"]["summaries"]
    cards = []
    for series in card["metrics"]["series"]:
        chart = specs.metric_line(chart_rows(series), series["key"], width=440, height=150)
        summary = summaries.get(series["key"], {})
        cards.append(chart_card(graphs, series, summary, chart, label=split_key(series["key"])))
    return cards


HARDWARE_LABELS = {
    "peak_rss_bytes": ("Peak memory (RSS)", "bytes"),
    "peak_gpu_memory_bytes": ("Peak GPU memory", "bytes"),
    "peak_gpu_process_memory_bytes": ("Peak GPU memory, this process", "bytes"),
    "mean_cpu_percent": ("Mean CPU", "%"),
    "mean_gpu_utilization": ("Mean GPU utilisation", "%"),
    "total_read_bytes": ("Disk read", "bytes"),
    "total_written_bytes": ("Disk written", "bytes"),
    "total_sent_bytes": ("Network sent", "bytes"),
    "total_received_bytes": ("Network received", "bytes"),
}
_HARDWARE_HIDDEN = {"samples"}


def system_part(card: dict, graphs: Charts) -> dict:
    """Hardware summary tiles, a chart per telling hardware series, and a table of them all."""
    system = card["system"]
    hardware = system.get("hardware") or {}
    tiles = [
        (label, fmt.with_unit(hardware[name], unit))
        for name, (label, unit) in HARDWARE_LABELS.items()
        if hardware.get(name) is not None
    ]
    tiles += [
        (name.replace("_", " "), fmt.number(value))
        for name, value in hardware.items()
        if name not in HARDWARE_LABELS and name not in _HARDWARE_HIDDEN and value is not None
    ]
    charts = []
    for series in [s for s in system["series"] if not _QUIET_SYSTEM.match(s["key"])][:MAX_SYSTEM_CHARTS]:
        chart = specs.metric_line(chart_rows(series), series["key"], "time", width=300, height=100)
        summary = system["summaries"].get(series["key"], {})
        unit = series.get("unit")
        label = system_label(series["key"], unit)
        charts.append(chart_card(graphs, series, summary, chart, label=label, unit=unit))
    table = _system_table(system)
    return {"tiles": tiles, "charts": charts, "table": table} if tiles or charts or table else {}


def _system_table(system: dict) -> list[tuple[str, list[str]]]:
    units = {s["key"]: s.get("unit") for s in system["series"]}
    rows = []
    for key, summary in system["summaries"].items():
        unit = _SHOWN_UNITS.get(units.get(key), units.get(key))
        cells = [fmt.with_unit(summary.get(n), unit) for n in ("last", "min", "max", "mean")]
        rows.append((key.removeprefix(SYSTEM_PREFIX), cells))
    return rows


def events_part(card: dict) -> dict:
    """The alerts with their rules as sentences, and the first MAX_EVENTS events."""
    alerts = [
        {
            "name": a["name"],
            "json": fmt.value_text(a["rule"]),
            "rule": fmt.alert_rule(a["rule"]),  # None: a rule of unknown shape, shown as its JSON
            "state": a["state"],
            "triggered": fmt.date(a["triggered_at"], seconds=True) if a["triggered_at"] is not None else "",
        }
        for a in card["alerts"]
    ]
    events = card["events"]
    start = unnumber(card["timing"]["started"]) or unnumber(card["timing"]["created"])
    items = []
    for event in events[:MAX_EVENTS]:
        when = unnumber(event["time"])
        items.append(
            {
                "date": fmt.date(when, seconds=True),
                "offset": fmt.offset(when - start) if when is not None and start else "",
                "level": event["level"],
                "message": event["message"],
                "extra": " ".join(f"{k}={fmt.value_text(v)}" for k, v in event["extra"].items()),
            }
        )
    more = len(events) - MAX_EVENTS
    if not alerts and not items:
        return {}
    return {"alerts": alerts, "events": items, "more": f"{more:,}" if more > 0 else None}


def artifacts_part(card: dict) -> dict:
    files = [
        {
            "name": item["name"],
            "category": item["category"],
            "size": fmt.size(item["size"]),
            "sha256": item["sha256"],
            "sha_short": item["sha256"][:12],
            "path": item["path"],
        }
        for item in card["artifacts"]
    ]
    total = sum(item["size"] for item in card["artifacts"])
    return {"files": files, "total": fmt.size(total)} if files else {}
