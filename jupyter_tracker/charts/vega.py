"""Vega-Lite without Altair: the look shared by every chart, static images and the offline JavaScript.

Nothing here imports Altair or pandas, so a notebook cell can draw its panel and its static fallback from
plain Vega-Lite dicts without paying for them (importing Altair takes about a second).
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from .. import config

SCHEMA_URL = "https://vega.github.io/schema/vega-lite/v6.json"
VL_VERSION = "6.4"
MAX_POINTS = 2000

ACCENT = "#3b82f6"
# Tableau-like palette with enough contrast on white and on JupyterLab's dark background.
PALETTE = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
]
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
# Colours that read on a light page and on a dark one (about 4.4:1 against white and against #111), on a
# transparent background: a chart drawn once (a static image, a card's picture) sits on either theme.
NEUTRAL_TEXT = "#787c82"
NEUTRAL_GRID = "#888888"
BASE_CONFIG: dict[str, Any] = {
    "font": FONT,
    "background": "transparent",
    "view": {"stroke": None},
    "axis": {
        "labelColor": NEUTRAL_TEXT,
        "titleColor": NEUTRAL_TEXT,
        "gridColor": NEUTRAL_GRID,
        "gridOpacity": 0.25,
        "domainColor": NEUTRAL_GRID,
        "domainOpacity": 0.6,
        "tickColor": NEUTRAL_GRID,
        "tickOpacity": 0.6,
        "labelFontSize": 10,
        "titleFontSize": 10,
        "titleFontWeight": "normal",
    },
    "legend": {"labelColor": NEUTRAL_TEXT, "titleColor": NEUTRAL_TEXT},
    "title": {"color": NEUTRAL_TEXT},
    "header": {"labelFontSize": 12, "labelFontWeight": "bold", "labelColor": NEUTRAL_TEXT, "title": None},
}
# Per-label SI format: 500, 1.5k, 2M (an axis-wide "~s" prints "0k" and "0.5k").
STEP_LABELS = "abs(datum.value) < 1000 ? format(datum.value, ',~r') : format(datum.value, '.3~s')"


def check_x(x: str) -> None:
    if x not in ("step", "time"):
        raise ValueError(f"x must be 'step' or 'time', got {x!r}")


def x_encoding(x: str, title: bool = True) -> dict:
    """The x channel of every line chart: the step with SI labels, or the wall time."""
    check_x(x)
    if x == "time":
        axis: dict[str, object] = {"format": "%H:%M:%S"}
        return {"field": "time", "type": "temporal", "title": "wall time" if title else None, "axis": axis}
    axis = {"labelExpr": STEP_LABELS, "tickCount": 5}
    return {"field": "step", "type": "quantitative", "title": "step" if title else None, "axis": axis}


def tooltip(*fields: dict) -> list[dict]:
    """`fields` (e.g. who the point belongs to), then the step, value and time of the point."""
    return [
        *fields,
        {"field": "step", "type": "quantitative", "format": ","},
        {"field": "value", "type": "quantitative", "format": ".6~g"},
        {"field": "time", "type": "temporal", "format": "%H:%M:%S"},
    ]


def message(text: str) -> dict:
    """A chart that only says `text` (no data to draw)."""
    return {
        "$schema": SCHEMA_URL,
        "data": {"values": [{"text": text}]},
        "mark": {"type": "text", "color": "#80868b", "fontSize": 13, "font": FONT},
        "encoding": {"text": {"field": "text", "type": "nominal"}},
        "width": 320,
        "height": 60,
        "config": BASE_CONFIG,
    }


# -- static images ------------------------------------------------------------------------------------
def spec(chart) -> dict:
    """The Vega-Lite dict of an Altair chart (or a dict passed through)."""
    return chart if isinstance(chart, dict) else chart.to_dict(validate=False)


def to_svg(chart) -> str:
    """The chart drawn as SVG text, without a browser (vl-convert)."""
    import vl_convert

    return vl_convert.vegalite_to_svg(spec(chart), vl_version=VL_VERSION)


def to_png(chart, scale: float = 1) -> bytes:
    """The chart drawn as PNG bytes, without a browser (vl-convert)."""
    import vl_convert

    return vl_convert.vegalite_to_png(spec(chart), vl_version=VL_VERSION, scale=scale)


# -- offline JavaScript -------------------------------------------------------------------------------
def vega_bundle_js() -> str:
    """Vega, Vega-Lite and vega-embed as one script that sets `window.vegaEmbed`, `vega` and `vegaLite`
    (no CDN; built once by vl-convert, then cached in memory and on disk)."""
    return javascript_bundle(None)


def javascript_bundle(snippet: str | None) -> str:
    """vl-convert's bundle of `snippet` (ES module code using vegaEmbed/vegaLite; None: the globals script).

    Building takes about a second; the result is cached per snippet in memory and in the user cache folder.
    """
    return _bundle(snippet)


@functools.lru_cache(maxsize=8)
def _bundle(snippet: str | None) -> str:
    import vl_convert

    version = vl_convert.__version__  # type: ignore[attr-defined]  # missing from its stub
    digest = hashlib.sha256(f"{version}\0{VL_VERSION}\0{snippet}".encode()).hexdigest()[:20]
    name = f"vega-bundle-{digest}.js"
    cached = config.read_cache(name)
    if cached is not None:
        return cached
    # None is its default snippet (the globals script); its stub says str.
    text = vl_convert.javascript_bundle(snippet, vl_version=VL_VERSION)  # type: ignore[arg-type]
    config.write_cache(name, text)
    return text
