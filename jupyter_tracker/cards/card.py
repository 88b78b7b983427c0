"""Run cards as plain dicts: everything about a run, versioned, in strict JSON.

Numbers JSON cannot spell are written as text, so a card stays valid strict JSON and NaN/±inf survive:

- in numeric fields (series values and times, summaries, timings, hardware summary): the strings
  ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``;
- inside free-form values (params, metadata, environment, event extras, alert rules): the object
  ``{"$float": "NaN"}`` (or ``"Infinity"``, ``"-Infinity"``), so a parameter that *is* the string "NaN"
  stays a string.

Series are columnar (``{"key", "step": [...], "value": [...], "time": [...]}``); times are seconds since
the epoch (UTC). `schema/run-card.schema.json` describes the layout.
"""

from __future__ import annotations

import json
import re
import uuid as uuid_module
from collections.abc import Iterable
from datetime import datetime, timezone

from ..hardware.metrics import metric_info
from ..hardware.summary import summarize
from ..jsonsafe import free, number, unnumber
from ..models import SYSTEM_PREFIX
from ..version import __version__

RUN_SCHEMA = "jupyter-tracker/run-card"
COMPARISON_SCHEMA = "jupyter-tracker/comparison-card"
VERSION = 1

# Run columns a card holds as they are, by section ("git" sits in "code"; its columns are git_<key>):
# what build_run_card writes and import_card reads back.
AS_IS = {
    "run": ("folder", "description", "status", "error", "traceback"),
    "origin": ("host", "user", "pid"),
    "code": ("notebook", "execution_count", "cell_source"),
    "git": ("commit", "branch", "dirty"),
}


# -- building ------------------------------------------------------------------------------------------------
def build_run_card(store, run_id: int, *, max_points: int | None = None) -> dict:
    """The card of one run; with `max_points`, each series keeps about that many points (min/max kept)."""
    info = store.get_run(run_id)
    columns = store.point_columns(run_id)
    summaries = store.summaries([run_id])[run_id]
    user = {key: column for key, column in columns.items() if not key.startswith(SYSTEM_PREFIX)}
    system = {key: column for key, column in columns.items() if key.startswith(SYSTEM_PREFIX)}
    system_part = {
        "series": _series(system, max_points, x="time", units=True),
        "summaries": _summaries(summaries, system=True),
    }
    hardware = _hardware(system)
    if hardware is not None:
        system_part["hardware"] = hardware
    return {
        "schema": RUN_SCHEMA,
        "version": VERSION,
        **_stamp(),
        "run": {
            "id": info.id,
            "uuid": info.uuid,
            "name": info.name,
            "project": info.project,
            "tags": list(info.tags),
            "tag_values": {tag: value for tag, value in info.tag_values.items() if value is not None},
            **_as_is(info, "run"),
        },
        "timing": {
            "created": number(info.created),
            "started": number(info.started),
            "ended": number(info.ended),
            "heartbeat": number(info.heartbeat),
            "duration": number(info.duration),
            "idle": number(info.idle),
            "span": number(info.span),
        },
        "origin": _as_is(info, "origin"),
        "params": free(info.params),
        "metadata": free(info.metadata),
        "environment": free(info.environment),
        "code": {**_as_is(info, "code"), "git": _as_is(info, "git", prefix="git_")},
        "metrics": {"series": _series(user, max_points), "summaries": _summaries(summaries, system=False)},
        "system": system_part,
        "events": [
            {"time": number(t), "level": level, "message": message, "extra": free(extra)}
            for t, level, message, extra in store.events(run_id)
        ],
        "alerts": [{**alert, "rule": free(alert["rule"])} for alert in store.alerts(run_id)],
        "artifacts": store.artifacts(run_id),
    }


def _as_is(info, section: str, prefix: str = "") -> dict:
    return {key: getattr(info, prefix + key) for key in AS_IS[section]}


def stored_columns(card: dict) -> dict:
    """The run columns a card holds as they are (AS_IS), named as Store.create_run takes them."""
    sections = {**card, "git": card["code"]["git"]}
    prefixes = {"git": "git_"}
    # .get: cards written before the traceback field lack it
    return {prefixes.get(s, "") + key: sections[s].get(key) for s, keys in AS_IS.items() for key in keys}


