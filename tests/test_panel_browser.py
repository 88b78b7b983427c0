"""The live panel and the comparison widget in a real JupyterLab, driven by headless Chromium.

Screenshots go to tests/artifacts/ (git-ignored): panel-running.png, panel-finished.png, panel-system.png,
panel-events.png, compare.png. Set TRACKER_TEST_THEME="JupyterLab Dark" to take them in the dark theme.
"""

from __future__ import annotations

import json
import os
import re
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

import jupyter_tracker

pytestmark = pytest.mark.browser
BUILT = Path(__file__).parent.parent / "jupyter_tracker" / "labextension"  # this checkout's labextension

RUN_CELL = """\
%%track_run name=live-demo lr=0.01 layers=[64,32] optimizer='adam' --project browser --tags ui,demo --interval 0.5
import math, random, time
for i in range(120):
    run.log(loss=math.exp(-i / 40) + random.random() * 0.03, acc=1 - math.exp(-i / 30), lr=0.01 * 0.98 ** i)
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
    for name, lr, opt in [("baseline", 0.1, "adam"), ("sgd-try", 0.01, "sgd")]:
        with jupyter_tracker.start_run(
            name=name, project="browser", params={"lr": lr, "layers": [64, 32], "optimizer": opt}, db=db,
            system=False,
        ) as run:  # fmt: skip
            for i in range(120):
                run.log(loss=2.0 ** (-i * lr * 2) + 0.05, acc=1 - 2.0 ** (-i * lr))


def first_line_path(page) -> str:
    return page.locator(
        ".jt-panel .jt-card .jt-chart svg path[aria-roledescription='line mark']"
    ).first.get_attribute("d") or page.locator(".jt-panel .jt-card .jt-chart svg path").first.get_attribute(
        "d"
    )


@pytest.mark.slow  # JupyterLab, a page and Run All: 20-35 s
def test_live_panel_and_comparison_in_jupyterlab(tmp_path):
    require_chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    db = tmp_path / "tracker.db"
    earlier_runs(db)
    built = [BUILT] if (BUILT / "package.json").exists() else []
    url, token, proc = start_lab(tmp_path, {"TRACKER_DB": str(db)}, labextensions=built)
    theme = os.environ.get("TRACKER_TEST_THEME")
    if theme:
        settings = tmp_path / "jupyter" / "lab-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "themes.jupyterlab-settings").write_text(json.dumps({"theme": theme}))
    notebook(tmp_path / "root" / "panel.ipynb")
    try:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            errors = []
            page.on("pageerror", lambda exc: errors.append(f"{exc}\n{exc.stack}"))
            page.goto(lab_url(url, token, "lab/tree/panel.ipynb"))
            page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for(timeout=60_000)
            page.locator(".jp-Notebook").first.click()
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
            page.get_by_text("Run All Cells", exact=True).click()

            panel = page.locator(".jt-panel").first
            panel.wait_for(timeout=60_000)
            assert panel.get_attribute("data-status") == "running"
            assert "elapsed" in panel.locator(".jt-elapsed").inner_text().lower()
            page.locator(".jt-panel .jt-card svg").first.wait_for(timeout=20_000)
            before = first_line_path(page)
            page.wait_for_timeout(1200)
            after = first_line_path(page)
            assert panel.get_attribute("data-status") == "running", (
                "the run ended before the chart was sampled"
            )
            assert before != after, "the chart did not change while the run was logging"
            page.screenshot(path=str(ARTIFACTS / "panel-running.png"))

            page.locator(".jt-panel[data-status='finished']").wait_for(timeout=30_000)
            # finish() updates the output (widget + static fallback): Lab draws the panel again, once.
            page.wait_for_timeout(1500)
            page.locator(".jt-panel[data-status='finished'] .jt-card svg").first.wait_for(timeout=10_000)
            assert "took" in panel.locator(".jt-elapsed").inner_text().lower()
            assert panel.locator(".jt-pane:not([hidden]) .jt-card").count() == 3
            assert panel.locator(".jt-summary tbody tr").count() == 3
            assert "1 alert" in panel.locator(".jt-alert-bar").inner_text()
            panel.screenshot(path=str(ARTIFACTS / "panel-finished.png"))
            # The user's print is its own output, under the panel.
            run_cell = page.locator(".jp-CodeCell").nth(1)
            assert "training done" in run_cell.locator(".jp-OutputArea-output").last.inner_text()

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

            table = page.locator(".jt-compare").first
            table.wait_for(timeout=30_000)
            names = table.locator("tbody tr td:nth-child(2)").all_inner_texts()
            assert [n.strip() for n in names] == ["live-demo", "sgd-try", "baseline"]
            assert table.locator("thead th.jt-diff").count() >= 2  # lr and optimizer differ
            table.locator(".jt-chart-big svg").first.wait_for(timeout=20_000)
            deadline = time.monotonic() + 15
            while "loading" in table.locator(".jt-chart-head").inner_text() and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            table.locator("thead th", has_text="name").first.click()  # sort by name
            names = [n.strip() for n in table.locator("tbody tr td:nth-child(2)").all_inner_texts()]
            assert names == sorted(names)
            table.locator(".jt-input").fill("sgd")
            assert table.locator("tbody tr").count() == 1
            table.locator(".jt-input").fill("")
            page.wait_for_timeout(600)
            table.scroll_into_view_if_needed()
            table.screenshot(path=str(ARTIFACTS / "compare.png"))

            # Saved and reloaded: the views come back from the kernel's models, the Vega runtime included.
            page.keyboard.press("Control+s")
            page.wait_for_timeout(1500)
            page.reload()
            page.locator(".jt-panel[data-status='finished'] .jt-card svg").first.wait_for(timeout=60_000)
            page.locator(".jt-compare .jt-chart-big svg").first.wait_for(timeout=30_000)

            # The kernel gone (restarted, or the notebook reopened another day): where ipywidgets would say
            # "model not found", the extension shows the summary saved with each output.
            shutdown_kernels(url, token)
            page.reload()
            saved = page.locator(".jt-saved")
            saved.nth(1).wait_for(timeout=60_000)
            assert "live-demo" in saved.first.inner_text() and "finished" in saved.first.inner_text()
            assert "Comparison of 3 runs" in saved.nth(1).inner_text()
            assert saved.first.locator("img").count() >= 1  # the charts, as images
            assert page.get_by_text("model not found").count() == 0
            page.screenshot(path=str(ARTIFACTS / "panel-reopened.png"))
            assert not errors, "\n".join(errors)
            browser.close()
    finally:
        stop_lab(proc)
