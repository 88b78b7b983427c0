"""Checking and normalising what users hand to a run: metric keys and values, steps, times, params, tags,
events, folders. Pure functions, no I/O.

This is the door: whatever the writer thread could not store (a step beyond SQLite's int64, a NaN time, text
that is not UTF-8, an object JSON cannot spell) is refused here, in the caller's thread, naming the key.
"""

from __future__ import annotations

import json
import math
import numbers
import shlex
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import SupportsInt, cast

from ..errors import InvalidArgument, InvalidMetric, InvalidParam

MAX_KEY_LENGTH = 250
MAX_STEP = 2**63 - 1  # SQLite's INTEGER is a signed 64-bit integer
MAX_EPOCH_SECONDS = 95_617_584_000  # the year 5000: a larger number is a time in milliseconds


def show(value: object, limit: int = 60) -> str:
    """repr(value), cut to about `limit` characters (a 5,000-digit int cannot even be printed)."""
    try:
        text = repr(value)
    except Exception:
        return f"a {type(value).__name__}"
    return text if len(text) <= limit else text[:limit] + "..."


def utf8(text: str, what: str, error: type[Exception] = InvalidArgument) -> str:
    """`text` when it encodes as UTF-8 (as SQLite stores it); else `error` naming `what` and the character."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise error(
            f"{what} {show(text)} cannot be stored: {exc.object[exc.start : exc.end]!r} at position "
            f"{exc.start} is not valid UTF-8 text (a lone surrogate)"
        ) from None
    return text


# -- metrics --------------------------------------------------------------------------------------------
def check_key(key: object) -> None:
    if not isinstance(key, str) or not key:
        raise InvalidMetric(f"metric keys must be non-empty strings, got {show(key)}")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidMetric(f"metric key {key[:40]!r}... is {len(key)} characters; at most {MAX_KEY_LENGTH}")
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in key):
        raise InvalidMetric(f"metric key {key!r} contains a control character")
    utf8(key, "metric key", InvalidMetric)


def as_float(key: str, value: object) -> float:
    """int, bool, numpy scalars and 0-d tensors (via .item()) become float; anything else is refused.

    NaN and ±inf are kept; an int beyond float64's range is refused rather than turned into inf."""
    kind = type(value)
    if kind is not int and kind is not bool:
        item = getattr(value, "item", None)
        if item is not None and getattr(value, "ndim", 0) == 0 and getattr(value, "size", 1) == 1:
            try:
                value = item()
            except Exception:
                pass
        if isinstance(value, complex) or not isinstance(value, int | float):
            raise InvalidMetric(
                f"metric {key!r} got a {kind.__module__}.{kind.__qualname__}: values must be numbers "
                "(int, float, bool, numpy scalar or 0-d tensor). Log text with run.log_event() or run.log_param()."
            )
    value = cast("int | float", value)  # an int or bool by its type, or checked above
    try:
        return float(value)
    except OverflowError:  # an int beyond float's range
        raise InvalidMetric(
            f"metric {key!r} got an integer of {int(value).bit_length()} bits, beyond float64's range "
            "(about ±1.8e308): values are stored as 64-bit floats"
        ) from None


def as_step(step: object) -> int:
    try:
        whole = int(cast(SupportsInt, step))  # anything int() refuses raises TypeError or ValueError
    except (TypeError, ValueError, OverflowError):  # OverflowError: float("inf")
        raise InvalidArgument(f"step must be a whole number, got {show(step)}") from None
    if whole != step or not 0 <= whole <= MAX_STEP:
        raise InvalidArgument(
            f"step must be a whole number >= 0 and at most 2**63-1 (SQLite's largest integer), got {show(step)}"
        )
    return whole


def auto_step(step: int) -> int:
    """The counter's next step, refused once it has passed 2**63-1 (only an explicit step=2**63-1 does that)."""
    if step > MAX_STEP:
        raise InvalidArgument(
            "the automatic step would be 2**63, past SQLite's largest integer (a point was logged at "
            "step=2**63-1): pass step= explicitly"
        )
    return step


