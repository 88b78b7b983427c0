import subprocess
import sys

import jupyter_tracker as jt


def cli(*args, db=None, input=None):
    command = [sys.executable, "-m", "jupyter_tracker.cli", *args]
    if db is not None:
        command[3:3] = ["--db", str(db)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, input=input)


def _two_runs(db):
    with jt.start_run(name="alpha", project="p", params={"lr": 0.1}, tags="cnn", db=db, system=False) as run:
        run.log(loss=0.5)
    with jt.start_run(name="beta", project="p", db=db, system=False) as run:
        run.log(loss=0.25)


def test_ls_show_rm(tmp_path):
    db = tmp_path / "t.db"
    _two_runs(db)
    (tmp_path / "weights.bin").write_bytes(b"\0" * 1000)
    alpha = jt.load_run("alpha", db=db)
    with jt.start_run(resume="alpha", db=db, system=False) as run:
        stored = run.save(tmp_path / "weights.bin", category="output")
    copy = alpha.store.path.parent / "artifacts" / alpha.uuid
    assert copy.is_dir() and stored.size == 1000
    listed = cli("ls", db=db)
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert "name" in lines[0] and "beta" in lines[1] and "alpha" in lines[2] and "0.25" in lines[1]

    shown = cli("show", "alpha", "--db", str(db))  # --db after the sub-command works too
    assert shown.returncode == 0 and "p/alpha" in shown.stdout and "lr = 0.1" in shown.stdout
    assert "loss" in shown.stdout and "finished" in shown.stdout

    refused = cli("rm", "alpha", db=db)
    assert refused.returncode == 2 and "without --yes" in refused.stderr
    removed = cli("rm", "alpha", "--yes", db=db)
    assert removed.returncode == 0 and "deleted p/alpha" in removed.stdout
    assert not copy.exists()  # the run's artifact files go with it
    assert jt.runs(db=db).name.tolist() == ["beta"]


def test_errors_are_one_line_with_advice(tmp_path):
    db = tmp_path / "t.db"
    _two_runs(db)
    missing = cli("show", "nope", db=db)
    assert missing.returncode == 1
    assert missing.stderr.strip().startswith("jupyter-tracker: no run named 'nope'")
    assert "Traceback" not in missing.stderr
    empty = cli("ls", db=tmp_path / "empty.db")
    assert empty.returncode == 0 and "no runs in" in empty.stdout
