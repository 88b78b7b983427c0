"""The HTML comparison card: several runs side by side, from a comparison card dict."""

from __future__ import annotations

import re

import pandas as pd

from .. import charts
from . import fmt
from .card import series_frame, unnumber
from .fmt import esc
from .html import HARDWARE_LABELS, duration, footer, safe_name, section, split_key, status_pill, toc
from .page import Charts, document

# Which way is better, guessed from the metric's name; unknown names get no highlight.
_LOWER = re.compile(r"loss|err|mse|mae|rmse|perplexity|ppl|wer|cer|latency|time|nll", re.I)
_HIGHER = re.compile(r"acc|f1|auc|precision|recall|score|bleu|rouge|iou|map|dice|r2|reward", re.I)


def labels(cards: list[dict]) -> list[str]:
    """One label per run, as the overlay charts name them: the name, with the id where names repeat."""
    runs = pd.DataFrame({"run": [c["run"]["id"] for c in cards], "name": [c["run"]["name"] for c in cards]})
    return charts.run_labels(runs).tolist()


def render_comparison(comparison: dict) -> str:
    cards = comparison["runs"]
    names = labels(cards)
    colors = [charts.PALETTE[i % len(charts.PALETTE)] for i in range(len(cards))]
    graphs = Charts()
    sections = [
        ("runs", "Runs", runs_table(cards, names, colors), len(cards)),
        ("params", "Parameters", params_table(comparison, names), len(comparison["params"]["keys"]) or None),
        (
            "metrics",
            "Metrics",
            metrics_part(comparison, names, colors, graphs),
            len(comparison["metric_keys"]),
        ),
        ("system", "System", hardware_table(cards, names), None),
    ]
    shown = [(a, t, h, c) for a, t, h, c in sections if h]
    projects = list(dict.fromkeys(c["run"]["project"] for c in cards))
    hero = (
        '<header class="hero"><div class="wrap"><div class="eyebrow"><span class="kind">Comparison</span>'
        f'<span class="sep">·</span><span>{esc(", ".join(projects))}</span></div>'
        f'<div class="title-row"><h1>{len(cards)} runs compared</h1></div>'
        f'<p class="description">{esc(" · ".join(names))}</p></div></header>'
    )
    body = "\n".join(
        [hero, toc(shown), '<main class="wrap">', *(section(*part) for part in shown), "</main>"]
        + [footer(comparison, ", ".join(c["run"]["uuid"][:8] for c in cards))]
    )
    download = f"comparison-{safe_name('-'.join(names))[:60]}.card.json"
    return document(
        f"{len(cards)} runs compared — jupyter-tracker",
        body,
        charts=graphs,
        card=comparison,
        download=download,
        kind="comparison-card",
    )


def _swatch(color: str) -> str:
    return f'<span class="swatch" style="background:{color}"></span>'


def runs_table(cards, names, colors) -> str:
    rows = []
    for card, name, color in zip(cards, names, colors, strict=True):
        run, timing = card["run"], card["timing"]
        tags = "".join(f'<span class="tag">{esc(t)}</span> ' for t in run["tags"])
        rows.append(
            f"<tr><td>{_swatch(color)}<b>{esc(name)}</b></td><td>{esc(run['project'])}</td>"
            f'<td>{status_pill(run["status"])}</td><td class="nowrap">{esc(fmt.date(timing["started"]))}</td>'
            f'<td class="num">{esc(duration(card))}</td><td class="nowrap">{tags}</td></tr>'
        )
    head = "<tr><th>run</th><th>project</th><th>status</th><th>started</th><th class=num>duration</th><th>tags</th></tr>"
    return (
        f'<div class="panel"><div class="table-wrap"><table class="legend-runs"><thead>{head}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></div>"
    )


def _header_row(names, *, numbers: bool = False) -> str:
    colors = [charts.PALETTE[i % len(charts.PALETTE)] for i in range(len(names))]
    css = "run num" if numbers else "run"
    cells = "".join(
        f'<th class="{css}">{_swatch(c)}{esc(n)}</th>' for n, c in zip(names, colors, strict=True)
    )
    return f"<tr><th></th>{cells}</tr>"


