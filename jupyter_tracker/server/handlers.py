"""Tornado handlers of the read-only REST API under /jupyter-tracker/api/ (GET, authenticated and authorized)."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.ioloop import IOLoop

from ..config import DEFAULT_DB
from ..errors import InvalidArgument, RunNotFound, SchemaTooNew, StoreError, TrackerError
from ..models import CRASHED, RUNNING, STALE_AFTER_SECONDS, STATUSES
from ..store import Store, open_store
from ..tracking.stores import judge_running
from .payload import activity, matches_text, run_detail, run_row, series
from .stores import find_stores, store_path

API = "jupyter-tracker/api"
# The resource name given to the server's Authorizer.
AUTH_RESOURCE = "jupyter_tracker"

# A writer stamps times before its transaction commits: look this far behind `since` so that no
# change committed late is missed (runs sent twice are merged by id).
SINCE_SLACK_SECONDS = 5.0
DEFAULT_MAX_POINTS = 2000
MAX_EVENTS = 200


class TrackerHandler(APIHandler):
    """Base: resolves `?db=` under the server root and runs store calls off the event loop.

    Every method is `@web.authenticated` and `@authorized` on AUTH_RESOURCE (GET reads, POST writes), so
    a server's Authorizer can allow reading runs but not editing them."""

    auth_resource = AUTH_RESOURCE

    def server_root(self) -> Path:
        return Path(self.settings.get("server_root_dir") or os.getcwd()).expanduser().resolve()

    def db_path(self) -> tuple[Path, str]:
        """The store named by `?db=` (default: the one at the root) and its root-relative path; 400 for
        anything else (see stores.store_path)."""
        raw = self.get_query_argument("db", "").strip() or DEFAULT_DB.as_posix()
        try:
            return store_path(self.server_root(), raw)
        except InvalidArgument as exc:
            raise web.HTTPError(400, str(exc)) from None

    async def reading(self, function: Callable[[Store], Any]) -> Any:
        """Open the database of `?db=` for reading (never creating or changing it) and call
        `function(store)`, both in a worker thread; errors as in `blocking`."""
        path, relative = self.db_path()

        def work() -> Any:
            if not path.exists():
                raise web.HTTPError(404, f"no database at {relative}")
            return function(open_store(path, write=False, judge_running=judge_running))

        return await self.blocking(work)

    async def blocking(self, function: Callable[[], Any]) -> Any:
        """Run `function` in a worker thread, turning tracker errors into HTTP errors with their message
        (paths in it relative to the server root: clients never see where the server's files are)."""
        try:
            return await IOLoop.current().run_in_executor(None, function)
        except TrackerError as exc:
            raise web.HTTPError(http_status(exc), self.relative(str(exc))) from None

    def relative(self, message: str) -> str:
        """`message` with the server root taken off the paths in it."""
        root = str(self.server_root())
        if root == os.sep:
            return message
        message = message.replace(root + os.sep, "")
        return re.sub(re.escape(root) + r"(?![^\s'\"(),:;])", ".", message)  # the root itself, named alone

    def float_argument(self, name: str) -> float | None:
        raw = self.get_query_argument(name, "").strip()
        if not raw:
            return None
        try:
            return float(raw)
        except ValueError:
            raise web.HTTPError(400, f"{name} must be a number (seconds since the epoch)") from None

    def int_argument(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.get_query_argument(name, "").strip()
        if not raw:
            return default
        if not raw.isdigit():
            raise web.HTTPError(400, f"{name} must be a whole number")
        return min(max(int(raw), low), high)

    def list_argument(self, name: str) -> list[str]:
        """`?tag=a&tag=b` and `?tag=a,b` alike."""
        return [
            part.strip() for raw in self.get_query_arguments(name) for part in raw.split(",") if part.strip()
        ]

    def render(self, renderer: Callable[..., str], *args: Any) -> str:  # type: ignore[override]
        """Call a card renderer; its failures become 501 (a missing part) or 500, each with a message."""
        try:
            return renderer(*args)
        except TrackerError:
            raise
        except ImportError as exc:
            raise web.HTTPError(501, f"HTML cards need a part that is not installed: {exc}") from None
        except Exception as exc:
            self.log.exception("jupyter-tracker: the card could not be made")
            raise web.HTTPError(500, f"the card could not be made: {type(exc).__name__}: {exc}") from None

    def finish_json(self, payload: Any) -> None:
        self.finish(json.dumps(payload, allow_nan=False))

    def finish_html(self, html: str) -> None:
        self.finish(html, set_content_type="text/html; charset=UTF-8")


class StoresHandler(TrackerHandler):
    """GET stores -> {stores, default, truncated}: every `.tracker/tracker.db` under the server root
    (root-relative; the root's first), the one shown when nothing was chosen, and whether the search
    stopped at a limit."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        root = self.server_root()
        found, truncated = await self.blocking(lambda: find_stores(root))
        default = DEFAULT_DB.as_posix()
        self.finish_json(
            {
                "stores": found,
                "default": default if default in found or not found else found[0],
                "truncated": truncated,
            }
        )


class RunsHandler(TrackerHandler):
    """GET runs?db=&project=&status=&tag=&q=&since=&limit= -> {db, exists, now, full, runs, ids}."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        path, relative = self.db_path()
        since = self.float_argument("since")
        project = self.get_query_argument("project", "").strip() or None
        statuses = self.list_argument("status")
        unknown = sorted(set(statuses) - set(STATUSES))
        if unknown:
            raise web.HTTPError(
                400, f"unknown status {', '.join(unknown)}: choose from {', '.join(STATUSES)}"
            )
        tags = self.list_argument("tag")
        terms = self.get_query_argument("q", "").lower().split()
        limit = self.int_argument("limit", 0, 0, 1_000_000) or None

        def work() -> dict:
            now = time.time()  # taken before reading: the next `since` misses nothing written meanwhile
            reply = {
                "db": relative,
                "exists": path.exists(),
                "now": now,
                "full": since is None,
                "runs": [],
                "ids": [],
            }
            if not reply["exists"]:  # a folder or a non-database exists: opening it says what is wrong
                return reply
            store = open_store(path, write=False, judge_running=judge_running)
            runs = store.list_runs(project=project, status=statuses or None, tags=tags or None)
            if terms:
                runs = [run for run in runs if matches_text(run, terms)]
            runs = runs[:limit] if limit else runs
            reply["ids"] = ids = [run.id for run in runs]
            synced = store.sync_rows(ids)
            if since is not None:
                runs = [run for run in runs if changed_since(run, since, now, synced.get(run.id))]
            summaries = store.summaries([run.id for run in runs])
            reply["runs"] = [
                run_row(run, summaries.get(run.id, {}), synced=synced.get(run.id)) for run in runs
            ]
            return reply

        self.finish_json(await self.blocking(work))


def http_status(exc: TrackerError) -> int:
    """The HTTP status of a tracker error: a file that cannot be read as a database is the request's fault."""
    if isinstance(exc, RunNotFound):
        return 404
    if isinstance(exc, SchemaTooNew):
        return 409
    if isinstance(exc, InvalidArgument | StoreError):
        return 400
    return 500


def changed_since(run, since: float, now: float, synced: list[dict] | None = None) -> bool:
    """Whether a client that saw the runs at `since` needs this run again (`synced`: its sync records, whose
    times say when it was last pushed to or pulled from an MLflow server)."""
    shared = max((row["synced"] or 0.0 for row in synced or ()), default=0.0)
    if run.status == RUNNING or max(activity(run), shared) >= since - SINCE_SLACK_SECONDS:
        return True
    # A run turns crashed without any write (its process died or went silent): resend recent ones.
    last_sign = run.heartbeat or run.started or run.created
    return run.status == CRASHED and run.ended is None and last_sign >= now - STALE_AFTER_SECONDS - 30


class RunHandler(TrackerHandler):
    """GET runs/REF?db= -> one run (REF: id, uuid or name) with every metric summary and recent events."""

    @web.authenticated
    @authorized
    async def get(self, ref: str) -> None:
        def work(store: Store) -> dict:
            run = store.find_run(ref)
            summary = store.summaries([run.id]).get(run.id, {})
            synced = store.sync_rows([run.id]).get(run.id)
            return run_detail(run, summary, store.events(run.id)[-MAX_EVENTS:], synced)

        self.finish_json(await self.reading(work))


class MetricsHandler(TrackerHandler):
    """GET runs/REF/metrics?db=&keys=a,b&max_points=2000 -> downsampled series per key."""

    @web.authenticated
    @authorized
    async def get(self, ref: str) -> None:
        keys = self.list_argument("keys") or None
        max_points = self.int_argument("max_points", DEFAULT_MAX_POINTS, 4, 1_000_000)

        def work(store: Store) -> dict:
            run = store.find_run(ref)
            return {
                "run": run.id,
                "max_points": max_points,
                "series": series(store.points(run.id, keys), max_points),
            }

        self.finish_json(await self.reading(work))


class CardHandler(TrackerHandler):
    """GET runs/REF/card?db= -> the run's self-contained HTML card."""

    @web.authenticated
    @authorized
    async def get(self, ref: str) -> None:
        from ..cards import run_card_html  # on first use: it loads Altair and vl-convert

        def work(store: Store) -> str:
            return self.render(run_card_html, store, store.find_run(ref).id)

        self.finish_html(await self.reading(work))


class CompareHandler(TrackerHandler):
    """GET compare?db=&ids=1,2,3 -> the comparison card of those runs (HTML)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        parts = self.list_argument("ids")
        if not all(part.isdigit() for part in parts) or len(set(parts)) < 2:
            raise web.HTTPError(400, "ids must list at least two run ids, e.g. ids=3,4")
        ids = list(dict.fromkeys(int(part) for part in parts))
        from ..cards import comparison_html

        def work(store: Store) -> str:
            missing = sorted(set(ids) - {run.id for run in store.list_runs(ids=ids)})
            if missing:
                raise RunNotFound(f"no run with id {', '.join(map(str, missing))} in {store.path.name}")
            return self.render(comparison_html, store, ids)

        self.finish_html(await self.reading(work))
