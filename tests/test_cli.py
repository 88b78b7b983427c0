import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from fakes import not_databases
from waiting import stored_points, wait_until

import jupyter_tracker as jt
from jupyter_tracker.errors import StorageWarning


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
        assert result.stderr.strip() == f"jupyter-tracker: no database at {missing}"  # --db given: no hint
    assert not (tmp_path / "x").exists()
    unset = cli("ls", cwd=tmp_path)  # the project's store, found from the current folder
    assert "(pass --db PATH or set TRACKER_DB)" in unset.stderr
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
        "tag": ["Add tags", "--remove", "still be running"],
        "rename": ["Rename a run", "unique in its project"],
        "note": ["Add a note", "every note is kept"],
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


# -- editing runs, machine-readable output, what show shows -------------------------------------------------
def test_tag_rename_and_note_edit_a_run_with_clear_errors(tmp_path):
    db = tmp_path / "t.db"
    _two_runs(db)
    tagged = cli("tag", "alpha", "x", "y,z", db=db)
    assert tagged.returncode == 0 and tagged.stdout.strip() == (
        "p/alpha (id 1): tags added: x, y, z; tags now: cnn, x, y, z"
    )
    removed = cli("tag", "alpha", "y", "--remove", db=db)
    assert removed.returncode == 0 and "tags removed: y; tags now: cnn, x, z" in removed.stdout
    valued = cli("tag", "alpha", "team=vision", db=db)  # NAME=VALUE: a key/value tag
    assert valued.returncode == 0 and "tags now: cnn, team=vision, x, z" in valued.stdout
    assert jt.load_run(1, db=db).info.tag_values["team"] == "vision"
    assert "tags now: cnn, x, z" in cli("tag", "alpha", "team", "--remove", db=db).stdout
    noted = cli("note", "alpha", "lr", "too", "high", db=db)
    assert noted.returncode == 0 and noted.stdout.strip() == "note added to p/alpha (id 1)"
    renamed = cli("rename", "alpha", "gamma", "-p", "p", db=db)
    assert renamed.returncode == 0 and renamed.stdout.strip() == "renamed p/alpha (id 1) to 'gamma'"
    record = jt.load_run(1, db=db)
    assert record.name == "gamma" and record.tags == ["cnn", "x", "z"]
    assert [note["text"] for note in record.notes()] == ["lr too high"]
    bad = {
        ("rename", "gamma", "beta"): (2, "project 'p' already has a run named 'beta' (id 2)"),
        ("rename", "gamma", "123"): (2, "is all digits"),
        ("note", "gamma", " "): (2, "note must be non-empty text"),
        ("tag", "gamma", ","): (2, "at least one tag"),
        ("tag", "gamma"): (2, "the following arguments are required: TAG"),
        ("rename", "gamma"): (2, "the following arguments are required: NEW"),
        ("note", "nope", "text"): (1, "no run named 'nope'"),
        ("rename", "nope", "x"): (1, "no run named 'nope'"),
    }
    for args, (status, message) in bad.items():
        result = cli(*args, db=db)
        assert result.returncode == status and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr and result.stdout == ""
    assert jt.load_run(1, db=db).name == "gamma"  # nothing changed by the refused edits


def _varied_runs(db, tmp_path):
    """A finished run with NaN/inf values, many params and metrics, an artifact and a note; a failed one."""
    params = {"lr": 0.1, "eps": float("nan"), "layers": [64, 32], "label": 'a,b "q"', "ünï": "çødé"}
    with jt.start_run(name="αlpha", project="p", params=params, tags="cnn", db=db, system=False) as run:
        run.log({f"m{i}": float(i) for i in range(5)} | {"inf": float("inf"), "nan": float("nan")})
        (tmp_path / "weights.bin").write_bytes(b"\0" * 2048)
        run.save(tmp_path / "weights.bin")
    jt.load_run("αlpha", db=db).add_note("first look:\nfine")

    def load_data():
        raise ValueError("bad <input>")

    with pytest.raises(ValueError), jt.start_run(name="broken", project="p", db=db, system=False):
        load_data()


