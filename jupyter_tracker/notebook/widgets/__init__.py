"""Inline widgets: the live run panel and the run comparison (anywidget; Vega bundled offline)."""

from .compare import ComparisonWidget
from .live import LivePanel, RunPanel

__all__ = ["ComparisonWidget", "LivePanel", "RunPanel"]
