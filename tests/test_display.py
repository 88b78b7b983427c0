"""notebook/display.py without a kernel: the static fallback saved beside the live panel (mime types,
HTML and PNG, text summary, no Vega runtime), the text-only path of a terminal, and widgets_available().

The real-kernel side (what nbclient saves) is in test_panel_notebook.py.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import threading

import IPython
import pytest
from fakes import FakeRun

import jupyter_tracker as jt
from jupyter_tracker.notebook import display
from jupyter_tracker.notebook.widgets import assets
from jupyter_tracker.notebook.widgets.fallback import MARKER
from jupyter_tracker.notebook.widgets.live import LivePanel

T0 = 1_700_000_000.0
PNG = b"\x89PNG\r\n\x1a\n"


class Handle:
    """Stands in for IPython's DisplayHandle: records update(...) calls."""

    def __init__(self):
        self.updates: list[tuple[dict, bool]] = []

    def update(self, obj, raw=False):
        self.updates.append((obj, raw))


@pytest.fixture
def panels():
    made = []

    def make(run, **kwargs):
        made.append(LivePanel(run, interval=3600, **kwargs))
        made[-1].widget.send = lambda content, buffers=None: None
        return made[-1]

    yield make
    for panel in made:
        panel.close()
        panel.widget.close()


def _finished_bundle(run, panel) -> dict:
    handle = Handle()
    live = display.LiveDisplay(run, panel, handle)
    live.finish()
    live.finish()  # a second call changes nothing
    ((bundle, raw),) = handle.updates
    assert raw is True
    return bundle


def _images(html: str) -> int:
    return html.count("data:image/png;base64,")


def test_widgets_are_not_available_outside_a_kernel(monkeypatch):
    assert display.widgets_available() is False  # pytest: no IPython shell at all
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())  # a terminal IPython: a shell, no kernel
    assert display.widgets_available() is False
    kernel_shell = type("Shell", (), {"kernel": object()})()
    monkeypatch.setattr(IPython, "get_ipython", lambda: kernel_shell)
    assert display.widgets_available() is True


def test_a_finished_run_keeps_the_widget_view_and_a_static_fallback(db, panels):
    run = jt.start_run(name="shown", project="disp", params={"lr": 0.1}, tags="demo", system=False)
    panel = panels(run)
    for i in range(40):
        run.log(loss=math.exp(-i / 10), acc=i / 40)
    run.log_event("loss plateau", "warning", alert="plateau")
    assert run.flush()  # the panel has folded every written batch once flush() returns
    run.finish()
    bundle = _finished_bundle(run, panel)

    assert set(bundle) == {display.WIDGET_MIME, "text/html", "image/png", "text/plain"}
    assert bundle[display.WIDGET_MIME] == {
        "version_major": 2,
        "version_minor": 1,
        "model_id": panel.widget.model_id,
    }
    assert base64.b64decode(bundle["image/png"]).startswith(PNG)

    html = bundle["text/html"]
    assert MARKER in html and "shown" in html and "finished" in html and "loss plateau" in html
    assert "loss" in html and "acc" in html and _images(html) == 1  # metrics only: no hardware samples
    assert "<script" not in html.lower()  # GitHub and nbviewer strip scripts: the fallback needs none

    text = bundle["text/plain"]
    assert text.splitlines()[0].startswith("✓ run shown (disp, #") and "finished" in text.splitlines()[0]
    assert "params: lr=0.1" in text and "tags: demo" in text
    loss_line = next(line for line in text.splitlines() if line.split()[:1] == ["loss"])
    assert loss_line.split()[-1] == "40"  # the point count


def test_the_bundle_carries_no_vega_runtime(panels):
    run = FakeRun()
    panel = panels(run)
    run.deliver([("loss", i, 1 / (i + 1), T0 + i) for i in range(20)])
    panel.flush()
    bundle = _finished_bundle(run, panel)
    saved = json.dumps(bundle)
    # The runtime (~0.9 MB of Vega JS) travels in its own widget, never in an output.
    assert assets.RUNTIME_KEY not in saved and "vegaEmbed" not in saved and "vega-embed" not in saved
    assert assets.esm()[:200] not in saved
    assert len(saved) < 300_000  # one PNG and a small HTML table, not a JS bundle


def test_hardware_gets_a_chart_only_with_enough_samples(panels):
    few, many = FakeRun(), FakeRun()
    for run, samples in ((few, 4), (many, 5)):
        panel = panels(run)
        run.deliver(
            [("loss", 0, 1.0, T0), ("loss", 1, 0.5, T0 + 1)]
            + [("system/cpu/percent", 0, 10.0 + s, T0 + s) for s in range(samples)]
        )
        bundle = _finished_bundle(run, panel)
        assert _images(bundle["text/html"]) == (1 if samples < display.MIN_SYSTEM_SAMPLES else 2)
        assert "system/cpu/percent" not in bundle["text/plain"]  # the table lists the user's metrics
        assert base64.b64decode(bundle["image/png"]).startswith(PNG)  # image/png: the metrics chart


def test_a_run_without_points_has_no_image(panels):
    run = FakeRun(status="failed", error="Traceback ...\nValueError: bad <input>")
    panel = panels(run)
    bundle = _finished_bundle(run, panel)
    assert set(bundle) == {display.WIDGET_MIME, "text/html", "text/plain"}
    assert "ValueError: bad &lt;input&gt;" in bundle["text/html"]  # user text is escaped
    assert "error: ValueError: bad <input>" in bundle["text/plain"]


