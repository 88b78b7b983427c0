"""The shell of an HTML card: one self-contained document with inline styles, charts and scripts.

Each chart is a container holding a static SVG (drawn now by vl-convert, shown with scripts off, in
print previews and as a placeholder) and an empty slot that vega-embed fills in the browser. The
Vega-Lite specs travel as one JSON block with their rows stored column by column; the vega bundle is
inlined once per page.
"""

from __future__ import annotations

import math
import re
from functools import cache
from importlib import resources

from .. import charts
from .fmt import esc, script_json

# Anything that could run script inside an inline SVG; vl-convert escapes text, this is a second lock.
_ACTIVE_SVG = re.compile(r"<script|<foreignObject|<iframe|\son[a-z]+\s*=|javascript:", re.I)
_FAVICON = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
    "%3Crect width='16' height='16' rx='3' fill='%233b82f6'/%3E%3Cpath d='M3 11l3-4 3 2 4-6' "
    "stroke='white' stroke-width='1.6' fill='none'/%3E%3C/svg%3E"
)


@cache
def asset(name: str) -> str:
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


class Charts:
    """The charts of one page: `add()` returns a chart's HTML, `scripts()` what makes them interactive."""

    def __init__(self, prefix: str = "chart"):
        self.prefix = prefix
        self.specs: dict[str, dict] = {}

    def add(self, chart, label: str, *, css: str = "chart", title: bool = False) -> str:
        """The chart's container; its own title is dropped unless `title` (the page shows `label`)."""
        spec = charts.spec(chart)
        if not title:
            spec.pop("title", None)
        chart_id = f"{self.prefix}-{len(self.specs)}"
        try:
            svg = charts.to_svg(spec)
        except Exception as exc:  # a chart that cannot be drawn must not cost the whole card
            svg = f'<p class="muted">chart unavailable: {esc(type(exc).__name__)}</p>'
        if _ACTIVE_SVG.search(svg):
            svg = '<p class="muted">static chart left out</p>'
        self.specs[chart_id] = compact(spec)
        return (
            f'<div class="{css}" id="{chart_id}" role="img" aria-label="{esc(label)}">'
            f'<div class="chart-live"></div><div class="chart-static">{svg}</div></div>'
        )

    def scripts(self) -> str:
        if not self.specs:
            return ""
        bundle = charts.vega_bundle_js().replace("</script", "<\\/script")
        return (
            f'<script type="application/json" id="jt-charts">{script_json(self.specs)}</script>\n'
            f'<script type="module">{bundle}</script>\n'
        )


def compact(node):
    """A spec with every inline dataset (a list of row dicts) stored as columns; constant columns once.

    Floats keep 7 significant digits (what a chart and its tooltip show); epoch milliseconds become whole.
    The page script turns {"$columns": ..., "$length": n} back into rows before embedding.
    """
    if isinstance(node, dict):
        return {key: _columns(value) if _is_rows(value) else compact(value) for key, value in node.items()}
    if isinstance(node, list):
        return [compact(value) for value in node]
    return node


def _is_rows(value) -> bool:
    return isinstance(value, list) and len(value) > 1 and all(isinstance(row, dict) for row in value)


def _columns(rows: list[dict]) -> dict:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns = {}
    for name in names:
        values = [_short(row.get(name)) for row in rows]
        first = values[0]
        columns[name] = {"$repeat": first} if all(v == first for v in values) else values
    return {"$columns": columns, "$length": len(rows)}


def _short(value):
    if isinstance(value, float) and math.isfinite(value):
        if abs(value) >= 1e11:  # epoch milliseconds
            return round(value)
        return float(f"{value:.7g}")
    return value


def document(title: str, body: str, *, charts: Charts, card: dict, download: str, kind: str) -> str:
    """The whole page: head with inline CSS, `body`, the card JSON (for download and import), scripts."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="generator" content="{esc(card.get("generator", "jupyter-tracker"))}">',
            f"<title>{esc(title)}</title>",
            f'<link rel="icon" href="{_FAVICON}">',
            f"<style>{asset('card.css')}</style>",
            "</head>",
            f'<body class="{esc(kind)}" data-download="{esc(download)}">',
            body,
            f'<script type="application/json" id="jt-card">{script_json(card)}</script>',
            charts.scripts(),
            f'<script type="module">{asset("card.js")}</script>',
            "</body>",
            "</html>",
            "",
        ]
    )
