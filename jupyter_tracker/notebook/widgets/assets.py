"""The live panel's front-end: our JS and CSS, and Vega, Vega-Lite and vega-embed only where a page lacks them.

The JS is written as ES modules (common.js, run_panel.js, compare.js, widget.js) so that JupyterLab's
extension imports them as they are; the anywidget gets them joined into one module by `esm()`.

The Vega libraries (about 0.9 MB) are never part of a panel's state, so never saved in a notebook. In
JupyterLab and Notebook 7 our extension brings them. Elsewhere (VS Code, ...) the first panel that finds
none asks the kernel, which then points the panels' `runtime` trait at one `VegaRuntime` widget per kernel
(the answer waits for the running cell to end, as every message from the browser does; a kernel started by
VS Code sends it with the first panel instead, see eager_runtime). nbclient and papermill have no browser:
nobody asks.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from pathlib import Path

import anywidget
import traitlets
from ipywidgets import widget_serialization

from ...charts import vega

HERE = Path(__file__).parent
MODULES = ("common.js", "run_panel.js", "widget.js")
# One page may hold kernels of other versions: the key names the Vega-Lite version the specs are for.
RUNTIME_KEY = f"__jupyterTrackerVega@{vega.VL_VERSION}"
RUNTIME_SOURCE = f"""
const slot = (globalThis[{json.dumps(RUNTIME_KEY)}] ??= {{}});
slot.embed = vegaEmbed;
slot.resolve?.(vegaEmbed);
export default {{ initialize() {{}} }};
"""
# What a finished panel's module becomes (see LivePanel.retire): nothing to run, nothing to save.
RETIRED_ESM = "export default {};"
_IMPORT = re.compile(r'^import\s[^;]*?\sfrom\s+"\./[\w.]+";\n', re.M)
_EXPORT = re.compile(r"^export (?=(?:const|let|function|class|async function) )", re.M)


@functools.lru_cache(maxsize=1)
def esm() -> str:
    """The anywidget's ES module: our modules in order, their imports of each other and their exports
    dropped (one scope), the last one's `export default` kept; it adds the stylesheet to the page once.

    The CSS travels in the module rather than in anywidget's `_css`: anywidget keeps one style element per
    widget class, so emptying a finished panel's `_css` (see LivePanel.retire) would unstyle the others.
    """
    style = css()
    element = f"jupyter-tracker-css-{hashlib.sha256(style.encode()).hexdigest()[:12]}"
    parts = [
        f"if (!document.getElementById({json.dumps(element)})) {{\n"
        f"  const style = Object.assign(document.createElement('style'), {{ id: {json.dumps(element)} }});\n"
        f"  style.textContent = {json.dumps(style)};\n"
        "  document.head.append(style);\n}\n"
    ]
    for name in MODULES:
        code = _IMPORT.sub("", (HERE / name).read_text(encoding="utf-8"))
        parts.append(_EXPORT.sub("", code))
    return "\n".join(parts)


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


def eager_runtime() -> bool:
    """Whether panels bring the runtime without being asked: in a kernel VS Code started. VS Code runs no
    JupyterLab extension, and a first panel that asked would draw its charts only once its cell has ended.
    Its Jupyter extension sets this variable in the kernels it starts (vscode-jupyter#11682); its terminals
    do not, so nbclient run from one saves no runtime."""
    return bool(os.environ.get("PYDEVD_IPYTHON_COMPATIBLE_DEBUGGING"))


@functools.lru_cache(maxsize=1)
def css() -> str:
    return (HERE / "panel.css").read_text(encoding="utf-8")


class BundledWidget(anywidget.AnyWidget):
    """An anywidget running our front-end: `specs` carries its Vega-Lite templates, `runtime` names the
    widget that brings the Vega libraries (None until a page asks for it)."""

    _esm = traitlets.Unicode().tag(sync=True)
    kind = traitlets.Unicode().tag(sync=True)
    specs = traitlets.Dict().tag(sync=True)
    # A widget reference ("IPY_MODEL_<id>" on the wire), so embedding a panel takes the runtime along.
    runtime = traitlets.Instance(VegaRuntime, allow_none=True).tag(sync=True, **widget_serialization)

    def __init__(self, **kwargs):
        runtime = vega_runtime() if eager_runtime() else None
        super().__init__(_esm=esm(), runtime=runtime, **kwargs)
        self.on_msg(self._on_runtime_request)

    def _on_runtime_request(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("type") == "runtime" and self.runtime is None:
            try:
                self.runtime = vega_runtime()
            except Exception:  # vl-convert missing or broken: the panel keeps its tables
                pass
