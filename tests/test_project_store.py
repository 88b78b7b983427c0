"""One store per project: where runs go without db= (found like git finds its repository), that every
entry point shares the rule, that reading never creates a store, and how the server finds the stores."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import jupyter_tracker as jt
from jupyter_tracker import config
from jupyter_tracker.errors import InvalidArgument, StoreError
from jupyter_tracker.server.stores import find_stores, store_path


@pytest.fixture
def home(tmp_path, monkeypatch):
    """tmp_path/home as the home folder, no TRACKER_DB, no session setting; returns the home folder."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("TRACKER_DB", raising=False)
    config._session.clear()
    yield home
    config._session.clear()


def tree(root) -> set[str]:
    """Every file and folder under root, relative."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def test_without_markers_the_store_is_in_the_current_folder(home, monkeypatch):
    work = home / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert config.db_path() == work / ".tracker" / "tracker.db"
    assert not (work / ".tracker").exists()  # finding it creates nothing


def test_the_nearest_tracker_folder_wins_from_any_subfolder(home, monkeypatch):
    project = home / "project"
    deep = project / "notebooks" / "2024" / "june"
    deep.mkdir(parents=True)
    (project / ".tracker").mkdir()  # a folder alone is enough: its database may not exist yet
    for folder in (project, project / "notebooks", deep):
        monkeypatch.chdir(folder)
        assert config.db_path() == project / ".tracker" / "tracker.db"
    (project / "notebooks" / ".tracker").mkdir()  # a nearer one
    monkeypatch.chdir(deep)
    assert config.db_path() == project / "notebooks" / ".tracker" / "tracker.db"
    # A file named .tracker is not a store folder.
    (deep / ".tracker").write_text("not a folder")
    assert config.db_path() == project / "notebooks" / ".tracker" / "tracker.db"


def test_the_git_root_when_no_tracker_folder(home, monkeypatch):
    repo = home / "repo"
    (repo / ".git").mkdir(parents=True)
    sub = repo / "src" / "experiments"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert config.db_path() == repo / ".tracker" / "tracker.db"
    # A .tracker folder inside the repository is nearer than its root.
    (repo / "src" / ".tracker").mkdir()
    assert config.db_path() == repo / "src" / ".tracker" / "tracker.db"


def test_a_git_file_marks_a_root_too(home, monkeypatch):
    """Worktrees and submodules have a .git file, not a folder."""
    outer = home / "outer"
    (outer / ".git").mkdir(parents=True)
    module = outer / "vendor" / "module"
    module.mkdir(parents=True)
    (module / ".git").write_text("gitdir: ../../.git/modules/module\n")
    (module / "nb").mkdir()
    monkeypatch.chdir(module / "nb")
    assert config.db_path() == module / ".tracker" / "tracker.db"


def test_the_search_stops_at_home(home, tmp_path, monkeypatch):
    (tmp_path / ".tracker").mkdir()  # above home: never used from inside home
    (tmp_path / ".git").mkdir()
    inside = home / "a" / "b"
    inside.mkdir(parents=True)
    monkeypatch.chdir(inside)
    assert config.db_path() == inside / ".tracker" / "tracker.db"
    # Nor home's own: one run started from ~ must not gather every later project below it.
    (home / ".tracker").mkdir()
    assert config.db_path() == inside / ".tracker" / "tracker.db"
    monkeypatch.chdir(home)  # unless that is where you are
    assert config.db_path() == home / ".tracker" / "tracker.db"


def test_the_search_never_leaves_a_repository(home, monkeypatch):
    (home / "work" / ".tracker").mkdir(parents=True)  # a store above the repository belongs to no one in it
    repo = home / "work" / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "nb").mkdir()
    monkeypatch.chdir(repo / "nb")
    assert config.db_path() == repo / ".tracker" / "tracker.db"


def test_outside_home_the_search_goes_up_to_the_root(home, tmp_path, monkeypatch):
    (tmp_path / ".tracker").mkdir()
    outside = tmp_path / "data" / "x"
    outside.mkdir(parents=True)
    monkeypatch.chdir(outside)
    assert config.db_path() == tmp_path / ".tracker" / "tracker.db"


def test_a_home_reached_through_a_link_still_stops_the_search(home, tmp_path, monkeypatch):
    (tmp_path / ".tracker").mkdir()
    link = tmp_path / "home-link"
    link.symlink_to(home, target_is_directory=True)
    monkeypatch.setenv("HOME", str(link))
    (home / "p").mkdir()
    monkeypatch.chdir(home / "p")
    assert config.db_path() == home / "p" / ".tracker" / "tracker.db"


def test_argument_then_session_then_environment_then_the_project(home, tmp_path, monkeypatch):
    repo = home / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".tracker").mkdir()
    monkeypatch.chdir(repo)
    assert config.db_path() == repo / ".tracker" / "tracker.db"
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "env.db"))
    assert config.db_path() == tmp_path / "env.db"
    config.configure(db=tmp_path / "session.db")
    assert config.db_path() == tmp_path / "session.db"
    assert config.db_path("given.db") == repo / "given.db"
    assert config.db_path("~/x.db") == home / "x.db"


def test_every_entry_point_shares_the_store(home, monkeypatch):
    """start_run from one notebook folder, runs()/load_run/experiment/the CLI from another, same store."""
    repo = home / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "a").mkdir()
    (repo / "b").mkdir()
    monkeypatch.chdir(repo / "a")
    with jt.start_run(name="first", project="p", system=False) as run:
        run.log(loss=0.5)
    assert (repo / ".tracker" / "tracker.db").is_file() and not (repo / "a" / ".tracker").exists()
    monkeypatch.chdir(repo / "b")
    assert list(jt.runs()["name"]) == ["first"]
    assert jt.load_run("first").store.path == repo / ".tracker" / "tracker.db"
    assert list(jt.experiment("p").runs()["name"]) == ["first"]
    environment = {**os.environ, "HOME": str(home)}
    environment.pop("TRACKER_DB", None)
    listed = subprocess.run(
        [sys.executable, "-m", "jupyter_tracker.cli", "ls"],
        cwd=repo / "b",
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0 and "first" in listed.stdout, listed.stderr
    assert not (repo / "b" / ".tracker").exists()


def test_reading_a_missing_store_says_where_and_creates_nothing(home, monkeypatch):
    repo = home / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "nb").mkdir()
    monkeypatch.chdir(repo / "nb")
    before = tree(home)
    expected = str(repo / ".tracker" / "tracker.db")
    for read in (jt.runs, lambda: jt.load_run("x"), lambda: jt.experiment("p").runs(), lambda: jt.compare()):
        with pytest.raises(StoreError, match="no database at") as raised:
            read()
        assert expected in str(raised.value)
    assert tree(home) == before


def test_track_runs_on_a_missing_store_says_so_and_creates_nothing(home, tmp_path, monkeypatch, capsys):
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))  # IPython's own files stay out of home
    (home / "nb").mkdir()
    monkeypatch.chdir(home / "nb")
    before = tree(home)
    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "jupyter_tracker")
        shell.run_line_magic("track_runs", "")  # the project's store before its first run: not an error
        expected = home / "nb" / ".tracker" / "tracker.db"
        assert f"no runs yet: the first %%track_run creates {expected}" in capsys.readouterr().out
        with pytest.raises(UsageError, match="no database at") as raised:  # a --db that is not there: a typo?
            shell.run_line_magic("track_runs", f"--db {home / 'typo.db'}")
        assert str(home / "typo.db") in str(raised.value)
    finally:
        InteractiveShell.clear_instance()
    assert tree(home) == before


# -- the server's search ---------------------------------------------------------------------------
def make_store(folder) -> str:
    path = folder / ".tracker" / "tracker.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")  # the search looks at names only
    return path.as_posix()


def test_find_stores_lists_every_store_root_first(tmp_path):
    root = tmp_path / "root"
    for folder in ("", "notebooks/b", "notebooks/A", "deep/1/2/3"):
        make_store(root / folder)
    for skipped in ("node_modules/pkg", ".hidden/p", ".tracker/inner", "env/lib/site", "__pycache__"):
        make_store(root / skipped)
    (root / "env" / "pyvenv.cfg").write_text("home = /usr\n")  # a virtualenv
    (root / "conda").mkdir()
    (root / "conda" / "conda-meta").mkdir()
    make_store(root / "conda" / "sub")
    (root / "emptyfolder" / ".tracker").mkdir(parents=True)  # no database in it yet
    found, truncated = find_stores(root.resolve())
    assert found == [
        ".tracker/tracker.db",
        "deep/1/2/3/.tracker/tracker.db",
        "notebooks/A/.tracker/tracker.db",
        "notebooks/b/.tracker/tracker.db",
    ]
    assert not truncated


def test_find_stores_stops_at_limits_and_never_follows_links_out(tmp_path):
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    make_store(outside)
    root.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    (root / "loop").symlink_to(root, target_is_directory=True)
    make_store(root / "a" / "b" / "c")
    assert find_stores(root) == (["a/b/c/.tracker/tracker.db"], False)
    assert find_stores(root, max_depth=2) == ([], True)  # a/b/c is below the limit
    for n in range(30):
        make_store(root / f"wide{n:02d}")
    found, truncated = find_stores(root, max_folders=10)
    assert truncated and len(found) < 10
    found, truncated = find_stores(root, max_stores=5)
    assert truncated and len(found) == 5


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("../.tracker/tracker.db", "outside the server root"),
        ("/abs/.tracker/tracker.db", "outside the server root"),
        ("a/../../.tracker/tracker.db", "outside the server root"),
        ("", "outside the server root"),
        ("bad\x00/.tracker/tracker.db", "outside the server root"),
    ],
)
def test_store_path_refuses_what_is_not_under_the_root(tmp_path, raw, words):
    with pytest.raises(InvalidArgument, match=words):
        store_path(tmp_path, raw)


def test_store_path_gives_the_file_and_its_clean_relative_path(tmp_path):
    assert store_path(tmp_path, "a/./b/.tracker/tracker.db") == (
        tmp_path / "a" / "b" / ".tracker" / "tracker.db",
        "a/b/.tracker/tracker.db",
    )
    # Any file under the root (a TRACKER_DB of another name): whether it is a database is told on opening.
    assert store_path(tmp_path, "exp/runs.db") == (tmp_path / "exp" / "runs.db", "exp/runs.db")
