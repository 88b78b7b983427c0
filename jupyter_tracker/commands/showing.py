"""`jupyter-tracker show`: everything about one run, as text for people or as JSON (--json) for programs."""

from __future__ import annotations

import math
from typing import Any

from ..cards.fmt import active_and_span
from ..hardware.summary import summarize
from ..jsonsafe import free, number
from ..models import SYSTEM_PREFIX, RunInfo
from ..reading.query import RunRecord, notes_of
from ..textfmt import local_time, size, stamp, tag_labels, text_table
from ..textfmt import number as shown_number
from ..tracking.stores import store_for
from .machine import iso, write_json

EVENTS_SHOWN = 20


def cmd_show(args) -> int:
    store = store_for(args.db, write=False)
    record = RunRecord(store, store.find_run(args.run, args.project).id)
    if args.json:
        write_json(show_json(record))
    else:
        print("\n".join(show_lines(record)))
    return 0


def traceback_of(info: RunInfo) -> str | None:
    """The stored traceback; runs stored before it had its own column kept it whole in `error`."""
    error = (info.error or "").strip()
    return info.traceback or (error if "\n" in error else None)


# -- text ---------------------------------------------------------------------------------------------------
def show_lines(record: RunRecord) -> list[str]:
    info = record.info
    span = active_and_span(info.duration, info.span, info.idle)
    lines = [
        f"{info.project}/{info.name}  (id {info.id}, {info.uuid})",
        f"status    {info.status}",
        f"started   {local_time(info.started)}   duration {span}",
        f"host      {info.host or '-'}   user {info.user or '-'}   pid {info.pid or '-'}",
    ]
    if info.tags:
        lines.append(f"tags      {', '.join(tag_labels(info.tags, info.tag_values))}")
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
    lines += _metric_lines(summary)
    lines += _hardware_lines(summary.attrs.get("hardware") or {})
    lines += _alert_lines(record.alerts())
    lines += _artifact_lines(record.store.artifacts(record.id))
    events = record.store.events(record.id)
    lines += _note_lines(notes_of(events))
    lines += _event_lines(events)
    lines += _error_lines(info)
    return lines


def _metric_lines(summary) -> list[str]:
    if summary.empty:
        return []
    header = ["metric", "count", "first", "last", "min", "max", "mean", "last step"]
    rows = [
        [
            str(key),
            _int(row["count"]),
            *(shown_number(row[c], 6) for c in header[2:7]),
            _int(row["last_step"]),
        ]
        for key, row in summary.iterrows()
    ]
    return ["metrics", *text_table(header, rows, indent="  ")]


def _int(value) -> str:
    return "-" if value is None or value != value else str(int(value))


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


def _artifact_lines(artifacts: list[dict]) -> list[str]:
    if not artifacts:
        return []
    rows = [[str(a["name"]), str(a["category"]), size(a["size"])] for a in artifacts]
    return [f"artifacts ({len(rows)})", *text_table(["name", "category", "size"], rows, indent="  ")]


def _note_lines(notes: list[tuple[float, str]]) -> list[str]:
    if not notes:
        return []
    lines = [f"notes ({len(notes)})"]
    for when, text in notes:
        first, *more = text.splitlines() or [""]
        lines.append(f"  {local_time(when)}  {first}")
        lines += [f"    {line}" for line in more]
    return lines


def _event_lines(events: list[tuple]) -> list[str]:
    if not events:
        return []
    lines = [f"events ({len(events)})"]
    if len(events) > EVENTS_SHOWN:
        older = len(events) - EVENTS_SHOWN
        lines.append(f"  ... {older} older event{'s' * (older != 1)} not shown")
    for when, level, message, _extra in events[-EVENTS_SHOWN:]:
        lines.append(f"  {local_time(when)}  {level:<8}  {' '.join(str(message).split())}")
    return lines


def _error_lines(info: RunInfo) -> list[str]:
    if not info.error:
        return []
    lines = ["error", "  " + info.error.strip().splitlines()[-1]]
    traceback = traceback_of(info)
    if traceback:
        lines += ["traceback", *("  " + line for line in traceback.rstrip().splitlines())]
    return lines


# -- JSON ---------------------------------------------------------------------------------------------------
def show_json(record: RunRecord) -> dict[str, Any]:
    """What `show` prints, for programs: times ISO-8601 (UTC), durations in seconds, every event."""
    info, store = record.info, record.store
    summaries = store.summaries([info.id])[info.id]
    events = store.events(info.id)
    points = store.points(info.id, [k for k in summaries if k.startswith(SYSTEM_PREFIX)])
    return {
        **{key: getattr(info, key) for key in ("id", "uuid", "project", "name", "status", "folder")},
        "description": info.description,
        "tags": list(info.tags),
        "tag_values": dict(info.tag_values),
        **{key: iso(getattr(info, key)) for key in ("created", "started", "ended", "heartbeat")},
        "duration": number(info.duration),
        "span": number(info.span),
        **{key: getattr(info, key) for key in ("host", "user", "pid", "notebook", "execution_count")},
        "git": {"commit": info.git_commit, "branch": info.git_branch, "dirty": info.git_dirty},
        "params": free(info.params),
        "metadata": free(info.metadata),
        "metrics": {
            key: {name: number(value) for name, value in summary.items()}
            for key, summary in summaries.items()
            if not key.startswith(SYSTEM_PREFIX)
        },
        "hardware": {key: number(value) for key, value in summarize(points).items()} if points else None,
        "alerts": [
            {**alert, "rule": free(alert["rule"]), "triggered_at": iso(alert["triggered_at"])}
            for alert in store.alerts(info.id)
        ],
        "artifacts": [{**row, "created": iso(row["created"])} for row in store.artifacts(info.id)],
        "notes": [{"time": iso(when), "text": text} for when, text in notes_of(events)],
        "events": [
            {"time": iso(when), "level": level, "message": message, "extra": free(extra)}
            for when, level, message, extra in events
        ],
        "error": info.error.strip().splitlines()[-1] if info.error and info.error.strip() else None,
        "traceback": traceback_of(info),
    }
