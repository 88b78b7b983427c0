"""The stores under the server root: finding every `.tracker/tracker.db` (the layout `config.project_db`
creates), and checking that a `db=` names a file under the root, never one outside it.
"""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path, PurePosixPath

from ..config import DEFAULT_DB
from ..errors import InvalidArgument

STORE_PARTS = DEFAULT_DB.parts  # (".tracker", "tracker.db")

# How far the search goes, so that a huge tree (a home folder, a data set) answers in well under a second.
MAX_DEPTH = 6  # folders below the root
MAX_FOLDERS = 4000  # folders listed
MAX_STORES = 200

# Folders never searched: dependencies and caches hold no one's runs.
SKIPPED = frozenset({"node_modules", "__pycache__", "site-packages", "dist-packages"})
# A folder holding one of these is a Python environment (virtualenv, venv, conda): not searched either.
ENVIRONMENT_MARKERS = frozenset({"pyvenv.cfg", "conda-meta"})


def store_path(root: Path, raw: str) -> tuple[Path, str]:
    """The file `raw` names (a root-relative path) and its clean root-relative form.

    `root` must be resolved. InvalidArgument when `raw` leaves the root (`..`, an absolute path, a link
    out). Any file under the root may be named, as Jupyter's own file browser may open it; one that is
    not a jupyter-tracker database is refused when it is opened (read-only, left untouched)."""
    parts = PurePosixPath(raw).parts
    if "\x00" in raw or raw.startswith(("/", "\\")) or ".." in parts or not parts:
        raise InvalidArgument(
            f"db {raw!r} is outside the server root; choose a store under the folder Jupyter serves"
        )
    path = (root / raw).resolve()
    if not path.is_relative_to(root) or path == root:
        raise InvalidArgument(
            f"db {raw!r} is outside the server root; choose a store under the folder Jupyter serves"
        )
    return path, path.relative_to(root).as_posix()


def find_stores(
    root: Path,
    *,
    max_depth: int = MAX_DEPTH,
    max_folders: int = MAX_FOLDERS,
    max_stores: int = MAX_STORES,
) -> tuple[list[str], bool]:
    """Root-relative paths of the stores under `root` (the root's first, then by path), and whether
    the search stopped at a limit before seeing everything.

    Breadth first, so that a limit cuts the deepest folders; hidden folders, dependencies, Python
    environments and links to folders are not searched."""
    found: list[str] = []
    queue: deque[tuple[str, int]] = deque([(os.fspath(root), 0)])
    listed = 0
    truncated = False
    while queue:
        if listed >= max_folders or len(found) >= max_stores:
            truncated = True
            break
        folder, depth = queue.popleft()
        listed += 1
        try:
            with os.scandir(folder) as scan:
                entries = list(scan)
        except OSError:  # unreadable, or gone meanwhile
            continue
        names = {entry.name for entry in entries}
        if depth and names & ENVIRONMENT_MARKERS:
            continue
        if STORE_PARTS[0] in names and os.path.isfile(os.path.join(folder, *STORE_PARTS)):
            relative = os.path.relpath(os.path.join(folder, *STORE_PARTS), root)
            try:
                found.append(store_path(root, Path(relative).as_posix())[1])
            except InvalidArgument:  # its .tracker links out of the root or elsewhere
                pass
        below = [entry.path for entry in sorted(entries, key=lambda entry: entry.name) if _searched(entry)]
        if depth < max_depth:
            queue.extend((child, depth + 1) for child in below)
        elif below:  # deeper folders left unseen
            truncated = True
    return sorted(set(found), key=_order), truncated


def _searched(entry: os.DirEntry) -> bool:
    if entry.name.startswith(".") or entry.name in SKIPPED:
        return False
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _order(relative: str) -> tuple[int, str]:
    """The root's store first, then the others by folder, case aside."""
    return (relative != DEFAULT_DB.as_posix(), relative.lower())
