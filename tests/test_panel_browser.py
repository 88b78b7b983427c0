"""The live panel and the comparison in a real JupyterLab, driven by headless Chromium; then the notebook as
JupyterLab saved it, reopened without a kernel and converted by nbconvert.

Screenshots go to tests/artifacts/ (git-ignored), in both themes: panel-running(-dark).png,
panel-finished(-dark).png, panel-system.png, panel-events.png, compare(-dark).png, panel-reopened.png,
nbconvert-from-lab.png.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest
from jupyterlab_harness import (
    ARTIFACTS,
    lab_url,
    launch_chromium,
    require_chromium,
    shutdown_kernels,
    start_lab,
    stop_lab,
)
from offline_html import OfflinePage, nbconvert_html

import jupyter_tracker

pytestmark = pytest.mark.browser
BUILT = Path(__file__).parent.parent / "jupyter_tracker" / "labextension"  # this checkout's labextension
DARK = "JupyterLab Dark"

RUN_CELL = """\
%%track_run name=live-demo lr=0.01 layers=[64,32] optimizer='adam' --project browser --tags ui,demo --interval 0.5
import math, random, time
for i in range(220):
    run.log(loss=math.exp(-i / 60) + random.random() * 0.03, acc=1 - math.exp(-i / 50), lr=0.01 * 0.99 ** i)
    if i == 20:
        run.log_event("checkpoint saved", path="ckpt/20.pt")
    if i == 60:
        run.log_event("loss plateau detected", "warning", alert="plateau")
    time.sleep(0.04)
print("training done")"""


def notebook(path):
    cells = ["%load_ext jupyter_tracker", RUN_CELL, "%track_compare --project browser"]
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
            for c in cells
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))


def earlier_runs(db):
    """Six runs before the cell's: the comparison's output saves the series of the first five it shows
    (the cell's run and four of these), the others come from the kernel when selected."""
    runs = [(f"extra-{n}", 0.05 * n, "adam") for n in range(1, 5)]
    for name, lr, opt in [*runs, ("baseline", 0.1, "adam"), ("sgd-try", 0.01, "sgd")]:
        with jupyter_tracker.start_run(
            name=name, project="browser", params={"lr": lr, "layers": [64, 32], "optimizer": opt}, db=db,
            system=False,
        ) as run:  # fmt: skip
            for i in range(120):
                run.log(loss=2.0 ** (-i * lr * 2) + 0.05, acc=1 - 2.0 ** (-i * lr))


def lab_settings(tmp_path, name: str, values: dict) -> None:
    path = tmp_path / "jupyter" / "lab-settings" / f"{name}.jupyterlab-settings"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values))


def first_line_path(page) -> str:
    return page.locator(
        ".jt-panel .jt-card .jt-chart svg path[aria-roledescription='line mark']"
    ).first.get_attribute("d") or page.locator(".jt-panel .jt-card .jt-chart svg path").first.get_attribute(
        "d"
    )


def label_colour(locator) -> str:
    """The fill of the first axis label of the first chart under `locator` (Vega writes the config's colour)."""
    return locator.locator(".jt-chart svg .role-axis-label text").first.get_attribute("fill") or ""


def switch_theme(page, theme: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Settings$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Theme$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{theme}$")).click()
    light = "false" if theme == DARK else "true"
    page.wait_for_function(f"document.body.dataset.jpThemeLight === '{light}'", timeout=20_000)
    page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=20_000)