# -- times ----------------------------------------------------------------------------------------------
def as_seconds(seconds: object) -> float:
    """`time=`: seconds since the run started, a finite number."""
    try:
        value = float(cast(float, seconds))
    except (TypeError, ValueError, OverflowError):
        raise InvalidArgument(
            f"time= must be a number of seconds since the run started, got {show(seconds)}"
        ) from None
    if not math.isfinite(value):
        raise InvalidArgument(f"time= must be a finite number of seconds, got {show(seconds)}")
    return value


def point_time(seconds: object, timestamp: object, started: float) -> float:
    """A point's epoch time from `time=` (seconds since `started`) or else `timestamp=`; both finite."""
    if seconds is not None:
        return started + as_seconds(seconds)
    when = parse_timestamp(timestamp)
    if abs(when) >= MAX_EPOCH_SECONDS:  # OpsML and JavaScript count milliseconds
        raise InvalidArgument(
            f"timestamp {show(timestamp)} is past the year 5000 in epoch seconds: if it counts "
            f"milliseconds, pass timestamp={show(timestamp)} / 1000"
        )
    return when


def parse_timestamp(value: object) -> float:
    """Epoch seconds from a datetime, a finite number, or an ISO-8601 string (microseconds kept; naive = UTC)."""
    if isinstance(value, numbers.Real):
        try:
            seconds = float(value)
        except OverflowError:
            seconds = math.inf
        if not math.isfinite(seconds):
            raise InvalidArgument(f"timestamp must be a finite number of epoch seconds, got {show(value)}")
        return seconds
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidArgument(
                f"timestamp {show(value)} is not ISO-8601 (e.g. 2026-01-31T12:00:00.123456)"
            ) from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    raise InvalidArgument(f"timestamp must be a datetime, a number or an ISO-8601 string, got {show(value)}")


# -- params, metadata, event fields: JSON values ---------------------------------------------------------
def _plain(value: object) -> object:
    """json.dumps' `default`: NumPy scalars and arrays (and tensors) as Python values; anything else refused."""
    tolist = getattr(value, "tolist", None)
    if tolist is None or not hasattr(value, "dtype"):
        raise TypeError(f"a {type(value).__module__}.{type(value).__qualname__} is not a JSON value")
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.floating) and value.dtype.itemsize < 8:
        return float(str(value))  # np.float32(0.1) is 0.1, not 0.10000000149011612
    plain = tolist()
    if type(plain) is type(value):  # e.g. a long double: no Python value holds it
        raise TypeError(f"a {type(value).__module__}.{type(value).__qualname__} has no JSON form")
    return plain


def json_text(value: object) -> str:
    """JSON as the store writes it (NaN and infinities kept), NumPy values plain; raises ValueError or
    TypeError (not JSON) or UnicodeEncodeError (not UTF-8)."""
    text = json.dumps(value, ensure_ascii=False, default=_plain)
    text.encode("utf-8")
    return text


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeEncodeError):
        return f"{exc.object[exc.start : exc.end]!r} is not valid UTF-8 text (a lone surrogate)"
    return str(exc)


def clean_params(values: Mapping, what: str = "parameter") -> dict:
    """`values` as the store will hold them: names non-empty UTF-8 strings, values JSON (NumPy scalars become
    Python numbers, arrays lists, tuples lists). Refused with InvalidParam naming the key."""
    if not isinstance(values, Mapping):
        raise InvalidParam(f"{what}s must be given as a dict, got {show(values)}")
    clean = {}
    for key, value in values.items():
        if not isinstance(key, str) or not key:
            raise InvalidParam(f"{what} names must be non-empty strings, got {show(key)}")
        utf8(key, f"{what} name", InvalidParam)
        try:
            clean[key] = json.loads(json_text(value))
        except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
            raise InvalidParam(f"{what} {key!r} cannot be stored: {_reason(exc)}") from None
    return clean


def event_parts(message: object, extra: Mapping[str, object]) -> tuple[str, str]:
    """An event's message text and its extra fields as JSON text, or InvalidArgument naming the field."""
    text = utf8(str(message), "event message")
    try:
        return text, json_text(extra)
    except (TypeError, ValueError):
        pass
    for key, value in extra.items():  # find the field to name
        utf8(key, "event field name")
        try:
            json_text(value)
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(f"event field {key!r} cannot be stored: {_reason(exc)}") from None
    raise InvalidArgument(f"the fields of event {show(text)} cannot be stored")