def build_comparison_card(store, run_ids: Iterable[int], *, max_points: int | None = None) -> dict:
    """Several run cards side by side, with the parameter keys whose values differ between them."""
    cards = [build_run_card(store, run_id, max_points=max_points) for run_id in run_ids]
    keys: dict[str, None] = {}
    for card in cards:
        keys.update(dict.fromkeys(card["params"]))
    missing = object()
    differing = [
        key
        for key in keys
        if len({json.dumps(card["params"].get(key, missing), default=repr) for card in cards}) > 1
    ]
    metric_keys: dict[str, None] = {}
    for card in cards:
        metric_keys.update(dict.fromkeys(s["key"] for s in card["metrics"]["series"]))
    return {
        "schema": COMPARISON_SCHEMA,
        "version": VERSION,
        **_stamp(),
        "params": {"keys": list(keys), "differing": differing},
        "metric_keys": list(metric_keys),
        "runs": cards,
    }


def _stamp() -> dict:
    return {
        "exported": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "generator": f"jupyter-tracker {__version__}",
    }


def _series(columns: dict, max_points: int | None, x: str = "step", units: bool = False) -> list[dict]:
    """Card series from point columns (see Store.point_columns), each cut to about `max_points`."""
    import numpy as np

    from ..charts.downsample import extremes

    result = []
    for key, column in columns.items():
        count = len(column)
        finite = np.isfinite(column["value"])
        # Counted before downsampling, which keeps only finite extremes: a chart can say what it leaves out.
        nonfinite = count - int(finite.sum())
        if max_points is not None and count > max_points:
            order = np.argsort(column[x], kind="stable")  # by step already; the time axis may differ
            column = column[np.sort(order[extremes(column["value"][order], max_points)])]
        values = column["value"].tolist()
        if nonfinite:
            values = [number(v) for v in values]  # NaN and ±inf as words: the card is strict JSON
        entry = {
            "key": key,
            "count": count,
            "nonfinite": nonfinite,
            "downsampled": len(column) < count,
            "step": column["step"].tolist(),
            "value": values,
            "time": column["time"].tolist(),  # stored times are always finite
        }
        if units:
            entry["unit"] = _unit(key)
        result.append(entry)
    return result


def _unit(key: str) -> str | None:
    info = metric_info(key)
    return info.unit if info else None


def _hardware(system: dict) -> dict | None:
    points = [(key, *row) for key, column in system.items() for row in column.tolist()]
    if not points:
        return None
    return {k: number(v) for k, v in summarize(points).items()}


def _summaries(per_key: dict[str, dict], *, system: bool) -> dict[str, dict]:
    return {
        key: {name: number(value) for name, value in summary.items()}
        for key, summary in per_key.items()
        if key.startswith(SYSTEM_PREFIX) == system
    }


# -- reading back ------------------------------------------------------------------------------------------------
def series_frame(series: list[dict]):
    """A long DataFrame (key, step, value, time in epoch seconds) from card series."""
    import pandas as pd

    columns: dict[str, list] = {"key": [], "step": [], "value": [], "time": []}
    for entry in series:
        columns["key"] += [entry["key"]] * len(entry["step"])
        columns["step"] += entry["step"]
        columns["value"] += [unnumber(v) for v in entry["value"]]
        columns["time"] += [unnumber(t) for t in entry["time"]]
    frame = pd.DataFrame(columns)
    return frame.astype({"key": "object", "step": "int64", "value": "float64", "time": "float64"})


def to_json(card: dict, indent: int | None = 2) -> str:
    """Strict JSON text of a card; with `indent`, readable, with each series array kept on one line."""
    if indent is None:
        return json.dumps(card, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    token = uuid_module.uuid4().hex
    arrays: list[str] = []

    def packed(series: list[dict]) -> list[dict]:
        result = []
        for entry in series:
            entry = dict(entry)
            for column in ("step", "value", "time"):
                arrays.append(json.dumps(entry[column], allow_nan=False, separators=(",", ":")))
                entry[column] = f"{token}{len(arrays) - 1}"
            result.append(entry)
        return result

    cards = card["runs"] if card.get("schema") == COMPARISON_SCHEMA else [card]
    shallow = [{**c, "metrics": {**c["metrics"], "series": packed(c["metrics"]["series"])}} for c in cards]
    shallow = [{**c, "system": {**c["system"], "series": packed(c["system"]["series"])}} for c in shallow]
    outer = {**card, "runs": shallow} if card.get("schema") == COMPARISON_SCHEMA else shallow[0]
    text = json.dumps(outer, allow_nan=False, ensure_ascii=False, indent=indent)
    return re.sub(f'"{token}(\\d+)"', lambda match: arrays[int(match.group(1))], text) + "\n"
