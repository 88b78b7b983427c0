"""The HTML run card: one self-contained page rendered from a run card dict.

Every piece of user text goes through `esc`; JSON inside <script> goes through `script_json`.
"""

from __future__ import annotations

import re

from .. import charts
from . import axes, environment, fmt
from .card import series_frame, unnumber
from .fmt import esc
from .page import Charts, document

CHART_POINTS = 600  # per series in the page: about one point per pixel of a chart's width
HEADLINE_TILES = 8
MAX_EVENTS = 1000
MAX_SYSTEM_CHARTS = 18
# Per-core CPU lines and constant totals make a wall of charts and say little; their summaries stay listed.
_QUIET_SYSTEM = re.compile(r"^system/(cpu/core\d+/|gpu\d+/memory_total_bytes$)")
# A load average counts processes but reads as a plain number; its window goes in the label instead.
_SHOWN_UNITS = {"processes": None}
_LEAVES = {"load_1m": "load (1 min)"}


def render_run(card: dict) -> str:
    """The HTML page of a run card (built with about CHART_POINTS points per series)."""
    run = card["run"]
    graphs = Charts()
    sections = [
        ("overview", "Overview", overview(card), None),
        ("params", "Parameters", params_section(card), len(card["params"]) or None),
        ("metrics", "Metrics", metrics_section(card, graphs), len(card["metrics"]["series"]) or None),
        ("system", "System", system_section(card, graphs), None),
        ("events", "Events", events_section(card), len(card["events"]) + len(card["alerts"]) or None),
        ("environment", "Environment", environment.render(card), None),
        ("code", "Code", environment.render_code(card), None),
        ("artifacts", "Artifacts", artifacts_section(card), len(card["artifacts"]) or None),
    ]
    shown = [(anchor, title, html, count) for anchor, title, html, count in sections if html]
    body = "\n".join(
        [
            header(card),
            toc(shown),
            '<main class="wrap">',
            *(section(anchor, title, html, count) for anchor, title, html, count in shown),
            "</main>",
            footer(card),
        ]
    )
    title = f"{run['name']} · {run['project']} — run card"
    download = f"{safe_name(run['project'])}-{safe_name(run['name'])}.card.json"
    return document(title, body, charts=graphs, card=card, download=download, kind="run-card")


def safe_name(text: str) -> str:
    """A file-name-friendly version of a run or project name."""
    cleaned = re.sub(r"[^\w.-]+", "-", str(text)).strip("-.")
    return cleaned[:80] or "run"


# -- page parts -------------------------------------------------------------------------------------------
def section(anchor: str, title: str, html: str, count=None) -> str:
    badge = f' <span class="count">{count}</span>' if count else ""
    return f'<section id="{anchor}"><h2>{esc(title)}{badge}</h2>\n{html}\n</section>'


def toc(shown) -> str:
    links = "".join(
        f'<a href="#{anchor}">{esc(title)}'
        + (f'<span class="count">{count}</span>' if count else "")
        + "</a>"
        for anchor, title, _, count in shown
    )
    return f'<nav class="toc" aria-label="Sections"><div class="wrap">{links}</div></nav>'


def status_pill(status: str) -> str:
    return f'<span class="pill status-{esc(status)}">{esc(status)}</span>'


def header(card: dict) -> str:
    run, timing, code = card["run"], card["timing"], card["code"]
    where = [f"<span>{esc(run['project'])}</span>"]
    if run["folder"] and run["folder"] != "/":
        where.append(f'<span class="sep">/</span><span>{esc(run["folder"].strip("/"))}</span>')
    steps = max((s["step"][-1] for s in card["metrics"]["series"] if s["step"]), default=None)
    facts = [
        ("Started", fmt.date(timing["started"] if timing["started"] is not None else timing["created"])),
        ("Duration", duration(card)),
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
    facts_html = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in facts)
    tags = "".join(f'<span class="tag">{esc(tag)}</span>' for tag in run["tags"])
    description = f'<p class="description">{esc(run["description"])}</p>' if run["description"] else ""
    return (
        f'<header class="hero status-{esc(run["status"])}"><div class="wrap">'
        f'<div class="eyebrow"><span class="kind">Run card</span><span class="sep">·</span>{"".join(where)}</div>'
        f'<div class="title-row"><h1>{esc(run["name"])}</h1>{status_pill(run["status"])}{snapshot(card)}</div>'
        f'{description}<dl class="facts">{facts_html}</dl>'
        + (f'<div class="tags">{tags}</div>' if tags else "")
        + "</div></header>"
    )


