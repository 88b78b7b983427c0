"""Checking and normalising what users hand to a run: metric keys and values, steps, params, tags, folders,
timestamps. Pure functions, no I/O."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import SupportsInt, cast

from ..errors import InvalidArgument, InvalidMetric, InvalidParam

MAX_KEY_LENGTH = 250


def check_key(key: object) -> None:
    if not isinstance(key, str) or not key:
        raise InvalidMetric(f"metric keys must be non-empty strings, got {key!r}")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidMetric(f"metric key {key[:40]!r}... is {len(key)} characters; at most {MAX_KEY_LENGTH}")
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in key):
        raise InvalidMetric(f"metric key {key!r} contains a control character")


def as_float(key: str, value: object) -> float:
    """int, bool, numpy scalars and 0-d tensors (via .item()) become float; anything else is refused."""
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
        return math.inf if value > 0 else -math.inf


def as_step(step: object) -> int:
    try:
        whole = int(cast(SupportsInt, step))  # anything int() refuses raises TypeError or ValueError
    except (TypeError, ValueError):
        raise InvalidArgument(f"step must be a whole number, got {step!r}") from None
    if whole != step or whole < 0:
        raise InvalidArgument(f"step must be a whole number >= 0, got {step!r}")
    return whole


def check_param(key: object, value: object) -> None:
    if not isinstance(key, str) or not key:
        raise InvalidParam(f"parameter names must be non-empty strings, got {key!r}")
    try:
        json.dumps(value, ensure_ascii=False)  # what the store will write (NaN and infinities allowed)
    except (TypeError, ValueError) as exc:
        raise InvalidParam(f"parameter {key!r} cannot be stored: {exc}") from None


def normalize_tags(tags: Iterable) -> list[str]:
    """Flatten strings, comma-separated strings and lists into a list of unique, stripped tags."""
    found: dict[str, None] = {}
    for item in tags:
        parts = item.split(",") if isinstance(item, str) else normalize_tags(item)
        found.update(dict.fromkeys(part.strip() for part in parts if part.strip()))
    return list(found)


def normalize_folder(folder: str | None) -> str:
    if not folder:
        return "/"
    parts = [p for p in str(folder).replace("\\", "/").split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise InvalidArgument(f"folder {folder!r} may not contain '.' or '..'")
    return "/" + "/".join(parts)


def parse_timestamp(value) -> float:
    """Epoch seconds from a datetime, a number, or an ISO-8601 string (microseconds kept; naive = UTC)."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidArgument(
                f"timestamp {value!r} is not ISO-8601 (e.g. 2026-01-31T12:00:00.123456)"
            ) from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    raise InvalidArgument(f"timestamp must be a datetime, a number or an ISO-8601 string, got {value!r}")
