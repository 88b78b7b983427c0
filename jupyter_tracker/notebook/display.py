"""What a cell shows, while it runs and once it is saved.

While a run goes: the live panel, an anywidget. When it ends, the cell's output is replaced by its saved
form and the widget is closed: JupyterLab and Notebook 7 draw the same panel again from RUN_MIME (our
extension, no kernel needed), everything else (nbconvert, nbviewer, GitHub, VS Code) shows the HTML summary
with SVG charts, and a terminal the text. A comparison is shown that way from the start (COMPARE_MIME).

No output that stays refers to a widget, on purpose: nbconvert draws a widget whose state was saved (as
nbclient and papermill always do) in place of every other form of its output, with scripts from a CDN, and
offline that draws nothing. A plain IPython terminal gets a short text summary.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from ..charts import specs as chart_specs
from ..models import RUNNING, SYSTEM_PREFIX
from .widgets import images
from .widgets.fallback import comparison_html, comparison_text, run_html, run_text
from .widgets.saved import COMPARE_MIME, RUN_MIME, compare_payload, run_payload

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
MIN_SYSTEM_SAMPLES = 5
MAX_SYSTEM_CHARTS = 4
MAX_OVERLAYS = 4
_QUIET_SYSTEM = ("system/cpu/core",)


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


class LiveDisplay:
    """The output of one run cell: a live panel while it runs, its saved form after."""

    def __init__(self, run, panel=None, handle=None):
        self.run = run
        self.panel = panel
        self.handle = handle
        self._finished = False

    def finish(self) -> None:
        """Show the run's final state: replace the displayed panel by its saved form, or print a text
        summary where there is no widget frontend. Call after run.finish() (or run.fail())."""
        if self._finished:
            return
        self._finished = True
        if self.panel is None:
            print(run_text(self.run.info, _summary_from_store(self.run)))
            return
        self.panel.close()
        try:
            self.handle.update(self._saved(), raw=True)
        finally:
            self.panel.retire()

    def _saved(self) -> dict:
        try:
            return self.bundle()
        except (
            Exception
        ) as exc:  # the run is stored whatever happens here: never fail the cell for its picture
            summaries = self.panel.summaries()
            text = run_text(self.run.info, summaries)
            return {"text/plain": f"{text}\n  (summary unavailable: {type(exc).__name__}: {exc})"}

    def bundle(self) -> dict:
        """RUN_MIME for JupyterLab's extension, the HTML summary with the charts, and plain text."""
        panel, info = self.panel, self.run.info
        summaries = {k: v for k, v in panel.summaries().items() if not k.startswith(SYSTEM_PREFIX)}
        charts = [("Metrics", metric_images(panel.points())), ("System", system_images(panel.points(True)))]
        events = [tuple(e) for e in panel.events]
        widget = panel.widget
        return {
            RUN_MIME: run_payload(panel, dict(widget.info), dict(widget.params)),
            "text/html": run_html(info, summaries, events, [(t, found) for t, found in charts if found]),
            "text/plain": run_text(info, summaries),
        }

    # A LiveDisplay also works as a context manager around the cell body.
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.finish()


def metric_images(points: list[dict]) -> list[tuple[str, Any]]:
    """One chart per metric, in the order the keys first come (points: key, step, value, time in ms)."""
    by_key: dict[str, list] = {}
    for point in points:
        by_key.setdefault(point["key"], []).append(point)
    drawn = [(key, images.image(images.metric_chart(key, rows))) for key, rows in by_key.items()]
    return [(key, uri) for key, uri in drawn if uri]


def system_images(points: list[dict]) -> list[tuple[str, Any]]:
    """The first hardware panels with a unit (CPU %, memory, ...: see chart_specs.panel_rank; a load
    average or a thread count says less), when there are enough samples to say something: a cell of a few
    seconds draws none (each chart costs ~0.1 s)."""
    points = [p for p in points if not p["key"].startswith(_QUIET_SYSTEM)]
    if len({p["time"] for p in points}) < MIN_SYSTEM_SAMPLES:
        return []
    panels = chart_specs.system_panels(dict.fromkeys(p["key"] for p in points))
    ranked = sorted(
        (item for item in panels.items() if item[1]["unit"]),
        key=lambda item: chart_specs.panel_rank(*_title_unit(item)),
    )
    drawn = []
    for title, panel in ranked[:MAX_SYSTEM_CHARTS]:
        labels = dict(zip(panel["keys"], panel["labels"], strict=True))
        rows = [{**p, "series": labels[p["key"]]} for p in points if p["key"] in labels]
        uri = images.image(images.system_chart(title, panel["unit"], rows))
        if uri:
            drawn.append((title, uri))
    return drawn


def _title_unit(item: tuple[str, dict]) -> tuple[str, str]:
    title, panel = item
    return title.split(" · ")[0], panel["unit"]


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
    """The mime bundle of a Comparison: COMPARE_MIME for JupyterLab's extension (the interactive table and
    overlay), an HTML table with overlay charts, and text."""
    text = comparison_text(comparison)
    if not widgets_available():  # a terminal shows text only: no chart to render
        return {"text/plain": text}
    from . import comparisons
    from .widgets.compare import table_columns, table_rows

    source = comparisons.remember(comparison)
    frame = comparison.frame
    return {
        COMPARE_MIME: compare_payload(comparison, table_columns(frame), table_rows(frame), source),
        "text/html": comparison_html(comparison, overlay_images(comparison)),
        "text/plain": text,
    }


def overlay_images(comparison) -> list[tuple[str, Any]]:
    """The first metrics, each overlaid for the first runs (the ones the interactive view selects first)."""
    from ..charts.vega import PALETTE
    from .widgets.compare import PRESELECT

    runs = comparison.runs[:PRESELECT]
    names = {info.id: info.name for info in comparison.infos}
    twice = {name for name in names.values() if list(names.values()).count(name) > 1}
    drawn = []
    for metric in comparison.metrics[:MAX_OVERLAYS]:
        frame = comparison.series(metric, runs)
        lines = []
        for i, run in enumerate(runs):
            part = frame[frame["run"] == run]
            rows = [
                {"step": s, "value": v, "time": t * 1000.0}
                for s, v, t in zip(
                    part["step"].tolist(), part["value"].tolist(), part["time"].tolist(), strict=True
                )
                if math.isfinite(v)
            ]
            label = f"{names[run]} #{run}" if names[run] in twice else names[run]
            lines.append((label, PALETTE[i % len(PALETTE)], rows))
        uri = images.image(images.overlay_chart(metric, lines))
        if uri:
            drawn.append((metric, uri))
    return drawn


def show_comparison(comparison) -> None:
    if widgets_available():
        from IPython.display import display

        display(comparison_bundle(comparison), raw=True)
    else:
        print(comparison_text(comparison))