def duration(card: dict) -> str:
    """The run's duration; "so far" while it is still running (up to its last heartbeat)."""
    text = fmt.duration(card["timing"]["duration"])
    return f"{text} so far" if card["run"]["status"] == "running" and text != fmt.DASH else text


def snapshot(card: dict) -> str:
    """For a run still running: when the card caught it (what it shows stops there)."""
    if card["run"]["status"] != "running":
        return ""
    return f'<span class="snapshot">snapshot at {esc(fmt.exported(card["exported"], seconds=True))}</span>'


def footer(card: dict, runs: str | None = None) -> str:
    """Export time, generator, the run's uuid (or `runs`, the uuids of a comparison) and the JSON button."""
    ident = runs if runs is not None else card["run"]["uuid"]
    return (
        '<footer><div class="wrap">'
        f"<span>Exported {esc(fmt.exported(card['exported']))} with {esc(card['generator'])} · "
        f'run{"s" if runs else ""} <span class="mono">{esc(ident)}</span></span>'
        '<button type="button" data-action="download">Download data (JSON)</button>'
        "</div></footer>"
    )


def split_key(key: str) -> str:
    """`train/loss` with its prefix dimmed."""
    prefix, sep, leaf = key.rpartition("/")
    if not sep:
        return esc(key)
    return f'<span class="prefix">{esc(prefix)}/</span>{esc(leaf)}'


def tile(label: str, value: str, extra: str = "", css: str = "tile") -> str:
    return (
        f'<div class="{css}"><div class="label" title="{esc(label)}">{esc(label)}</div>'
        f'<div class="value">{esc(value)}</div>{extra}</div>'
    )


def overview(card: dict) -> str:
    parts = []
    error = card["run"]["error"]
    if error:
        last = error.strip().splitlines()[-1] if error.strip() else ""
        parts.append(
            f'<div class="panel"><div class="error-head">{esc(card["run"]["status"].capitalize())}: '
            f'<span>{esc(last)}</span></div><a href="#code">Full traceback</a></div>'
        )
    summaries = card["metrics"]["summaries"]
    tiles = []
    for series in card["metrics"]["series"][:HEADLINE_TILES]:
        summary = summaries.get(series["key"], {})
        spark = fmt.sparkline(series["value"])
        limits = f"min {fmt.number(summary.get('min'), 4)} · max {fmt.number(summary.get('max'), 4)}"
        if series["count"] and fmt.nonfinite(series) == series["count"]:
            limits = f"{fmt.plural(series['count'], 'point')}, all {fmt.kinds(series)}"
        tiles.append(
            tile(series["key"], fmt.number(summary.get("last")), f'{spark}<div class="range">{limits}</div>')
        )
    if tiles:
        parts.append(f'<div class="tiles">{"".join(tiles)}</div>')
    return "\n".join(parts)


def kv(items, *, text: bool = False) -> str:
    css = ' class="text"' if text else ""
    return (
        '<dl class="kv">'
        + "".join(f"<div><dt>{esc(k)}</dt><dd{css}>{esc(v)}</dd></div>" for k, v in items)
        + "</dl>"
    )


def params_section(card: dict) -> str:
    parts = []
    if card["params"]:
        parts.append(
            f'<div class="panel">{kv((k, fmt.value_text(v)) for k, v in card["params"].items())}</div>'
        )
    if card["metadata"]:
        items = ((k, fmt.value_text(v)) for k, v in card["metadata"].items())
        parts.append(f'<div class="panel"><h3>Metadata</h3>{kv(items)}</div>')
    return "\n".join(parts)


def stats(summary: dict, series: dict, unit: str | None = None) -> str:
    show = (lambda v: fmt.with_unit(v, unit)) if unit else fmt.number
    items = [("min", show(summary.get("min"))), ("max", show(summary.get("max")))]
    items.append(("mean", show(summary.get("mean"))))
    count = summary.get("count", series["count"])
    items.append(("points", fmt.number(count)))
    if fmt.nonfinite(series):
        items.append(("NaN/±∞", fmt.number(fmt.nonfinite(series))))
    if series["downsampled"]:
        items.append(("plotted", fmt.number(len(series["step"]))))
    return (
        '<dl class="stats">'
        + "".join(f"<div><dt>{k}</dt><dd>{esc(v)}</dd></div>" for k, v in items)
        + "</dl>"
    )


