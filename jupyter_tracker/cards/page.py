"""The shell of an HTML card: one self-contained document with inline styles, charts and scripts.

Each chart is a container holding a static SVG (drawn now by vl-convert, shown with scripts off, in
print previews and as a placeholder) and an empty slot that vega-embed fills in the browser. The
Vega-Lite specs travel as one JSON block with their rows stored column by column; the vega bundle is
inlined once per page.

The markup lives in Jinja2 templates (`templates/`), rendered with autoescape on: Python prepares the data,
the templates lay it out, and every value is escaped unless this package marks it `Markup` itself.
"""

from __future__ import annotations

import math
import re
from functools import cache
from importlib import resources
from typing import NamedTuple

from markupsafe import Markup

from .. import templating
from ..charts import vega
from .fmt import script_json

# Anything that could run script inside an inline SVG; vl-convert escapes text, this is a second lock.
_ACTIVE_SVG = re.compile(r"<script|<foreignObject|<iframe|\son[a-z]+\s*=|javascript:", re.I)


def templates():
    """The cards' templates (one environment, made on first use): user text is always escaped."""
    return templating.environment(__package__)


def render(template: str, /, **context) -> str:
    return templating.render(__package__, template, **context)


@cache
def asset(name: str) -> str:
    # Traversable.joinpath() takes several parts from Python 3.11; the Path that files() gives always did.
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")  # type: ignore[call-arg]


_LIGHT = ":root {"
_DARK = ':root[data-theme="dark"] {'


@cache
def stylesheet() -> str:
    """card.css, whose colours are set twice (light on `:root`, dark on `:root[data-theme="dark"]`), plus
    the same dark colours when the reader's system prefers them (unless the page says light) and the light
    ones on paper."""
    css = asset("card.css")
    light, dark = _declarations(css, _LIGHT), _declarations(css, _DARK)
    return (
        f'{css}@media (prefers-color-scheme: dark) {{ :root:not([data-theme="light"]) {{{dark}}} }}\n'
        f'@media print {{ :root, :root:not([data-theme="light"]), :root[data-theme="dark"] {{{light}}} }}\n'
    )


def _declarations(css: str, selector: str) -> str:
    """The declarations of the rule that starts with `selector` (a rule with no nested braces)."""
    start = css.index(selector) + len(selector)
    return css[start : css.index("}", start)]


class Chart(NamedTuple):
    """What the chart macro lays out: the container's id, class and label, and the static picture."""

    id: str
    css: str
    label: str
    svg: Markup | None  # None: `note` says why there is no static picture
    note: str = ""


class Charts:
    """The charts of one page: `add()` returns a chart for the templates, `scripts()` the JSON of their
    specs and the bundle that makes them interactive."""

    def __init__(self, prefix: str = "chart"):
        self.prefix = prefix
        self.specs: dict[str, dict] = {}

    def add(self, chart, label: str, *, css: str = "chart", title: bool = False) -> Chart:
        """The chart's container; its own title is dropped unless `title` (the page shows `label`)."""
        spec = vega.spec(chart)
        if not title:
            spec.pop("title", None)
        chart_id = f"{self.prefix}-{len(self.specs)}"
        self.specs[chart_id] = compact(spec)
        try:
            svg = vega.to_svg(spec)
        except Exception as exc:  # a chart that cannot be drawn must not cost the whole card
            return Chart(chart_id, css, label, None, f"chart unavailable: {type(exc).__name__}")
        if _ACTIVE_SVG.search(svg):
            return Chart(chart_id, css, label, None, "static chart left out")
        # Safe as markup: vl-convert writes every text of the chart escaped, and _ACTIVE_SVG has just made
        # sure nothing in it can run script.
        return Chart(chart_id, css, label, Markup(svg))

    def scripts(self) -> dict | None:
        """The specs as JSON and the vega bundle, both to go inside <script> elements (None: no charts)."""
        if not self.specs:
            return None
        return {
            # Safe as markup: script_json writes every "<" as \u003c, so the JSON cannot end its element.
            "specs": Markup(script_json(self.specs)),
            # Safe as markup: our own vega bundle, with any "</script" in it broken up.
            "bundle": Markup(vega.vega_bundle_js().replace("</script", "<\\/script")),
        }


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


def document(template: str, *, charts: Charts, card: dict, download: str, kind: str, **context) -> str:
    """The whole page from `template` (which extends page.html.j2): head with inline CSS, the body, the
    card JSON (for download and import) and the scripts."""
    return render(
        template,
        kind=kind,
        download=download,
        generator=card.get("generator", "jupyter-tracker"),
        # Safe as markup: our own stylesheet and page script, shipped in assets/.
        style=Markup(stylesheet()),
        script=Markup(asset("card.js")),
        # Safe as markup: script_json writes every "<" as \u003c, so the JSON cannot end its element.
        card_json=Markup(script_json(card)),
        charts=charts.scripts(),
        **context,
    )
