"""The series a comparison shown in JupyterLab asks for later, answered by the kernel that showed it.

A comparison's output carries the series of its first runs; selecting another run in JupyterLab makes our
extension open a comm (target COMM_TARGET) with the output's `source`, a metric and run ids. The kernel
looks the comparison up by that token (a saved notebook never holds a path of the user's) and answers
with the packed series, or names the runs it cannot give. A new kernel knows no token: the extension then
says the series are not saved.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from typing import TYPE_CHECKING

from .widgets.saved import series_of

if TYPE_CHECKING:
    from ..reading.comparison import Comparison

COMM_TARGET = "jupyter_tracker.series"
KEEP = 50  # comparisons remembered per kernel (each holds its store and the series read so far)
_shown: OrderedDict[str, Comparison] = OrderedDict()
_registered = False


def remember(comparison: Comparison) -> str:
    """A token for `comparison`, and the comm target that answers for it (registered once)."""
    token = secrets.token_hex(8)
    _shown[token] = comparison
    while len(_shown) > KEEP:
        _shown.popitem(last=False)
    _register()
    return token


def _register() -> None:
    global _registered
    if _registered:
        return
    try:
        from comm import get_comm_manager

        get_comm_manager().register_target(COMM_TARGET, _on_open)
        _registered = True
    except Exception:  # no comm machinery (a terminal): the saved series are all there is
        pass


def answer(request: dict) -> dict:
    """The reply to {source, metric, runs}: {"type": "series", metric, data: {run: packed}, failed: [...]}"""
    metric = str(request.get("metric", ""))
    runs = [str(run) for run in request.get("runs", [])]
    reply: dict = {"type": "series", "metric": metric, "data": {}, "failed": runs}
    comparison = _shown.get(str(request.get("source", "")))
    if comparison is None or metric not in comparison.metrics:
        return reply
    known = {str(run): run for run in comparison.runs}
    wanted = [known[run] for run in runs if run in known]
    try:
        data = series_of(comparison, metric, wanted)
    except Exception:
        return reply
    reply["data"] = data
    reply["failed"] = [run for run in runs if run not in data]
    return reply


def _on_open(comm, message) -> None:
    try:
        comm.send(answer(message["content"]["data"]))
    finally:
        comm.close()