def chart_card(
    graphs: Charts, series: dict, summary: dict, chart, *, label: str, unit: str | None = None
) -> str:
    """A chart with its key, last value and summary; `unit` is the stored one (bytes get binary axes)."""
    shown = _SHOWN_UNITS.get(unit, unit)
    last = fmt.with_unit(summary.get("last"), shown) if shown else fmt.number(summary.get("last"))
    count, left_out = series["count"], fmt.nonfinite(series)
    if count and left_out == count:
        # Nothing to draw: an empty frame would look like a broken chart.
        text = (
            f"All {count:,} values are {fmt.kinds(series)}"
            if count > 1
            else f"Its one value is {fmt.kinds(series)}"
        )
        body = f'<div class="chart-none" role="img" aria-label="{esc(text)}"><p>{esc(text)}</p></div>'
    else:
        body = graphs.add(axes.y_axis(charts.spec(chart), series, unit), series["key"])
        if left_out:
            body += (
                f'<p class="note left-out">{left_out:,} of {fmt.plural(count, "point")} '
                f"{'is' if left_out == 1 else 'are'} {fmt.kinds(series)}, not drawn</p>"
            )
    return (
        '<div class="chart-card"><div class="chart-head">'
        f'<span class="key">{label}</span><span class="last">{esc(last)}</span></div>'
        f"{body}{stats(summary, series, shown)}</div>"
    )


def system_label(key: str, unit: str | None) -> str:
    """`system/memory/used_bytes` -> "memory / used" with its unit dimmed."""
    parts = key.removeprefix("system/").split("/")
    leaf = _LEAVES.get(parts[-1]) or re.sub(r"(_bytes_per_s|_bytes|_percent|^percent)$", "", parts[-1])
    leaf = leaf.replace("_", " ")
    # Byte values carry their unit (804.7 MiB); others show it beside the name.
    unit = None if unit in axes.BYTE_UNITS else _SHOWN_UNITS.get(unit, unit)
    device = " ".join(parts[:-1])
    if not leaf:
        device, leaf = "", device
    text = f'<span class="prefix">{esc(device)}{" / " if device else ""}</span>{esc(leaf)}'
    return text + (f' <span class="unit">{esc(unit)}</span>' if unit else "")


def metrics_section(card: dict, graphs: Charts) -> str:
    summaries = card["metrics"]["summaries"]
    cards = []
    for series in card["metrics"]["series"]:
        frame = series_frame([series])
        chart = charts.metric_chart(frame, width=440, height=150)
        summary = summaries.get(series["key"], {})
        cards.append(chart_card(graphs, series, summary, chart, label=split_key(series["key"])))
    return f'<div class="grid">{"".join(cards)}</div>' if cards else ""


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


def system_section(card: dict, graphs: Charts) -> str:
    system = card["system"]
    parts = []
    hardware = system.get("hardware") or {}
    tiles = [
        tile(label, fmt.with_unit(hardware[name], unit), css="tile hw")
        for name, (label, unit) in HARDWARE_LABELS.items()
        if hardware.get(name) is not None
    ]
    tiles += [
        tile(name.replace("_", " "), fmt.number(value), css="tile hw")
        for name, value in hardware.items()
        if name not in HARDWARE_LABELS and name not in _HARDWARE_HIDDEN and value is not None
    ]
    if tiles:
        parts.append(f'<div class="tiles">{"".join(tiles)}</div>')
    shown = [s for s in system["series"] if not _QUIET_SYSTEM.match(s["key"])][:MAX_SYSTEM_CHARTS]
    cards = []
    for series in shown:
        chart = charts.metric_chart(series_frame([series]), x="time", width=300, height=100)
        summary = system["summaries"].get(series["key"], {})
        unit = series.get("unit")
        label = system_label(series["key"], unit)
        cards.append(chart_card(graphs, series, summary, chart, label=label, unit=unit))
    if cards:
        parts.append(f'<div class="grid small">{"".join(cards)}</div>')
    if system["summaries"]:
        parts.append(_system_table(system))
    return "\n".join(parts)


