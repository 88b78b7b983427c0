"""Folders: a path-like grouping of runs ("/team/exp1") with optional details (Simvue's spelling).

A run's folder is set with `start_run(folder=...)`; `runs(folder="/team")` lists a folder and its
sub-folders. Details (description, metadata, tags) live in their own table, keyed by the folder path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..frames import DataFrame
from ..store import Store
from .stores import DbArg, store_for
from .validation import clean_params, normalize_folder, normalize_tags


def describe_folder(
    store: Store,
    path: str,
    metadata: Mapping[str, object] | None,
    tags: str | Iterable[str] | None,
    description: str | None,
) -> dict:
    """set_folder_details() on a given Store (a run describes its own folder through this)."""
    folder = normalize_folder(path)
    metadata = clean_params(metadata or {}, "metadata field")
    tags = normalize_tags([tags]) if tags else []
    return store.set_folder(
        folder,
        description=None if description is None else str(description),
        metadata=metadata,
        tags=tags,
    )


def set_folder_details(
    path: str,
    metadata: Mapping[str, object] | None = None,
    tags: str | Iterable[str] | None = None,
    description: str | None = None,
    *,
    db: DbArg = None,
) -> dict:
    """Describe a folder: metadata is merged, tags are added, a description replaces the old one.

    Returns the folder's details: path, description, metadata, tags."""
    return describe_folder(store_for(db), path, metadata, tags, description)


def folders(*, db: DbArg = None) -> DataFrame:
    """DataFrame of folders (those holding runs, their parents, and those described): path,
    description, tags, metadata, runs (counting sub-folders)."""
    import pandas as pd

    rows = store_for(db, write=False).folder_rows()
    return pd.DataFrame.from_records(rows, columns=["path", "description", "tags", "metadata", "runs"])
