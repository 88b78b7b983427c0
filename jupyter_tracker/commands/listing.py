"""`jupyter-tracker ls`: the runs as a table for people, or every column as JSON or CSV for programs."""

from __future__ import annotations

import json
from typing import Any

from ..jsonsafe import free, number, unfree
from ..models import SYSTEM_PREFIX, RunInfo
from ..notebook.cellargs import run_filters
from ..reading.query import runs
from ..store import Store
from ..textfmt import runs_table, tag_labels
from ..tracking.stores import store_for
from .machine import iso, write_csv, write_json

# The columns of a run in `ls --json` / `ls --csv`, before its params and metrics.
COLUMNS = (
    "id", "uuid", "project", "name", "status", "created", "started", "ended", "duration", "span", "tags",
    "folder", "description", "host", "user", "pid", "notebook", "git_commit", "git_branch", "git_dirty",
    "error",
)  # fmt: skip


TABLE_LIMIT = 50


def cmd_ls(args) -> int:
    filters = run_filters(args)
    if args.json or args.csv:
        store = store_for(args.db, write=False)
        filters["limit"] = None if filters["limit"] == -1 else filters["limit"]
        rows = run_rows(store, store.list_runs(**filters))
        if args.json:
            write_json(rows)
        else:
            write_csv(*csv_table(rows))
        return 0
    limit = TABLE_LIMIT if filters["limit"] == -1 else filters["limit"]
    frame = runs(**{**filters, "limit": None if limit is None else limit + 1}, db=args.db)  # one more: more?
    if frame.empty:
        print(f"no runs in {store_for(args.db, write=False).path}")
        return 0
    more = limit is not None and len(frame) > limit
    print("\n".join(runs_table(frame.head(limit) if more else frame, args.metrics)))
    if more:
        print(f"(the newest {limit} runs; --limit N for more, --limit 0 for all)")
    return 0


def run_rows(store: Store, infos: list[RunInfo]) -> list[dict[str, Any]]:
    """Every run as a JSON-ready dict: COLUMNS (times ISO-8601 in UTC, durations in seconds: `duration`
    the active time, `span` the wall-clock time; `tags` the names), `tag_values` ({name: value or None}),
    `params` and the last value of each metric."""
    summaries = store.summaries([info.id for info in infos])
    rows = []
    for info in infos:
        row: dict[str, Any] = {column: getattr(info, column, None) for column in COLUMNS}
        row.update(
            created=iso(info.created),
            started=iso(info.started),
            ended=iso(info.ended),
            duration=number(info.duration),
            span=number(info.span),
            tags=list(info.tags),
            tag_values=dict(info.tag_values),
            params=free(info.params),
            metrics={
                key: number(summary["last"])
                for key, summary in summaries[info.id].items()
                if not key.startswith(SYSTEM_PREFIX)
            },
        )
        rows.append(row)
    return rows


def csv_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """The rows of run_rows() as one flat table: tags joined by commas (NAME=VALUE for a valued one), a
    `params.KEY` column per parameter (text as it is, other values as JSON), a `metrics.KEY` column per metric."""
    params = sorted({key for row in rows for key in row["params"]})
    metrics = sorted({key for row in rows for key in row["metrics"]})
    header = [*COLUMNS, *(f"params.{k}" for k in params), *(f"metrics.{k}" for k in metrics)]
    table = []
    for row in rows:
        cells = [_tags_cell(row["tag_values"]) if column == "tags" else row[column] for column in COLUMNS]
        cells += [_param_cell(unfree(row["params"][k])) if k in row["params"] else None for k in params]
        cells += [row["metrics"].get(k) for k in metrics]
        table.append(cells)
    return header, table


def _tags_cell(tags: dict[str, str | None]) -> str:
    return ",".join(tag_labels(tags, tags))


def _param_cell(value: Any) -> str:
    # json.dumps spells NaN and infinities as NaN / Infinity, as the metric columns do
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
