"""What a run records about where it ran: host, user, Python, notebook, git and imported packages."""

from __future__ import annotations

import functools
import getpass
import os
import platform
import socket
import subprocess
import sys
from pathlib import Path

import psutil

from ..hardware.packages import installed


def quick_context() -> dict:
    """Cheap facts, taken on the caller's thread when the run starts."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = None
    return {
        "host": socket.gethostname(),
        "user": user,
        "pid": os.getpid(),
        "notebook": notebook_path(),
    }


@functools.cache
def process_identity() -> dict:
    """This process's id and start time: a pid alone can be reused by another process after a crash."""
    try:
        started = psutil.Process(os.getpid()).create_time()
    except psutil.Error:
        started = None
    return {"pid": os.getpid(), "started": started}


def notebook_path() -> str | None:
    """The notebook's path when the kernel can know it (JupyterLab/Notebook 7, VS Code), else None."""
    main = sys.modules.get("__main__")
    vscode = getattr(main, "__vsc_ipynb_file__", None)
    if vscode:
        return str(vscode)
    # Set by jupyter-server for the kernels it starts (relative to the server root).
    session = os.environ.get("JPY_SESSION_NAME")
    if session and session.endswith(".ipynb"):
        return session
    return None


def default_project() -> str:
    """The notebook's file stem when known, else 'default'."""
    path = notebook_path()
    return Path(path).stem if path else "default"


def slow_context(cwd: str | None = None) -> dict:
    """Facts that cost subprocesses or metadata scans; taken off the caller's thread."""
    return {**git_info(cwd), "environment": {"python": python_info(), "packages": imported_packages()}}


def python_info() -> dict:
    return {
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "executable": sys.executable,
        "cwd": os.getcwd(),
        "argv": list(sys.argv[:5]),
    }


def git_info(cwd: str | None = None) -> dict:
    """Commit, branch and dirty flag of the git repository around `cwd`; {} outside one (one subprocess)."""
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain=v2", "--branch", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    if done.returncode != 0:
        return {}
    headers = dict(
        line[2:].split(" ", 1)
        for line in done.stdout.splitlines()
        if line.startswith("# ") and " " in line[2:]
    )
    commit = headers.get("branch.oid")
    if not commit or commit == "(initial)":
        return {}
    return {
        "git_commit": commit,
        "git_branch": headers.get("branch.head"),
        "git_dirty": any(not line.startswith("#") for line in done.stdout.splitlines()),
    }


def imported_packages() -> dict[str, str]:
    """Distribution name -> version for every top-level module imported in this process (the installed
    distributions are scanned once per environment: hardware/packages.py)."""
    found = installed()
    names = {
        dist
        for module in {name.partition(".")[0] for name in list(sys.modules)}
        for dist in found.owners.get(module, ())
    }
    return {name: found.versions[name] for name in sorted(names, key=str.lower) if name in found.versions}
