"""The widgets' front-end: our JS and CSS per widget, and Vega, Vega-Lite and vega-embed once per kernel.

The Vega libraries (about 0.9 MB, bundled offline by vl-convert) travel in one `VegaRuntime` widget per
kernel. Its module registers vega-embed on the page; each panel's own module (about 30 KB) waits for it.
Sending the libraries with every panel would repeat them in every comm message, every module evaluation
and every saved widget state.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import anywidget
import traitlets
from ipywidgets import widget_serialization

from ...charts import vega

HERE = Path(__file__).parent
SOURCES = ("common.js", "run_panel.js", "compare.js")
# One page may hold kernels of other versions: the key names the Vega-Lite version the specs are for.
RUNTIME_KEY = f"__jupyterTrackerVega@{vega.VL_VERSION}"
RUNTIME_SOURCE = f"""
const slot = (globalThis[{json.dumps(RUNTIME_KEY)}] ??= {{}});
slot.embed = vegaEmbed;
slot.resolve?.(vegaEmbed);
export default {{ initialize() {{}} }};
"""
ENTRY = """
export default {
  render({ model, el }) {
    vegaRuntime(model);
    return model.get("kind") === "compare" ? renderCompare({ model, el }) : renderRunPanel({ model, el });
  },
};
"""


@functools.lru_cache(maxsize=1)
def esm() -> str:
    """The ES module of both widgets (plain JS, no imports: vega-embed comes from the runtime)."""
    code = "\n".join((HERE / name).read_text(encoding="utf-8") for name in SOURCES)
    return f"const VEGA_RUNTIME = {json.dumps(RUNTIME_KEY)};\n{code}{ENTRY}"


def runtime_esm() -> str:
    """The runtime's ES module: the Vega libraries, registering vega-embed (built once, then cached)."""
    return vega.javascript_bundle(RUNTIME_SOURCE)


class VegaRuntime(anywidget.AnyWidget):
    """Never displayed: creating it in the browser loads the Vega libraries for every panel of the page."""

    _esm = traitlets.Unicode().tag(sync=True)


_runtime: VegaRuntime | None = None


def vega_runtime() -> VegaRuntime:
    """This kernel's runtime widget, made on first use (and again if something closed it)."""
    global _runtime
    if _runtime is None or _runtime.comm is None:
        _runtime = VegaRuntime(_esm=runtime_esm())
    return _runtime


@functools.lru_cache(maxsize=1)
def css() -> str:
    return (HERE / "panel.css").read_text(encoding="utf-8")


class BundledWidget(anywidget.AnyWidget):
    """An anywidget running our front-end: one ES module for every widget, `kind` picks the view, `specs`
    carries its Vega-Lite templates, `runtime` names the widget that brings the Vega libraries."""

    _esm = traitlets.Unicode().tag(sync=True)
    _css = traitlets.Unicode().tag(sync=True)
    kind = traitlets.Unicode().tag(sync=True)
    specs = traitlets.Dict().tag(sync=True)
    # A widget reference ("IPY_MODEL_<id>" on the wire), so embedding and saving a panel take the runtime along.
    runtime = traitlets.Instance(VegaRuntime).tag(sync=True, **widget_serialization)

    def __init__(self, **kwargs):
        super().__init__(_esm=esm(), _css=css(), runtime=vega_runtime(), **kwargs)