# -- tags and folders --------------------------------------------------------------------------------------
def normalize_tags(tags: Iterable) -> list[str]:
    """Flatten strings, comma-separated strings and lists into a list of unique, stripped tags."""
    found: dict[str, None] = {}
    for item in tags:
        if isinstance(item, Mapping):  # a list of names would silently drop the values
            raise InvalidArgument(
                f"tags {show(item)} carry values: add key/value tags with run.add_tags({{...}}), "
                "run.add_tags(key=value) or run.set_tag(key, value)"
            )
        if isinstance(item, str):
            parts = item.split(",")
        elif isinstance(item, Iterable) and not isinstance(item, bytes | bytearray):
            parts = normalize_tags(item)
        else:
            raise InvalidArgument(f"tags must be strings or lists of strings, got {show(item)}")
        found.update(dict.fromkeys(utf8(part.strip(), "tag") for part in parts if part.strip()))
    return list(found)


def tag_values(tags: Iterable, pairs: Mapping[str, object] | None = None) -> dict[str, str | None]:
    """Tags as {name: value} for Store.add_tags(): names (strings, comma-separated strings, lists) are plain
    tags (None: a tag the run has keeps its value); a mapping among `tags`, and `pairs`, give key/value tags,
    their values kept as text."""
    found: dict[str, str | None] = {}
    for item in tags:
        if isinstance(item, Mapping):
            found.update(_tag_pairs(item))
        else:
            found.update(dict.fromkeys(normalize_tags([item])))
    found.update(_tag_pairs(pairs or {}))
    return found


def _tag_pairs(pairs: Mapping) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for key, value in pairs.items():
        if not isinstance(key, str) or not key.strip():
            raise InvalidArgument(f"tag names must be non-empty strings, got {show(key)}")
        text = None if value is None else value if isinstance(value, str) else str(value)
        found[utf8(key.strip(), "tag")] = None if text is None else utf8(text, f"value of tag {key!r}")
    return found


def ended_message(name: str, status: str, doing: str = "log more") -> str:
    """Why an ended run refuses `doing`, and how to take it up again (a notebook cell or Python)."""
    if status == "created":  # a Simvue-style Run() whose init() has not been called
        return f"this run has not started yet: call run.init(name=...) first, then {doing}"
    return (
        f"run {name!r} has ended ({status}); resume it to {doing}: `%%track_run --resume {shlex.quote(name)}` "
        f"in a notebook, or `run = jupyter_tracker.reconnect({name!r})` in Python"
    )


def normalize_folder(folder: str | None) -> str:
    if not folder:
        return "/"
    parts = [p for p in utf8(str(folder), "folder").replace("\\", "/").split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise InvalidArgument(f"folder {folder!r} may not contain '.' or '..'")
    return "/" + "/".join(parts)


MAX_NAME_LENGTH = 250


def check_name(name: object) -> str:
    """A run name as it can be looked up again: text, not blank, not all digits (those read as an id), no
    control characters, at most MAX_NAME_LENGTH characters; surrounding spaces are dropped."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(f"name must be non-empty text, got {show(name)}")
    name = utf8(name, "name").strip()
    if name.isdigit():
        raise InvalidArgument(f"name {name!r} is all digits, which reads as a run id: add a letter")
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in name):
        raise InvalidArgument(f"name {name!r} contains a control character")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidArgument(f"name {name[:40]!r}... is {len(name)} characters; at most {MAX_NAME_LENGTH}")
    return name


def not_metrics(given: object) -> str:
    """Why log() cannot take `given` as its metrics (not a mapping), and what to write instead."""
    hint = f" (one metric: run.log_metric({given!r}, value))" if isinstance(given, str) else ""
    return f"log() takes metrics as a dict or as keywords: run.log({{'loss': 0.3}}) or run.log(loss=0.3); got {show(given)}{hint}"