def _system_table(system: dict) -> str:
    units = {s["key"]: s.get("unit") for s in system["series"]}
    rows = []
    for key, summary in system["summaries"].items():
        unit = _SHOWN_UNITS.get(units.get(key), units.get(key))
        cells = "".join(
            f'<td class="num">{esc(fmt.with_unit(summary.get(n), unit))}</td>'
            for n in ("last", "min", "max", "mean")
        )
        rows.append(f'<tr><td class="mono">{esc(key.removeprefix("system/"))}</td>{cells}</tr>')
    head = '<tr><th>series</th><th class="num">last</th><th class="num">min</th><th class="num">max</th><th class="num">mean</th></tr>'
    return (
        f'<details class="fold panel"><summary>All hardware series ({len(rows)})</summary>'
        f'<div class="table-wrap"><table><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div></details>'
    )


def events_section(card: dict) -> str:
    parts = []
    if card["alerts"]:
        rows = "".join(
            f"<tr><td>{esc(a['name'])}</td>{_rule_cell(a['rule'])}"
            f'<td><span class="level state-{esc(a["state"])}">{esc(a["state"])}</span></td>'
            f"<td>{esc(fmt.date(a['triggered_at'], seconds=True) if a['triggered_at'] is not None else '')}</td></tr>"
            for a in card["alerts"]
        )
        parts.append(
            '<div class="panel"><h3>Alerts</h3><div class="table-wrap"><table><thead><tr><th>alert</th>'
            f"<th>rule</th><th>state</th><th>triggered</th></tr></thead><tbody>{rows}</tbody></table></div></div>"
        )
    events = card["events"]
    if events:
        start = unnumber(card["timing"]["started"]) or unnumber(card["timing"]["created"])
        items = []
        for event in events[:MAX_EVENTS]:
            when = unnumber(event["time"])
            extra = " ".join(f"{k}={fmt.value_text(v)}" for k, v in event["extra"].items())
            items.append(
                f'<li><span class="when" title="{esc(fmt.date(when, seconds=True))}">'
                f"{esc(fmt.offset(when - start) if when is not None and start else '')}</span>"
                f'<span class="level level-{esc(event["level"])}">{esc(event["level"])}</span>'
                f'<span class="msg">{esc(event["message"])}'
                + (f'<span class="extra">{esc(extra)}</span>' if extra else "")
                + "</span></li>"
            )
        more = len(events) - MAX_EVENTS
        note = f'<p class="note">{more:,} more in the JSON card</p>' if more > 0 else ""
        parts.append(f'<div class="panel"><ul class="events">{"".join(items)}</ul>{note}</div>')
    return "\n".join(parts)


def _rule_cell(rule) -> str:
    """The rule as a sentence (its JSON on hover); JSON itself for a rule of unknown shape."""
    raw = fmt.value_text(rule)
    text = fmt.alert_rule(rule)
    if text is None:
        return f'<td class="mono">{esc(raw)}</td>'
    return f'<td class="rule" title="{esc(raw)}">{esc(text)}</td>'


def artifacts_section(card: dict) -> str:
    if not card["artifacts"]:
        return ""
    rows = []
    for item in card["artifacts"]:
        sha = item["sha256"]
        rows.append(
            f'<tr><td>{esc(item["name"])}</td><td><span class="cat">{esc(item["category"])}</span></td>'
            f'<td class="num">{esc(fmt.size(item["size"]))}</td>'
            f'<td><span class="sha"><code title="{esc(sha)}">{esc(sha[:12])}…</code>'
            f'<button type="button" data-copy="{esc(sha)}" title="Copy the full SHA-256">copy</button></span></td>'
            f'<td class="mono">{esc(item["path"])}</td></tr>'
        )
    total = sum(item["size"] for item in card["artifacts"])
    return (
        '<div class="panel"><div class="table-wrap"><table><thead><tr><th>name</th><th>kind</th>'
        '<th class="num">size</th><th>sha-256</th><th>path</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        f'<p class="note">{len(rows)} file(s), {esc(fmt.size(total))} in all; the files stay with the run, '
        "the card records their sizes and hashes.</p></div>"
    )
