"""Streaming downsampling for live charts: per metric key, at most about `max_rows` rows in the browser.

Points are cut into buckets of `width` consecutive points; each bucket shows its minimum and maximum.
When the buckets fill up, neighbours merge and the width doubles (rarely: log2 of the series length), and
the browser gets the whole series again. Otherwise only the buckets touched since the last flush are
resent, so each update is a few rows whatever the length of the run. Memory per key is bounded too.
"""

from __future__ import annotations

import math
from typing import cast


class LiveSeries:
    """One metric's live summary (count, last, min, max) and its downsampled points."""

    __slots__ = (
        "buckets",
        "count",
        "dirty",
        "finite",
        "first_step",
        "last",
        "last_step",
        "high",
        "low",
        "max_buckets",
        "reset",
        "width",
    )

    def __init__(self, max_rows: int = 2000):
        self.max_buckets = max(max_rows // 2, 2)
        self.width = 1
        self.buckets: list[list[tuple]] = []  # [lowest point, highest point]; a point is (step, value, time)
        self.count = 0  # every point, NaN included
        self.finite = 0  # points that can be drawn
        self.last = math.nan
        self.last_step: int | None = None
        self.first_step: int | None = None
        self.low = math.inf
        self.high = -math.inf
        self.dirty: int | None = None  # first bucket changed since the last take()
        self.reset = False  # the bucket width changed: resend everything

    def add(self, step: int, value: float, time: float) -> None:
        self.count += 1
        self.last = value
        self.last_step = step
        if self.first_step is None:
            self.first_step = step
        if value != value or value in (math.inf, -math.inf):
            return
        if value < self.low:
            self.low = value
        if value > self.high:
            self.high = value
        index = self.finite // self.width
        self.finite += 1
        point = (step, value, time)
        buckets = self.buckets
        if index == len(buckets) == self.max_buckets:
            self._merge()
            index = (self.finite - 1) // self.width
        if index == len(buckets):
            buckets.append([point, point])
        else:
            bucket = buckets[index]
            if value < bucket[0][1]:
                bucket[0] = point
            if value > bucket[1][1]:
                bucket[1] = point
        if self.dirty is None or index < self.dirty:
            self.dirty = index

    def _merge(self) -> None:
        old = self.buckets
        merged = []
        for i in range(0, len(old), 2):
            pair = old[i : i + 2]
            low = min((b[0] for b in pair), key=lambda p: p[1])
            high = max((b[1] for b in pair), key=lambda p: p[1])
            merged.append([low, high])
        self.buckets[:] = merged
        self.width *= 2
        self.reset = True

    def rows(self, start: int = 0) -> list[list]:
        """[bucket, step, value, time in ms] for every bucket from `start` on, in step order."""
        out = []
        for index in range(start, len(self.buckets)):
            low, high = self.buckets[index]
            if low is high:
                out.append([index, low[0], low[1], low[2] * 1000.0])
            else:
                first, second = (low, high) if (low[0], low[2]) <= (high[0], high[2]) else (high, low)
                out.append([index, first[0], first[1], first[2] * 1000.0])
                out.append([index, second[0], second[1], second[2] * 1000.0])
        return out

    def take(self) -> dict | None:
        """The change since the last take: {"from": bucket, "rows": [...]} (from 0 after a merge), or None."""
        if self.dirty is None and not self.reset:
            return None
        start = 0 if self.reset else cast(int, self.dirty)  # set, since there is a change
        self.dirty, self.reset = None, False
        return {"from": start, "rows": self.rows(start)}

    def summary(self) -> dict:
        def number(value):
            return value if math.isfinite(value) else None

        return {
            "count": self.count,
            "last": number(self.last) if self.count else None,
            "last_text": None if self.count == 0 or math.isfinite(self.last) else repr(self.last),
            "min": number(self.low),
            "max": number(self.high),
            "step": self.last_step,
        }
