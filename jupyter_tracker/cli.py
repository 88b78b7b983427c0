"""The `jupyter-tracker` command: list, show, export and remove runs from the terminal."""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable, Sequence

from . import config
from .errors import TrackerError
from .notebook.cellargs import add_run_filters, run_filters
from .reading.query import RunRecord, runs
from .textfmt import duration, local_time, number, runs_table, size, stamp, text_table
from .tracking.artifacts import delete_run
from .tracking.stores import store_for
from .version import __version__

EVENTS_SHOWN = 20


class CliError(TrackerError):
    """A problem with the command line itself (printed like any other error, exit status 1)."""


# -- text for the terminal --------------------------------------------------------------------------------
def _significant(value) -> str:
    return number(value, 6)


def _int(value) -> str:
    return "-" if value is None or value != value else str(int(value))


def _cli_words(message: str) -> str:
    """The library speaks Python and notebook; the terminal user gets the command's own words."""
    message = message.replace("%track_runs or `jupyter-tracker ls`", "`jupyter-tracker ls`")
    message = message.replace("pass format=", "pass --format json or --format html")
    message = message.replace("db= / TRACKER_DB", "--db / TRACKER_DB").replace("(db= or", "(--db or")
    return re.sub(r"format='(\w+)'", r"--format \1", message)


# -- commands ---------------------------------------------------------------------------------------------
def cmd_ls(args) -> int:
    frame = runs(**run_filters(args), db=args.db)
    if frame.empty:
        print(f"no runs in {store_for(args.db, write=False).path}")
        return 0
    print("\n".join(runs_table(frame, args.metrics)))
    return 0


def cmd_show(args) -> int:
    store = store_for(args.db, write=False)
    record = RunRecord(store, store.find_run(args.run, args.project).id)
    info = record.info
    lines = [
        f"{info.project}/{info.name}  (id {info.id}, {info.uuid})",
        f"status    {info.status}",
        f"started   {local_time(info.started)}   duration {duration(info.duration)}",
        f"host      {info.host or '-'}   user {info.user or '-'}   pid {info.pid or '-'}",
    ]
    if info.tags:
        lines.append(f"tags      {', '.join(info.tags)}")
    if info.folder != "/":
        lines.append(f"folder    {info.folder}")
    if info.description:
        lines.append(f"about     {info.description}")
    if info.git_commit:
        dirty = " (dirty)" if info.git_dirty else ""
        lines.append(f"git       {info.git_branch} {info.git_commit[:10]}{dirty}")
    if info.params:
        lines.append("params")
        lines += [f"  {key} = {value!r}" for key, value in info.params.items()]
    summary = record.summary()
    if not summary.empty:
        header = ["metric", "count", "first", "last", "min", "max", "mean", "last step"]
        rows = [
            [
                str(key),
                _int(row["count"]),
                *(_significant(row[c]) for c in header[2:7]),
                _int(row["last_step"]),
            ]
            for key, row in summary.iterrows()
        ]
        lines += ["metrics", *text_table(header, rows, indent="  ")]
    lines += _hardware_lines(summary.attrs.get("hardware") or {})
    lines += _alert_lines(record.alerts())
    lines += _event_lines(record.events())
    if info.error:
        lines += ["error", "  " + info.error.strip().splitlines()[-1]]
    print("\n".join(lines))
    return 0


def _hardware_lines(hardware: dict) -> list[str]:
    if not hardware.get("samples"):
        return []
    labels = [
        ("peak_rss_bytes", "peak memory (RSS)", size),
        ("mean_cpu_percent", "mean CPU", lambda v: f"{v:.1f} %"),
        ("peak_gpu_memory_bytes", "peak GPU memory", size),
        ("peak_gpu_process_memory_bytes", "peak GPU memory (this process)", size),
        ("mean_gpu_utilization", "mean GPU utilization", lambda v: f"{v:.1f} %"),
        ("total_read_bytes", "disk read", size),
        ("total_written_bytes", "disk written", size),
        ("total_sent_bytes", "network sent", size),
        ("total_received_bytes", "network received", size),
    ]
    rows = [["samples", str(hardware["samples"])]]
    rows += [
        [label, show(hardware[key])]
        for key, label, show in labels
        if isinstance(hardware.get(key), int | float) and math.isfinite(hardware[key])
    ]
    return ["hardware", *text_table(["", ""], rows, indent="  ")[1:]]


