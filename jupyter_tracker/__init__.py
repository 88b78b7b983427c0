"""jupyter-tracker: experiment tracking that lives inside the notebook.

In a notebook: ``%load_ext tracker`` then ``%%track_run name=baseline lr=0.01``.
In Python: ``with jupyter_tracker.start_run(name="baseline", params={"lr": 0.01}) as run: run.log(loss=0.3)``.
"""

from __future__ import annotations

from importlib import import_module

from .config import configure
from .errors import (
    InvalidArgument,
    InvalidMetric,
    InvalidParam,
    NoActiveRun,
    NotADatabase,
    RunClosed,
    RunNotFound,
    SchemaTooNew,
    TrackerError,
    UnsafeArtifactName,
)
from .query import RunRecord, load_run, runs
from .run import Run, active_run, log, start_run

from .version import __version__

__all__ = [
    "InvalidArgument",
    "InvalidMetric",
    "InvalidParam",
    "NoActiveRun",
    "NotADatabase",
    "Run",
    "RunClosed",
    "RunNotFound",
    "RunRecord",
    "SchemaTooNew",
    "TrackerError",
    "UnsafeArtifactName",
    "__version__",
    "active_run",
    "configure",
    "load_run",
    "log",
    "runs",
    "start_run",
]


def load_ipython_extension(ipython) -> None:
    """`%load_ext jupyter_tracker` (or `%load_ext tracker`): register the magics."""
    import_module(".magics", __name__).load_ipython_extension(ipython)


def unload_ipython_extension(ipython) -> None:
    import_module(".magics", __name__).unload_ipython_extension(ipython)


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-tracker"}]


def _jupyter_server_extension_points():
    return [{"module": "jupyter_tracker.server"}]
