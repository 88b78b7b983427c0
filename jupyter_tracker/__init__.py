"""jupyter-tracker: experiment tracking that lives inside the notebook.

In a notebook: ``%load_ext tracker`` then ``%%track_run name=baseline lr=0.01``.
In Python: ``with jupyter_tracker.start_run(name="baseline", params={"lr": 0.01}) as run: run.log(loss=0.3)``.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import TYPE_CHECKING

from .config import configure
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
    ServerUnreachable,
    SharingError,
    TrackerError,
    UnsafeArtifactName,
)
from .reading.experiment import Experiment, experiment
from .reading.query import RunRecord, export, load_run, runs
from .tracking.active import active_run, log
from .tracking.envtrack import track_this
from .tracking.folders import folders, set_folder_details
from .tracking.run import Run
from .tracking.start import reconnect, start_run
from .version import __version__

if TYPE_CHECKING:  # imported on first use (see _LAZY); named here for type checkers
    from .cards import import_card
    from .reading.comparison import compare
    from .sharing import pull, push

# Messages go to the `jupyter_tracker` logger for programs that configure logging; without a handler of
# theirs, nothing is printed (the writer's thread must stay silent: its output would land in another cell).
logging.getLogger(__name__).addHandler(logging.NullHandler())

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
    "ServerUnreachable",
    "SharingError",
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
    "pull",
    "push",
    "reconnect",
    "runs",
    "set_folder_details",
    "start_run",
    "track_this",
]


# Imported on first use: they pull in pandas, Altair and vl-convert, which `%load_ext` must not wait for.
# The underscored ones are how a lower wing's convenience method (`RunRecord.export()`, a Comparison shown
# in a notebook) reaches the wing above it without importing it: through this facade, inside the method.
_LAZY = {
    "import_card": (".cards", "import_card"),
    "compare": (".reading.comparison", "compare"),
    "_export_run": (".cards", "export_run"),
    "_export_comparison": (".cards", "export_comparison"),
    "_comparison_bundle": (".notebook.display", "comparison_bundle"),
    "_show_comparison": (".notebook.display", "show_comparison"),
    "push": (".sharing", "push"),
    "pull": (".sharing", "pull"),
    "_mirror_run": (".sharing.mirror", "mirror_run"),
}


def __getattr__(name: str):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(import_module(module, __name__), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_ipython_extension(ipython) -> None:
    """`%load_ext jupyter_tracker` (or `%load_ext tracker`): register the magics."""
    import_module(".notebook.magics", __name__).load_ipython_extension(ipython)


def unload_ipython_extension(ipython) -> None:
    import_module(".notebook.magics", __name__).unload_ipython_extension(ipython)


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-tracker"}]


def _jupyter_server_extension_points():
    return [{"module": "jupyter_tracker.server"}]
