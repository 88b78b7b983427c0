"""Alerts: rules over a metric's recent points, or a pattern over events, checked off the caller's thread.

Rules are evaluated on the run's writer thread after each written batch (through `Run.subscribe`), so
`run.log()` pays nothing for them. A change of state is stored (ok/critical with its time), recorded as
an event (level "critical" with extra {"alert": name, "state": "critical"}, or "info" with state "ok"
when it clears), and handed to the optional `notify` callable on a thread of its own: whatever the
callable does or raises never reaches the cell.

`window` and `frequency` are a number of points (`window=5`) or a duration (`window="5m"`, "30s", "2h",
a timedelta): the points (or events) of the last five minutes, a check at most every so often. Durations
are measured on the points' own times. Simvue counts both in minutes: `window=5` there is `window="5m"` here.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeGuard

from ..errors import InvalidArgument

RULES = ("is above", "is below", "is outside range", "is inside range")
SOURCES = ("metrics", "events")
OK, CRITICAL = "ok", "critical"
_DURATION = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|sec|m|min|h|d)$")
_UNITS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def span(value: object, label: str) -> int | str:
    """An alert's window or frequency as stored: a number of points (an int >= 1), or a duration as text
    ('30s', '5m', '2h'; a timedelta becomes seconds); anything else is refused."""
    if isinstance(value, timedelta) and value.total_seconds() > 0:
        return f"{value.total_seconds():g}s"
    if type(value) is int and value >= 1:
        return value
    if isinstance(value, str) and (seconds_of(value.strip().lower()) or 0) > 0:
        return value.strip().lower()
    raise InvalidArgument(
        f"alert {label} is a number of points, at least 1, or a duration such as '30s', '5m' or '2h'; got "
        f"{value!r}"
        + (" (a number of seconds needs its unit: '30s')" if isinstance(value, float | str) else "")
    )


def seconds_of(value: object) -> float | None:
    """The seconds of a duration ('5m' -> 300.0); None for a number of points or text that is not one."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    return float(match[1]) * _UNITS[match[2]] if match else None


@dataclass(frozen=True)
class AlertChange:
    """What a `notify` callable receives when an alert changes state."""

    run: str
    alert: str
    state: str
    value: float | None
    message: str
    time: float


class _Rule:
    """One alert's definition and its evaluation state (touched only by the writer thread)."""

    def __init__(self, name: str, spec: dict, notify: Callable | None):
        self.name, self.spec, self.notify = name, spec, notify
        self.seconds = seconds_of(spec["window"])  # a time window holds (time, item); else the last N items
        self.window: deque = deque(maxlen=None if self.seconds else spec["window"])
        self.every = seconds_of(spec["frequency"])
        self.checked: float | None = None  # when a time-based frequency last checked
        self.seen = 0
        self.state = OK
        self.pattern = re.compile(spec["pattern"]) if spec["source"] == "events" else None

    def feed(self, item, when: float):
        """Take one value (or event message); on a change, (new state, window value, time, items averaged)."""
        if self.pattern is not None:
            self.add(self.pattern.search(item) is not None, when)
        elif math.isnan(item):  # NaN has no order: it neither raises nor clears an alert
            return None
        else:
            self.add(item, when)
        self.seen += 1
        if not self._due(when):
            return None
        items = self.items()
        if self.pattern is not None:
            value = float(sum(items))
            critical = value > 0
        else:
            value = sum(items) / len(items)
            critical = _breaks(self.spec, value)
        state = CRITICAL if critical else OK
        if state == self.state:
            return None
        self.state = state
        return state, value, when, len(items)

    def add(self, item, when: float) -> None:
        if self.seconds is None:
            self.window.append(item)
            return
        self.window.append((when, item))
        horizon = when - self.seconds
        while self.window[0][0] < horizon:
            self.window.popleft()

    def items(self) -> list:
        return [item for _, item in self.window] if self.seconds is not None else list(self.window)

    def _due(self, when: float) -> bool:
        """Whether to check now: every `frequency` points, or at most once per `frequency` duration."""
        if self.every is None:
            return self.seen % self.spec["frequency"] == 0
        if self.checked is not None and when - self.checked < self.every:
            return False
        self.checked = when
        return True

    def describe(self, state: str, value: float, n: int) -> str:
        spec = self.spec
        if self.pattern is not None:
            if state == CRITICAL:
                return f"alert {self.name!r}: an event matched /{spec['pattern']}/"
            return f"alert {self.name!r} back to ok: no event matched /{spec['pattern']}/ in the last {self._span()}"
        if spec["rule"] in ("is above", "is below"):
            bound = f"{spec['threshold']:g}"
        else:
            bound = f"[{spec['range_low']:g}, {spec['range_high']:g}]"
        points = f"{n} point{'s' * (n != 1)}"
        over = points if self.seconds is None else f"{spec['window']} ({points})"
        where = f"{spec['metric']} averaged {value:.6g} over the last {over}"
        if state == CRITICAL:
            return f"alert {self.name!r}: {where}, which {spec['rule']} {bound}"
        return f"alert {self.name!r} back to ok: {where} (rule: {spec['rule']} {bound})"

    def _span(self) -> str:
        window = self.spec["window"]
        return window if self.seconds is not None else f"{window} event{'s' * (window != 1)}"


