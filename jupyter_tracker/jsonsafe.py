"""Numbers JSON cannot spell, written one way wherever JSON leaves Python (cards, the server, widgets).

NaN, +inf and -inf become the strings "NaN", "Infinity" and "-Infinity" (JavaScript's own spellings), so
strict JSON parsers accept the document and the values come back. Where a value is free-form and a string
"NaN" could be meant literally (params, metadata), `free` tags the number instead: {"$float": "NaN"}.
"""

from __future__ import annotations

import math
from typing import Any

WORDS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def number(value: Any) -> Any:
    """A JSON-safe number: non-finite floats become "NaN", "Infinity" or "-Infinity"; None stays None."""
    if value is None or isinstance(value, bool | int) or math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def unnumber(value: Any) -> Any:
    """The inverse of `number`."""
    return WORDS[value] if isinstance(value, str) else value


def safe(value: Any) -> Any:
    """`value` with every non-finite float inside it (dicts, lists, tuples) written as `number` writes it."""
    if isinstance(value, float):
        return number(value)
    if isinstance(value, dict):
        return {str(k): safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe(v) for v in value]
    return value


def free(value: Any) -> Any:
    """A free-form JSON value with non-finite floats tagged as {"$float": "NaN"} (tuples become lists)."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": number(value)}
    if isinstance(value, dict):
        return {str(k): free(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [free(v) for v in value]
    return value


def unfree(value: Any) -> Any:
    """The inverse of `free`."""
    if isinstance(value, dict):
        if len(value) == 1 and value.get("$float") in WORDS:
            return WORDS[value["$float"]]
        return {k: unfree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unfree(v) for v in value]
    return value
