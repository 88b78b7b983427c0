"""Reading run cards back: validation against the shipped JSON Schema, and recreating a run from a card."""

from __future__ import annotations

import json
import math
import os
import re
from functools import cache
from importlib import resources
from pathlib import Path

from ..errors import InvalidArgument, InvalidMetric
from ..jsonsafe import unfree, unnumber
from ..models import ENDED_STATUSES, INTERRUPTED
from ..reading.query import RunRecord
from ..store import dumps
from ..tracking import names
from ..tracking.stores import DbArg, store_for
from ..tracking.validation import MAX_STEP, as_float, as_step, parse_timestamp, utf8
from .card import COMPARISON_SCHEMA, RUN_SCHEMA, VERSION, stored_columns

SCHEMA_FILES = {RUN_SCHEMA: "run-card.schema.json", COMPARISON_SCHEMA: "comparison-card.schema.json"}
# The HTML card carries its JSON card in this element, so a card attached to a pull request can be imported.
_EMBEDDED = re.compile(r'<script type="application/json" id="jt-card">(.*?)</script>', re.S)


@cache
def json_schema(name: str = RUN_SCHEMA) -> dict:
    """The JSON Schema (a dict) of run cards, or of comparison cards with COMPARISON_SCHEMA."""
    # Traversable.joinpath() takes several parts from Python 3.11; the Path that files() gives always did.
    text = resources.files(__package__).joinpath("schema", SCHEMA_FILES[name]).read_text(encoding="utf-8")  # type: ignore[call-arg]
    return json.loads(text)


def validate_card(card: dict) -> None:
    """Raise InvalidArgument when `card` does not follow its schema (needs the jsonschema package)."""
    import jsonschema
    from referencing import Registry, Resource

    kind = card.get("schema") if isinstance(card, dict) else None
    if kind not in SCHEMA_FILES:
        raise InvalidArgument(f"not a jupyter-tracker card (schema {kind!r})")
    registry = Registry().with_resources(
        (SCHEMA_FILES[name], Resource.from_contents(json_schema(name))) for name in SCHEMA_FILES
    )
    validator = jsonschema.Draft202012Validator(json_schema(kind), registry=registry)
    error = jsonschema.exceptions.best_match(validator.iter_errors(card))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(top)"
        raise InvalidArgument(f"invalid run card at {where}: {error.message}")


