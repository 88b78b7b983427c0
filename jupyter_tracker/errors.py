"""Every error the tracker raises on purpose: one base class, one subclass per kind of problem."""

from typing import Any


class TrackerError(Exception):
    """Base class of the errors jupyter-tracker raises; the message says what to do."""


class NoActiveRun(TrackerError):
    """Logging was asked for outside any run."""


class RunNotFound(TrackerError, LookupError):
    """No run matches the given name, id or uuid."""


class InvalidMetric(TrackerError, ValueError):
    """A metric key or value that cannot be stored."""


class InvalidParam(TrackerError, ValueError):
    """A parameter, tag or metadata value that cannot be stored."""


class InvalidArgument(TrackerError, ValueError):
    """An argument outside what the call accepts (an interval too small, an unknown format...)."""


class RunClosed(TrackerError):
    """The run has already ended; resume it to log more."""


class StoreError(TrackerError):
    """The database file cannot be used."""


class SchemaTooNew(StoreError):
    """The database was written by a newer jupyter-tracker; it is opened read-only."""


class NotADatabase(StoreError):
    """The file exists but is not a SQLite database."""


class UnsafeArtifactName(TrackerError, ValueError):
    """An artifact name that would escape the artifact folder."""


class CommandFailed(TrackerError):
    """A command started with run.shell() exited with a non-zero status (or timed out)."""

    result: Any  # the command's ShellResult (tracking/envtrack.py), set before it is raised


class StorageWarning(UserWarning):
    """Some of what a run logged could not be stored; the message says how much and where it was saved."""


class SharingError(TrackerError):
    """An MLflow tracking server refused a push or pull, or cannot be reached; the message says why."""


class ServerUnreachable(SharingError, ConnectionError):
    """The MLflow tracking server did not answer (down, wrong address, timed out): worth trying again later."""
