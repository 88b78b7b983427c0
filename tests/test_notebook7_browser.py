"""The live panel and the comparison widget in Notebook 7 (its own front end, not JupyterLab's), in Chromium.

Screenshot: tests/artifacts/notebook7-panel.png (git-ignored).
"""

from __future__ import annotations

import json
import re

import pytest
from jupyterlab_harness import ARTIFACTS, lab_url, launch_chromium, require_chromium, start_lab, stop_lab

import jupyter_tracker

pytestmark = pytest.mark.browser


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
    url, token, proc = start_lab(tmp_path, {"TRACKER_DB": str(db)})
    try:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            errors = []
            page.on("pageerror", lambda exc: _ours(exc) and errors.append(f"{exc}\n{exc.stack}"))
            page.goto(lab_url(url, token, "notebooks/nb7.ipynb"))
            page.locator(".jp-Notebook .jp-CodeCell").first.wait_for(timeout=60_000)
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
            assert not errors, "\n".join(errors)
            browser.close()
    finally:
        stop_lab(proc)
