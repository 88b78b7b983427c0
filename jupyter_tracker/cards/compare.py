"""The HTML comparison card: several runs side by side, from a comparison card dict.

Python prepares what the page shows; comparison.html.j2 and comparison/*.html.j2 lay it out (escaped).
"""

from __future__ import annotations

import re

import pandas as pd

from ..charts import overlay, vega
from ..jsonsafe import unnumber
from . import fmt
from .card import series_frame
from .html import HARDWARE_LABELS, duration, file_slug, shown, split_key
from .page import Charts, document

# Which way is better, guessed from the metric's name; unknown names get no highlight.
_LOWER = re.compile(r"loss|err|mse|mae|rmse|perplexity|ppl|wer|cer|latency|time|nll", re.I)
_HIGHER = re.compile(r"acc|f1|auc|precision|recall|score|bleu|rouge|iou|map|dice|r2|reward", re.I)


def labels(cards: list[dict]) -> list[str]:
    """One label per run, as the overlay charts name them: the name, with the id where names repeat."""
    runs = pd.DataFrame({"run": [c["run"]["id"] for c in cards], "name": [c["run"]["name"] for c in cards]})
    return overlay.run_labels(runs).tolist()


def render_comparison(comparison: dict) -> str:
    cards = comparison["runs"]
    names = labels(cards)
    colors = [vega.PALETTE[i % len(vega.PALETTE)] for i in range(len(cards))]
    graphs = Charts()
    sections = shown(
        [
            ("runs", "Runs", runs_part(cards, names, colors), len(cards)),
            ("params", "Parameters", params_part(comparison), len(comparison["params"]["keys"]) or None),
            (
                "metrics",
                "Metrics",
                metrics_part(comparison, names, colors, graphs),
                len(comparison["metric_keys"]),
            ),
            ("system", "System", hardware_part(cards), None),
        ],
        folder="comparison",
    )
    return document(
        "comparison.html.j2",
        charts=graphs,
        card=comparison,
        download=f"comparison-{file_slug('-'.join(names))[:60]}.card.json",
        kind="comparison-card",
        names=names,
        runs=list(zip(names, colors, strict=True)),  # each run's label and colour, for the tables' heads
        projects=list(dict.fromkeys(c["run"]["project"] for c in cards)),
        sections=sections,
        exported=fmt.exported(comparison["exported"]),
        uuids=[c["run"]["uuid"][:8] for c in cards],
    )


def runs_part(cards, names, colors) -> list[dict]:
    return [
        {
            "name": name,
            "color": color,
            "project": card["run"]["project"],
            "status": card["run"]["status"],
            "started": fmt.date(card["timing"]["started"]),
            "duration": duration(card),
            "tags": fmt.tag_labels(card["run"]),
        }
        for card, name, color in zip(cards, names, colors, strict=True)
    ]


def params_part(comparison: dict) -> dict:
    """Each parameter's value in each run (a dash where a run has none), and whether they differ."""
    keys, differing = comparison["params"]["keys"], set(comparison["params"]["differing"])
    if not keys:
        return {}
    rows = [
        {
            "key": key,
            "differs": key in differing,
            "cells": [
                fmt.value_text(c["params"][key]) if key in c["params"] else fmt.DASH
                for c in comparison["runs"]
            ],
        }
        for key in keys
    ]
    return {
        "note": f"{len(differing)} of {len(keys)} differ" if differing else "all the same",
        "toggle": bool(differing) and len(differing) < len(keys),
        "rows": rows,
    }


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


def metrics_part(comparison: dict, names, colors, graphs: Charts) -> dict:
    """The last value of each metric in each run (the best marked), and a chart per metric of every run."""
    cards, keys = comparison["runs"], comparison["metric_keys"]
    if not keys:
        return {}
    rows = []
    for key in keys:
        summaries = [c["metrics"]["summaries"].get(key, {}) for c in cards]
        best = _best(key, [unnumber(s.get("last")) for s in summaries])
        cells = [
            {
                "last": fmt.number(s.get("last")),
                "min": fmt.number(s.get("min")),
                "max": fmt.number(s.get("max")),
                "best": i in best,
            }
            for i, s in enumerate(summaries)
        ]
        rows.append({"label": split_key(key), "cells": cells})
    frame = _frame(cards, names)
    charts = []
    for key in keys:
        spec = vega.spec(overlay.overlay_chart(frame, key, width=460, height=200))
        encoding = spec.get("encoding", {})
        if "color" in encoding:  # the same colour for a run in every chart, whichever runs have the key
            encoding["color"]["scale"] = {"domain": names, "range": colors}
            encoding["color"]["legend"] = {"orient": "bottom", "title": None, "labelLimit": 220, "columns": 2}
        if "y" in encoding:
            encoding["y"]["title"] = None  # the card's heading names the metric
        charts.append((split_key(key), graphs.add(spec, key)))
    return {"rows": rows, "charts": charts}


def _frame(cards, names) -> pd.DataFrame:
    parts = [
        series_frame(card["metrics"]["series"]).assign(run=card["run"]["id"], name=name)
        for card, name in zip(cards, names, strict=True)
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def hardware_part(cards) -> list[tuple[str, list[str]]]:
    """The hardware summaries side by side: a row for each that some run has."""
    hardware = [c["system"].get("hardware") or {} for c in cards]
    rows = []
    for name, (label, unit) in HARDWARE_LABELS.items():
        values = [h.get(name) for h in hardware]
        if any(v is not None for v in values):
            rows.append((label, [fmt.with_unit(v, unit) for v in values]))
    return rows
