"""`%track_runs` in a notebook: the table of `jupyter-tracker ls` (same columns, same text) as compact HTML.

Clicking a header sorts by that column (a few lines of inline script; numbers, times and durations sort by
value). Where scripts do not run (GitHub, nbviewer, an untrusted notebook) it is the same table, unsorted;
the text/plain part is exactly what the terminal prints.
"""

from __future__ import annotations

import math
import uuid

from .. import templating
from ..textfmt import runs_cells, text_table

MISSING = -1e308  # the sort key of an empty cell: first when ascending


def runs_bundle(frame, path, metrics: int = 3) -> dict:
    """The mime bundle of a runs() DataFrame: HTML table and terminal text; "no runs in PATH" when empty."""
    if frame.empty:
        return {"text/plain": f"no runs in {path}"}
    header, rows = runs_cells(frame, metrics)
    keys = _sort_keys(frame, metrics)
    cells = [
        [{"text": text, "key": key} for text, key in zip(row, row_keys, strict=True)]
        for row, row_keys in zip(rows, keys, strict=True)
    ]
    html = templating.render(
        __package__, "runs.html.j2", header=header, rows=cells, table_id=f"jt-runs-{uuid.uuid4().hex[:12]}"
    )
    return {"text/html": html, "text/plain": "\n".join(text_table(header, rows))}


def _sort_keys(frame, metrics: int) -> list[list[float | None]]:
    """Per cell, the number it sorts by (id, started, duration, metrics), or None to sort by its text; the
    columns of textfmt.runs_cells()."""
    metric_columns = [c for c in frame.columns if c.startswith("metrics.")][:metrics]
    keyed = []
    for _, row in frame.iterrows():
        started = row["started"]
        when = None if started is None or started != started else started.timestamp()
        keys = [float(row["id"]), None, None, None, _number(when), _number(row["duration"]), None]
        keyed.append(keys + [_number(row[c]) for c in metric_columns])
    return keyed


def _number(value) -> float:
    """A finite float to sort by; an empty cell (None, NaN) sorts first."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return MISSING
    return max(min(float(value), 1e307), -1e307)  # infinities as the largest numbers the script can parse
