"""The live panel and the comparison in Notebook 7 (its own front end, not JupyterLab's), in Chromium.

Screenshots: tests/artifacts/notebook7-panel.png, notebook7-reopened.png (git-ignored).
"""

from __future__ import annotations

import json
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


def _ours(exc) -> bool:
    # Notebook 7.6's own settings loader throws "reading 'schema'" on every page, with no extension
    # involved (its stack is all notebook_core); anything else is an error of ours.
    return not ("'schema'" in str(exc) and "static/notebook/notebook_core" in (exc.stack or ""))


CELLS = [
    "%load_ext tracker",
    """\
%%track_run name=nb7 lr=0.1 --project nb7 --tags notebook7 --interval 0.5
import math, time
for i in range(80):
    run.log(loss=math.exp(-i / 20), acc=1 - math.exp(-i / 25))
    time.sleep(0.04)
print("loop done")""",
    "%track_compare --project nb7",
]


def _wait_for_the_kernel(page, seconds: float = 60) -> None:
    """Until the notebook's kernel reads idle. Notebook 7 now and then asks which kernel to start although
    the notebook names one: choose it. (Run All before the kernel is connected is lost.)"""
    deadline = time.monotonic() + seconds
    idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    while time.monotonic() < deadline:
        choose = page.locator(".jp-Dialog button", has_text="Select")
        if choose.count():
            choose.first.click()
        elif idle.count() and "No Kernel" not in page.locator(".jp-KernelName").inner_text():
            return
        page.wait_for_timeout(250)
    raise TimeoutError("the notebook's kernel did not start")


@pytest.mark.slow  # a Notebook 7 server, a page and Run All: ~25 s
def test_panel_and_comparison_in_notebook_7(tmp_path):
    require_chromium()
    pytest.importorskip("notebook", minversion="7", reason="Notebook 7 is not installed")
    from playwright.sync_api import sync_playwright

    db = tmp_path / "tracker.db"
    with jupyter_tracker.start_run(
        name="earlier", project="nb7", params={"lr": 0.5}, db=db, system=False
    ) as run:
        for i in range(80):
            run.log(loss=1 / (i + 1), acc=i / 80)
    root = tmp_path / "root"
    root.mkdir()
    cells = [
        {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
        for c in CELLS
    ]
    (root / "nb7.ipynb").write_text(
        json.dumps(
            {
                "cells": cells,
                "metadata": {
                    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
                },
                "nbformat": 4,
                "nbformat_minor": 5,
            }
        )
    )
    env = {"TRACKER_DB": str(db)}
    if (BUILT / "package.json").exists():
        # Notebook 7 reads no LabApp settings (start_lab's extra_labextensions_path): this checkout's
        # labextension goes first on its path instead, ahead of the installed copy.
        linked = tmp_path / "jupyter-path" / "labextensions" / "jupyter-tracker"
        linked.parent.mkdir(parents=True)
        linked.symlink_to(BUILT.resolve(), target_is_directory=True)
        env["JUPYTER_PATH"] = str(linked.parent.parent)
    url, token, proc = start_lab(tmp_path, env)
    try:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            errors = []
            page.on("pageerror", lambda exc: _ours(exc) and errors.append(f"{exc}\n{exc.stack}"))
            page.goto(lab_url(url, token, "notebooks/nb7.ipynb"))
            page.locator(".jp-Notebook .jp-CodeCell").first.wait_for(timeout=60_000)
            _wait_for_the_kernel(page)
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
            page.get_by_text("Run All Cells", exact=True).click()

            panel = page.locator(".jt-panel").first
            panel.wait_for(timeout=60_000)
            assert panel.get_attribute("data-status") == "running"
            page.locator(".jt-panel[data-status='finished']").wait_for(timeout=60_000)
            panel.locator(".jt-card svg").first.wait_for(timeout=10_000)
            assert "took" in panel.locator(".jt-elapsed").inner_text().lower()
            assert panel.locator(".jt-summary tbody tr").count() == 2  # loss and acc
            assert "loop done" in page.locator(".jp-CodeCell").nth(1).inner_text()

            table = page.locator(".jt-compare").first
            table.wait_for(timeout=30_000)
            names = [n.strip() for n in table.locator("tbody tr td:nth-child(2)").all_inner_texts()]
            assert names == ["nb7", "earlier"]
            table.locator(".jt-chart-big svg").first.wait_for(timeout=20_000)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "notebook7-panel.png"), full_page=True)

            # Saved, kernel gone, page reloaded: our extension draws the saved outputs, no kernel needed.
            page.keyboard.press("Control+s")
            page.wait_for_timeout(1500)
            shutdown_kernels(url, token)
            page.reload()
            saved = page.locator(".jp-TrackerOutput")
            saved.nth(1).locator(".jt-chart-big svg").wait_for(timeout=60_000)
            saved.first.locator(".jt-panel[data-status='finished'] .jt-card svg").first.wait_for(
                timeout=30_000
            )
            assert "nb7" in saved.first.inner_text() and "Run comparison" in saved.nth(1).inner_text()
            assert page.get_by_text("model not found").count() == 0
            page.screenshot(path=str(ARTIFACTS / "notebook7-reopened.png"), full_page=True)
            assert not errors, "\n".join(errors)
            browser.close()
    finally:
        stop_lab(proc)
