"""Comparison widget (placeholder while being built)."""

from __future__ import annotations

import anywidget
import traitlets

from .assets import css, esm


class ComparisonWidget(anywidget.AnyWidget):
    _esm = traitlets.Unicode().tag(sync=True)
    _css = traitlets.Unicode().tag(sync=True)
    kind = traitlets.Unicode("compare").tag(sync=True)

    def __init__(self, comparison, **kwargs):
        super().__init__(_esm=esm(), _css=css(), **kwargs)