def params_table(comparison: dict, names) -> str:
    keys, differing = comparison["params"]["keys"], set(comparison["params"]["differing"])
    if not keys:
        return ""
    rows = []
    for key in keys:
        cells = "".join(
            f'<td class="mono">{esc(fmt.value_text(c["params"][key])) if key in c["params"] else fmt.DASH}</td>'
            for c in comparison["runs"]
        )
        css = "diff" if key in differing else "same"
        rows.append(f'<tr class="{css}"><th scope="row">{esc(key)}</th>{cells}</tr>')
    button = (
        '<button type="button" data-action="toggle-same" data-target="params-table">Only differences</button>'
        if differing and len(differing) < len(keys)
        else ""
    )
    note = f"{len(differing)} of {len(keys)} differ" if differing else "all the same"
    return (
        f'<div class="panel"><div class="code-facts"><span>{esc(note)}</span>{button}</div>'
        f'<div class="table-wrap"><table id="params-table"><thead>{_header_row(names)}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></div>"
    )


def _best(key: str, values: list) -> set[int]:
    """Positions of the best values when the name tells the direction and the runs differ."""
    finite = [
        (v, i)
        for i, v in enumerate(values)
        if isinstance(v, int | float) and v == v and abs(v) != float("inf")
    ]
    if len(finite) < 2 or len({v for v, _ in finite}) == 1:
        return set()
    if _LOWER.search(key):
        best = min(v for v, _ in finite)
    elif _HIGHER.search(key):
        best = max(v for v, _ in finite)
    else:
        return set()
    return {i for v, i in finite if v == best}


def metrics_part(comparison: dict, names, colors, graphs: Charts) -> str:
    cards, keys = comparison["runs"], comparison["metric_keys"]
    if not keys:
        return ""
    rows = []
    for key in keys:
        summaries = [c["metrics"]["summaries"].get(key, {}) for c in cards]
        lasts = [unnumber(s.get("last")) for s in summaries]
        best = _best(key, lasts)
        cells = "".join(
            f'<td class="num{" best" if i in best else ""}" title="min {esc(fmt.number(s.get("min")))} · '
            f'max {esc(fmt.number(s.get("max")))}">{esc(fmt.number(s.get("last")))}</td>'
            for i, s in enumerate(summaries)
        )
        rows.append(f'<tr><th scope="row">{split_key(key)}</th>{cells}</tr>')
    table = (
        '<div class="panel"><h3>Last values</h3><div class="table-wrap"><table>'
        f"<thead>{_header_row(names, numbers=True)}</thead><tbody>{''.join(rows)}</tbody></table></div>"
        '<p class="note">Best value in bold green where the metric name tells which way is better.</p></div>'
    )
    frame = _frame(cards, names)
    overlays = []
    for key in keys:
        spec = charts.spec(charts.overlay_chart(frame, key, width=460, height=200))
        encoding = spec.get("encoding", {})
        if "color" in encoding:  # the same colour for a run in every chart, whichever runs have the key
            encoding["color"]["scale"] = {"domain": names, "range": colors}
            encoding["color"]["legend"] = {"orient": "bottom", "title": None, "labelLimit": 220, "columns": 2}
        if "y" in encoding:
            encoding["y"]["title"] = None  # the card's heading names the metric
        overlays.append(
            f'<div class="chart-card"><div class="chart-head"><span class="key">{split_key(key)}</span></div>'
            f"{graphs.add(spec, key)}</div>"
        )
    return table + f'\n<div class="grid two">{"".join(overlays)}</div>'


def _frame(cards, names) -> pd.DataFrame:
    parts = [
        series_frame(card["metrics"]["series"]).assign(run=card["run"]["id"], name=name)
        for card, name in zip(cards, names, strict=True)
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def hardware_table(cards, names) -> str:
    hardware = [c["system"].get("hardware") or {} for c in cards]
    rows = []
    for name, (label, unit) in HARDWARE_LABELS.items():
        values = [h.get(name) for h in hardware]
        if all(v is None for v in values):
            continue
        cells = "".join(f'<td class="num">{esc(fmt.with_unit(v, unit))}</td>' for v in values)
        rows.append(f'<tr><th scope="row">{esc(label)}</th>{cells}</tr>')
    if not rows:
        return ""
    return (
        f'<div class="panel"><div class="table-wrap"><table><thead>{_header_row(names, numbers=True)}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></div>"
    )
