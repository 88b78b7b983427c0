"""The API's routes under the server's base URL: GETs read (handlers.py), two POSTs edit (edits.py)."""

from __future__ import annotations

from jupyter_server.utils import url_path_join

from .edits import RenameHandler, TagsHandler
from .handlers import (
    API,
    CardHandler,
    CompareHandler,
    MetricsHandler,
    RunHandler,
    RunsHandler,
    StoresHandler,
)


def setup_handlers(web_app) -> None:
    """Add the API routes under the server's base URL."""
    base = url_path_join(web_app.settings["base_url"], API)
    ref = r"(?P<ref>[^/]+)"
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "stores"), StoresHandler),
            (url_path_join(base, "runs"), RunsHandler),
            (url_path_join(base, "runs", ref), RunHandler),
            (url_path_join(base, "runs", ref, "metrics"), MetricsHandler),
            (url_path_join(base, "runs", ref, "card"), CardHandler),
            (url_path_join(base, "runs", ref, "rename"), RenameHandler),
            (url_path_join(base, "runs", ref, "tags"), TagsHandler),
            (url_path_join(base, "compare"), CompareHandler),
        ],
    )
