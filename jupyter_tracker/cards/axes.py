"""Y axes that read well on a small card chart: bytes in binary units from zero, large numbers in SI.

Vega picks decimal ticks over the data's own range, so a memory level that wanders by a few MB around
24.77 GB gets ticks like 24.775G, 24.77G, 24.765G. Byte series instead get three or four ticks at round
binary multiples in one unit (0, 10 GiB, 20 GiB) on an axis that starts at zero; their tooltips use
binary units too.
"""

from __future__ import annotations

import math

from ..jsonsafe import unnumber

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
_NICE = (1, 2, 2.5, 5, 10)
MAX_INTERVALS = 3
BYTE_UNITS = {"bytes": "", "bytes/s": "/s"}


def binary_expr(field: str, suffix: str = "") -> str:
    """A Vega expression writing `field` (bytes) with 3 significant digits in binary units: 1.5 GiB."""
    parts = [
        f"abs({field}) >= {1024**power} ? format({field} / {1024**power}, '.3~r') + ' {_UNITS[power]}{suffix}' : "
        for power in range(len(_UNITS) - 1, 0, -1)
    ]
    return "".join(parts) + f"format({field}, '.3~r') + ' B{suffix}'"


def binary_ticks(top: float) -> tuple[list[float], int]:
    """Ticks from 0 past `top` at a round step in binary units (at most MAX_INTERVALS intervals), and the
    power of 1024 they are labelled in (one unit per axis: 0.5 GiB, 1 GiB rather than 512 MiB, 1 GiB)."""
    if not math.isfinite(top) or top <= 0:
        top = 1024.0
    power = min(max(int(math.log(top, 1024)), 0), len(_UNITS) - 1)
    if top >= 750 * 1024**power and power < len(_UNITS) - 1:  # 0.5 GiB steps read better than 1000 MiB
        power += 1
    unit = 1024**power
    rough = top / unit / MAX_INTERVALS
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(n * magnitude for n in _NICE if n * magnitude >= rough) * unit
    count = max(1, math.ceil(top / step - 1e-9))
    return [i * step for i in range(count + 1)], power


def y_axis(spec: dict, series: dict, unit: str | None) -> dict:
    """`spec` (a single-view line chart) with a y axis fitted to `series` and its stored unit."""
    y = spec.get("encoding", {}).get("y")
    values = [unnumber(v) for v in series["value"]]
    values = [v for v in values if isinstance(v, int | float) and math.isfinite(v)]
    if y is None or not values:
        return spec
    axis = dict(y.get("axis") or {})
    if unit in BYTE_UNITS and min(values) >= 0:
        suffix = BYTE_UNITS[unit]
        ticks, power = binary_ticks(max(values))
        label = f"format(datum.value / {1024**power}, '.3~r') + ' {_UNITS[power]}{suffix}'"
        axis.pop("tickCount", None)
        y["axis"] = {**axis, "values": ticks, "labelExpr": f"datum.value == 0 ? '0' : {label}"}
        y["scale"] = {"domain": [0, ticks[-1]], "nice": False, "zero": True}
        _binary_tooltip(spec, suffix)
    elif min(values) == max(values):
        # A flat line: Vega's one tick over an empty range is rounded (0.871 labelled "1"); give it room.
        pad = abs(values[0]) * 0.05 or 1.0
        y["scale"] = {**(y.get("scale") or {}), "domain": [values[0] - pad, values[0] + pad], "zero": False}
    elif max(abs(v) for v in values) >= 1e5:
        # Large values read better as 1.2G than as 1,200,000,000 on a narrow axis.
        y["axis"] = {**axis, "format": "~s", "tickCount": 3}
    return spec


def _binary_tooltip(spec: dict, suffix: str) -> None:
    tooltip = spec.get("encoding", {}).get("tooltip")
    if not isinstance(tooltip, list):
        return
    shown = {"calculate": binary_expr("datum.value", suffix), "as": "value_text"}
    spec["transform"] = [*spec.get("transform", []), shown]
    for i, item in enumerate(tooltip):
        if isinstance(item, dict) and item.get("field") == "value":
            tooltip[i] = {"field": "value_text", "type": "nominal", "title": "value"}
