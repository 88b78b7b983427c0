"""Stand-ins shared by tests that need part of a Run without a database."""

from __future__ import annotations

from jupyter_tracker.models import RunInfo

T0 = 1_700_000_000.0


class FakeRun:
    """What LiveDisplay and LivePanel use of a Run: `info` and `subscribe()`; `deliver()` plays the writer
    thread handing a written batch to the listeners."""

    def __init__(self, **info):
        fields = dict(id=3, uuid="f" * 32, project="proj", name="fake", status="finished", created=T0)
        fields.update(started=T0, ended=T0 + 65, params={"lr": 0.01}, tags=("cnn",))
        self.info = RunInfo(**{**fields, **info})
        self.listeners: list = []

    def subscribe(self, callback):
        self.listeners.append(callback)
        return lambda: self.listeners.remove(callback) if callback in self.listeners else None

    def deliver(self, points=(), events=(), status="running"):
        for listener in list(self.listeners):
            listener(list(points), list(events), status)
