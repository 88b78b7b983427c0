"""Reading an open run back while it runs: `run.metrics()`, `run.events()`, `run.summary()`, `run.export()`...

A mixin of Run: each verb reads the run as stored, through `record()` (a RunRecord of the reading wing,
reached through the package's facade: the reading side sits above tracking).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import config
from ..frames import DataFrame


class ReadBack:
    """Mixin of Run: read what the run has stored so far. Expects `id`, `name`, `store` and `flush()`."""

    id: int
    name: str
    store: Any

    def flush(self, timeout: float | None = 30.0) -> bool:  # Run's own, declared for type checkers
        raise NotImplementedError

    def record(self) -> Any:  # a RunRecord (not named here: see the module's docstring)
        """This run as stored (a RunRecord): metrics(), events(), summary(), hardware(), alerts(), export()."""
        from .. import load_run

        return load_run(self.id, db=self.store)

    def metrics(self, keys: Iterable[str] | str | None = None, *, system: bool = False) -> DataFrame:
        """Long DataFrame of the points written so far; see RunRecord.metrics()."""
        return self.record().metrics(keys, system=system)

    def events(self) -> DataFrame:
        """DataFrame of the events written so far; see RunRecord.events()."""
        return self.record().events()

    def alerts(self) -> DataFrame:
        """DataFrame of the run's alerts; see RunRecord.alerts()."""
        return self.record().alerts()

    def summary(self, *, system: bool = False) -> DataFrame:
        """One row per metric key; see RunRecord.summary()."""
        return self.record().summary(system=system)

    def hardware(self) -> dict:
        """The hardware summary; see RunRecord.hardware()."""
        return self.record().hardware()

    def export(self, path: config.PathArg | None = None, format: str | None = None) -> Path:
        """Write the run card (see RunRecord.export); while the run is open, a snapshot of all logged so far."""
        if not self.flush():
            warnings.warn(
                f"run {self.name!r}: points logged in the last moments were not written yet (the database is "
                "busy); the card may miss them",
                stacklevel=2,
            )
        return self.record().export(path, format)
