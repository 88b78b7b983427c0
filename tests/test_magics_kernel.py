"""%%track_run and friends in a real IPython kernel, executed with nbclient."""

import re
import sqlite3

import pytest
from notebooks import CellExecutionError, execute, make_notebook, outputs_text

import jupyter_tracker as jt

pytestmark = pytest.mark.kernel

LOAD = "%load_ext tracker"


def _rows(db, sql):
    return sqlite3.connect(db).execute(sql).fetchall()


def test_success_params_bound_and_value_shown(db, tmp_path):
    nb = execute(
        make_notebook(
            LOAD,
            '%%track_run name=baseline lr=0.01 layers=[64, 32] label="a b" --project mnist --tags cnn,first '
            '--description "first try" --no-panel --no-system\n'
            "for epoch in range(3):\n"
            "    run.log(loss=lr * (3 - epoch), acc=epoch / 3)\n"
            "import tracker\n"
            "tracker.log(extra=1)\n"
            "print(layers, label)\n"
            "lr * 2",
            "print(run.status, lr)",
        ),
        tmp_path,
        db=db,
    )
    assert "[64, 32] a b" in outputs_text(nb.cells[1])
    assert "0.02" in outputs_text(nb.cells[1])  # the last expression's value is shown
    assert "finished 0.01" in outputs_text(nb.cells[2])  # params and run stay bound after the cell
    record = jt.load_run("baseline", project="mnist")
    info = record.info
    assert info.status == "finished" and info.tags == ("cnn", "first") and info.description == "first try"
    assert record.params == {"lr": 0.01, "layers": [64, 32], "label": "a b"}
    assert "run.log(loss=" in info.cell_source and info.execution_count == 2
    summary = record.summary()
    assert summary.loc["loss", "count"] == 3 and summary.loc["extra", "last"] == 1


def test_failure_is_stored_shown_once_and_stops_run_all(db, tmp_path):
    nb = make_notebook(
        LOAD,
        "%%track_run name=broken --no-panel --no-system\nrun.log(loss=1.0)\nraise ValueError('bad data')",
        "print('after')",
    )
    with pytest.raises(CellExecutionError, match="bad data"):
        execute(nb, tmp_path, db=db)
    error = [o for o in nb.cells[1].outputs if o.output_type == "error"]
    assert len(error) == 1 and error[0].ename == "ValueError"
    shown = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error[0].traceback))
    assert shown.count("ValueError: bad data") == 1 and "magics.py" not in shown
    assert "raise ValueError('bad data')" in shown  # the user's own line is shown
    assert nb.cells[2].get("outputs") == []  # Run All stopped
    info = jt.load_run("broken").info
    assert info.status == "failed" and "ValueError: bad data" in info.error
    assert jt.load_run("broken").summary().loc["loss", "count"] == 1


def test_keyboard_interrupt_marks_the_run_interrupted(db, tmp_path):
    nb = make_notebook(
        LOAD,
        "%%track_run name=stopped --no-panel --no-system\n"
        "import os, signal, time\n"
        "run.log(loss=1.0)\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "time.sleep(5)",
    )
    execute(nb, tmp_path, db=db, allow_errors=True)
    assert [o.ename for o in nb.cells[1].outputs if o.output_type == "error"] == ["KeyboardInterrupt"]
    assert jt.load_run("stopped").status == "interrupted"
    assert jt.load_run("stopped").summary().loc["loss", "count"] == 1


def test_resume_spans_cells(db, tmp_path):
    execute(
        make_notebook(
            LOAD,
            "%%track_run name=long --no-panel --no-system\nfor i in range(3): run.log(loss=1 / (i + 1))",
            "%%track_run --resume long --no-panel --no-system\nfor i in range(2): run.log(loss=0.1)",
        ),
        tmp_path,
        db=db,
    )
    frame = jt.load_run("long").metrics()
    assert frame.step.tolist() == [0, 1, 2, 3, 4]
    assert len(jt.runs()) == 1