def wait_for_redraw(page, locator, before: str, seconds: float = 10) -> str:
    """Until the charts under `locator` show another label colour than `before` (drawn in the new theme)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = label_colour(locator)
        if now and now != before:
            return now
        page.wait_for_timeout(200)
    raise AssertionError(f"the charts kept their colours ({before}) after the theme switch")


def run_all(page) -> None:
    page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for(timeout=60_000)
    page.locator(".jp-Notebook").first.click()
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
    page.get_by_text("Run All Cells", exact=True).click()


def check_live_panel(page, panel) -> None:
    """While the cell runs: the panel says so, and its chart grows."""
    panel.wait_for(timeout=60_000)
    assert panel.get_attribute("data-status") == "running"
    assert "elapsed" in panel.locator(".jt-elapsed").inner_text().lower()
    page.locator(".jt-panel .jt-card svg").first.wait_for(timeout=20_000)
    before = first_line_path(page)
    page.wait_for_timeout(1200)
    assert first_line_path(page) != before, "the chart did not change while the run was logging"


def check_finished_panel(panel) -> None:
    assert "took" in panel.locator(".jt-elapsed").inner_text().lower()
    assert panel.locator(".jt-pane:not([hidden]) .jt-card").count() == 3
    assert panel.locator(".jt-summary tbody tr").count() == 3
    assert "1 alert" in panel.locator(".jt-alert-bar").inner_text()


def chart_note(table, wanted: str, seconds: float = 20) -> str:
    deadline = time.monotonic() + seconds
    note = ""
    while time.monotonic() < deadline:
        note = table.locator(".jt-chart-head .jt-dim").first.inner_text()
        if wanted in note:
            break
        time.sleep(0.2)
    return note


def check_comparison(page, table) -> None:
    table.wait_for(timeout=30_000)
    names = table.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert [n.strip() for n in names] == [
        "live-demo",
        "sgd-try",
        "baseline",
        *(f"extra-{n}" for n in (4, 3, 2, 1)),
    ]
    assert chart_note(table, "5 runs") == "5 runs"
    # A run whose series the output did not save: the extension asks the notebook's kernel for it.
    table.locator("tbody tr[data-run='2'] input[type=checkbox]").check()
    assert chart_note(table, "6 runs") == "6 runs"
    assert table.locator("thead th.jt-diff").count() >= 2  # lr and optimizer differ
    table.locator(".jt-chart-big svg").first.wait_for(timeout=20_000)
    table.locator("thead th", has_text="name").first.click()  # sort by name
    names = [n.strip() for n in table.locator("tbody tr td:nth-child(2)").all_inner_texts()]
    assert names == sorted(names)
    table.locator(".jt-input").fill("sgd")
    assert table.locator("tbody tr").count() == 1
    table.locator(".jt-input").fill("")
    table.locator("thead th", has_text="name").first.click()  # back to newest first
    table.locator("thead th", has_text="name").first.click()


@pytest.mark.slow  # JupyterLab, a page, Run All, two theme switches, a reload, nbconvert: ~70 s
@pytest.mark.timeout(300)
def test_live_panel_and_comparison_in_jupyterlab(tmp_path):
    require_chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    db = tmp_path / "tracker.db"
    earlier_runs(db)
    built = [BUILT] if (BUILT / "package.json").exists() else []
    url, token, proc = start_lab(tmp_path, {"TRACKER_DB": str(db)}, labextensions=built)
    # Saved from JupyterLab with the widget state: the harder case for nbconvert.
    lab_settings(tmp_path, "@jupyter-widgets/jupyterlab-manager/plugin", {"saveState": True})
    notebook(tmp_path / "root" / "panel.ipynb")
    try:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            errors = []
            page.on("pageerror", lambda exc: errors.append(f"{exc}\n{exc.stack}"))
            page.goto(lab_url(url, token, "lab/tree/panel.ipynb"))
            run_all(page)

            panel = page.locator(".jt-panel").first
            check_live_panel(page, panel)
            page.screenshot(path=str(ARTIFACTS / "panel-running.png"))
            # A live switch to the dark theme: the live charts draw again in its colours.
            light_label = label_colour(panel)
            switch_theme(page, DARK)
            dark_label = wait_for_redraw(page, panel, light_label)
            assert panel.get_attribute("data-status") == "running", "the run ended before the theme switch"
            page.screenshot(path=str(ARTIFACTS / "panel-running-dark.png"))

            # The cell's end replaces the widget by the saved output, which our extension draws the same way.
            page.locator(".jp-TrackerOutput .jt-panel[data-status='finished'] .jt-card svg").first.wait_for(
                timeout=60_000
            )
            panel = page.locator(".jp-TrackerOutput .jt-panel").first
            check_finished_panel(panel)
            assert label_colour(panel) == dark_label
            panel.screenshot(path=str(ARTIFACTS / "panel-finished-dark.png"))
            run_cell = page.locator(".jp-CodeCell").nth(
                1
            )  # the user's print: its own output, under the panel
            assert "training done" in run_cell.locator(".jp-OutputArea-output").last.inner_text()

            table = page.locator(".jp-TrackerOutput .jt-compare").first
            check_comparison(page, table)
            table.scroll_into_view_if_needed()
            page.wait_for_timeout(400)
            table.screenshot(path=str(ARTIFACTS / "compare-dark.png"))

            # Back to light: the saved outputs' charts follow too.
            switch_theme(page, "JupyterLab Light")
            assert wait_for_redraw(page, panel, dark_label) == light_label
            panel.scroll_into_view_if_needed()
            panel.screenshot(path=str(ARTIFACTS / "panel-finished.png"))
            page.set_viewport_size({"width": 1280, "height": 1700})  # room for the taller tabs
            panel.locator(".jt-tab", has_text="System").click()
            panel.locator(".jt-pane:not([hidden]) .jt-card svg").first.wait_for(timeout=10_000)
            panel.screenshot(path=str(ARTIFACTS / "panel-system.png"))
            panel.locator(".jt-tab", has_text="Events").click()
            events = panel.locator(".jt-event")
            assert events.count() == 2
            assert "loss plateau" in events.first.inner_text()  # newest first
            assert "jt-alert" in (events.first.get_attribute("class") or "")
            panel.screenshot(path=str(ARTIFACTS / "panel-events.png"))
            panel.locator(".jt-tab", has_text="Metrics").click()
            table.scroll_into_view_if_needed()
            table.locator(".jt-chart-big svg").first.wait_for(timeout=10_000)
            page.wait_for_timeout(400)
            table.screenshot(path=str(ARTIFACTS / "compare.png"))

            # Saved, the kernel gone (restarted, or the notebook reopened another day), page reloaded: the
            # outputs need no kernel and no widget model.
            page.keyboard.press("Control+s")
            page.wait_for_timeout(1500)
            shutdown_kernels(url, token)
            page.reload()
            page.locator(".jt-panel[data-status='finished'] .jt-card svg").first.wait_for(timeout=60_000)
            page.locator(".jt-compare .jt-chart-big svg").first.wait_for(timeout=30_000)
            assert page.get_by_text("model not found").count() == 0
            page.screenshot(path=str(ARTIFACTS / "panel-reopened.png"))
            # No kernel now: a run whose series the output did not save says so.
            table = page.locator(".jp-TrackerOutput .jt-compare").first
            table.locator("tbody tr[data-run='1'] input[type=checkbox]").check()
            assert "not saved here" in chart_note(table, "not saved here")
            assert not errors, "\n".join(errors)
            check_the_saved_notebook(browser, tmp_path / "root" / "panel.ipynb", tmp_path)
            browser.close()
    finally:
        stop_lab(proc)


def check_the_saved_notebook(browser, saved: Path, tmp_path: Path) -> None:
    """The notebook as JupyterLab wrote it (widget state included): no output refers to a widget, and
    nbconvert's HTML shows both summaries with their charts, offline."""
    copy = tmp_path / "from-lab.ipynb"
    shutil.copy(saved, copy)
    nb = json.loads(copy.read_text())
    outputs = [out for cell in nb["cells"] for out in cell.get("outputs", []) if "data" in out]
    assert not [out for out in outputs if "application/vnd.jupyter.widget-view+json" in out["data"]]
    assert any("application/vnd.jupyter-tracker.run+json" in out["data"] for out in outputs)
    visit = OfflinePage(browser, nbconvert_html(copy))
    summaries = visit.summaries()
    assert len(summaries) == 2, summaries
    assert "live-demo" in summaries[0] and "finished" in summaries[0]
    assert "Comparison of 7 runs" in summaries[1]
    images = visit.images("[data-jupyter-tracker=fallback]")
    assert len(images) >= 3 + 2 and all(image["ok"] for image in images), images
    assert all(image["width"] >= image["natural"] * 10 / 11 for image in images), images  # text >= 10 px
    visit.shot("nbconvert-from-lab")
    visit.close()


