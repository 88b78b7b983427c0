"""Text for people, shared by the terminal, the notebook fallbacks and the run cards: numbers, bytes,
durations and aligned plain-text tables."""

from __future__ import annotations

import math
from datetime import datetime, timezone

DASH = "–"


def number(value, digits: int = 5) -> str:
    """A metric value for reading: 0.01234, 1.235e-07, 12,345, NaN, ∞ (None: a dash)."""
    if value is None:
        return DASH
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if value.is_integer() and abs(value) < 1e15:
            value = int(value)
    if isinstance(value, int):
        return f"{value:,}"
    if value != 0 and (abs(value) >= 10**digits or abs(value) < 1e-3):
        mantissa, exponent = f"{value:.{digits - 2}e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{exponent}"
    text = f"{value:.{digits}g}"
    return f"{round(value):,}" if "e" in text else text  # 99999.7 rounds up to 1e+05 otherwise


def size(n) -> str:
    """Bytes in binary units: 1.5 KiB, 2.3 GiB."""
    if n is None or not math.isfinite(n):
        return DASH
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return DASH  # pragma: no cover


def duration(seconds) -> str:
    """3h 02m, 4m 05s, 12.3 s, 850 ms."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:  # < 0: the clock went back
        return DASH
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours:02d}h"
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def tag_labels(names, values) -> list[str]:
    """Tags as shown: `name`, or `name=value` for a key/value tag (`values`: name -> value or None)."""
    return [name if values.get(name) is None else f"{name}={values[name]}" for name in names]


def text_table(header: list[str], rows: list[list[str]], indent: str = "") -> list[str]:
    """Lines of columns padded to their widest cell: the first column and text columns left-aligned,
    columns of numbers right-aligned."""
    columns = list(zip(header, *rows, strict=True))
    widths = [max(len(str(cell)) for cell in column) for column in columns]
    right = [i > 0 and all(_numeric(str(cell)) for cell in column[1:]) for i, column in enumerate(columns)]

    def line(cells) -> str:
        padded = (
            str(c).rjust(w) if r else str(c).ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        )
        return (indent + "  ".join(padded)).rstrip()

    return [line(header), *map(line, rows)]


def _numeric(text: str) -> bool:
    if text in (DASH, "-", "NaN", "∞", "−∞"):
        return True
    head = text.split(" ")[0].replace(",", "")
    try:
        float(head)
    except ValueError:
        return False
    return True


def local_time(epoch) -> str:
    """Local time with its zone: 2024-05-01 14:03:12 CEST (None or NaN: a dash)."""
    if epoch is None or epoch != epoch:
        return DASH
    return datetime.fromtimestamp(float(epoch), timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def stamp(value) -> str:
    """local_time() of a pandas/datetime timestamp (NaT and None: a dash)."""
    return DASH if value is None or value != value else local_time(value.timestamp())


def runs_table(frame, metrics: int = 3) -> list[str]:
    """The lines of a runs() DataFrame as a terminal table, with its first `metrics` metric columns."""
    return text_table(*runs_cells(frame, metrics))


def runs_cells(frame, metrics: int = 3) -> tuple[list[str], list[list[str]]]:
    """(header, rows of text) of runs_table(): the terminal's table and the notebook's HTML one alike."""
    metric_columns = [c for c in frame.columns if c.startswith("metrics.")][:metrics]
    header = ["id", "project", "name", "status", "started", "duration", "tags"]
    header += [column.removeprefix("metrics.") for column in metric_columns]
    rows = [
        [
            str(row["id"]),
            str(row["project"]),
            str(row["name"]),
            str(row["status"]),
            stamp(row["started"]),
            duration(row["duration"]),
            ",".join(row["tags"]) if isinstance(row["tags"], list | tuple) else str(row["tags"] or ""),
            *(number(None if row[c] != row[c] else row[c], 4) for c in metric_columns),
        ]
        for _, row in frame.iterrows()
    ]
    return header, rows
