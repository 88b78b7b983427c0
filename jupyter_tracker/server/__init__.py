"""Jupyter server extension: REST endpoints under /jupyter-tracker/api/ for the JupyterLab extension.

Every endpoint is behind Jupyter's authentication (token or cookie, XSRF as Jupyter does) and its
Authorizer (resource "jupyter_tracker": GET reads, POST writes), and opens only stores
(`.tracker/tracker.db` files) under the server's root directory. GETs never change a file; the only
writes are the two edits of edits.py (rename a run, add or remove its tags).
"""

from __future__ import annotations


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "jupyter_tracker.server"}]


def _load_jupyter_server_extension(serverapp) -> None:
    """Register the handlers on the running server."""
    from .routes import setup_handlers

    settings = serverapp.web_app.settings
    if settings.get("jupyter_tracker_api"):
        return  # enabled twice (as jupyter_tracker and as jupyter_tracker.server): routes exist already
    settings["jupyter_tracker_api"] = True
    setup_handlers(serverapp.web_app)
    serverapp.log.info("jupyter-tracker: REST endpoints enabled under /jupyter-tracker/api/")


# Older notebook-server style name, still looked up by some launchers.
load_jupyter_server_extension = _load_jupyter_server_extension
