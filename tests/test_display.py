"""notebook/display.py without a kernel: the saved form that replaces a finished panel (its own mime type for
JupyterLab's extension, an HTML summary with SVG charts for everything else, text), what it costs, the text
path of a terminal, widgets_available(), and a comparison's bundle and the series its kernel answers for.

The real-kernel side (what nbclient saves) is in test_panel_notebook.py; nbconvert's HTML of it, offline in
Chromium, in test_nbconvert.py.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import threading
import urllib.parse

import IPython
import pytest
from fakes import FakeRun

import jupyter_tracker as jt
from jupyter_tracker.notebook import comparisons, display
from jupyter_tracker.notebook.widgets import assets, images
from jupyter_tracker.notebook.widgets.fallback import MARKER
from jupyter_tracker.notebook.widgets.live import LivePanel
from jupyter_tracker.notebook.widgets.saved import COMPARE_MIME, RUN_MIME, pack

T0 = 1_700_000_000.0
SAVED = {RUN_MIME, "text/html", "text/plain"}


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


@pytest.fixture
def in_a_kernel(monkeypatch):
    kernel_shell = type("Shell", (), {"kernel": object()})()
    monkeypatch.setattr(IPython, "get_ipython", lambda: kernel_shell)


def _finished_bundle(run, panel) -> dict:
    handle = Handle()
    live = display.LiveDisplay(run, panel, handle)
    live.finish()
    live.finish()  # a second call changes nothing
    ((bundle, raw),) = handle.updates
    assert raw is True
    return bundle


def _images(html: str) -> list[str]:
    return re.findall(r'<img alt="[^"]*" style="[^"]*" src="(data:image/svg\+xml,[^"]*)"', html)


def unpack(packed: dict) -> list[tuple]:
    """common.js's unpack, in Python: the columns back to (step, value, time) points."""
    columns = [
        [float(x) for x in packed[name].split(",")] if packed[name] else []
        for name in ("step", "value", "time")
    ]
    step = time = 0.0
    out = []
    for dstep, value, dtime in zip(*columns, strict=True):
        step, time = step + dstep, time + dtime
        out.append((step, value, time))
    return out


def test_widgets_are_not_available_outside_a_kernel(monkeypatch):
    assert display.widgets_available() is False  # pytest: no IPython shell at all
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())  # a terminal IPython: a shell, no kernel
    assert display.widgets_available() is False
    kernel_shell = type("Shell", (), {"kernel": object()})()
    monkeypatch.setattr(IPython, "get_ipython", lambda: kernel_shell)
    assert display.widgets_available() is True


def test_a_finished_run_is_saved_without_its_widget(db, panels):
    run = jt.start_run(name="shown", project="disp", params={"lr": 0.1, "b": 2}, tags="demo", system=False)
    panel = panels(run)
    for i in range(40):
        run.log(loss=math.exp(-i / 10), acc=i / 40)
    run.log_event("loss plateau", "warning", alert="plateau")
    assert run.flush()  # the panel has folded every written batch once flush() returns
    run.finish()
    bundle = _finished_bundle(run, panel)

    # No widget view: nbconvert would draw the widget (offline: nothing) in place of the rest.
    assert set(bundle) == SAVED
    saved = bundle[RUN_MIME]
    assert saved["info"]["status"] == "finished" and saved["info"]["name"] == "shown"
    assert list(json.loads(saved["params"])) == ["lr", "b"]  # as logged (nbformat sorts objects' keys)
    assert [s["key"] for s in saved["series"]] == ["loss", "acc"]  # the panel's order, kept in a list
    loss = unpack(saved["series"][0])
    assert [p[0] for p in loss] == list(range(40))
    assert [p[1] for p in loss] == pytest.approx([math.exp(-i / 10) for i in range(40)], rel=1e-4)
    assert json.loads(saved["summary"])["loss"]["count"] == 40
    assert [e[2] for e in json.loads(saved["events"])] == ["loss plateau"]
    assert json.loads(saved["specs"])["metric"]["step"]["data"] == {"name": "table"}

    html = bundle["text/html"]
    assert MARKER in html and "shown" in html and "finished" in html and "loss plateau" in html
    assert len(_images(html)) == 2  # loss and acc; no hardware samples
    assert "<script" not in html.lower() and "<svg" not in html  # GitHub and sanitizers keep <img>, not these
    text = bundle["text/plain"]
    assert text.splitlines()[0].startswith("✓ run shown (disp, #") and "finished" in text.splitlines()[0]
    assert "params: lr=0.1 b=2" in text and "tags: demo" in text
    loss_line = next(line for line in text.splitlines() if line.split()[:1] == ["loss"])
    assert loss_line.split()[-1] == "40"  # the point count


