"""The `jupyter-tracker` command: list, show, export and remove runs from the terminal."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from .artifacts import delete_run
from .cellargs import add_run_filters, run_filters
from .errors import TrackerError
from .query import load_run, runs, store_for


def _duration(seconds) -> str:
    if seconds is None or seconds != seconds:
        return "-"
    minutes, secs = divmod(float(seconds), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:04.1f}s" if minutes else f"{secs:.1f}s"


def cmd_ls(args) -> int:
    frame = runs(**run_filters(args), db=args.db)
    if frame.empty:
        print(f"no runs in {store_for(args.db).path}")
        return 0
    shown = frame[["id", "project", "name", "status", "started", "duration", "tags"]].copy()
    shown["started"] = shown["started"].dt.tz_convert(None).dt.strftime("%Y-%m-%d %H:%M:%S")
    shown["duration"] = shown["duration"].map(_duration)
    metric_columns = [c for c in frame.columns if c.startswith("metrics.")][: args.metrics]
    for column in metric_columns:
        shown[column.removeprefix("metrics.")] = frame[column].map(lambda v: "-" if v != v else f"{v:.4g}")
    print(shown.to_string(index=False))
    return 0


def cmd_show(args) -> int:
    record = load_run(args.run, project=args.project, db=args.db)
    info = record.info
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.started)) if info.started else "-"
    lines = [
        f"{info.project}/{info.name}  (id {info.id}, {info.uuid})",
        f"status    {info.status}",
        f"started   {started}   duration {_duration(info.duration)}",
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
        lines += ["metrics", "  " + summary.to_string().replace("\n", "\n  ")]
    if info.error:
        lines += ["error", "  " + info.error.strip().splitlines()[-1]]
    print("\n".join(lines))
    return 0


def cmd_rm(args) -> int:
    store = store_for(args.db)
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
    from .cards import export_comparison, export_run

    store = store_for(args.db)
    ids = [store.find_run(ref, args.project).id for ref in args.runs]
    if args.compare:
        if len(ids) < 2:
            raise TrackerError("--compare needs at least two runs")
        if not args.out:
            raise TrackerError("--compare needs -o PATH (e.g. -o comparison.html)")
        path = export_comparison(store, ids, args.out, args.format)
    else:
        if len(ids) != 1:
            raise TrackerError("export takes one run (or several with --compare)")
        path = export_run(store, ids[0], args.out, args.format)
    print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jupyter-tracker", description="Experiment runs recorded by jupyter-tracker."
    )
    parser.add_argument("--db", help="database file (default: $TRACKER_DB or ./.tracker/tracker.db)")
    commands = parser.add_subparsers(dest="command", required=True)
    # `--db` is accepted before or after the sub-command.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    ls = add_run_filters(commands.add_parser("ls", parents=[common], help="list runs, newest first"))
    ls.add_argument("--metrics", type=int, default=3, help="how many metric columns to show (default 3)")
    ls.set_defaults(handler=cmd_ls)

    show = commands.add_parser("show", parents=[common], help="params, tags and metric summary of one run")
    show.add_argument("run", help="run id, name or uuid")
    show.add_argument("--project", "-p")
    show.set_defaults(handler=cmd_show)

    rm = commands.add_parser("rm", parents=[common], help="delete runs and everything they recorded")
    rm.add_argument("runs", nargs="+")
    rm.add_argument("--project", "-p")
    rm.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    rm.set_defaults(handler=cmd_rm)

    export = commands.add_parser(
        "export", parents=[common], help="write a run card (JSON or self-contained HTML)"
    )
    export.add_argument("runs", nargs="+")
    export.add_argument("--project", "-p")
    export.add_argument("--format", "-f", choices=["json", "html"])
    export.add_argument("--out", "-o")
    export.add_argument("--compare", action="store_true", help="one comparison card of all the runs given")
    export.set_defaults(handler=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except TrackerError as exc:
        print(f"jupyter-tracker: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
