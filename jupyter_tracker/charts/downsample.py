"""Long metric DataFrames made ready for charts: downsampled per series, then turned into JSON rows.

Frames are long: key, step, value, time (a datetime or epoch seconds), plus run/name for comparisons.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .vega import MAX_POINTS


# -- downsampling --------------------------------------------------------------------------------------
def downsample(frame: pd.DataFrame, max_points: int = MAX_POINTS, x: str = "step") -> pd.DataFrame:
    """At most about `max_points` rows per series (per key, and per run when a "run" column exists).

    Long series are cut into equal buckets along `x`; each bucket keeps its minimum and its maximum,
    and the first and last points are always kept, so spikes, plateaus and the x range survive.
    Rows come back in their original order; shorter series are returned whole.
    """
    if frame is None or len(frame) <= max_points:
        return frame
    max_points = max(int(max_points), 4)
    groups = [c for c in ("run", "key") if c in frame.columns]
    values = frame["value"].to_numpy(dtype="float64", na_value=np.nan)
    xs = _numeric(frame[x]) if x in frame.columns else np.arange(len(frame), dtype="float64")
    if groups:
        codes = _group_codes(frame, groups)
        order = np.lexsort((xs, codes))
        bounds = np.flatnonzero(np.diff(codes[order])) + 1
        chunks = np.split(order, bounds)
    else:
        chunks = [np.argsort(xs, kind="stable")]
    keep = []
    for chunk in chunks:
        if len(chunk) <= max_points:
            keep.append(chunk)
        else:
            keep.append(chunk[extremes(values[chunk], max_points)])
    positions = np.sort(np.concatenate(keep)) if keep else np.arange(0)
    return frame.iloc[positions]


def _group_codes(frame: pd.DataFrame, groups: list[str]) -> np.ndarray:
    codes = np.zeros(len(frame), dtype="int64")
    for column in groups:
        part, uniques = pd.factorize(frame[column], use_na_sentinel=False)
        codes = codes * max(len(uniques), 1) + part
    return codes


def extremes(values: np.ndarray, max_points: int) -> np.ndarray:
    """Positions (sorted) of the first, the last, and the min and max of each bucket of `values`."""
    n = len(values)
    buckets = (max_points - 2) // 2
    size = -(-n // buckets)
    count = -(-n // size)
    finite = np.isfinite(values)
    low = np.full(count * size, np.inf)
    high = np.full(count * size, -np.inf)
    low[:n] = np.where(finite, values, np.inf)
    high[:n] = np.where(finite, values, -np.inf)
    base = np.arange(count) * size
    lo = base + low.reshape(count, size).argmin(axis=1)
    hi = base + high.reshape(count, size).argmax(axis=1)
    picked = np.concatenate(([0, n - 1], lo, hi))
    picked = picked[picked < n]
    picked = picked[finite[picked] | (picked == 0) | (picked == n - 1)]
    return np.unique(picked)


def _numeric(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


# -- data for Vega-Lite ------------------------------------------------------------------------------------
def epoch_ms(column: pd.Series) -> np.ndarray:
    """Milliseconds since the epoch from datetimes or epoch seconds (what Vega's temporal scales read)."""
    if pd.api.types.is_datetime64_any_dtype(column):
        stamps = column.dt.tz_convert("UTC") if column.dt.tz is not None else column
        return stamps.to_numpy(dtype="datetime64[ns]").astype("int64") / 1e6
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64") * 1000.0


def records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict]:
    """JSON-ready rows: time in epoch ms, non-finite values dropped (JSON has no NaN), numpy types unwrapped."""
    if frame is None or frame.empty:
        return []
    columns = columns or [c for c in ("run", "name", "key", "step", "value", "time") if c in frame.columns]
    values = frame["value"].to_numpy(dtype="float64", na_value=np.nan)
    mask = np.isfinite(values)
    data = {}
    for column in columns:
        if column == "time":
            data[column] = epoch_ms(frame[column])[mask].tolist()
        elif column == "value":
            data[column] = values[mask].tolist()
        else:
            data[column] = frame[column].to_numpy()[mask].tolist()
    return [dict(zip(columns, row, strict=True)) for row in zip(*data.values(), strict=True)]
