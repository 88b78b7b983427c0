"""The bodies of the `jupyter-tracker` commands; cli.py holds the parser and main().

Errors: CliError (and every TrackerError) prints one line and exits with status 1; BadInput, for a value
the command cannot take, exits with status 2 like argparse's own usage errors.
"""

from __future__ import annotations

from ..errors import TrackerError


class CliError(TrackerError):
    """A problem with the command line itself (printed like any other error, exit status 1)."""

    status = 1


class BadInput(CliError):
    """A value the command cannot take (a blank note, a name already taken): exit status 2."""

    status = 2