def test_ls_json_and_csv_have_every_column_in_utf8_with_iso_times(tmp_path):
    import csv
    import io
    import json

    db = tmp_path / "t.db"
    _varied_runs(db, tmp_path)
    ascii_terminal = {"PYTHONIOENCODING": "ascii", "LC_ALL": "C", "LANG": "C"}
    listed = subprocess.run(
        [sys.executable, "-m", "jupyter_tracker.cli", "--db", str(db), "ls", "--json"],
        capture_output=True,
        timeout=60,
        env={**os.environ, **ascii_terminal},
    )
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout.decode("utf-8"))
    assert [row["name"] for row in rows] == ["broken", "αlpha"]
    alpha = rows[1]
    assert alpha["params"] == {
        "lr": 0.1,
        "eps": {"$float": "NaN"},
        "layers": [64, 32],
        "label": 'a,b "q"',
        "ünï": "çødé",
    }
    assert alpha["metrics"] == {
        "m0": 0.0, "m1": 1.0, "m2": 2.0, "m3": 3.0, "m4": 4.0, "inf": "Infinity", "nan": "NaN",
    }  # fmt: skip
    assert alpha["tags"] == ["cnn"] and alpha["status"] == "finished" and alpha["duration"] >= 0
    for key in ("created", "started", "ended"):
        assert datetime.fromisoformat(alpha[key]).tzinfo == timezone.utc
    assert rows[0]["error"] == "ValueError: bad <input>"

    table = subprocess.run(
        [sys.executable, "-m", "jupyter_tracker.cli", "--db", str(db), "ls", "--csv", "-p", "p"],
        capture_output=True,
        timeout=60,
        env={**os.environ, **ascii_terminal},
    )
    assert table.returncode == 0, table.stderr
    read = list(csv.DictReader(io.StringIO(table.stdout.decode("utf-8"), newline="")))
    assert [row["name"] for row in read] == ["broken", "αlpha"]
    row = read[1]
    assert row["params.label"] == 'a,b "q"' and row["params.ünï"] == "çødé" and row["params.eps"] == "NaN"
    assert (
        row["params.layers"] == "[64, 32]" and row["metrics.m4"] == "4.0" and row["metrics.inf"] == "Infinity"
    )
    assert row["tags"] == "cnn" and datetime.fromisoformat(row["started"]).tzinfo == timezone.utc
    assert read[0]["params.lr"] == "" and read[0]["error"] == "ValueError: bad <input>"
    both = cli("ls", "--json", "--csv", db=db)
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_show_lists_artifacts_notes_and_the_traceback_and_speaks_json(tmp_path):
    import json

    db = tmp_path / "t.db"
    _varied_runs(db, tmp_path)
    shown = cli("show", "αlpha", db=db)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    at = lines.index("artifacts (1)")
    assert lines[at + 1].split() == ["name", "category", "size"]
    assert lines[at + 2].split() == ["weights.bin", "output", "2.0", "KiB"]
    notes = lines.index("notes (1)")
    assert lines[notes + 1].endswith("  first look:") and lines[notes + 2] == "    fine"
    failed = cli("show", "broken", db=db).stdout.splitlines()
    assert failed[failed.index("error") + 1] == "  ValueError: bad <input>"
    traceback = failed[failed.index("traceback") + 1 :]
    assert (
        traceback[0] == "  Traceback (most recent call last):"
        and traceback[-1] == "  ValueError: bad <input>"
    )
    assert any("in load_data" in line for line in traceback)
    assert not any("jupyter_tracker" in line for line in traceback)

    as_json = cli("show", "αlpha", "--json", db=db)
    assert as_json.returncode == 0
    data = json.loads(as_json.stdout)
    assert data["name"] == "αlpha" and data["params"]["eps"] == {"$float": "NaN"}
    assert data["metrics"]["inf"]["last"] == "Infinity" and data["metrics"]["m1"]["count"] == 1
    assert [(a["name"], a["size"], a["category"]) for a in data["artifacts"]] == [
        ("weights.bin", 2048, "output")
    ]
    assert [n["text"] for n in data["notes"]] == ["first look:\nfine"]
    assert data["events"][-1]["extra"] == {"kind": "note"}
    assert datetime.fromisoformat(data["notes"][0]["time"]).tzinfo == timezone.utc
    assert data["traceback"] is None and data["error"] is None
    broken = json.loads(cli("show", "broken", "--json", db=db).stdout)
    assert broken["error"] == "ValueError: bad <input>" and "in load_data" in broken["traceback"]


