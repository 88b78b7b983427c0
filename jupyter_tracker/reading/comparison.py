"""Comparing runs: the table (one row per run: name, status, started, duration, params, and the last, min
and max of each metric) and the metric series to overlay. Reads through the Store's read methods only.

`Comparison` is what a notebook displays: its mime bundle (widget plus static fallback) comes from
display.py, imported when first shown, so this module loads without IPython.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .. import config
from ..charts.downsample import downsample
from ..charts.vega import MAX_POINTS
from ..errors import InvalidArgument
from ..frames import DataFrame
from ..models import SYSTEM_PREFIX, RunInfo
from ..store import Store
from ..tracking.stores import DbArg, store_for

if TYPE_CHECKING:
    import altair as alt

STATS = ("last", "min", "max")


def compare(
    runs: Iterable | int | str | None = None,
    *,
    project: str | None = None,
    tags: str | Iterable[str] | None = None,
    status: str | Iterable[str] | None = None,
    folder: str | None = None,
    metrics: str | Iterable[str] | None = None,
    last: int | None = None,
    db: DbArg = None,
) -> Comparison:
    """Compare runs given by id, name or uuid, or every run matching project/tags/status/folder (newest first;
    `last=N` keeps the N newest). `metrics` limits the metric columns. In a notebook it shows a widget."""
    store = store_for(db, write=False)
    if runs is not None:
        refs = [runs] if isinstance(runs, int | str) else list(runs)
        found = {store.find_run(ref, project).id for ref in refs}
        infos = store.list_runs(
            project=project, status=status, tags=tags or None, folder=folder, ids=found, limit=last
        )
    else:
        infos = store.list_runs(project=project, status=status, tags=tags or None, folder=folder, limit=last)
    wanted = [metrics] if isinstance(metrics, str) else (list(metrics) if metrics else None)
    return Comparison(store, infos, wanted)


class Comparison:
    """Runs side by side. `.frame` is the table as a DataFrame, `.runs` the run ids (table order)."""

    def __init__(self, store: Store, infos: Iterable[RunInfo], metrics: list[str] | None = None):
        self.store = store
        self.infos = list(infos)
        self.runs = [info.id for info in self.infos]
        self._summaries = store.summaries(self.runs)
        if metrics and self.runs:
            logged = {key for per_key in self._summaries.values() for key in per_key}
            missing = [m for m in metrics if m not in logged]
            if missing:
                raise InvalidArgument(
                    f"no compared run logged {', '.join(map(repr, missing))}; "
                    f"the metrics are {', '.join(self._metric_keys()) or 'none'}"
                )
        self.metrics = metrics or self._metric_keys()
        self.frame = self._frame()
        self._series: dict[tuple[int, str], DataFrame] = {}

    def _metric_keys(self) -> list[str]:
        seen: dict[str, int] = {}
        for per_key in self._summaries.values():
            for key in per_key:
                if not key.startswith(SYSTEM_PREFIX):
                    seen[key] = seen.get(key, 0) + 1
        # Metrics most runs share first, then in the order they were first logged.
        order = {key: i for i, key in enumerate(seen)}
        return sorted(seen, key=lambda k: (-seen[k], order[k]))

    def _frame(self) -> DataFrame:
        import pandas as pd

        param_keys: dict[str, None] = {}
        for info in self.infos:
            param_keys.update(dict.fromkeys(info.params))
        columns = ["id", "name", "project", "status", "started", "duration", "tags"]
        columns += [f"params.{k}" for k in param_keys]
        columns += [f"metrics.{m}.{s}" for m in self.metrics for s in STATS]
        nan = math.nan
        rows = []
        for info in self.infos:
            row = [
                info.id,
                info.name,
                info.project,
                info.status,
                info.started,
                info.duration,
                ", ".join(info.tags),
            ]
            params = info.params
            row += [_cell(params.get(k)) for k in param_keys]
            summary = self._summaries.get(info.id, {})
            for metric in self.metrics:
                s = summary.get(metric)
                row += [s[stat] if s else nan for stat in STATS]
            rows.append(row)
        frame = pd.DataFrame.from_records(rows, columns=columns)
        frame["started"] = pd.to_datetime(frame["started"], unit="s", utc=True)
        return frame

    # -- what differs -----------------------------------------------------------------------------
    def param_columns(self) -> list[str]:
        return [c for c in self.frame.columns if c.startswith("params.")]

    def differing_params(self, runs: Iterable[int] | None = None) -> list[str]:
        """Param columns whose values are not all equal across `runs` (default: all runs)."""
        part = self.frame if runs is None else self.frame[self.frame["id"].isin(list(runs))]
        differing = []
        for column in self.param_columns():
            values = {_key(v) for v in part[column]}
            if len(values) > 1:
                differing.append(column)
        return differing

    # -- series for overlays --------------------------------------------------------------------------
    def series(
        self, metric: str, runs: Iterable[int] | None = None, max_points: int = MAX_POINTS
    ) -> DataFrame:
        """Long DataFrame run, name, key, step, value, time (epoch s) of one metric, downsampled per run."""
        import pandas as pd

        ids = list(self.runs if runs is None else runs)
        missing = [i for i in ids if (i, metric) not in self._series]
        if missing:
            frame = self.store.metrics_frame(missing, [metric])
            for run_id in missing:
                part = frame[frame["run"] == run_id]
                self._series[(run_id, metric)] = downsample(part, max_points)
        names = {info.id: info.name for info in self.infos}
        parts = [self._series[(i, metric)] for i in ids]
        columns = ["run", "key", "step", "value", "time"]
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
        return frame.assign(name=frame["run"].map(names))

    def overlay_chart(
        self, metric: str | None = None, runs: Iterable[int] | None = None, x: str = "step"
    ) -> alt.Chart | None:
        """The Altair overlay of one metric (default: the first) for `runs` (default: the first ten)."""
        metric = metric or (self.metrics[0] if self.metrics else None)
        if metric is None:
            return None
        from ..charts import overlay  # Altair, only for this static chart

        ids = list(runs) if runs is not None else self.runs[:10]
        return overlay.overlay_chart(self.series(metric, ids), metric, x)

    # -- showing -------------------------------------------------------------------------------------
    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> dict:
        from .. import (
            _comparison_bundle as comparison_bundle,  # the notebook wing sits above reading: through the facade
        )

        return comparison_bundle(self)

    def show(self) -> None:
        """Display the comparison (a widget in Jupyter, a text table elsewhere)."""
        from .. import (
            _show_comparison as show_comparison,  # the notebook wing sits above reading: through the facade
        )

        show_comparison(self)

    def export(self, path: config.PathArg | None = None, format: str | None = None) -> Path:
        """Write the comparison card of these runs (HTML or JSON, by the file's suffix or `format`)."""
        from .. import _export_comparison as export_comparison  # cards sit above reading: through the facade

        return export_comparison(self.store, self.runs, path, format)

    def __len__(self) -> int:
        return len(self.runs)

    def __repr__(self) -> str:
        runs, metrics = len(self.runs), len(self.metrics)
        return f"<Comparison of {runs} run{'s' * (runs != 1)}, {metrics} metric{'s' * (metrics != 1)}>"


def _cell(value: object) -> object:
    """Lists and dicts become text so the column can be compared and sorted."""
    return repr(value) if isinstance(value, list | dict | tuple) else value


def _key(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return repr(value)
