"""The widgets' front-end: our JS bundled with Vega, Vega-Lite and vega-embed (offline), and the CSS."""

from __future__ import annotations

import functools
from pathlib import Path

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