def test_the_widget_is_emptied_once_its_output_is_replaced_and_closed_by_the_next_panel(panels):
    run = FakeRun()
    panel = panels(run)
    run.deliver([("loss", i, 1 / (i + 1), T0 + i) for i in range(20)])
    _finished_bundle(run, panel)
    assert panel.widget._esm == assets.RETIRED_ESM and panel.widget.specs == {}
    panels(FakeRun())
    assert panel.widget.comm is None


def test_a_panel_answers_a_request_for_the_vega_runtime_even_once_finished(panels, monkeypatch):
    """A browser without JupyterLab's extension asks while the cell runs; the kernel reads it after."""
    made = []
    monkeypatch.setattr(assets, "vega_runtime", lambda: made.append(1) or assets.VegaRuntime(_esm=""))
    run = FakeRun()
    panel = panels(run)
    assert panel.widget.runtime is None  # nobody asked: nothing of Vega in the panel's state
    _finished_bundle(run, panel)
    panel.widget._handle_custom_msg({"type": "runtime"}, [])
    assert made == [1] and isinstance(panel.widget.runtime, assets.VegaRuntime)
    panel.widget._handle_custom_msg({"type": "runtime"}, [])
    assert made == [1]  # asked again (another view): the same runtime
    panel.widget.runtime.close()


def test_a_typical_cell_saves_little_and_no_vega_runtime(panels):
    """3 metrics x 300 steps and the hardware sampler: at most 60 KB, as nbformat writes it."""
    run = FakeRun()
    panel = panels(run)
    points = [
        (key, step, math.exp(-step / (60 + k * 10)) + 0.01 * math.sin(step), T0 + step * 0.05)
        for step in range(300)
        for k, key in enumerate(("loss", "acc", "val_loss"))
    ]
    system = [
        (f"system/{key}", 0, 20 + 5 * math.sin(t + i), T0 + t)
        for t in range(20)
        for i, key in enumerate(
            (
                "cpu/percent",
                "memory/percent",
                "memory/used_bytes",
                "disk/usage_percent",
                "network/sent_bytes_per_s",
            )
        )
    ]
    run.deliver(points + system)
    bundle = _finished_bundle(run, panel)
    saved = json.dumps(bundle, indent=1)  # nbformat's layout
    assert len(saved) < 60_000, len(saved)
    assert assets.RUNTIME_KEY not in saved and "vegaEmbed" not in saved and "vega-embed" not in saved
    assert len(_images(bundle["text/html"])) == 3 + display.MAX_SYSTEM_CHARTS


def test_hardware_gets_charts_only_with_enough_samples(panels):
    few, many = FakeRun(), FakeRun()
    for run, samples in ((few, 4), (many, 5)):
        panel = panels(run)
        run.deliver(
            [("loss", 0, 1.0, T0), ("loss", 1, 0.5, T0 + 1)]
            + [("system/cpu/percent", 0, 10.0 + s, T0 + s) for s in range(samples)]
            + [("system/cpu/load_1m", 0, 1.0, T0 + s) for s in range(samples)]  # no unit: never drawn
        )
        bundle = _finished_bundle(run, panel)
        assert len(_images(bundle["text/html"])) == (1 if samples < display.MIN_SYSTEM_SAMPLES else 2)
        assert "system/cpu/percent" not in bundle["text/plain"]  # the table lists the user's metrics


def test_a_run_without_points_has_no_chart(panels):
    run = FakeRun(status="failed", error="Traceback ...\nValueError: bad <input>")
    panel = panels(run)
    bundle = _finished_bundle(run, panel)
    assert set(bundle) == SAVED and _images(bundle["text/html"]) == []
    assert "ValueError: bad &lt;input&gt;" in bundle["text/html"]  # user text is escaped
    assert "error: ValueError: bad <input>" in bundle["text/plain"]


def test_a_chart_that_cannot_be_drawn_leaves_the_summary_without_it(panels, monkeypatch):
    def broken(chart):
        raise RuntimeError("vl-convert missing")

    monkeypatch.setattr(images.vega, "to_svg", broken)
    assert images.image({"mark": "point"}) is None
    run = FakeRun()
    panel = panels(run)
    run.deliver([("loss", 0, 1.0, T0)])
    bundle = _finished_bundle(run, panel)
    assert _images(bundle["text/html"]) == [] and "loss" in bundle["text/plain"]


def test_a_summary_that_cannot_be_made_still_ends_the_cell_with_text(panels, monkeypatch):
    run = FakeRun()
    panel = panels(run)
    run.deliver([("loss", 0, 1.0, T0)])
    monkeypatch.setattr(display, "run_html", lambda *a: 1 / 0)
    bundle = _finished_bundle(run, panel)
    assert set(bundle) == {"text/plain"} and "ZeroDivisionError" in bundle["text/plain"]
    assert panel.widget._esm == assets.RETIRED_ESM


