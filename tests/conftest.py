from __future__ import annotations

import pytest

from jupyter_tracker import config


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A fresh database path; the working directory and TRACKER_DB point into tmp_path."""
    path = tmp_path / "tracker.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKER_DB", str(path))
    config._session.clear()
    yield path
    config._session.clear()
