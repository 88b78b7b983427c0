"""`jupyter-tracker push | pull`: share runs with a team through an MLflow tracking server."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from . import BadInput

URL_HELP = "the MLflow tracking server's URL (default: $TRACKER_MLFLOW_URI, else $MLFLOW_TRACKING_URI)"


def add_sharing(command: Callable[..., argparse.ArgumentParser]) -> None:
    """The push and pull sub-commands."""
    push = command(
        "push",
        "send runs to an MLflow tracking server",
        "Send runs to an MLflow tracking server: each run becomes an MLflow run in the experiment named like "
        "its project, with its params, tags, every metric point, its status, its artifact files and (once it "
        "ended) its HTML card among the artifacts. Only what the server lacks is sent: pushing again is "
        "cheap. Credentials come from MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and "
        "MLFLOW_TRACKING_PASSWORD (MLFLOW_TRACKING_INSECURE_TLS=true skips the certificate check).",
        cmd_push,
    )
    push.add_argument(
        "runs",
        nargs="*",
        metavar="RUN",
        help="run id, name or uuid (default: every ended run not pushed in full since it last changed)",
    )
    push.add_argument("--mlflow", "--to", dest="url", metavar="URL", help=URL_HELP)
    push.add_argument("--experiment", "-e", help="the MLflow experiment (default: the run's project)")
    push.add_argument("--no-card", action="store_true", help="do not upload the HTML run cards")
    for action in push._actions:  # the shared --project, in push's own words
        if action.dest == "project":
            action.help = "push this project's runs (without RUN), or look the RUN names up in it"
    pull = command(
        "pull",
        "bring runs back from an MLflow tracking server",
        "Bring the runs of MLflow experiments into this store, with their params, tags, metric points and "
        "status: new runs are added, runs pulled before are brought up to date, runs pushed from here are "
        "left as they are. Creates the database if there is none.",
        cmd_pull,
    )
    pull.add_argument("experiments", nargs="*", metavar="EXPERIMENT", help="MLflow experiment name")
    pull.add_argument(
        "--experiment", "-e", dest="more", action="append", default=[], help="an experiment (repeatable)"
    )
    pull.add_argument(
        "--run", dest="runs", action="append", metavar="ID", help="only this MLflow run id (repeatable)"
    )
    pull.add_argument("--mlflow", "--from", dest="url", metavar="URL", help=URL_HELP)
    pull.add_argument("--project", "-p", help="the local project to put them in (default: as they came)")


def cmd_push(args) -> int:
    from ..sharing import push

    pushed = push(
        args.runs or None,
        url=args.url,
        db=args.db,
        project=args.project,
        experiment=args.experiment,
        card=not args.no_card,
    )
    for done in pushed:
        what = [
            f"{done.points:,} points" if done.points else "",
            f"{done.params} params" if done.params else "",
            f"{done.tags} tags" if done.tags else "",
            f"{done.files} files" if done.files else "",
            "card" if done.card else "",
        ]
        said = ", ".join(part for part in what if part) or "up to date"
        print(f"{done.run.project}/{done.run.name} (id {done.run.id}): {said} -> {done.url}")
        for key in done.skipped_params:
            print(f"  param {key!r} changed after it was pushed; MLflow keeps a param's first value")
        for name in done.missing_files:
            print(f"  artifact {name!r} not sent: its file is missing here")
    if not pushed:
        print("nothing to push: every ended run is on the server as it is here")
    return 0


def cmd_pull(args) -> int:
    from ..sharing import pull

    experiments = [*args.experiments, *args.more]
    if not experiments:
        raise BadInput("name the MLflow experiment to pull: jupyter-tracker pull --experiment NAME")
    pulled = pull(experiments, url=args.url, db=args.db, project=args.project, runs=args.runs)
    for done in pulled:
        points = f", {done.points:,} points" if done.points else ""
        print(f"{done.project}/{done.name} (id {done.run_id}): {done.outcome}{points} <- {done.url}")
    if not pulled:
        print("no runs in " + ", ".join(experiments))
    return 0