@pytest.mark.parametrize(
    ("line", "body", "message"),
    [
        ("--bogus", "print('ran')", "unknown option --bogus"),
        ("lr=1 lr=2", "print('ran')", "lr= is given twice"),
        ("name='open", "print('ran')", "unbalanced quote"),
        ("project=x", "print('ran')", "looks like the --project option"),
        ("", "   \n", "the cell is empty"),
        ("--resume nothing-here", "print('ran')", "no run named 'nothing-here'"),
        ("lr=", "print('ran')", "lr= has no value"),
        ("name=my run", "print('ran')", 'quotes: name="my run"'),
        ("--project ''", "print('ran')", "--project needs a name"),
    ],
)
def test_bad_arguments_are_usage_errors_and_create_no_run(db, tmp_path, line, body, message):
    nb = make_notebook(LOAD, f"%%track_run {line} --no-panel\n{body}")
    with pytest.raises(CellExecutionError):  # the cell counts as failed: Run All stops here
        execute(nb, tmp_path, db=db)
    shown = outputs_text(nb.cells[1])
    assert shown.startswith("UsageError: ") and message in shown and shown.count("\n") == 1
    assert "ran" not in shown
    assert not db.exists() or _rows(db, "SELECT count(*) FROM runs") == [(0,)]


def test_help_and_params_named_like_builtins(db, tmp_path):
    nb = execute(
        make_notebook(
            LOAD,
            "%%track_run --help\nprint('ran')",
            "%track_compare -h",
            "%%track_run type='cnn' len=3 lr=0.1 --no-panel --no-system\nprint('in the cell', type, len, lr)",
            "print('after', len('ab'), type(1).__name__, lr)",
            "%%track_run max=5 --no-panel --no-system\nmax = 5",
            "print('kept', max)",
        ),
        tmp_path,
        db=db,
    )
    assert "--no-panel" in outputs_text(nb.cells[1]) and "ran" not in outputs_text(nb.cells[1])
    assert "--metric" in outputs_text(nb.cells[2])
    assert "in the cell cnn 3 0.1" in outputs_text(nb.cells[3])
    assert "after 2 int 0.1" in outputs_text(nb.cells[4])  # built-ins are back; other params stay
    assert "kept 5" in outputs_text(nb.cells[6])  # the cell's own assignment is the user's
    assert jt.load_run(jt.runs().name[1]).params == {"type": "cnn", "len": 3, "lr": 0.1}


def test_load_twice_unload_and_no_leaked_threads(db, tmp_path):
    nb = execute(
        make_notebook(
            "import threading\nbefore = threading.active_count()",
            "%load_ext tracker\n%load_ext jupyter_tracker\n%reload_ext tracker",
            "%%track_run --no-panel\nrun.log(a=1)",
            "%%track_run --no-panel --interval 0.1\nimport time; time.sleep(0.3); run.log(a=1)",
            "print('threads', threading.active_count() - before)",
            "%unload_ext tracker\nprint('cell' in str(get_ipython().find_cell_magic('track_run')))",
            "%%track_run\nprint('should not run')",
        ),
        tmp_path,
        db=db,
        allow_errors=True,
    )
    assert "threads 0" in outputs_text(nb.cells[4])
    assert "False" in outputs_text(nb.cells[5])
    assert "UsageError" in outputs_text(nb.cells[6]) or "not found" in outputs_text(nb.cells[6])
    assert len(jt.runs()) == 2


def test_track_runs_and_track_config(db, tmp_path):
    other = tmp_path / "other.db"
    nb = execute(
        make_notebook(
            LOAD,
            f"%track_config db={other}",
            "%%track_run name=elsewhere --no-panel --no-system\nrun.log(a=1)",
            "%track_runs --limit 5",
            "%track_runs --status nonsense-status",
            "%track_compare --project default --folder / --last 5",
            "%track_config interval=0.01",
            f"%%track_run name=here --db {tmp_path / 'third.db'} --no-panel --no-system\nrun.log(a=2)",
        ),
        tmp_path,
        db=db,
        allow_errors=True,
    )
    assert "elsewhere" in outputs_text(nb.cells[3])
    assert "invalid choice: 'nonsense-status'" in outputs_text(nb.cells[4])
    compared = outputs_text(nb.cells[5]).splitlines()
    assert compared[0] == "Comparison of 1 run (last value of each metric)"
    assert compared[1].split() == ["name", "status", "duration", "a"]
    assert compared[2].split()[:2] == ["elsewhere", "finished"] and compared[2].split()[-1] == "1"
    assert "at least 0.1" in outputs_text(nb.cells[6])
    assert jt.load_run("here", db=tmp_path / "third.db").status == "finished"  # --db wins for this run
    assert jt.load_run("elsewhere", db=other).status == "finished"
    assert not db.exists()


