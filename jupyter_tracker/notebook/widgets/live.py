"""The live run panel: one anywidget fed from `run.subscribe()`, never from SQLite.

The writer thread hands each written batch to `LivePanel._on_batch`, which only folds the points into
bounded per-key buffers and wakes the pusher: the one thread per process (pusher.py) that sends what
changed to the browser, at most every `interval` seconds per panel (new rows by a custom message,
summaries and events by traits). No thread per panel: ipykernel keeps a descriptor per thread that ever
sent output. Nothing here prints: output from a background thread would land in whatever cell runs next.
"""

from __future__ import annotations

import json
import math
import threading
import time
from typing import Any, cast

import traitlets

from ...charts import specs as chart_specs
from ...models import RUNNING, SYSTEM_PREFIX
from .assets import RETIRED_ESM, BundledWidget
from .pusher import PUSHER
from .series import LiveSeries

MAX_EVENTS = 300
_retired: list[RunPanel] = []  # emptied widgets of finished panels, closed when the next panel opens


class RunPanel(BundledWidget):
    """The panel's synced state; the browser side lives in run_panel.js."""

    kind = traitlets.Unicode("run").tag(sync=True)
    info = traitlets.Dict().tag(sync=True)
    params = traitlets.Dict().tag(sync=True)
    summary = traitlets.Dict().tag(sync=True)
    events: traitlets.List[Any] = traitlets.List().tag(sync=True)
    system_layout = traitlets.Dict().tag(sync=True)

    def __init__(self, **kwargs):
        specs = {
            "metric": {"step": chart_specs.metric_spec("step"), "time": chart_specs.metric_spec("time")},
            "system": chart_specs.system_spec(""),
        }
        super().__init__(specs=specs, **kwargs)


def run_info(run, info=None, status: str | None = None) -> dict:
    """The header's data: name, project, id, status, times, tags, and the error's last line."""
    info = info or run.info
    error = (info.error or "").strip().splitlines()
    return {
        "id": info.id,
        "uuid": info.uuid,
        "name": info.name,
        "project": info.project,
        "status": status or info.status,
        "started": info.started or getattr(run, "started", None),
        "ended": info.ended,
        "tags": list(info.tags),
        "error": error[-1][:300] if error else None,
    }


def json_params(params: dict) -> dict:
    """Params as JSON-safe values (NaN, sets and other odd values shown as text)."""
    safe = {}
    for key, value in params.items():
        try:
            json.dumps(value, allow_nan=False)
            safe[key] = value
        except (TypeError, ValueError):
            safe[key] = repr(value)
    return safe


