"""jupyter-tracker: experiment tracking that lives inside the notebook.

In a notebook: ``%load_ext tracker`` then ``%%track_run name=baseline lr=0.01``.
In Python: ``with jupyter_tracker.start_run(name="baseline", params={"lr": 0.01}) as run: run.log(loss=0.3)``.
"""

from __future__ import annotations

from importlib import import_module

from .config import configure
from .envtrack import track_this
from .errors import (
    CommandFailed,
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
from .experiment import Experiment, experiment
from .folders import folders, set_folder_details
from .query import RunRecord, export, load_run, runs
from .resume import reconnect
from .run import Run, active_run, log, start_run
from .version import __version__

__all__ = [
    "CommandFailed",
    "Experiment",
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
    "compare",
    "configure",
    "experiment",
    "export",
    "folders",
    "import_card",
    "load_run",
    "log",
    "reconnect",
    "runs",
    "set_folder_details",
    "start_run",
    "track_this",
]


# Imported on first use: they pull in pandas, Altair and vl-convert, which `%load_ext` must not wait for.
_LAZY = {"import_card": ".cards", "compare": ".comparison"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_ipython_extension(ipython) -> None:
    """`%load_ext jupyter_tracker` (or `%load_ext tracker`): register the magics."""
    import_module(".magics", __name__).load_ipython_extension(ipython)


def unload_ipython_extension(ipython) -> None:
    import_module(".magics", __name__).unload_ipython_extension(ipython)


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-tracker"}]


def _jupyter_server_extension_points():
    return [{"module": "jupyter_tracker.server"}]
