"""Live panels over a long session, and at a cell's end, in a real IPython kernel (nbclient).

ipykernel 7 gives each thread that sends output (print, display, a comm message) a pipe of its own: one
open descriptor per thread. A panel thread per cell therefore piled up descriptors; panels now share one
long-lived pusher thread.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time

import pytest
from notebooks import execute, make_notebook, outputs_text

pytestmark = pytest.mark.kernel

WIDGET = "application/vnd.jupyter.widget-view+json"
N_CELLS = 1000
BASELINE_AFTER = 10
FD_SLACK = 4
THREAD_SLACK = 1

# ipykernel 7.4 closes the pipe of a dead thread at a sweep it runs every 10 s, so how many a per-cell
# thread leaves open depends on how fast the cells run. The sweep is parked (after its next run) so that
# any thread per cell that ever sends shows up as growth, however fast or slow this machine is.
SETUP = """\
%load_ext tracker
%track_config system=False
iopub = get_ipython().kernel.iopub_thread
if hasattr(iopub, "_event_pipe_gc_seconds"):
    iopub._event_pipe_gc_seconds = 3600
"""
CELL = "%%track_run --no-system\nrun.log(x=1)"
PROBE = """\
import json, os, threading
print("COUNTS", json.dumps({
    "fds": len(os.listdir("/proc/self/fd")),
    "threads": threading.active_count(),
    "pushers": [t.name for t in threading.enumerate()].count("jupyter-tracker-panels"),
}))
"""


def _counts(cell) -> dict:
    text = outputs_text(cell)
    assert text.startswith("COUNTS "), text
    return json.loads(text.split(" ", 1)[1])


@pytest.mark.slow  # 1,000 panel cells: ~45 s on 2 cores (each draws its saved summary, ~25 ms)
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc/self/fd")
def test_a_thousand_panel_cells_leave_threads_and_descriptors_where_they_were(tmp_path):
    cells = [SETUP, *[CELL] * BASELINE_AFTER, PROBE, *[CELL] * (N_CELLS - BASELINE_AFTER), PROBE]
    started = time.monotonic()
    nb = execute(make_notebook(*cells), tmp_path, db=tmp_path / "t.db", store_widget_state=False, timeout=60)
    seconds = time.monotonic() - started
    early, late = _counts(nb.cells[BASELINE_AFTER + 1]), _counts(nb.cells[-1])
    figures = f"after {BASELINE_AFTER} cells {early}, after {N_CELLS} {late}, {seconds:.0f} s"
    assert late["fds"] <= early["fds"] + FD_SLACK, figures
    assert late["threads"] <= early["threads"] + THREAD_SLACK, figures
    assert early["pushers"] == late["pushers"] == 1, figures  # one pusher for every panel, never restarted

    run_cells = [cell for cell in nb.cells if cell.source == CELL]
    assert len(run_cells) == N_CELLS
    for cell in run_cells:  # every panel was replaced by its saved form, with the final state
        (panel,) = [out for out in cell.outputs if "data" in out]
        assert WIDGET not in panel.data and "finished" in panel.data["text/plain"], panel.data["text/plain"]
    (finished,) = sqlite3.connect(tmp_path / "t.db").execute(
        "SELECT count(*) FROM runs WHERE status = 'finished'"
    )
    assert finished == (N_CELLS,)


# Kernel > Interrupt just after a cell's body ends, while run.finish() waits for the writer: another
# connection holds the database's write lock so the last point cannot be written, a thread sends SIGINT
# once the cell is ending, then lets the database go so the status can be stored.
INTERRUPTED_WHILE_ENDING = """\
%%track_run name=cut --no-system
import os, signal, sqlite3, threading, time
run.log(loss=1.0)
run.flush()
blocker = sqlite3.connect(os.environ["TRACKER_DB"], isolation_level=None, check_same_thread=False)
blocker.execute("BEGIN IMMEDIATE")
run.log(loss=2.0)

def interrupt_the_end():
    time.sleep(0.5)  # the body has ended: run.finish() waits for the writer, which waits for the lock
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.5)
    blocker.execute("ROLLBACK")

threading.Thread(target=interrupt_the_end).start()
"""


def test_an_interrupt_while_the_cell_ends_leaves_the_panel_with_the_stored_status(tmp_path):
    db = tmp_path / "t.db"
    nb = execute(
        make_notebook("%load_ext tracker", INTERRUPTED_WHILE_ENDING, "print('next cell runs')"),
        tmp_path,
        db=db,
        allow_errors=True,
        timeout=90,
    )
    cell = nb.cells[1]
    assert [out.ename for out in cell.outputs if out.output_type == "error"] == ["KeyboardInterrupt"]
    ((stored,),) = sqlite3.connect(db).execute("SELECT status FROM runs WHERE name = 'cut'")
    assert stored == "interrupted"
    (panel,) = [out for out in cell.outputs if "data" in out]
    assert "interrupted" in panel.data["text/plain"] and "interrupted" in panel.data["text/html"]
    # What JupyterLab draws again, not `running`.
    assert panel.data["application/vnd.jupyter-tracker.run+json"]["info"]["status"] == "interrupted"
    assert "next cell runs" in outputs_text(nb.cells[2])