def _breaks(spec: dict, value: float) -> bool:
    rule = spec["rule"]
    if rule == "is above":
        return value > spec["threshold"]
    if rule == "is below":
        return value < spec["threshold"]
    inside = spec["range_low"] <= value <= spec["range_high"]
    return inside if rule == "is inside range" else not inside


def alert_spec(
    source: str,
    metric: str | None,
    rule: str | None,
    threshold: float | None,
    range_low: float | None,
    range_high: float | None,
    window: int | str | timedelta,
    frequency: int | str | timedelta,
    pattern: str | None,
) -> dict:
    """Validate an alert's arguments and return its stored definition."""
    if source not in SOURCES:
        raise InvalidArgument(f"alert source must be 'metrics' or 'events', got {source!r}")
    spec = {"source": source, "window": span(window, "window"), "frequency": span(frequency, "frequency")}
    if source == "events":
        if not isinstance(pattern, str) or not pattern:
            raise InvalidArgument("an events alert needs pattern='regular expression'")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidArgument(f"alert pattern {pattern!r} is not a regular expression: {exc}") from None
        return {**spec, "pattern": pattern}
    if not isinstance(metric, str) or not metric:
        raise InvalidArgument("a metrics alert needs metric='<metric key>'")
    if rule not in RULES:
        raise InvalidArgument(f"alert rule must be one of {', '.join(map(repr, RULES))}; got {rule!r}")
    if rule in ("is above", "is below"):
        if not _is_number(threshold):
            raise InvalidArgument(f"rule {rule!r} needs a numeric threshold=")
        return {**spec, "metric": metric, "rule": rule, "threshold": float(threshold)}
    if not (_is_number(range_low) and _is_number(range_high)) or range_low > range_high:
        raise InvalidArgument(f"rule {rule!r} needs numeric range_low <= range_high")
    return {
        **spec,
        "metric": metric,
        "rule": rule,
        "range_low": float(range_low),
        "range_high": float(range_high),
    }


def _is_alert_event(extra) -> bool:
    if isinstance(extra, str):
        if '"alert' not in extra:  # cheap test first: most events are not alerts
            return False
        extra = json.loads(extra)
    return isinstance(extra, dict) and ("alert" in extra or "alert_notify" in extra)


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


