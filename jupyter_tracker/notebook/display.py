"""What a cell shows: the live widget where widgets can render, a static fallback saved beside it (HTML
summary + PNG of the charts, drawn by vl-convert) for GitHub, nbviewer and nbconvert, and a short text
summary in a plain IPython terminal.
"""

from __future__ import annotations

import base64
import sys
from typing import Any, cast

from ..charts import vega
from ..charts.specs import metric_grid, system_grid
from ..models import RUNNING, SYSTEM_PREFIX
from .widgets.fallback import comparison_html, comparison_text, run_html, run_text

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def widgets_available() -> bool:
    """True inside a Jupyter kernel (a frontend that can open comms), False in a terminal or plain Python."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def widget_view(widget) -> dict:
    return {"version_major": 2, "version_minor": 1, "model_id": widget.model_id}


def png_b64(chart) -> str | None:
    """The chart as base64 PNG text, or None when it cannot be drawn (the fallback must never fail a cell)."""
    try:
        return base64.b64encode(vega.to_png(chart)).decode("ascii")
    except Exception:
        return None


MIN_SYSTEM_SAMPLES = 5


class LiveDisplay:
    """The output of one run cell: a live panel while it runs, the panel plus a static fallback after."""

    def __init__(self, run, panel=None, handle=None):
        self.run = run
        self.panel = panel
        self.handle = handle
        self._finished = False

    def finish(self) -> None:
        """Show the run's final state: update the displayed output (widget + fallback), or print a text
        summary where there is no widget frontend. Call after run.finish() (or run.fail())."""
        if self._finished:
            return
        self._finished = True
        if self.panel is None:
            print(run_text(self.run.info, _summary_from_store(self.run)))
            return
        self.panel.close()
        self.handle.update(self.bundle(), raw=True)

    def bundle(self) -> dict:
        """Widget view, HTML summary with the charts inlined, PNG of the charts, and plain text."""
        panel, info = self.panel, self.run.info
        summaries = {k: v for k, v in panel.summaries().items() if not k.startswith(SYSTEM_PREFIX)}
        metrics = panel.points()
        system = panel.points(system=True)
        images = []
        # Plain Vega-Lite from the live templates: drawing the fallback imports neither Altair nor pandas.
        if metrics:
            images.append(("Metrics", png_b64(metric_grid(metrics))))
        # A hardware chart of a cell that took a few seconds says nothing and costs ~0.25 s to draw.
        if len({row["time"] for row in system}) >= MIN_SYSTEM_SAMPLES:
            images.append(("System", png_b64(system_grid(system))))
        images = [(title, data) for title, data in images if data]
        events = [tuple(e) for e in panel.events]
        bundle: dict[str, Any] = {
            WIDGET_MIME: widget_view(panel.widget),
            "text/html": run_html(info, summaries, events, cast("list[tuple[str, str]]", images)),
            "text/plain": run_text(info, summaries),
        }
        if images:
            bundle["image/png"] = images[0][1]
        return bundle

    # A LiveDisplay also works as a context manager around the cell body.
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.finish()


def show_run(run) -> LiveDisplay:
    """Display the live panel of a run that has just started (nothing live outside a Jupyter kernel)."""
    if not widgets_available():
        return LiveDisplay(run)
    from IPython.display import display

    from .widgets import LivePanel

    try:
        panel = LivePanel(run)
    except Exception as exc:  # no panel is better than a failed run cell
        print(f"jupyter-tracker: live panel unavailable ({exc})", file=sys.stderr)
        return LiveDisplay(run)
    info = run.info
    text = f"{info.name} ({info.project}, run #{info.id}): {RUNNING}"
    handle = display({WIDGET_MIME: widget_view(panel.widget), "text/plain": text}, raw=True, display_id=True)
    return LiveDisplay(run, panel, handle)


def _summary_from_store(run) -> dict:
    try:
        frame = run.summary()
    except Exception:
        return {}
    return {
        key: {"count": row["count"], "last": row["last"], "min": row["min"], "max": row["max"]}
        for key, row in frame.iterrows()
    }


# -- comparison --------------------------------------------------------------------------------------
def comparison_bundle(comparison) -> dict:
    """The mime bundle of a Comparison: the widget where possible, plus an HTML table and an overlay PNG."""
    text = comparison_text(comparison)
    if not widgets_available():  # a terminal shows text only: no chart to render
        return {"text/plain": text}
    chart = comparison.overlay_chart()
    image = png_b64(chart) if chart is not None else None
    bundle: dict[str, Any] = {"text/html": comparison_html(comparison, image), "text/plain": text}
    if image:
        bundle["image/png"] = image
    from .widgets import ComparisonWidget

    widget = comparison._widget = getattr(comparison, "_widget", None) or ComparisonWidget(comparison)
    bundle[WIDGET_MIME] = widget_view(widget)
    return bundle


def show_comparison(comparison) -> None:
    if widgets_available():
        from IPython.display import display

        display(comparison_bundle(comparison), raw=True)
    else:
        print(comparison_text(comparison))
