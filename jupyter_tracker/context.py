"""What a run records about where it ran: host, user, Python, notebook, git and imported packages."""

from __future__ import annotations

import getpass
import os
import platform
import socket
import subprocess
import sys
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
    """Commit, branch and dirty flag of the git repository around `cwd`; {} outside one."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "git_commit": commit,
        "git_branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "git_dirty": None if status is None else bool(status),
    }


def imported_packages() -> dict[str, str]:
    """Distribution name -> version for every top-level module imported in this process."""
    from importlib import metadata

    top_level = {name.partition(".")[0] for name in list(sys.modules)}
    found: dict[str, str] = {}
    mapping = metadata.packages_distributions()
    for module in sorted(top_level):
        for dist in mapping.get(module, ()):
            if dist not in found:
                try:
                    found[dist] = metadata.version(dist)
                except metadata.PackageNotFoundError:
                    continue
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))