class RunAlerts:
    """The alerts of an open run: what `run.add_alert()` declares and the writer thread checks.

    Contract: `run` is the Run it serves; this reads its `store`, `id` and `name`, records through its
    `_log_event()`, and listens to each written batch through its `subscribe()`."""

    def __init__(self, run):
        self._run = run
        self._rules: dict[str, _Rule] = {}

    def add(
        self,
        name: str,
        source: str = "metrics",
        *,
        metric: str | None = None,
        rule: str | None = None,
        threshold: float | None = None,
        range_low: float | None = None,
        range_high: float | None = None,
        window: int | str | timedelta = 5,
        frequency: int | str | timedelta = 1,
        pattern: str | None = None,
        notify: Callable[[AlertChange], object] | None = None,
    ) -> dict:
        """Watch a metric or the events; adding a name again with another rule replaces that alert.

        Metrics: the mean of the metric's last `window` points (fewer at the start; NaN skipped), or of
        its points in the last `window` duration ("30s", "5m", "2h"), is tested against `rule` ('is
        above'/'is below' `threshold`, 'is outside range'/'is inside range' `range_low`..`range_high`)
        every `frequency` points (or at most once per `frequency` duration). Events (`source="events"`):
        critical while any of the last `window` events (or those of the last `window` duration) matches
        the regular expression `pattern` (alert events excepted).
        `notify(change)` gets an AlertChange on each change of state, on a thread of its own."""
        if not isinstance(name, str) or not name:
            raise InvalidArgument("an alert needs a name")
        if notify is not None and not callable(notify):
            raise InvalidArgument("notify must be a callable (or None)")
        spec = alert_spec(source, metric, rule, threshold, range_low, range_high, window, frequency, pattern)
        rules = dict(self._rules)
        first = not rules
        same = rules.get(name) is not None and rules[name].spec == spec
        # The same rule declared again (a re-run cell, a resumed run) keeps its state and window.
        self._run.store.put_alert(
            self._run.id, name, {**spec, "notify": notify is not None}, time.time(), reset=not same
        )
        if same:
            rules[name].notify = notify
            return dict(spec)
        rules[name] = _Rule(name, spec, notify)
        self._rules = rules  # replaced whole: the writer thread reads it without a lock
        if first:
            self._run.subscribe(self._check)
        return dict(spec)

    def rearm(self) -> None:
        """Take up the alerts a resumed run had: their state, and a window refilled from its stored
        points or events, so a rule carries on across cells. Callbacks are not stored: pass `notify=` again.
        A stored rule this version cannot read (an imported card's) is left out, with a warning event."""
        rules = {}
        events = None
        for row in self._run.store.alerts(self._run.id):
            stored = row["rule"]
            try:
                spec = alert_spec(  # type: ignore[call-arg]  # the five rule fields are star-unpacked
                    stored.get("source", "metrics"),
                    *(stored.get(k) for k in ("metric", "rule", "threshold", "range_low", "range_high")),
                    stored.get("window", 5),
                    stored.get("frequency", 1),
                    stored.get("pattern"),
                )
            except (InvalidArgument, AttributeError) as exc:
                self._run._log_event(
                    f"alert {row['name']!r} not re-armed: {exc}", "warning", alert_notify=row["name"]
                )
                continue
            rule = _Rule(row["name"], spec, None)
            rule.state = row["state"]
            if rule.pattern is None and rule.seconds is not None:
                for when, value in self._run.store.values_within(self._run.id, spec["metric"], rule.seconds):
                    rule.add(value, when)
            elif rule.pattern is None:
                rule.window.extend(
                    self._run.store.recent_values(self._run.id, spec["metric"], spec["window"])
                )
            else:
                if events is None:
                    events = [
                        (when, message)
                        for when, _, message, extra in self._run.store.events(self._run.id)
                        if not _is_alert_event(extra)
                    ]
                for when, message in events if rule.seconds is not None else events[-spec["window"] :]:
                    rule.add(rule.pattern.search(message) is not None, when)
            rules[rule.name] = rule
        if rules:
            self._rules = rules
            self._run.subscribe(self._check)

    def _check(self, points: list, events: list, status: str) -> None:
        """Writer-thread listener: feed the batch to every rule and act on each change of state."""
        rules = self._rules
        changes = []
        by_metric: dict[str, list[_Rule]] = {}
        watch_events = []
        for rule in rules.values():
            if rule.pattern is None:
                by_metric.setdefault(rule.spec["metric"], []).append(rule)
            else:
                watch_events.append(rule)
        if by_metric and points:
            for key, _step, value, when in points:
                for rule in by_metric.get(key, ()):
                    change = rule.feed(value, when)
                    if change:
                        changes.append((rule, *change))
        if watch_events and events:
            for when, _level, message, extra in events:
                if _is_alert_event(extra):  # never match the alerts' own events
                    continue
                for rule in watch_events:
                    change = rule.feed(message, when)
                    if change:
                        changes.append((rule, *change))
        for rule, state, value, when, n in changes:
            self._changed(rule, state, value, when, n)

    def _changed(self, rule: _Rule, state: str, value: float, when: float, n: int) -> None:
        message = rule.describe(state, value, n)
        self._run.store.set_alert_state(self._run.id, rule.name, state, when)
        level = "critical" if state == CRITICAL else "info"
        self._run._log_event(message, level, timestamp=when, alert=rule.name, state=state, value=value)
        if rule.notify is not None:
            change = AlertChange(self._run.name, rule.name, state, value, message, when)
            threading.Thread(
                target=self._notify, args=(rule.notify, change), name=f"alert-{rule.name}", daemon=True
            ).start()

    def _notify(self, notify: Callable, change: AlertChange) -> None:
        try:
            notify(change)
        except Exception as exc:
            try:
                self._run._log_event(
                    f"alert {change.alert!r}: notify callback failed: {type(exc).__name__}: {exc}",
                    "warning",
                    alert_notify=change.alert,
                )
            except Exception:
                pass
