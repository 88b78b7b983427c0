"""The watermark of a pushed run, and how two records of it combine.

A watermark says what the server already has: per metric key the last point sent as [step, time, count]
(`keys`), the params and tags sent (`params`, `tags`: {key: text}), the artifact files sent (`artifacts`:
{name: sha256}), the status and name (`state`), which card was uploaded (`card`), the remote run's artifact
URI, and `done`, what the run looked like when a push last left nothing behind.

Two pushers of one run (the live mirror's thread and a `push()`, or two processes) each record only what
the server acknowledged to them. Combining their records keeps the further point of every key (everything
up to it was sent by one of them), the union of what else they sent, and forgets a value they disagree on,
so that the next push sends it again: a record may claim too little (sent twice, kept once by MLflow),
never too much.
"""

from __future__ import annotations

from typing import Any

KEYS = "keys"
PARAMS = "params"
NEVER_SENT: tuple[int, float, int] = (-1, 0.0, 0)  # the mark of a key none of whose points went yet


def combined(stored: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """What the server has, from the watermark `stored` (written by another pusher since we read it) and
    ours, both of the same remote run."""
    out = dict(stored)
    for name, value in ours.items():
        if name not in out:
            out[name] = value
        elif name == KEYS:
            out[name] = _further_points(out[name], value)
        elif name == PARAMS:  # MLflow keeps a param's first value: the one stored went first
            out[name] = {**value, **out[name]}
        elif isinstance(value, dict) and isinstance(out[name], dict):
            out[name] = _agreed(out[name], value)
        elif out[name] != value:
            del out[name]
    return out


def _further_points(stored: dict[str, list], ours: dict[str, list]) -> dict[str, list]:
    out = dict(stored)
    for key, mark in ours.items():
        other = out.get(key)
        if other is None or tuple(mark[:2]) > tuple(other[:2]):
            out[key] = mark
        elif tuple(mark[:2]) == tuple(other[:2]) and mark[2] != other[2]:
            del out[key]  # the store changed between the two reads: send the key again
    return out


def _agreed(stored: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    out = {**stored, **ours}
    for key in stored.keys() & ours.keys():
        if stored[key] != ours[key]:
            del out[key]
    return out
