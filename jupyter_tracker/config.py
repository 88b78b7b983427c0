"""Settings resolved at call time, never at import: argument > session setting > environment > default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeAlias, cast

DB_ENV = "TRACKER_DB"
DEFAULT_DB = Path(".tracker") / "tracker.db"

# A file path argument: text or a path object.
PathArg: TypeAlias = "str | os.PathLike"

_session: dict[str, object] = {}


def configure(**settings: object) -> dict[str, object]:
    """Set session-wide defaults (``db=...``); ``None`` removes one. Returns the current settings."""
    for key, value in settings.items():
        if key not in {"db", "project", "interval", "system"}:
            from .errors import InvalidArgument

            raise InvalidArgument(f"unknown setting {key!r}: choose from db, project, interval, system")
        if value is None:
            _session.pop(key, None)
        else:
            _session[key] = value
    return dict(_session)


def setting(key: str, default: object = None) -> object:
    return _session.get(key, default)


def db_path(db: PathArg | None = None) -> Path:
    """The database file to use: ``db`` if given, else the session's, else $TRACKER_DB, else ./.tracker/tracker.db."""
    chosen = db or cast("PathArg | None", _session.get("db")) or os.environ.get(DB_ENV) or DEFAULT_DB
    return Path(os.path.expanduser(os.fspath(chosen))).absolute()
