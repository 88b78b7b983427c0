"""Settings resolved at call time, never at import: argument > session setting > environment > default."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, TypeAlias, cast
from urllib.parse import urlsplit

from .errors import InvalidArgument

DB_ENV = "TRACKER_DB"
DEFAULT_DB = Path(".tracker") / "tracker.db"

# A file path argument: text or a path object.
PathArg: TypeAlias = "str | os.PathLike"

MIN_INTERVAL = 0.1
# How long finish() waits for the last points to be written before it saves them to a recovery file.
FINISH_TIMEOUT = 15.0

_session: dict[str, object] = {}


def configure(**settings: object) -> dict[str, object]:
    """Set session-wide defaults; ``None`` removes one. Returns the current settings.

    db: the database file; project: the default project; interval: seconds between hardware samples
    (at least 0.1); system: sample hardware (True/False); finish_timeout: seconds finish() waits for the
    last points to be written before saving them to a recovery file (default 15); mlflow: the URL of an
    MLflow tracking server that every new run is mirrored to while it runs (see push/pull)."""
    checked = {key: _check(key, value) for key, value in settings.items()}  # all or nothing
    for key, value in checked.items():
        if value is None:
            _session.pop(key, None)
        else:
            _session[key] = value
    return dict(_session)


def _check(key: str, value: Any) -> Any:
    if key not in _CHECKS:
        raise InvalidArgument(f"unknown setting {key!r}: choose from {', '.join(_CHECKS)}")
    return None if value is None else _CHECKS[key](value)


def check_interval(interval: Any) -> float:
    """The interval as a float of seconds; InvalidArgument if it is not a number of at least MIN_INTERVAL."""
    if isinstance(interval, bool) or not isinstance(interval, int | float):
        raise InvalidArgument(f"interval must be a number of seconds, not {type(interval).__name__}")
    if not math.isfinite(interval) or interval < MIN_INTERVAL:
        raise InvalidArgument(f"interval must be at least {MIN_INTERVAL} seconds (got {interval!r})")
    return float(interval)


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise InvalidArgument(f"finish_timeout must be a number of seconds >= 0, got {value!r}")
    return float(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"system must be True or False, got {value!r}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"project must be a non-empty string, got {value!r}")
    return value


def _path(value: Any) -> PathArg:
    if not isinstance(value, str | os.PathLike) or not os.fspath(value):
        raise InvalidArgument(f"db must be a file path, got {value!r}")
    return value


def check_url(value: Any) -> str:
    """An MLflow tracking server's URL (http or https), without a trailing slash. Credentials in the URL
    are refused: they belong in MLflow's variables, which are read when connecting and never stored."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"mlflow must be the URL of an MLflow tracking server, got {value!r}")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        store = (
            f"; a {parts.scheme}: store is shared by serving it: mlflow server --backend-store-uri {value.strip()}"
            if parts.scheme not in ("", "http", "https") and "//" in value
            else ""
        )
        raise InvalidArgument(
            f"mlflow must be an http:// or https:// URL of an MLflow tracking server "
            f"(e.g. http://127.0.0.1:5000), got {value!r}{store}"
        )
    if parts.username or parts.password:
        raise InvalidArgument(
            "put the MLflow server's credentials in MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD "
            "(or MLFLOW_TRACKING_TOKEN), not in the URL: a URL is stored with the runs it shares"
        )
    try:
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError:
        raise InvalidArgument(f"the port of {value!r} is not a number") from None
    if parts.query or parts.fragment:
        raise InvalidArgument(f"the MLflow server's URL takes no query or #fragment: {value!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


_CHECKS = {
    "db": _path,
    "project": _text,
    "interval": check_interval,
    "system": _flag,
    "finish_timeout": _seconds,
    "mlflow": check_url,
}


def mirror_url() -> str | None:
    """The MLflow server new runs are mirrored to: the session's `mlflow` setting, else $TRACKER_MLFLOW_URI
    (checked), else none."""
    chosen = _session.get("mlflow") or os.environ.get("TRACKER_MLFLOW_URI")
    return check_url(chosen) if chosen else None


def setting(key: str, default: object = None) -> object:
    return _session.get(key, default)


def db_path(db: PathArg | None = None) -> Path:
    """The database file to use: ``db`` if given, else the session's, else $TRACKER_DB, else the project's
    (see `project_db`)."""
    chosen = db or cast("PathArg | None", _session.get("db")) or os.environ.get(DB_ENV)
    if not chosen:
        return project_db()
    return Path(os.path.expanduser(os.fspath(chosen))).absolute()


def project_db(start: PathArg | None = None) -> Path:
    """The project's database, found like git finds its repository, from `start` (default: the current
    folder): the nearest `.tracker/` folder here or in a parent, up to the root of the enclosing git
    repository (a repository is one project: the search never leaves it), else `.tracker/` at that root,
    else `.tracker/` here; `tracker.db` in it. Below the home folder the search stops short of home itself,
    so one run started from ~ does not gather every later project. A few stat calls; nothing is created."""
    here = Path(os.path.abspath(os.fspath(start) if start is not None else os.getcwd()))
    for folder in _walk_up(here):
        if os.path.isdir(folder / DEFAULT_DB.parent):
            return folder / DEFAULT_DB
        if os.path.lexists(folder / ".git"):  # a folder, or a file (worktree, submodule)
            return folder / DEFAULT_DB
    return here / DEFAULT_DB


def _walk_up(here: Path) -> list[Path]:
    """`here` and its parents: below the home folder, up to (not including) home; elsewhere, to the root."""
    folders = [here, *here.parents]
    # getcwd() gives a real path: resolve home the same way, or a linked home would never be met.
    home = Path(os.path.realpath(os.path.expanduser("~")))
    if home in folders:
        return folders[: max(folders.index(home), 1)]
    return folders


def cache_dir() -> Path:
    """The user's cache folder for jupyter-tracker ($XDG_CACHE_HOME or ~/.cache, then jupyter-tracker)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jupyter-tracker"


def read_cache(name: str) -> str | None:
    """A file of the cache folder, or None when it is not there (or cannot be read)."""
    try:
        return (cache_dir() / name).read_text(encoding="utf-8")
    except OSError:
        return None


def write_cache(name: str, text: str) -> None:
    """Write a file of the cache folder atomically; a read-only home only costs recomputing it next time."""
    path = cache_dir() / name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError:
        pass
