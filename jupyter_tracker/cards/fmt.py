"""Text for people: numbers, bytes, durations, dates and sparkline points for the card templates, and JSON
for a <script> element. Numbers, bytes and durations are textfmt's, for values as a card stores them."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone

from .. import textfmt
from ..jsonsafe import unfree, unnumber

DASH = textfmt.DASH


def script_json(value) -> str:
    """JSON to put inside a <script> element: `<` is written as \\u003c, so no `</script>` or `<!--`."""
    return json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(",", ":")).replace(
        "<", "\\u003c"
    )


def number(value, digits: int = 5) -> str:
    """A card value (NaN and ±inf may come encoded) for reading: 0.01234, 1.235e-07, 12,345, NaN, ∞."""
    return textfmt.number(unnumber(value), digits)


def size(n) -> str:
    """Bytes in binary units: 1.5 KiB, 2.3 GiB."""
    return textfmt.size(unnumber(n))


def duration(seconds) -> str:
    """3h 02m, 4m 05s, 12.3 s, 850 ms."""
    return textfmt.duration(unnumber(seconds))


def active_and_span(active, span, idle) -> str:
    """A duration; for a run resumed after a pause, its active time and its wall-clock span:
    "active 1.6 s (span 2m 01s)"."""
    if not unnumber(idle):
        return duration(active)
    return f"active {duration(active)} (span {duration(span)})"


def with_unit(value, unit: str | None) -> str:
    """A hardware reading with its unit: bytes as KiB/MiB, rates per second, percentages."""
    value = unnumber(value)
    if value is None:
        return DASH
    if unit == "bytes":
        return size(value)
    if unit == "bytes/s":
        return f"{size(value)}/s"
    if unit == "%":
        return f"{number(value, 3)} %"
    return f"{number(value, 4)} {unit}" if unit else number(value)


def offset(seconds) -> str:
    """Time since the start of the run: +0:05, +1:02:03."""
    seconds = unnumber(seconds)
    if seconds is None or not math.isfinite(seconds):
        return ""
    sign = "−" if seconds < 0 else "+"
    minutes, secs = divmod(int(abs(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes}:{secs:02d}"


def date(epoch, *, seconds: bool = False) -> str:
    """2026-01-31 14:05 UTC."""
    epoch = unnumber(epoch)
    if epoch is None or not math.isfinite(epoch):
        return DASH
    stamp = datetime.fromtimestamp(epoch, timezone.utc)
    return stamp.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def value_text(value) -> str:
    """A parameter value as text: strings as they are, everything else as JSON (NaN as NaN)."""
    if isinstance(value, str):
        return value
    return json.dumps(unfree(value), ensure_ascii=False, default=str)


def exported(stamp: str, *, seconds: bool = False) -> str:
    """The card's ISO export time as 2026-01-31 14:05 UTC (the text itself when it is not ISO)."""
    try:
        return date(datetime.fromisoformat(stamp).timestamp(), seconds=seconds)
    except (TypeError, ValueError):
        return str(stamp)


def plural(count: int, word: str) -> str:
    """1 point, 3 points."""
    return f"{count:,} {word}{'s' * (count != 1)}"


_RULE_WORDS: dict[str | None, str] = {
    "is above": "is above {threshold}",
    "is below": "is below {threshold}",
    "is outside range": "is outside {range_low} to {range_high}",
    "is inside range": "is inside {range_low} to {range_high}",
}


def alert_rule(rule) -> str | None:
    """An alert's stored rule as a sentence ("loss is above 1 (mean of 3 points, checked every point)");
    None when the rule is not one the alerts module writes."""
    rule = unfree(rule)
    if not isinstance(rule, dict):
        return None
    window, every = rule.get("window"), rule.get("frequency", 1)
    if not (isinstance(window, int) and isinstance(every, int)) or window < 1 or every < 1:
        return None
    notify = "; calls notify" if rule.get("notify") else ""
    if rule.get("source") == "events" and isinstance(rule.get("pattern"), str):
        last = "the last event" if window == 1 else f"last {window:,}"
        checked = f", checked every {plural(every, 'event')}" if every > 1 else ""
        return f"events match /{rule['pattern']}/ ({last}{checked}){notify}"
    words = _RULE_WORDS.get(rule.get("rule"))
    if rule.get("source", "metrics") != "metrics" or words is None or not isinstance(rule.get("metric"), str):
        return None
    try:
        test = words.format(
            **{k: number(v) for k, v in rule.items() if k in ("threshold", "range_low", "range_high")}
        )
    except KeyError:
        return None
    over = "last point" if window == 1 else f"mean of {window:,} points"
    checked = "every point" if every == 1 else f"every {plural(every, 'point')}"
    return f"{rule['metric']} {test} ({over}, checked {checked}){notify}"


def nonfinite(series: dict) -> int:
    """Points of the series that are NaN or infinite (counted over all points when the card says)."""
    count = series.get("nonfinite")
    return count if count is not None else sum(1 for v in series["value"] if isinstance(v, str))


def kinds(series: dict) -> str:
    """ "NaN", "infinite" or "NaN or infinite": what the series' non-finite points are, where it is known."""
    seen = {v for v in series["value"] if isinstance(v, str)}
    if series["downsampled"] or not seen or ("NaN" in seen and len(seen) > 1):
        return "NaN or infinite"
    return "NaN" if seen == {"NaN"} else "infinite"


def sparkline(values: list, width: int = 120, height: int = 32) -> dict | None:
    """The points of a tiny line of `values` (non-finite ones skipped) for the sparkline macro; None with
    fewer than two finite values."""
    points = [(i, v) for i, v in enumerate(unnumber(v) for v in values) if v is not None and math.isfinite(v)]
    if len(points) < 2:
        return None
    if len(points) > width:  # one point per pixel is all a sparkline can show
        stride = len(points) / width
        points = [points[int(i * stride)] for i in range(width)] + [points[-1]]
    lo = min(v for _, v in points)
    hi = max(v for _, v in points)
    first, last = points[0][0], points[-1][0]
    span_x = max(last - first, 1)
    span_y = (hi - lo) or 1.0
    pad = 2

    def xy(i, v):
        x = (i - first) / span_x * (width - 2 * pad) + pad
        y = height - pad - (v - lo) / span_y * (height - 2 * pad)
        return f"{x:.1f}", f"{y:.1f}"

    line = " ".join(",".join(xy(i, v)) for i, v in points)
    return {"width": width, "height": height, "points": line, "end": xy(*points[-1])}


def tag_labels(run: dict) -> list[str]:
    """A card's tags as shown: `name`, or `name=value` for a key/value tag (older cards have no values)."""
    return textfmt.tag_labels(run["tags"], run.get("tag_values") or {})
