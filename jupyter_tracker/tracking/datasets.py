"""Dataset fingerprints (OpsML's data cards, lightly): schema, shape and a content hash of a DataFrame.

The data is not copied: runs trained on the same data show the same hash.
"""

from __future__ import annotations

import hashlib
import json

from ..errors import InvalidArgument


def log_dataset(run, data, name: str, role: str = "train") -> dict:
    """Record a pandas DataFrame's (or Series') fingerprint on `run`: a parameter `dataset.<name>` ({role,
    shape, hash}) and an event whose extra `dataset` holds the whole fingerprint. Returns it."""
    import pandas as pd

    if isinstance(data, pd.Series):
        data = data.to_frame()
    if not isinstance(data, pd.DataFrame):
        raise InvalidArgument(f"log_dataset() takes a pandas DataFrame or Series, got {type(data).__name__}")
    fingerprint = dataset_fingerprint(data)
    info = {"name": str(name), "role": str(role), **fingerprint}
    rows, columns = fingerprint["shape"]
    run.log_params({f"dataset.{name}": {"role": role, "shape": [rows, columns], "hash": info["hash"]}})
    run._log_event(
        f"dataset {name!r} ({role}): {rows} rows x {columns} columns, sha256 {info['hash'][:12]}",
        dataset=info,
    )
    return info


def dataset_fingerprint(frame) -> dict:
    """shape, columns, dtypes, and a sha256 over the schema and pandas' per-row hashes (index included)."""
    import pandas as pd

    dtypes = {str(column): str(dtype) for column, dtype in frame.dtypes.items()}
    try:
        rows = pd.util.hash_pandas_object(frame, index=True)
    except TypeError:  # unhashable cells (lists, dicts): hash their text instead
        rows = pd.util.hash_pandas_object(frame.astype(str), index=True)
    digest = hashlib.sha256(json.dumps([list(dtypes), list(dtypes.values())]).encode())
    digest.update(rows.to_numpy().tobytes())
    return {
        "shape": [int(frame.shape[0]), int(frame.shape[1])],
        "columns": list(dtypes),
        "dtypes": dtypes,
        "hash": digest.hexdigest(),
    }
