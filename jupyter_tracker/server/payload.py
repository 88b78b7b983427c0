"""JSON-ready shapes of runs and metric series for the REST endpoints; no I/O here."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from ..jsonsafe import safe
from ..models import SYSTEM_PREFIX, RunInfo
from ..sharing.mapping import run_page

# Keys shown beside a run in listings; the card shows them all.
LISTED_KEYS = 4


def listed_keys(summary: dict[str, dict], limit: int = LISTED_KEYS) -> list[str]:
    """The first `limit` user keys in logging order; hardware keys only when a run has nothing else."""
    user = [key for key in summary if not key.startswith(SYSTEM_PREFIX)]
    return (user or list(summary))[:limit]


def activity(run: RunInfo) -> float:
    """The latest time anything happened to a run (what `since` is compared with)."""
    return max(t for t in (run.created, run.started, run.ended, run.heartbeat) if t is not None)


def mlflow_url(synced: Sequence[dict] | None) -> str | None:
    """The MLflow UI page of a run pushed to (or pulled from) a server (the latest), from its sync records."""
    if not synced:
        return None
    row = synced[-1]
    return run_page(row["target"], row["experiment_id"], row["remote_id"])


def run_row(
    run: RunInfo, summary: dict[str, dict], *, all_keys: bool = False, synced: Sequence[dict] | None = None
) -> dict[str, Any]:
    """A run as the sidebar lists it: identity, status, times, tags, params, a few metric summaries and,
    when it was shared (`synced`: its sync records), its page on the MLflow server."""
    keys = list(summary) if all_keys else listed_keys(summary)
    steps = [s["last_step"] for s in summary.values() if s.get("last_step") is not None]
    row = {
        "id": run.id,
        "uuid": run.uuid,
        "name": run.name,
        "project": run.project,
        "status": run.status,
        "created": run.created,
        "started": run.started,
        "ended": run.ended,
        "heartbeat": run.heartbeat,
        "duration": run.duration,
        "description": run.description,
        "folder": run.folder,
        "notebook": run.notebook,
        "tags": list(run.tags),
        "params": run.params,
        "metrics": {
            key: {name: summary[key].get(name) for name in ("last", "min", "max", "last_step", "count")}
            for key in keys
        },
        "metric_count": len(summary),
        "last_step": max(steps) if steps else None,
        "mlflow_url": mlflow_url(synced),
    }
    return safe(row)


def run_detail(
    run: RunInfo, summary: dict[str, dict], events: Sequence[tuple], synced: Sequence[dict] | None = None
) -> dict[str, Any]:
    """Everything about one run: the listing fields, every metric summary, context and events."""
    row = run_row(run, summary, all_keys=True, synced=synced)
    row.update(
        safe(
            {
                "summary": summary,
                "host": run.host,
                "user": run.user,
                "pid": run.pid,
                "cell_source": run.cell_source,
                "execution_count": run.execution_count,
                "git": {"commit": run.git_commit, "branch": run.git_branch, "dirty": run.git_dirty},
                "metadata": run.metadata,
                "environment": run.environment,
                "error": run.error,
                "events": [
                    {"time": t, "level": level, "message": message, "extra": extra}
                    for t, level, message, extra in events
                ],
            }
        )
    )
    return row


def matches_text(run: RunInfo, terms: Iterable[str]) -> bool:
    """True when every term occurs (case-insensitively) in the run's name, project, tags, params..."""
    haystack = "\n".join(
        [
            run.name,
            run.project,
            f"#{run.id}",
            run.status,
            run.description or "",
            run.notebook or "",
            *run.tags,
            *(f"{k}={v}" for k, v in run.params.items()),
        ]
    ).lower()
    return all(term in haystack for term in terms)


def downsample(points: Sequence[tuple[int, float, float]], max_points: int) -> list[tuple[int, float, float]]:
    """At most `max_points` of (step, value, time), keeping the first, the last and each bucket's extremes.

    Min/max per bucket keeps spikes visible (a plain stride would drop them); NaN points are kept
    only while there is room, since they cannot be ranked.
    """
    n = len(points)
    if n <= max_points:
        return list(points)
    if max_points < 4:
        return [points[0], points[-1]][:max_points]
    buckets = (max_points - 2) // 2
    inner = points[1:-1]
    size = len(inner) / buckets
    kept = [points[0]]
    for b in range(buckets):
        chunk = inner[int(b * size) : int((b + 1) * size)]
        finite = [p for p in chunk if not math.isnan(p[1])]
        if not finite:
            if chunk:
                kept.append(chunk[0])
            continue
        lo = min(finite, key=lambda p: p[1])
        hi = max(finite, key=lambda p: p[1])
        kept.extend(sorted({lo, hi}, key=lambda p: (p[0], p[2])))
    kept.append(points[-1])
    return kept


def series(rows: Iterable[tuple], max_points: int) -> dict[str, dict[str, Any]]:
    """Store points (key, step, value, time) -> {key: {count, downsampled, steps, values, times}}."""
    by_key: dict[str, list[tuple[int, float, float]]] = {}
    for key, step, value, time in rows:
        by_key.setdefault(key, []).append((step, value, time))
    result = {}
    for key, points in by_key.items():
        kept = downsample(points, max_points)
        result[key] = {
            "count": len(points),
            "downsampled": len(kept) < len(points),
            "steps": [p[0] for p in kept],
            "values": safe([p[1] for p in kept]),
            "times": [p[2] for p in kept],
        }
    return result