def test_a_chart_that_cannot_be_drawn_leaves_the_fallback_without_it(panels, monkeypatch):
    def broken(chart):
        raise RuntimeError("vl-convert missing")

    monkeypatch.setattr(display.vega, "to_png", broken)
    assert display.png_b64({"mark": "point"}) is None
    run = FakeRun()
    panel = panels(run)
    run.deliver([("loss", 0, 1.0, T0)])
    bundle = _finished_bundle(run, panel)
    assert "image/png" not in bundle and _images(bundle["text/html"]) == 0
    assert "loss" in bundle["text/plain"]


def test_outside_a_kernel_show_run_makes_no_widget_and_finish_prints_a_summary(db, capsys):
    threads = {t.name for t in threading.enumerate()}
    with jt.start_run(name="terminal", project="disp", system=False) as run:
        live = display.show_run(run)
        assert live.panel is None and live.handle is None
        assert not {t.name for t in threading.enumerate()} - threads - {f"jupyter-tracker-writer-{run.id}"}
        run.log(loss=0.5)
        run.log(loss=0.25)
    live.finish()
    live.finish()
    out = capsys.readouterr().out
    assert out.count("run terminal (disp, #") == 1 and "finished" in out
    loss_line = next(line for line in out.splitlines() if line.split()[:1] == ["loss"])
    assert loss_line.split()[1:] == ["0.25", "0.25", "0.5", "2"]  # last, min, max, points


def test_a_comparison_outside_a_kernel_is_text_only(db, capsys):
    for lr in (0.1, 0.01):
        with jt.start_run(project="cmp", params={"lr": lr}, system=False) as run:
            run.log(loss=lr * 10)
    comparison = jt.compare(project="cmp")
    bundle = display.comparison_bundle(comparison)
    assert set(bundle) == {"text/plain"}  # no chart is drawn, no widget made
    assert "lr" in bundle["text/plain"]
    display.show_comparison(comparison)
    assert capsys.readouterr().out.strip() == bundle["text/plain"].strip()


class InterruptedWhileEnding(FakeRun):
    """run.finish()/fail() as when Kernel > Interrupt arrives during the last flush: the status is stored,
    the listeners get it, then the KeyboardInterrupt goes on to the caller (once)."""

    def __init__(self, **info):
        super().__init__(status="running", ended=None, **info)
        self.ended_with: list[str] = []

    def finish(self, status="finished", error=None):
        if self.ended_with:
            return
        self.ended_with.append(status)
        self.info = dataclasses.replace(self.info, status="interrupted", ended=T0 + 70, error=error)
        self.deliver(status="interrupted")
        raise KeyboardInterrupt

    def fail(self, exc):
        self.finish("failed", f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize("body_error", [None, ValueError("diverged"), KeyboardInterrupt()])
def test_an_interrupt_while_the_cell_ends_still_shows_the_stored_status(panels, body_error):
    """%%track_run's end of cell: run.finish() (or fail()) raising KeyboardInterrupt must not keep the
    panel and the saved output at `running`."""
    from jupyter_tracker.notebook.magics import _end_cell
    from jupyter_tracker.notebook.widgets.pusher import PUSHER

    run = InterruptedWhileEnding()
    panel = panels(run)
    run.deliver([("loss", 0, 1.0, T0)])
    handle = Handle()
    live = display.LiveDisplay(run, panel, handle)
    with pytest.raises(KeyboardInterrupt):
        _end_cell(run, live, body_error)
    assert run.ended_with == ["finished" if body_error is None else "failed"]
    assert panel.widget.info["status"] == "interrupted" and panel.widget.info["ended"] == T0 + 70
    assert panel.status == "interrupted"  # what the run's listeners were told at the end
    ((bundle, _),) = handle.updates  # the saved output was replaced by the final one
    assert "interrupted" in bundle["text/plain"] and "interrupted" in bundle["text/html"]
    assert run.listeners == [] and panel not in PUSHER._due  # closed: the pusher has let it go


def test_the_cell_end_shows_the_final_state_when_nothing_goes_wrong(panels):
    from jupyter_tracker.notebook.magics import _end_cell

    run = FakeRun(status="running", ended=None)
    calls = []

    def finish():
        calls.append("finish")
        run.info = dataclasses.replace(run.info, status="finished", ended=T0 + 5)

    run.finish = finish
    panel = panels(run)
    handle = Handle()
    _end_cell(run, display.LiveDisplay(run, panel, handle))
    _end_cell(run, None)  # no panel (--no-panel): only the run ends
    assert calls == ["finish", "finish"] and panel.widget.info["status"] == "finished"
    assert "finished" in handle.updates[0][0]["text/plain"]


def test_a_store_that_cannot_be_read_at_the_end_still_shows_the_reported_status(panels):
    class Unreadable(FakeRun):
        broken = False

        @property
        def info(self):
            if self.broken:
                raise OSError("disk I/O error")
            return self._info

        @info.setter
        def info(self, value):
            self._info = value

    run = Unreadable(status="running", ended=None)
    panel = panels(run)
    run.deliver([("loss", 0, 1.0, T0)], status="interrupted")
    run.broken = True
    panel.close()
    assert panel.widget.info["status"] == "interrupted" and panel.widget.snapshot["series"]["loss"]
