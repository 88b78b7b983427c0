"""The live run panel (an anywidget; Vega from JupyterLab's extension or, on request, from the kernel) and
the static forms of panels and comparisons saved in notebooks."""

from .live import LivePanel, RunPanel

__all__ = ["LivePanel", "RunPanel"]
