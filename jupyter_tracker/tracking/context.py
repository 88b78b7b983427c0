"""What a run records about where it ran: host, user, Python, notebook, git and imported packages."""

from __future__ import annotations

import functools
import getpass
import os
import platform
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


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


# module name -> [(distribution, version)]; filled once per module, since the metadata scan is slow.
_distributions: dict[str, list[tuple[str, str]]] = {}


@functools.lru_cache(maxsize=1)
def _module_owners() -> Mapping[str, list[str]]:
    from importlib import metadata

    return metadata.packages_distributions()


def imported_packages() -> dict[str, str]:
    """Distribution name -> version for every top-level module imported in this process."""
    from importlib import metadata

    found: dict[str, str] = {}
    for module in {name.partition(".")[0] for name in list(sys.modules)}:
        if module not in _distributions:
            versions = []
            for dist in _module_owners().get(module, ()):
                try:
                    versions.append((dist, metadata.version(dist)))
                except metadata.PackageNotFoundError:
                    continue
            _distributions[module] = versions
        found.update(_distributions[module])
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))