def test_track_runs_is_the_terminal_table_as_html_and_compare_shows_where_it_stands(db, tmp_path):
    nb = execute(
        make_notebook(
            LOAD,
            "%%track_run name=first lr=0.1 --tags cnn --no-panel --no-system\nrun.log(loss=0.5)",
            "%track_runs --project nothing-yet",
            "%%track_run name=second lr=0.2 --no-panel --no-system\nrun.log(loss=0.25)",
            "%track_runs",
            "%track_compare\nprint('after the comparison')",
        ),
        tmp_path,
        db=db,
    )
    assert outputs_text(nb.cells[2]).strip() == f"no runs in {db}"
    (table,) = [o for o in nb.cells[4].outputs if o.output_type == "display_data"]
    html, text = table.data["text/html"], table.data["text/plain"]
    from jupyter_tracker.textfmt import runs_table

    assert text == "\n".join(runs_table(jt.runs()))  # exactly what `jupyter-tracker ls` prints
    assert text.splitlines()[0].split() == [
        "id",
        "project",
        "name",
        "status",
        "started",
        "duration",
        "tags",
        "loss",
    ]
    assert (
        html.count("<tr>") == 3 and "<th" in html and 'data-sort="2.0"' in html and "addEventListener" in html
    )
    kinds = [o.output_type for o in nb.cells[5].outputs]
    assert kinds[-1] == "stream" and "after the comparison" in nb.cells[5].outputs[-1].text
    assert "Comparison of 2 runs" in outputs_text(nb.cells[5]).split("after the comparison")[0]


def test_track_runs_never_creates_a_database(tmp_path):
    nb = execute(make_notebook(LOAD, "%track_runs --db other.db"), tmp_path, allow_errors=True)
    shown = outputs_text(nb.cells[1])
    assert shown.startswith("UsageError: no database at ") and str(tmp_path / "other.db") in shown
    assert list(tmp_path.iterdir()) == []


def test_typos_get_a_hint_and_an_ended_run_says_how_to_resume(db, tmp_path):
    nb = execute(
        make_notebook(
            LOAD,
            "%%track_run nmae=baseline --no-panel --no-system\nrun.log(loss=1.0)",
            "%%track_run name=t --tag cnn --no-panel\nprint('ran')",
            "run.log(loss=2.0)",
        ),
        tmp_path,
        db=db,
        allow_errors=True,
    )
    hint = outputs_text(nb.cells[1])
    assert "did you mean name=? nmae='baseline' is kept as a parameter" in hint
    assert jt.load_run(jt.runs().name[0]).params == {"nmae": "baseline"}  # the cell ran, the param kept
    refused = outputs_text(nb.cells[2])
    assert refused.startswith("UsageError: ") and "unknown option --tag; did you mean --tags?" in refused
    ended = outputs_text(nb.cells[3])
    name = jt.runs().name[0]
    assert f"RunClosed: run '{name}' has ended (finished); resume it to log more" in ended
    assert f"`%%track_run --resume {name}`" in ended and f"jupyter_tracker.reconnect('{name}')" in ended


@pytest.mark.browser
def test_the_runs_table_sorts_by_its_headers_and_escapes_what_it_shows(db, tmp_path):
    from cards import XSS
    from jupyterlab_harness import launch_chromium, require_chromium

    from jupyter_tracker.notebook.tables import runs_bundle

    require_chromium()
    for name, loss in [("b", 0.3), ("a" + XSS, 0.1), ("c", float("nan"))]:
        with jt.start_run(name=name, tags=["x"], system=False) as run:
            run.log(loss=loss)
    page = tmp_path / "runs.html"
    page.write_text(
        "<!doctype html><html><body>" + runs_bundle(jt.runs(), db)["text/html"] + "</body></html>"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        view = browser.new_page()
        dialogs, errors = [], []
        view.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        view.on("pageerror", lambda exc: errors.append(str(exc)))
        view.goto(page.as_uri())

        def column(index):
            return view.eval_on_selector_all(
                "tbody tr", f"rows => rows.map(r => r.cells[{index}].textContent)"
            )

        assert column(0) == ["3", "2", "1"]  # newest first, as given
        view.click("th:nth-child(8)")  # loss, ascending: the empty cell first
        assert column(7) == ["–", "0.1", "0.3"]
        view.click("th:nth-child(8)")
        assert column(7) == ["0.3", "0.1", "–"]
        view.click("th:nth-child(1)")  # id, as numbers
        assert column(0) == ["1", "2", "3"]
        assert column(2)[1] == "a" + XSS  # shown as text, never run
        browser.close()
    assert dialogs == [] and errors == []
