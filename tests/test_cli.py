import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from fakes import not_databases
from waiting import stored_points, wait_until

import jupyter_tracker as jt


def cli(*args, db=None, input=None, cwd=None, env=None):
    command = [sys.executable, "-m", "jupyter_tracker.cli", *args]
    if db is not None:
        command[3:3] = ["--db", str(db)]
    environment = {k: v for k, v in os.environ.items() if k != "TRACKER_DB"}
    environment.update(env or {})
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, input=input, cwd=cwd, env=environment
    )


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
    assert "%track_runs" not in missing.stderr and "List runs with `jupyter-tracker ls`" in missing.stderr
    gone = cli("rm", "nope", "--yes", db=db)
    assert gone.returncode == 1 and "%track_runs" not in gone.stderr and "jupyter-tracker ls" in gone.stderr
    nothing = cli("ls", "--project", "other", db=db)
    assert nothing.returncode == 0 and "no runs in" in nothing.stdout


def test_reading_commands_create_no_database(tmp_path):
    missing = tmp_path / "x" / "none.db"
    for command in (["ls"], ["show", "a"], ["export", "a"], ["rm", "a", "--yes"]):
        result = cli(*command, db=missing)
        assert result.returncode == 1, command
        assert result.stderr.strip() == (
            f"jupyter-tracker: no database at {missing} (pass --db PATH or set TRACKER_DB)"
        )
    assert not (tmp_path / "x").exists()
    bare = cli("ls", cwd=tmp_path)  # no --db, no TRACKER_DB: ./.tracker/tracker.db is not made up
    assert bare.returncode == 1 and "no database at" in bare.stderr
    assert list(tmp_path.iterdir()) == []
    via_env = cli("ls", env={"TRACKER_DB": str(missing)})
    assert via_env.returncode == 1 and str(missing) in via_env.stderr and not missing.parent.exists()


def test_status_must_be_a_known_one(tmp_path):
    db = tmp_path / "t.db"
    _two_runs(db)
    typo = cli("ls", "--status", "runing", db=db)
    assert typo.returncode == 2
    for status in ("running", "finished", "failed", "interrupted", "crashed"):
        assert status in typo.stderr
    finished = cli("ls", "-s", "finished", db=db)
    assert finished.returncode == 0 and "alpha" in finished.stdout


def test_show_numbers_events_alerts_hardware_and_local_times(tmp_path):
    db = tmp_path / "t.db"
    with jt.start_run(name="tiny", project="p", db=db, interval=0.1) as run:
        run.add_alert("high", metric="loss", rule="is above", threshold=1.0, window=1)
        run.log(loss=1.571e-06)
        run.log(loss=123456.789)
        for i in range(25):
            run.log_event(f"step {i}\nsecond line")
        # hardware samples with a CPU rate (the second tick on): what the "hardware" section summarises
        wait_until(lambda: stored_points(run, "system/cpu/percent"), what="a CPU sample")
    started = jt.load_run("tiny", db=db).info.started
    # A POSIX zone (no tz database needed): three hours east of UTC, called ABC.
    local = datetime.fromtimestamp(started, timezone(timedelta(hours=3))).strftime("%Y-%m-%d %H:%M:%S ABC")
    shown = cli("show", "tiny", db=db, env={"TZ": "ABC-3"})
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "1.571e-06" in out and "123457" in out and "0.000002" not in out
    lines = out.splitlines()
    assert not any(line.split() == ["key"] for line in lines)  # no stray index-name line
    header = lines.index("metrics") + 1
    assert lines[header].split() == ["metric", "count", "first", "last", "min", "max", "mean", "last", "step"]
    assert lines[header + 1].split()[:2] == ["loss", "2"]
    assert f"started   {local}" in out
    assert "events (26)" in out  # 25 logged, plus the alert turning critical
    assert (
        "6 older events not shown" in out
        and "step 24 second line" in out
        and "step 4 " not in out
        and "step 5 " in out
    )
    alerts = lines.index("alerts (1)")
    assert lines[alerts + 2].split()[:2] == ["high", "critical"]
    assert "hardware" in lines and "peak memory (RSS)" in out and "mean CPU" in out
    listed = cli("ls", db=db, env={"TZ": "ABC-3"})
    assert local in listed.stdout