def load_card(card_or_path: dict | str | os.PathLike) -> dict:
    """A card dict from a dict, a .json card file, or an .html card (its embedded JSON)."""
    if isinstance(card_or_path, dict):
        return card_or_path
    path = Path(card_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidArgument(f"cannot read the card {path}: {exc.strerror or exc}") from None
    if text.lstrip()[:1] != "{":
        match = _EMBEDDED.search(text)
        if match is None:
            raise InvalidArgument(f"{path} is neither a JSON run card nor an HTML card with one inside")
        text = match.group(1)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgument(f"{path} is not valid JSON: {exc}") from None


def _check(card: dict) -> None:
    kind, version = card.get("schema"), card.get("version")
    if kind != RUN_SCHEMA:
        hint = " (a comparison card: import its runs one by one)" if kind == COMPARISON_SCHEMA else ""
        raise InvalidArgument(f"not a run card: schema is {kind!r}{hint}")
    if not isinstance(version, int) or version > VERSION:
        raise InvalidArgument(
            f"this run card has version {version!r}; this jupyter-tracker reads version {VERSION}. "
            "Upgrade: pip install -U jupyter-tracker"
        )
    try:
        validate_card(card)
    except ImportError:  # jsonschema is optional at run time; the checks below still guard the store
        pass


def import_card(card_or_path: dict | str | os.PathLike, db: DbArg = None) -> RunRecord:
    """Recreate the run of a card in the database `db` (a path or Store; default: the configured one).

    The run keeps its uuid, name (numbered when the project already has one), times, params, tags, metrics,
    events, alerts and the records of its artifacts (not their files). A card whose uuid is already in the
    database is refused.
    """
    card = load_card(card_or_path)
    _check(card)
    _check_values(card)
    store = store_for(db, write=True)
    run, timing = card["run"], card["timing"]
    run_id, _ = store.create_run(
        run["project"],
        names.numbered(run["name"]),
        unnumber(timing["created"]),
        uuid=run["uuid"],
        started=unnumber(timing["started"]),
        heartbeat=unnumber(timing["heartbeat"]),
        idle=unnumber(timing.get("idle", 0.0)),  # older cards have none: their duration is their span
        metadata=unfree(card["metadata"]),
        environment=unfree(card["environment"]),
        **stored_columns(card),
    )
    try:
        _fill(store, run_id, card)
    except BaseException:
        store.delete_run(run_id)
        raise
    return RunRecord(store, run_id)


def _check_values(card: dict) -> None:
    """Refuse, before anything is written, what the store cannot hold: steps beyond SQLite's int64, times
    that are not finite, values beyond float64, text that is not UTF-8; the message names the run and key."""
    run = f"run {card['run'].get('name')!r}"
    where = run
    try:
        for field in ("created", "started", "heartbeat", "ended", "idle"):
            where = f"{run}, timing.{field}"
            if card["timing"].get(field) is not None:
                parse_timestamp(unnumber(card["timing"][field]))  # idle too: a finite number of seconds
        for series in card["metrics"]["series"] + card["system"]["series"]:
            where = f"{run}, metric {series['key']!r}"
            utf8(series["key"], "metric key")
            for step in series["step"]:
                if type(step) is not int or not 0 <= step <= MAX_STEP:
                    as_step(step)
            for when in series["time"]:
                if type(when) is not float or not math.isfinite(when):
                    parse_timestamp(unnumber(when))
            for value in series["value"]:
                if type(value) is not float:
                    as_float(series["key"], unnumber(value))
        for number, event in enumerate(card["events"]):
            where = f"{run}, event {number}"
            parse_timestamp(unnumber(event["time"]))
            utf8(event["message"], "message")
    except (InvalidArgument, InvalidMetric) as exc:
        raise InvalidArgument(f"cannot import {where}: {exc}") from None


def _fill(store, run_id: int, card: dict) -> None:
    timing = card["timing"]
    if card["params"]:
        store.set_params(run_id, unfree(card["params"]))
    if card["run"]["tags"]:
        values = card["run"].get("tag_values") or {}  # older cards: plain tags only
        store.add_tags(run_id, {tag: values.get(tag) for tag in card["run"]["tags"]})
    keys, points = [], []
    for key_id, series in enumerate(card["metrics"]["series"] + card["system"]["series"]):
        keys.append((run_id, key_id, series["key"]))
        points += [
            (run_id, key_id, step, unnumber(when), unnumber(value))
            for step, value, when in zip(series["step"], series["value"], series["time"], strict=True)
        ]
    events = [
        (run_id, unnumber(e["time"]), e["level"], e["message"], dumps(unfree(e["extra"])))
        for e in card["events"]
    ]
    heartbeat = unnumber(timing["heartbeat"])
    status = card["run"]["status"]
    if status not in ENDED_STATUSES:
        # A snapshot of a run that was still going: this copy ends where the snapshot does.
        message = f"imported from a card exported at {card['exported']} while the run was still running"
        events.append((run_id, heartbeat, "warning", message, dumps({"snapshot": True})))
    store.write_batch(run_id, keys, points, events, heartbeat)
    alerts = [{**alert, "rule": unfree(alert["rule"])} for alert in card["alerts"]]
    store.restore_records(run_id, card["artifacts"], alerts)
    if status in ENDED_STATUSES:
        # end_run stores the per-key summaries; the times are then put back as the card has them.
        store.end_run(run_id, status, unnumber(timing["ended"]), card["run"]["error"])
        store.update_run(run_id, ended=unnumber(timing["ended"]), heartbeat=heartbeat)
    else:
        store.end_run(run_id, INTERRUPTED, heartbeat, None)
