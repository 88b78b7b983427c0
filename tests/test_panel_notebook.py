"""The live panel and the comparison in a real IPython kernel (nbclient): what a saved notebook carries.

nbclient saves the state of every widget it saw. Finished panels therefore leave no widget in any output
(nbconvert would draw the widget, from a CDN, in place of everything else) and almost nothing in that state;
the Vega runtime is never in it.
"""

from __future__ import annotations

import json

import pytest
from notebooks import execute, make_notebook, outputs_text

from jupyter_tracker.notebook.widgets.saved import COMPARE_MIME, RUN_MIME

pytestmark = pytest.mark.kernel

WIDGET = "application/vnd.jupyter.widget-view+json"

RUN_CELL = """\
import math, time
import jupyter_tracker
from jupyter_tracker.notebook.display import show_run
run = jupyter_tracker.start_run(name="nb-run", project="nb", params={"lr": 0.1, "layers": [8, 4]},
                                tags="demo", system=False)
live = show_run(run)
for i in range(300):
    run.log(loss=math.exp(-i / 50), acc=i / 300)
    if i == 150:
        run.log_event("loss plateau", "warning", alert="plateau")
    if i % 100 == 0:
        time.sleep(0.3)
print("user output stays")
run.finish()
live.finish()
"""


def data_outputs(cell):
    return [out for out in cell.outputs if "data" in out]


def widget_state(nb) -> dict:
    return (
        nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    )


def test_a_run_cell_ends_as_its_saved_form_and_leaves_no_widget_behind(tmp_path):
    nb = execute(
        make_notebook(RUN_CELL, "jupyter_tracker.compare(project='nb')"),
        tmp_path,
        db=tmp_path / "t.db",
    )
    run_cell, compare_cell = nb.cells

    (panel,) = data_outputs(run_cell)
    data = panel.data
    assert set(data) == {RUN_MIME, "text/html", "text/plain"}  # the live widget's view was replaced
    saved = data[RUN_MIME]
    assert saved["info"]["status"] == "finished"
    assert json.loads(saved["summary"])["loss"]["count"] == 300
    assert [s["key"] for s in saved["series"]] == ["loss", "acc"]
    assert json.loads(saved["params"]) == {"lr": 0.1, "layers": [8, 4]}
    assert [e[2] for e in json.loads(saved["events"])] == ["loss plateau"]
    html = data["text/html"]
    assert "nb-run" in html and "finished" in html and html.count("data:image/svg+xml,") == 2
    assert "loss plateau" in html  # the alert is in the summary too
    assert 'data-jupyter-tracker="fallback"' in html
    assert "nb-run" in data["text/plain"] and "finished" in data["text/plain"]
    # The user's print is a stream output of its own, never mixed into the panel.
    streams = [out.text for out in run_cell.outputs if out.output_type == "stream"]
    assert streams == ["user output stays\n"]

    (comparison,) = data_outputs(compare_cell) or [None]
    assert comparison is not None, outputs_text(compare_cell)
    assert set(comparison.data) == {COMPARE_MIME, "text/html", "text/plain"}
    assert "nb-run" in comparison.data["text/html"]

    # nbclient kept the (emptied) state of the closed panel: no output points at it, and it is small.
    assert not any(WIDGET in out.data for cell in nb.cells for out in data_outputs(cell))
    state = json.dumps(widget_state(nb))
    assert len(state) < 5_000, len(state)


def test_magic_panel_and_no_panel(tmp_path):
    cells = [
        "%load_ext jupyter_tracker",
        "%%track_run name=magic lr=0.5 --no-system\nfor i in range(20):\n    run.log(loss=1 / (i + 1))",
        "%%track_run name=quiet --no-panel --no-system\nrun.log(loss=1.0)",
        "%%track_run name=boom --no-system\nrun.log(loss=1.0)\nraise ValueError('diverged')",
    ]
    nb = execute(make_notebook(*cells), tmp_path, db=tmp_path / "t.db", allow_errors=True)
    (panel,) = data_outputs(nb.cells[1])
    assert "magic" in panel.data["text/html"]
    assert not data_outputs(nb.cells[2])
    (failed,) = data_outputs(nb.cells[3])
    assert "failed" in failed.data["text/plain"] and "diverged" in failed.data["text/html"]
    assert failed.data[RUN_MIME]["info"]["status"] == "failed"
    assert any(out.output_type == "error" for out in nb.cells[3].outputs)

    # The Vega libraries (~0.9 MB) are never saved: no browser asked for them. Each finished panel's
    # state was emptied before it closed.
    states = [model["state"] for model in widget_state(nb).values()]
    assert not [s for s in states if len(s.get("_esm", "")) > 1_000], [len(s.get("_esm", "")) for s in states]
    assert len(json.dumps(states)) < 5_000


def test_terminal_ipython_prints_a_text_summary(tmp_path):
    """Outside a kernel (no comms) there is no widget: finish() prints a short summary."""
    import subprocess
    import sys

    script = (
        "from IPython.testing.globalipapp import start_ipython\n"
        "ip = start_ipython()\n"
        "import jupyter_tracker\n"
        "from jupyter_tracker.notebook.display import show_run\n"
        f"run = jupyter_tracker.start_run(name='term', project='t', db={str(tmp_path / 't.db')!r}, system=False)\n"
        "live = show_run(run)\n"
        "run.log(loss=0.25)\nrun.log(loss=0.5)\n"
        "run.finish(); live.finish()\n"
        "ip.run_line_magic('load_ext', 'tracker')\n"
        f"ip.run_line_magic('track_config', 'db={tmp_path / 't.db'}')\n"
        "ip.run_line_magic('track_runs', '')\n"
        "print(ip.run_line_magic('track_compare', '').__class__.__name__)\n"
        "print(jupyter_tracker.compare()._repr_mimebundle_()['text/plain'])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "term" in out.stdout and "finished" in out.stdout
    assert "loss" in out.stdout and "0.5" in out.stdout
    assert "widget" not in out.stdout.lower()
    lines = out.stdout.splitlines()
    # %track_runs prints an aligned table instead of a DataFrame with its middle columns cut
    header = next(line for line in lines if line.startswith("id  project"))
    assert header.split() == ["id", "project", "name", "status", "started", "duration", "tags", "loss"]
    assert "Comparison of 1 run (last value of each metric)" in lines