def test_help_and_version():
    bare = cli()
    assert bare.returncode == 2 and "usage: jupyter-tracker" in bare.stdout
    assert "required" not in bare.stderr and "ls" in bare.stdout and "export" in bare.stdout
    version = cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"jupyter-tracker {jt.__version__}"
    for command, words in {
        "ls": ["List runs", "running, finished"],
        "show": ["Show one run", "events"],
        "rm": ["Delete runs", "--yes"],
        "export": ["Write a run card", "PROJECT-NAME.card.html", "--force", "--format"],
    }.items():
        helped = cli(command, "-h")
        text = " ".join(helped.stdout.split())
        assert helped.returncode == 0 and "--db PATH" in text and "TRACKER_DB" in text, command
        for word in words:
            assert word in text, (command, word)
        if command != "ls":
            assert "only" in text and "--project" in text  # --project is explained


@pytest.mark.slow  # eight CLI processes, each importing the card stack: ~25 s
def test_export_paths_formats_and_overwrites(tmp_path):
    db = tmp_path / "t.db"
    _two_runs(db)
    folder = tmp_path / "cards"
    folder.mkdir()
    into = cli("export", "alpha", "-o", str(folder), db=db)
    assert into.returncode == 0 and into.stdout.strip() == str(folder / "p-alpha.card.html")
    new = cli("export", "alpha", "-f", "json", "-o", f"{tmp_path / 'new'}/", db=db)
    assert new.returncode == 0 and (tmp_path / "new" / "p-alpha.card.json").is_file()
    again = cli("export", "alpha", "-o", f"{folder}/", db=db)
    target = folder / "p-alpha.card.html"
    assert again.returncode == 1 and f"{target} exists; pass --force to overwrite" in again.stderr
    before = target.stat().st_mtime_ns
    forced = cli("export", "alpha", "-o", str(folder), "--force", db=db)
    assert forced.returncode == 0 and target.stat().st_mtime_ns >= before
    clash = cli("export", "alpha", "-f", "html", "-o", str(tmp_path / "x.json"), db=db)
    assert clash.returncode == 1 and "--format html" in clash.stderr and "x.json" in clash.stderr
    assert not (tmp_path / "x.json").exists()
    unknown = cli("export", "alpha", "-o", str(tmp_path / "x.txt"), db=db)
    assert unknown.returncode == 1 and "--format" in unknown.stderr and "format=" not in unknown.stderr
    chosen = cli("export", "alpha", "-o", str(tmp_path / "x.txt"), "-f", "json", db=db)
    assert chosen.returncode == 0 and (tmp_path / "x.txt").read_text().lstrip().startswith("{")
    default = cli("export", "alpha", "beta", "--compare", db=db, cwd=tmp_path)
    assert default.returncode == 0 and (tmp_path / "comparison-alpha-beta.card.html").is_file()


def test_what_is_not_a_database_gets_its_own_one_line_error_and_stays_untouched(tmp_path):
    why = not_databases(tmp_path)
    cases = {name: f"is not a jupyter-tracker database ({words})" for name, words in why.items()}
    cases["a-folder"] = "is a folder, not a database file"
    before = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in tmp_path.iterdir())
    runs = [(name, ["ls"]) for name in cases]  # every command opens it alike
    runs += [("empty.db", ["show", "1"]), ("other-app.db", ["export", "1", "-o", str(tmp_path / "a-folder")])]
    for name, command in runs:
        result = cli(*command, db=tmp_path / name)
        assert result.returncode == 1, (name, command)
        assert result.stderr.startswith(f"jupyter-tracker: {tmp_path / name} {cases[name]}"), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "db=" not in result.stderr
    assert sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in tmp_path.iterdir()) == before
