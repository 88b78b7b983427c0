"""The widgets' front-end: our JS bundled with Vega, Vega-Lite and vega-embed (offline), and the CSS."""

from __future__ import annotations

import functools
from pathlib import Path

import anywidget
import traitlets

from .. import vega

HERE = Path(__file__).parent
SOURCES = ("common.js", "run_panel.js", "compare.js")
ENTRY = """
export default {
  render({ model, el }) {
    return model.get("kind") === "compare" ? renderCompare({ model, el }) : renderRunPanel({ model, el });
  },
};
"""


def source() -> str:
    """Our widget code, unbundled (vegaEmbed is a free name the bundler provides)."""
    return "\n".join((HERE / name).read_text(encoding="utf-8") for name in SOURCES) + ENTRY


@functools.lru_cache(maxsize=2)
def _esm(text: str) -> str:
    return vega.javascript_bundle(text)


def esm() -> str:
    """The ES module of both widgets (about 0.9 MB; built once, then cached in memory and on disk)."""
    return _esm(source())


@functools.lru_cache(maxsize=1)
def css() -> str:
    return (HERE / "panel.css").read_text(encoding="utf-8")


class BundledWidget(anywidget.AnyWidget):
    """An anywidget running our front-end: one ES module for every widget, `kind` picks the view, `specs`
    carries its Vega-Lite templates."""

    _esm = traitlets.Unicode().tag(sync=True)
    _css = traitlets.Unicode().tag(sync=True)
    kind = traitlets.Unicode().tag(sync=True)
    specs = traitlets.Dict().tag(sync=True)

    def __init__(self, **kwargs):
        super().__init__(_esm=esm(), _css=css(), **kwargs)