class LivePanel:
    """Keeps a RunPanel in step with a running Run; `close()` when the run has ended."""

    def __init__(self, run, *, interval: float = 0.5, max_rows: int = 2000):
        self.run = run
        self.interval = interval
        self.max_rows = max_rows
        self.series: dict[str, LiveSeries] = {}
        self.events: list[list] = []
        self.status = RUNNING
        self._lock = threading.Lock()  # the folded data: held briefly, by the writer thread too
        self._push_lock = threading.Lock()  # one push at a time, so rows reach the browser in order
        self._closed = False
        self._seq = 0
        self._events_changed = False
        self._new_keys = False
        info = run.info
        self.widget = RunPanel(
            info=run_info(run, info, RUNNING), params=json_params(dict(info.params)), system_layout={}
        )
        close_retired()
        PUSHER.register(self)
        self._unsubscribe = run.subscribe(self._on_batch)

    # -- writer thread: fold, never block -----------------------------------------------------------
    def _on_batch(self, points, events, status) -> None:
        try:
            with self._lock:
                series = self.series
                for key, step, value, when in points:
                    buffer = series.get(key)
                    if buffer is None:
                        buffer = series[key] = LiveSeries(self.max_rows)
                        self._new_keys = True
                    buffer.add(step, value, when)
                for when, level, message, extra in events:
                    self.events.append([when * 1000.0, level, message, _json_safe(extra)])
                    self._events_changed = True
                if len(self.events) > MAX_EVENTS:
                    del self.events[: len(self.events) - MAX_EVENTS]
                self.status = status
            PUSHER.wake(self)
        except Exception:
            pass  # a panel problem must never break the run's writer

    # -- the pusher thread: at most every `interval` seconds -------------------------------------------
    def push(self) -> None:
        with self._push_lock:
            if not self._closed:
                self._send_changes()

    def flush(self) -> None:
        """Send what changed since the last flush: new rows, summaries, events, status."""
        with self._push_lock:
            self._send_changes()

    def _send_changes(self) -> None:
        with self._lock:
            changes = {}
            for key, buffer in self.series.items():
                change = buffer.take()
                if change is not None:
                    changes[key] = change
            summary = {key: buffer.summary() for key, buffer in self.series.items()} if changes else None
            events = list(self.events) if self._events_changed else None
            self._events_changed = False
            layout = self._layout() if self._new_keys else None
            self._new_keys = False
            if changes:
                self._seq += 1
            seq = self._seq
        widget = self.widget
        if layout is not None:
            widget.system_layout = layout
        if changes:
            widget.send({"type": "rows", "seq": seq, "series": changes})
            widget.summary = cast("dict[str, dict]", summary)  # made whenever there are changes
        if events is not None:
            widget.events = events

    def _layout(self) -> dict:
        layout = dict(self.widget.system_layout)
        for key in self.series:
            if key.startswith(SYSTEM_PREFIX) and key not in layout:
                title, unit, label = chart_specs.system_series(key)
                panel = f"{title} · {unit}" if unit else title
                layout[key] = {
                    "rank": chart_specs.panel_rank(title, unit),
                    "panel": panel,
                    "unit": unit,
                    "label": label,
                    "axis": chart_specs.unit_axis(unit),
                }
        return layout

    # -- end ------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Leave the pusher, send the last rows and the final header (the panel shows the run's end until
        the cell's output is replaced by its saved form; see display.LiveDisplay.finish)."""
        self._unsubscribe()
        PUSHER.unregister(self)
        with self._push_lock:  # waits for a push under way; none starts after this
            self._closed = True
            self._send_changes()
        try:
            info = self.run.info  # the status as stored
        except Exception:  # the store cannot be read now: show the final status the run reported
            self.widget.info = {**self.widget.info, "status": self.status}
        else:
            self.widget.info = run_info(self.run, info)
            self.widget.params = json_params(dict(info.params))

    def retire(self) -> None:
        """Empty the widget once no output shows it, and close it when the next panel opens.

        Emptied: nbclient and papermill save the last state of every widget they ever saw, shown or not,
        and this one has nothing left to show (the module too: a browser that still has the model runs an
        empty one). Closed later: a browser without JupyterLab's extension asked this panel for the Vega
        runtime while its cell ran, and that message is handled only once the cell has ended."""
        widget = self.widget
        try:
            with widget.hold_sync():  # one message
                widget._esm = RETIRED_ESM
                widget.specs, widget.summary, widget.events, widget.params = {}, {}, [], {}
                widget.system_layout = {}
        except Exception:
            widget.close()
        else:
            _retired.append(widget)

    def points(self, system: bool = False) -> list[dict]:
        """The downsampled points shown in the panel, metrics or hardware samples: dicts with key, step,
        value and time in epoch ms (what the static grids of chart_specs draw)."""
        with self._lock:
            return [
                {"key": key, "step": step, "value": value, "time": ms}
                for key, buffer in self.series.items()
                if system == key.startswith(SYSTEM_PREFIX)
                for _, step, value, ms in buffer.rows()
            ]

    def rows(self) -> dict[str, list[list]]:
        """Every key's downsampled rows: [bucket, step, value, time in epoch ms]."""
        with self._lock:
            return {key: buffer.rows() for key, buffer in self.series.items()}

    def summaries(self) -> dict[str, dict]:
        with self._lock:
            return {key: buffer.summary() for key, buffer in self.series.items()}


def close_retired() -> None:
    """Close the widgets of finished panels (their late messages have been handled by now)."""
    while _retired:
        try:
            _retired.pop().close()
        except Exception:
            pass


def _json_safe(extra):
    if isinstance(extra, str):  # the writer hands events over with their extra already as JSON text
        try:
            extra = json.loads(extra)
        except ValueError:
            return {}
    if not isinstance(extra, dict):
        return {}
    try:
        json.dumps(extra, allow_nan=False)
        return extra
    except (TypeError, ValueError):
        return {k: v if isinstance(v, str | int | bool) else _text(v) for k, v in extra.items()}


def _text(value):
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    try:
        json.dumps(value, allow_nan=False)
        return value
    except (TypeError, ValueError):
        return repr(value)


def elapsed(info) -> float | None:
    if info.get("started") is None:
        return None
    return (info.get("ended") or time.time()) - info["started"]