FIRST = """\
%%track_run name=first --project bare --no-system
import time
for i in range(20):
    run.log(loss=1 / (i + 1))
    time.sleep(0.05)"""
SECOND = FIRST.replace("first", "second").replace("range(20)", "range(100)")


@pytest.mark.slow  # JupyterLab, a page, two run cells: ~30 s
@pytest.mark.timeout(300)
def test_without_the_extension_panels_get_vega_from_the_kernel(tmp_path):
    """A front end without our extension (as VS Code): the first panel asks the kernel for the Vega runtime,
    answered once its cell has ended (after the whole notebook under Run All, whose cells are queued ahead
    of the question); from the next cell run on, the charts are live. Saved outputs show their HTML summary."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    config = tmp_path / "jupyter" / "config" / "labconfig"
    config.mkdir(parents=True)
    (config / "page_config.json").write_text(json.dumps({"disabledExtensions": {"jupyter-tracker": True}}))
    url, token, proc = start_lab(tmp_path, {"TRACKER_DB": str(tmp_path / "t.db")})
    cells = ["%load_ext jupyter_tracker", FIRST, SECOND]
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
            for c in cells
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "root" / "bare.ipynb").write_text(json.dumps(nb))
    try:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 1200})
            page.goto(lab_url(url, token, "lab/tree/bare.ipynb"))
            page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for(timeout=60_000)
            page.locator(".jp-CodeCell").first.click()
            page.keyboard.press("Shift+Enter")  # %load_ext
            page.keyboard.press("Shift+Enter")  # the first run
            page.locator("[data-jupyter-tracker=fallback]", has_text="first").wait_for(timeout=60_000)
            page.keyboard.press("Shift+Enter")  # the second: its charts are live
            live = page.locator(".jt-panel[data-status='running']", has_text="second")
            live.wait_for(timeout=60_000)
            live.locator(".jt-card .jt-chart svg").first.wait_for(timeout=20_000)
            assert live.get_attribute("data-status") == "running", (
                "the second run ended before its chart showed"
            )
            page.locator("[data-jupyter-tracker=fallback]", has_text="second").wait_for(timeout=60_000)
            summaries = page.locator("[data-jupyter-tracker=fallback]")
            assert summaries.count() == 2 and page.locator(".jt-panel").count() == 0
            assert summaries.first.locator("img").count() == 1  # the loss chart
            page.screenshot(path=str(ARTIFACTS / "panel-without-extension.png"))
            browser.close()
    finally:
        stop_lab(proc)