def test_chart_images_are_compact_svg_with_their_labels_intact():
    rows = [{"key": "lr", "step": i, "value": 0.01 * 0.99**i, "time": T0 * 1000 + i} for i in range(300)]
    uri = images.image(images.metric_chart("lr <&> 'x'", rows))
    assert uri is not None and uri.startswith("data:image/svg+xml,")
    assert not set('"<>&#%') & set(uri.removeprefix("data:image/svg+xml,").replace("%", ""))  # all encoded
    svg = urllib.parse.unquote(uri.removeprefix("data:image/svg+xml,"))
    labels = re.findall(r">([^<>]+)</text>", svg)
    assert "0.010" in labels and "0.002" in labels  # tick labels keep their digits (coordinates are rounded)
    assert "lr &lt;&amp;&gt; &#39;x&#39;" in labels  # the title, escaped inside the SVG
    assert "aria-" not in svg and "class=" not in svg and len(uri) < 6_000


def test_pack_keeps_order_steps_and_times_exactly_and_values_to_5_digits():
    points = [(10, 1.23456789, T0 * 1000), (12, float("nan"), T0 * 1000 + 5), (13, -2.5e-7, T0 * 1000 + 40)]
    packed = pack(points)
    assert packed["step"] == "10,3" and packed["value"] == "1.2346,-2.5e-7"  # NaN left out
    assert unpack(packed) == [(10, 1.2346, round(T0 * 1000)), (13, -2.5e-7, round(T0 * 1000) + 40)]


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


def _runs(count: int, project: str = "cmp") -> None:
    for n in range(count):
        with jt.start_run(name=f"r{n}", project=project, params={"lr": 10.0**-n}, system=False) as run:
            for step in range(50):
                run.log(loss=1 / (step + 1 + n), acc=step / 50)


def test_a_comparison_in_a_kernel_saves_its_table_and_first_series_and_no_widget(db, in_a_kernel):
    _runs(7)
    comparison = jt.compare(project="cmp")
    bundle = display.comparison_bundle(comparison)
    assert set(bundle) == {COMPARE_MIME, "text/html", "text/plain"}
    saved = bundle[COMPARE_MIME]
    assert len(json.loads(saved["rows"])) == 7 and saved["metrics"] == ["loss", "acc"]
    first = comparison.runs[:5]
    assert saved["selected"] == first and set(saved["series"]["acc"]) == {str(r) for r in first}
    points = unpack(saved["series"]["loss"][str(first[0])])
    assert len(points) == 50 and points[0][1] == pytest.approx(1 / 7, rel=1e-4)
    html = bundle["text/html"]
    assert "Comparison of 7 runs" in html and len(_images(html)) == 2  # an overlay per metric
    assert str(db) not in json.dumps(bundle)  # no path of the user's in a saved notebook


def test_the_kernel_answers_for_the_series_a_comparison_did_not_save(db, in_a_kernel):
    _runs(7)
    comparison = jt.compare(project="cmp")
    source = display.comparison_bundle(comparison)[COMPARE_MIME]["source"]
    late = comparison.runs[5:]
    reply = comparisons.answer({"source": source, "metric": "acc", "runs": [*late, 999]})
    assert reply["type"] == "series" and reply["metric"] == "acc"
    assert set(reply["data"]) == {str(r) for r in late} and reply["failed"] == ["999"]
    assert [p[1] for p in unpack(reply["data"][str(late[0])])] == pytest.approx([s / 50 for s in range(50)])
    unknown = comparisons.answer({"source": "from-another-kernel", "metric": "acc", "runs": late})
    assert unknown["data"] == {} and unknown["failed"] == [str(r) for r in late]


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
    assert panel.status == "interrupted"  # what the run's listeners were told at the end
    ((bundle, _),) = handle.updates  # the saved output was replaced by the final one
    assert (
        bundle[RUN_MIME]["info"]["status"] == "interrupted" and bundle[RUN_MIME]["info"]["ended"] == T0 + 70
    )
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
    assert calls == ["finish", "finish"]
    assert handle.updates[0][0][RUN_MIME]["info"]["status"] == "finished"
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
    assert panel.widget.info["status"] == "interrupted" and panel.rows()["loss"]


def test_a_kernel_started_by_vs_code_brings_the_runtime_with_the_first_panel(panels, monkeypatch):
    made = []
    monkeypatch.setattr(assets, "vega_runtime", lambda: made.append(1) or assets.VegaRuntime(_esm=""))
    monkeypatch.delenv("PYDEVD_IPYTHON_COMPATIBLE_DEBUGGING", raising=False)
    assert panels(FakeRun()).widget.runtime is None and made == []  # JupyterLab's extension brings it
    monkeypatch.setenv("PYDEVD_IPYTHON_COMPATIBLE_DEBUGGING", "1")  # what VS Code sets in its kernels
    panel = panels(FakeRun())
    assert isinstance(panel.widget.runtime, assets.VegaRuntime) and made == [1]
    panel.widget.runtime.close()