def test_a_resumed_run_shows_its_active_time_and_its_span(tmp_path):
    db = tmp_path / "t.db"
    with jt.start_run(name="paused", project="p", db=db, system=False) as run:
        run.log(loss=1.0)
    ended = run.info.ended - 121
    run.store.update_run(run.id, started=ended - 1.6, ended=ended, heartbeat=ended)
    with jt.start_run(resume="paused", db=db, system=False):
        pass
    active = jt.load_run("paused", db=db).info.duration
    assert 1.6 <= active < 10
    shown = cli("show", "paused", db=db)
    assert re.search(r"duration active \d+\.\d s \(span 2m 0\ds\)", shown.stdout), shown.stdout
    listed = cli("ls", db=db).stdout.splitlines()
    assert "2m" not in listed[1] and re.search(r"\d+\.\d s", listed[1])  # the active time, not the span


def test_rm_refuses_a_run_still_running_unless_forced(tmp_path):
    db = tmp_path / "t.db"
    run = jt.start_run(name="live", project="p", db=db, system=False)
    try:
        run.log(loss=1.0)
        assert run.flush()
        refused = cli("rm", "live", "--yes", db=db)
        assert (
            refused.returncode == 1 and "is still running" in refused.stderr and "--force" in refused.stderr
        )
        assert jt.load_run("live", db=db).id == run.id  # nothing deleted
        forced = cli("rm", "live", "--yes", "--force", db=db)
        assert forced.returncode == 0 and "deleted p/live" in forced.stdout
    finally:
        with pytest.warns(StorageWarning):  # what it logged after the delete is set aside, with a word
            run.log(loss=2.0)
            run.finish()


def test_ls_says_when_it_shows_only_the_newest_and_json_lists_them_all(tmp_path):
    db = tmp_path / "t.db"
    for i in range(53):
        with jt.start_run(name=f"r{i}", project="p", db=db, system=False) as run:
            run.log(x=i)
    table = cli("ls", db=db)
    assert table.returncode == 0 and len(table.stdout.splitlines()) == 52  # header, 50 runs, the note
    assert "the newest 50 runs; --limit N for more, --limit 0 for all" in table.stdout
    assert len(cli("ls", "--limit", "0", db=db).stdout.splitlines()) == 54
    assert len(json.loads(cli("ls", "--json", db=db).stdout)) == 53
    assert len(json.loads(cli("ls", "--json", "--limit", "3", db=db).stdout)) == 3
    negative = cli("ls", "--limit", "-2", db=db)
    assert negative.returncode == 2 and "-2 is negative" in negative.stderr
    with pytest.raises(jt.InvalidArgument, match="limit must be"):
        jt.runs(limit=0, db=db)


def test_a_closed_pipe_and_a_mistyped_recovery_database_end_quietly(tmp_path):
    db = tmp_path / "t.db"
    _two_runs(db)
    shell = f"{sys.executable} -m jupyter_tracker.cli --db {db} ls | head -1"
    piped = subprocess.run(shell, shell=True, capture_output=True, text=True, timeout=60)
    assert piped.stdout.startswith("id") and "Traceback" not in piped.stderr and piped.stderr == ""
    saved = tmp_path / "r.jsonl"
    saved.write_text(
        json.dumps({"format": "jupyter-tracker-recovery", "version": 1, "db": str(db), "run": {}}) + "\n"
    )
    typo = tmp_path / "typo.db"
    result = cli("recover", str(saved), db=typo)
    assert result.returncode == 1 and f"no database at {typo}" in result.stderr and not typo.exists()
    saved.write_text("garbage\n")
    result = cli("recover", str(saved), db=db)
    assert result.returncode == 1 and "is not a line of a recovery file" in result.stderr
