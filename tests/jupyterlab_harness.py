"""Start a real JupyterLab and a headless Chromium for browser tests (shared by the browser test modules).

    lab = start_lab(tmp_path, server_extensions=["jupyter_tracker.server"], labextensions=[built_dir])
    url, token, proc = lab
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page()
        page.goto(lab_url(url, token))
        ...
    stop_lab(proc)

Everything Jupyter writes (config, data, runtime, settings, workspaces, IPython) stays under tmp_path,
the server listens on 127.0.0.1 with a token, and nothing is fetched from the network.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("TRACKER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"

# User settings that keep pop-ups (news, update checks) off screenshots.
_QUIET_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def isolated_env(tmp_path: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """os.environ with every Jupyter/IPython directory moved under tmp_path/jupyter."""
    base = tmp_path / "jupyter"
    dirs = {
        "JUPYTER_CONFIG_DIR": base / "config",
        "JUPYTER_DATA_DIR": base / "data",
        "JUPYTER_RUNTIME_DIR": base / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": base / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": base / "workspaces",
        "IPYTHONDIR": base / "ipython",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    result = {**os.environ, **{k: str(v) for k, v in dirs.items()}, "JUPYTER_PLATFORM_DIRS": "1"}
    result.pop("JUPYTER_PATH", None)
    # The venv's bin first, so kernels and jupyter subcommands come from the same environment.
    result["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{result.get('PATH', '')}"
    result.update(env or {})
    return result


def start_lab(
    tmp_path: Path,
    env: Mapping[str, str] | None = None,
    *,
    root_dir: Path | None = None,
    server_extensions: Iterable[str] = (),
    labextensions: Iterable[Path] = (),
    timeout: float = 60.0,
) -> tuple[str, str, subprocess.Popen]:
    """Start `jupyter lab` and wait until it answers; returns (base url, token, process).

    `root_dir` is what the server serves (default tmp_path/"root"). `server_extensions` are enabled by
    module name; each of `labextensions` is a built labextension folder (with package.json), served
    ahead of installed copies. The server's output goes to tmp_path/"lab.log".
    """
    env = isolated_env(tmp_path, env)
    root = Path(root_dir or tmp_path / "root")
    root.mkdir(parents=True, exist_ok=True)
    extra_paths = []
    if labextensions:
        linked = tmp_path / "jupyter" / "labextensions"
        linked.mkdir(parents=True, exist_ok=True)
        for built in labextensions:
            name = json.loads((Path(built) / "package.json").read_text())["name"]
            target = linked / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.symlink_to(Path(built).resolve(), target_is_directory=True)
        extra_paths.append(str(linked))
    config = {
        "ServerApp": {
            "jpserver_extensions": dict.fromkeys(server_extensions, True),
        },
        "LabApp": {
            "news_url": None,
            "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
            "extension_manager": "readonly",
            "extra_labextensions_path": extra_paths,
        },
    }
    (Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.json").write_text(json.dumps(config))
    for name, values in _QUIET_SETTINGS.items():
        path = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))

    port, token = free_port(), secrets.token_hex(16)
    log = open(tmp_path / "lab.log", "wb")  # noqa: SIM115 - closed in stop_lab
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
    ]  # fmt: skip
    proc = subprocess.Popen(
        command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    proc.log_file = log  # type: ignore[attr-defined]
    proc.log_path = tmp_path / "lab.log"  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            stop_lab(proc)
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{lab_log(proc)}")
        try:
            with urllib.request.urlopen(f"{url}api/status?token={token}", timeout=2) as response:
                if response.status == 200:
                    return url, token, proc
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            stop_lab(proc)
            raise TimeoutError(f"jupyter lab did not answer within {timeout:.0f} s:\n{lab_log(proc)}")
        time.sleep(0.25)


def shutdown_kernels(url: str, token: str) -> None:
    """Shut down every kernel of the server, as a restart or a closed session would."""
    headers = {"Authorization": f"token {token}"}
    with urllib.request.urlopen(
        urllib.request.Request(f"{url}api/kernels", headers=headers), timeout=10
    ) as r:
        kernels = json.load(r)
    for kernel in kernels:
        request = urllib.request.Request(f"{url}api/kernels/{kernel['id']}", headers=headers, method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()


def lab_url(url: str, token: str, path: str = "lab") -> str:
    return f"{url}{path}?token={token}"


def lab_log(proc: subprocess.Popen) -> str:
    path = getattr(proc, "log_path", None)
    return path.read_text(errors="replace")[-4000:] if path and path.exists() else ""


def stop_lab(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Stop the server and its kernels (its process group), by id."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout)
        except ProcessLookupError:
            pass
    else:
        # The server is gone; its kernels may not be.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    log = getattr(proc, "log_file", None)
    if log is not None:
        log.close()


def require_chromium() -> None:
    """Skip the calling test unless playwright and a Chromium binary are available."""
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set TRACKER_TEST_CHROMIUM)")


def launch_chromium(playwright, **options):
    """Headless Debian Chromium through playwright (playwright's own browser download is not needed)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, **options)


def screenshot(page, name: str) -> Path:
    """Save a PNG under tests/artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
