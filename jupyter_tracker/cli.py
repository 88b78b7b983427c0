"""The `jupyter-tracker` command: list, show, edit, export and remove runs from the terminal.

This module holds the parser and main(); the bodies of the longer commands are in commands/."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence

from . import config
from .commands import CliError
from .commands.editing import cmd_note, cmd_rename, cmd_tag
from .commands.listing import cmd_ls
from .commands.sharing import add_sharing
from .commands.showing import EVENTS_SHOWN, cmd_show
from .errors import TrackerError
from .models import RUNNING
from .notebook.cellargs import add_run_filters
from .tracking.artifacts import delete_run
from .tracking.stores import store_for
from .version import __version__


def _cli_words(message: str) -> str:
    """The library speaks Python and notebook; the terminal user gets the command's own words."""
    message = message.replace("%track_runs or `jupyter-tracker ls`", "`jupyter-tracker ls`")
    message = message.replace("pass format=", "pass --format json or --format html")
    message = message.replace("db= / TRACKER_DB", "--db / TRACKER_DB").replace("(db= or", "(--db or")
    return re.sub(r"format='(\w+)'", r"--format \1", message)


# -- commands (the longer ones live in commands/) -----------------------------------------------------------
def cmd_rm(args) -> int:
    store = store_for(args.db, write=True)
    infos = [store.find_run(ref, args.project) for ref in args.runs]
    names = ", ".join(f"{i.project}/{i.name} (id {i.id})" for i in infos)
    running = [i for i in infos if i.status == RUNNING]
    if running and not args.force:
        live = ", ".join(f"{i.project}/{i.name} (pid {i.pid} on {i.host})" for i in running)
        raise CliError(
            f"{live} {'is' if len(running) == 1 else 'are'} still running: stop it first, or pass --force to "
            "delete it anyway (what it logs afterwards goes to a recovery file, never into another run)"
        )
    if not args.yes:
        if not sys.stdin.isatty():
            print(f"refusing to delete {names} without --yes", file=sys.stderr)
            return 2
        try:
            answer = input(f"Delete {names}? [y/N] ")
        except EOFError:  # Ctrl-D: no
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    for info in infos:
        delete_run(store, info.id)
    print(f"deleted {names}")
    return 0


def cmd_export(args) -> int:
    from .cards import card_target, export_comparison, export_run

    store = store_for(args.db, write=False)
    ids = [store.find_run(ref, args.project).id for ref in args.runs]
    if args.compare and len(ids) < 2:
        raise CliError("--compare needs at least two runs")
    if not args.compare and len(ids) != 1:
        raise CliError("export takes one run (or several with --compare)")
    target, kind = card_target(store, ids, args.out, args.format, comparison=args.compare)
    if target.exists() and not args.force:
        raise CliError(f"{target} exists; pass --force to overwrite")
    if args.compare:
        path = export_comparison(store, ids, target, kind)
    else:
        path = export_run(store, ids[0], target, kind)
    print(path)
    return 0


# -- the parser -------------------------------------------------------------------------------------------
DB_HELP = "database file (default: $TRACKER_DB, else the nearest .tracker/ here or above, or the git root's)"
PROJECT_HELP = "look the run names up in this project only (names can repeat across projects)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jupyter-tracker",
        description="Experiment runs recorded by jupyter-tracker: list, show, edit, export, delete, "
        "recover them, and share them through an MLflow tracking server.",
        epilog="Runs are named by id, name (the newest of that name) or uuid. "
        "`jupyter-tracker COMMAND -h` explains a command.",
    )
    parser.add_argument("--db", metavar="PATH", help=DB_HELP)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    command = _command_maker(parser)
    _add_reading(command)
    _add_editing(command)
    add_sharing(command)
    rm = command(
        "rm",
        "delete runs and everything they recorded",
        "Delete runs with their params, metrics, events, alerts and artifact files. "
        "Asks first unless --yes is given.",
        cmd_rm,
    )
    rm.add_argument("runs", nargs="+", metavar="RUN", help="run id, name or uuid")
    rm.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    rm.add_argument("--force", action="store_true", help="delete a run even while it is still running")
    command(
        "recover",
        "load back what a run could not store",
        "Load a recovery file back into its run: the points, events and final status a run could not store "
        "(a full disk, a read-only or vanished database) were saved there, and the run's warning named it. "
        "Loading twice changes nothing.",
        cmd_recover,
    ).add_argument("file", help="the recovery file (.jsonl) the warning named")
    _add_export(
        command(
            "export",
            "write a run card (JSON or self-contained HTML)",
            "Write a run card: everything about a run in one file, JSON for machines or self-contained HTML "
            "(opens offline in any browser). With --compare, one card comparing several runs.",
            cmd_export,
        )
    )
    return parser