def _alert_lines(alerts) -> list[str]:
    if alerts.empty:
        return []
    rows = [[str(row["name"]), str(row["state"]), stamp(row["changed_at"])] for _, row in alerts.iterrows()]
    return [f"alerts ({len(rows)})", *text_table(["name", "state", "since"], rows, indent="  ")]


def _event_lines(events) -> list[str]:
    if events.empty:
        return []
    lines = [f"events ({len(events)})"]
    if len(events) > EVENTS_SHOWN:
        older = len(events) - EVENTS_SHOWN
        lines.append(f"  ... {older} older event{'s' * (older != 1)} not shown")
    for _, row in events.tail(EVENTS_SHOWN).iterrows():
        message = " ".join(str(row["message"]).split())
        lines.append(f"  {stamp(row['time'])}  {str(row['level']):<8}  {message}")
    return lines


def cmd_rm(args) -> int:
    store = store_for(args.db, write=True)
    infos = [store.find_run(ref, args.project) for ref in args.runs]
    names = ", ".join(f"{i.project}/{i.name} (id {i.id})" for i in infos)
    if not args.yes:
        if not sys.stdin.isatty():
            print(f"refusing to delete {names} without --yes", file=sys.stderr)
            return 2
        if input(f"Delete {names}? [y/N] ").strip().lower() not in ("y", "yes"):
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
DB_HELP = "database file (default: $TRACKER_DB, else ./.tracker/tracker.db)"
PROJECT_HELP = "look the run names up in this project only (names can repeat across projects)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jupyter-tracker",
        description="Experiment runs recorded by jupyter-tracker: list, show, export, delete and recover them.",
        epilog="Runs are named by id, name (the newest of that name) or uuid. "
        "`jupyter-tracker COMMAND -h` explains a command.",
    )
    parser.add_argument("--db", metavar="PATH", help=DB_HELP)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    command = _command_maker(parser)
    ls = add_run_filters(
        command(
            "ls",
            "list runs, newest first",
            "List runs, newest first, with the last value of their metrics.",
            cmd_ls,
        )
    )
    ls.add_argument("--metrics", type=int, default=3, help="how many metric columns to show (default 3)")

    show = command(
        "show",
        "everything about one run",
        "Show one run: status, times, params, tags, a summary of each metric, the hardware it used, "
        f"its alerts and its last {EVENTS_SHOWN} events.",
        cmd_show,
    )
    show.add_argument("run", help="run id, name or uuid")

    rm = command(
        "rm",
        "delete runs and everything they recorded",
        "Delete runs with their params, metrics, events, alerts and artifact files. "
        "Asks first unless --yes is given.",
        cmd_rm,
    )
    rm.add_argument("runs", nargs="+", metavar="RUN", help="run id, name or uuid")
    rm.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
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


def _command_maker(parser: argparse.ArgumentParser) -> Callable[..., argparse.ArgumentParser]:
    """command(name, summary, description, handler): a sub-command that takes --db before or after it."""
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    # `--db` is accepted before or after the sub-command; SUPPRESS keeps a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=DB_HELP)

    def command(name: str, summary: str, description: str, handler: Callable) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=summary, description=description)
        sub.set_defaults(handler=handler)
        if name in ("show", "rm", "export"):  # the commands that name runs
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
        if not path.exists() and args.command != "recover":  # a recovery file names its own database
            raise CliError(f"no database at {path} (pass --db PATH or set TRACKER_DB)")
        return args.handler(args)
    except TrackerError as exc:
        print(f"jupyter-tracker: {_cli_words(str(exc))}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
