"""Executed notebooks wherever they go: nbconvert's HTML (lab and classic templates, light and dark), opened
in Chromium with the network cut, shows every run's summary with its charts and the comparison; and what
the notebooks weigh.

Both notebooks are executed by nbclient, which saves widget state (as `jupyter nbconvert --execute`,
papermill and binder/quickstart.sh do): the case that used to convert to blank panels. The one saved from
JupyterLab is checked in test_panel_browser.py. Screenshots: tests/artifacts/nbconvert-*.png (whole pages,
and one summary and the comparison alone, in light and dark).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from notebooks import execute, make_notebook
from offline_html import OfflinePage, nbconvert_html

from jupyter_tracker.notebook.widgets.saved import COMPARE_MIME, RUN_MIME

pytestmark = pytest.mark.kernel
REPO = Path(__file__).resolve().parents[1]
KB = 1000

# A typical tracked cell: 3 metrics x 300 steps, the hardware sampler on (every 0.5 s).
TYPICAL = """\
%%track_run name={name} lr={lr} --project sizes --interval 0.5
import math, random, time
for step in range(300):
    run.log(loss=math.exp(-step / 60) * {lr} * 10 + random.random() * 0.02,
            acc=1 - math.exp(-step / 80), val_loss=math.exp(-step / 70) + 0.05)
    time.sleep(0.01)
"""


def saved_size(cell) -> int:
    """The bytes a cell's outputs take in the notebook file (nbformat's layout: indented JSON)."""
    return len(json.dumps(cell.outputs, indent=1, ensure_ascii=False).encode())


@pytest.mark.slow  # two tracked cells in a kernel, then nbconvert: ~25 s
def test_typical_cells_stay_small(tmp_path):
    nb = make_notebook(
        "%load_ext tracker",
        TYPICAL.format(name="first", lr=0.1),
        TYPICAL.format(name="second", lr=0.3),
        "%track_compare --project sizes",
    )
    execute(nb, tmp_path, db=tmp_path / "t.db", timeout=300)
    path = tmp_path / "sizes.ipynb"
    nbformat.write(nb, path)
    cells = [saved_size(cell) for cell in nb.cells]
    figures = f"cells {cells}, file {path.stat().st_size} bytes"
    assert cells[1] <= 60 * KB and cells[2] <= 60 * KB, figures  # a typical tracked cell
    assert path.stat().st_size <= 300 * KB, figures  # two runs plus a comparison
    print(figures)


@pytest.mark.slow  # the quickstart in a kernel (~30 s), three conversions, three pages
@pytest.mark.browser
@pytest.mark.timeout(600)
def test_the_executed_quickstart_renders_offline_in_nbconvert_html(tmp_path, browser):
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(REPO / "binder" / "run_quickstart.py"), str(out)],
        capture_output=True,
        text=True,
        timeout=500,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    notebook = out / "quickstart.ipynb"
    assert notebook.stat().st_size <= 300 * KB, notebook.stat().st_size
    nb = json.loads(notebook.read_text())
    kinds = [set(out["data"]) for cell in nb["cells"] for out in cell.get("outputs", []) if "data" in out]
    assert sum(RUN_MIME in k for k in kinds) == 2 and sum(COMPARE_MIME in k for k in kinds) == 1
    assert nb["metadata"].get("widgets"), "nbclient saved widget state: the case to get right"

    lab = nbconvert_html(notebook)
    check_offline(browser, lab, "nbconvert-lab")
    check_offline(browser, nbconvert_html(notebook, "--template", "classic"), "nbconvert-classic")
    check_offline(browser, nbconvert_html(notebook, "--theme", "dark"), "nbconvert-dark", dark=True)
    check_narrow(browser, lab)


def check_offline(browser, html: Path, name: str, dark: bool = False) -> None:
    visit = OfflinePage(browser, html, dark=dark)
    summaries = visit.summaries()
    assert len(summaries) == 3, summaries  # two runs and the comparison
    assert "baseline" in summaries[0] and "wider" in summaries[1] and "finished" in summaries[0]
    assert "Comparison of 2 runs" in summaries[2]
    charts = visit.images("[data-jupyter-tracker=fallback]")
    assert len(charts) >= 4 + 4 + 4, charts  # each run's 4 metrics (and hardware), 4 overlays
    assert all(chart["ok"] and chart["width"] > 100 for chart in charts), charts
    # Drawn at their own size: 11 px text stays at least 10 px.
    assert all(chart["width"] >= chart["natural"] * 10 / 11 for chart in charts), charts
    # Nothing wider than the page: wide tables scroll inside their box.
    assert visit.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    visit.shot(name)
    if name != "nbconvert-classic":
        visit.shot_summary(f"{name}-summary")
        visit.shot_summary(f"{name}-comparison", 2)
    visit.close()


def check_narrow(browser, html: Path) -> None:
    """On a phone-wide page the summaries fit: charts shrink to the width, wide tables scroll in their box."""
    visit = OfflinePage(browser, html, width=420)
    assert visit.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    boxes = visit.page.eval_on_selector_all(
        "[data-jupyter-tracker=fallback]",
        "els => els.map(e => [e.getBoundingClientRect().right, Math.max(...[...e.querySelectorAll('img')]"
        ".map(i => i.getBoundingClientRect().right))])",
    )
    assert all(images <= box for box, images in boxes), boxes
    visit.shot("nbconvert-narrow")
    visit.close()
