from __future__ import annotations

import time

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


@pytest.fixture
def store(tmp_path):
    """A private Store on a fresh database (closed at the end)."""
    from jupyter_tracker.store import Store

    store = Store(tmp_path / "t.db")
    yield store
    store.close()


@pytest.fixture
def run_id(store):
    """A run stored as running in `store`, for tests that drive the writer themselves."""
    now = time.time()
    return store.create_run("p", ["r"], now, status="running", started=now, heartbeat=now)[0]


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A real MLflow tracking server (sqlite backend, artifacts proxied) on a free port: its base URL.

    Started once per session (5-15 s on 2 cores), stopped by its process group at the end."""
    from mlflow_harness import start_mlflow_server, stop

    folder = tmp_path_factory.mktemp("mlflow")
    process, url = start_mlflow_server(folder)
    yield url
    stop(process)


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for a module's browser tests (they skip where there is none)."""
    from jupyterlab_harness import launch_chromium, require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
