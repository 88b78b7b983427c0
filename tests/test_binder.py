"""The Binder demo: a fresh virtual environment built from binder/requirements.txt, as Binder builds it,
runs the quickstart notebook headless (a small notebook: no Vega runtime saved in it) and writes the cards
of the runs it made; run again, it says where the new cards are."""

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.kernel
@pytest.mark.slow  # a fresh venv and pip install: ~45 s
@pytest.mark.timeout(900)
def test_quickstart_runs_in_a_fresh_binder_environment(tmp_path):
    env_dir = tmp_path / "binder-env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    environ = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    environ.pop("VIRTUAL_ENV", None)
    # Binder runs `pip install -r binder/requirements.txt` from the repository root.
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "-q",
            "-r",
            "binder/requirements.txt",
            "-r",
            "binder/requirements-run.txt",
        ],
        cwd=REPO,
        env=environ,
        check=True,
        timeout=800,
    )
    out = tmp_path / "out"
    first = quickstart(python, out, environ)
    assert first.splitlines()[0].startswith("running ") and "[3/7] %%track_run name=baseline" in first
    cards = [out / "quickstart-baseline.card.html", out / "quickstart-wider.card.html"]
    assert [f"run card: {card}" for card in cards] == first.splitlines()[-2:]
    html = cards[0].read_text()
    assert "baseline" in html and "cdn" not in html.lower().replace("cdnjs", "")
    notebook = out / "quickstart.ipynb"
    assert notebook.stat().st_size <= 300_000, notebook.stat().st_size  # two runs, a comparison, a table

    # Again, in the same folder: the new runs get new names, and their cards are the ones printed.
    second = quickstart(python, out, environ)
    assert second.splitlines()[-2:] == [
        f"run card: {out / 'quickstart-baseline-2.card.html'}",
        f"run card: {out / 'quickstart-wider-2.card.html'}",
    ]
    check = subprocess.run(
        [
            python,
            "-c",
            "import jupyter_tracker as jt; f = jt.runs(project='quickstart');"
            "print(sorted(f.name), sorted(set(f.status)))",
        ],
        env={**environ, "TRACKER_DB": str(out / "tracker.db")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.strip() == "['baseline', 'baseline-2', 'wider', 'wider-2'] ['finished']"
    assert sys.executable != str(python)


def quickstart(python, out, environ) -> str:
    done = subprocess.run(
        [python, "binder/run_quickstart.py", str(out)],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