def _add_reading(command: Callable[..., argparse.ArgumentParser]) -> None:
    ls = add_run_filters(
        command(
            "ls",
            "list runs, newest first",
            "List runs, newest first, with the last value of their metrics. --json and --csv write every "
            "column (all params and metrics, times in ISO-8601 UTC, durations in seconds) as UTF-8.",
            cmd_ls,
        ),
        limit=-1,  # told apart from a given number: the table shows 50, --json and --csv every run
        limit_help="at most this many runs (default: 50 in the table, all with --json/--csv; 0: all)",
    )
    ls.add_argument("--metrics", type=int, default=3, help="how many metric columns to show (default 3)")
    machine = ls.add_mutually_exclusive_group()
    machine.add_argument("--json", action="store_true", help="a JSON list of runs, for programs")
    machine.add_argument("--csv", action="store_true", help="a CSV table of runs, for spreadsheets")
    show = command(
        "show",
        "everything about one run",
        "Show one run: status, times, params, tags, a summary of each metric, the hardware it used, its "
        f"alerts, artifacts and notes, its last {EVENTS_SHOWN} events and, if it failed, its traceback. "
        "--json writes it all (every event) as JSON.",
        cmd_show,
    )
    show.add_argument("run", help="run id, name or uuid")
    show.add_argument("--json", action="store_true", help="JSON for programs (times in ISO-8601 UTC)")


def _add_editing(command: Callable[..., argparse.ArgumentParser]) -> None:
    edited = "The run may still be running elsewhere; the edit is kept among its events."
    tag = command(
        "tag", "add or remove tags", f"Add tags to a run (or remove them with --remove). {edited}", cmd_tag
    )
    tag.add_argument("run", help="run id, name or uuid")
    tag.add_argument(
        "tags",
        nargs="+",
        metavar="TAG",
        help="tags (commas separate them too); NAME=VALUE gives a key/value tag",
    )
    tag.add_argument("--remove", "-r", action="store_true", help="remove these tags instead")
    rename = command(
        "rename", "give a run a new name", f"Rename a run (unique in its project). {edited}", cmd_rename
    )
    rename.add_argument("run", help="run id, name or uuid")
    rename.add_argument("new", metavar="NEW", help="the new name")
    note = command(
        "note", "add a note to a run", f"Add a note to a run (every note is kept). {edited}", cmd_note
    )
    note.add_argument("run", help="run id, name or uuid")
    note.add_argument("text", nargs="+", metavar="TEXT", help="the note (several words are joined by spaces)")


def _command_maker(parser: argparse.ArgumentParser) -> Callable[..., argparse.ArgumentParser]:
    """command(name, summary, description, handler): a sub-command that takes --db before or after it."""
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    # `--db` is accepted before or after the sub-command; SUPPRESS keeps a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=DB_HELP)

    def command(name: str, summary: str, description: str, handler: Callable) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=summary, description=description)
        sub.set_defaults(handler=handler)
        if name in ("show", "rm", "export", "tag", "rename", "note", "push"):  # the commands that name runs
            sub.add_argument("--project", "-p", help=PROJECT_HELP)
        return sub

    return command


def cmd_recover(args: argparse.Namespace) -> int:
    from .tracking.recovery import recover

    done = recover(args.file, getattr(args, "db", None))
    print(
        f"run {done['name']!r} (id {done['run']}): loaded {done['points']:,} points and {done['events']:,} "
        f"events; status {done['status']}"
    )
    return 0


def _add_export(export: argparse.ArgumentParser) -> None:
    export.add_argument("runs", nargs="+", metavar="RUN", help="run id, name or uuid")
    export.add_argument(
        "--format",
        "-f",
        choices=["json", "html"],
        help="card format (default: from the --out name's .json/.html ending, else html)",
    )
    export.add_argument(
        "--out",
        "-o",
        metavar="PATH",
        help="file to write, or a folder to write the default name into (default: "
        "PROJECT-NAME.card.html, or comparison-NAME-NAME.card.html, in the current folder)",
    )
    export.add_argument("--force", action="store_true", help="overwrite the file if it exists")
    export.add_argument("--compare", action="store_true", help="one comparison card of all the runs given")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        # Reading commands must not leave an empty database behind a mistyped path.
        path = config.db_path(args.db)
        # A recovery file names its own database; a pull may start a store.
        if not path.exists() and args.command not in ("recover", "pull"):
            hint = "" if args.db else " (pass --db PATH or set TRACKER_DB)"
            raise CliError(f"no database at {path}{hint}")
        return args.handler(args)
    except BrokenPipeError:  # `jupyter-tracker ls | head`: the reader has gone, and needs nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush is quiet too
        return 1
    except TrackerError as exc:
        print(f"jupyter-tracker: {_cli_words(str(exc))}", file=sys.stderr)
        return exc.status if isinstance(exc, CliError) else 1


if __name__ == "__main__":
    sys.exit(main())
