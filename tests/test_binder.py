"""The Binder demo: a fresh virtual environment built from binder/requirements.txt, as Binder builds it,
runs the quickstart notebook headless and writes its run card."""

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
    done = subprocess.run(
        [python, "binder/run_quickstart.py", str(out)],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    card = out / "quickstart-card.html"
    assert f"run card: {card}" in done.stdout
    html = card.read_text()
    assert "baseline" in html and "cdn" not in html.lower().replace("cdnjs", "")
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
    assert check.stdout.strip() == "['baseline', 'wider'] ['finished']"
    assert sys.executable != str(python)
