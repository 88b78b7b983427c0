"""The installed distributions, scanned once per environment.

Listing what is installed reads the metadata of every distribution on sys.path (0.1-0.4 s for ~200 of
them), and both a run's environment (which distributions own the imported modules) and the machine
snapshot (every installed package) need it. One scan answers both; it is kept in memory and in the user's
cache folder, keyed by sys.path and its folders' mtimes (pip installing or removing something changes its
site-packages folder's mtime): a new process in the same environment reads the list in a millisecond, and
a `pip install` between runs is seen.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from dataclasses import dataclass, field

from .. import config

EnvironmentKey = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Installed:
    """versions: distribution name -> version (the first on sys.path, the one imported);
    owners: top-level module name -> the distributions that provide it."""

    versions: dict[str, str] = field(default_factory=dict)
    owners: dict[str, list[str]] = field(default_factory=dict)


_lock = threading.Lock()
_cached: tuple[EnvironmentKey, Installed] | None = None


def environment_key() -> EnvironmentKey:
    """The package folders on sys.path (site-packages, dist-packages) with their modification times: what
    changes when packages come or go. Other entries (the working folder, a script's folder) change with
    every file written there and hold no installed distributions' metadata."""
    key = []
    for entry in sys.path:
        if os.path.basename(entry.rstrip(os.sep)) not in ("site-packages", "dist-packages"):
            continue
        try:
            key.append((entry, os.stat(entry).st_mtime_ns))
        except OSError:
            continue
    return tuple(key)


def installed() -> Installed:
    """The installed distributions of this environment (scanned at most once per environment state)."""
    global _cached
    key = environment_key()
    with _lock:  # two runs starting at once scan once
        if _cached is None or _cached[0] != key:
            _cached = (key, _from_disk(key) or _to_disk(key, _scan()))
        return _cached[1]


def _cache_name(key: EnvironmentKey) -> str:
    digest = hashlib.sha256(json.dumps([sys.executable, key]).encode()).hexdigest()[:20]
    return f"packages-{digest}.json"


def _from_disk(key: EnvironmentKey) -> Installed | None:
    text = config.read_cache(_cache_name(key))
    try:
        found = json.loads(text) if text else None
        return Installed(found["versions"], found["owners"]) if found else None
    except (ValueError, KeyError, TypeError):  # a damaged cache file: scan again
        return None


def _to_disk(key: EnvironmentKey, found: Installed) -> Installed:
    config.write_cache(_cache_name(key), json.dumps({"versions": found.versions, "owners": found.owners}))
    return found


def _scan() -> Installed:
    from importlib import metadata

    versions: dict[str, str] = {}
    owners: dict[str, list[str]] = {}
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"]
            if not name:
                continue
            if name not in versions:
                versions[name] = dist.version
            tops = (dist.read_text("top_level.txt") or "").split() or _inferred(dist)
        except Exception:  # one broken distribution must not hide the others
            continue
        for top in tops:
            names = owners.setdefault(top, [])
            if name not in names:
                names.append(name)
    return Installed(dict(sorted(versions.items(), key=lambda item: item[0].lower())), owners)


def _inferred(dist) -> set[str]:
    """Top-level modules of a distribution without top_level.txt, from its file list (as importlib does)."""
    return {
        path.parts[0] if len(path.parts) > 1 else path.with_suffix("").name
        for path in dist.files or ()
        if path.suffix == ".py"
    }


def clear() -> None:
    """Forget the scan (tests)."""
    global _cached
    with _lock:
        _cached = None
