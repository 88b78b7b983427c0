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


def not_databases(folder) -> dict[str, str]:
    """Paths in `folder` that are not jupyter-tracker databases (a text file, an empty file, another
    program's SQLite file, a folder), each with the words that say why."""
    import sqlite3

    (folder / "notes.txt").write_text("my notes, not a database\n" * 50)
    (folder / "empty.db").touch()
    foreign = sqlite3.connect(folder / "other-app.db")
    foreign.execute("CREATE TABLE notes (text TEXT)")
    foreign.commit()
    foreign.close()
    (folder / "a-folder").mkdir()
    return {
        "notes.txt": "not a SQLite file",
        "empty.db": "it is an empty file",
        "other-app.db": "it holds another program's tables: notes",
        "a-folder": "is a folder",
    }
