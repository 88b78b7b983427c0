"""Folders: a path-like grouping of runs ("/team/exp1") with optional details (Simvue's spelling).

A run's folder is set with `start_run(folder=...)`; `runs(folder="/team")` lists a folder and its
sub-folders. Details (description, metadata, tags) live in their own table, keyed by the folder path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .query import store_for


def _details(store, path: str, metadata, tags, description) -> dict:
    from .validation import check_param, normalize_folder, normalize_tags

    folder = normalize_folder(path)
    for key, value in (metadata or {}).items():
        check_param(key, value)
    tags = normalize_tags([tags]) if tags else []
    return store.set_folder(
        folder,
        description=None if description is None else str(description),
        metadata=dict(metadata or {}),
        tags=tags,
    )


def set_folder_details(
    path: str,
    metadata: Mapping[str, object] | None = None,
    tags: str | Iterable[str] | None = None,
    description: str | None = None,
    *,
    db=None,
) -> dict:
    """Describe a folder: metadata is merged, tags are added, a description replaces the old one.

    Returns the folder's details: path, description, metadata, tags."""
    return _details(store_for(db), path, metadata, tags, description)


def folders(*, db=None):
    """DataFrame of folders (those holding runs, their parents, and those described): path,
    description, tags, metadata, runs (counting sub-folders)."""
    import pandas as pd

    rows = store_for(db).folder_rows()
    return pd.DataFrame.from_records(rows, columns=["path", "description", "tags", "metadata", "runs"])


class FoldersMixin:
    """Expects the Run's `_store` and `info`."""

    def set_folder_details(
        self,
        path: str | None = None,
        metadata: Mapping[str, object] | None = None,
        tags: str | Iterable[str] | None = None,
        description: str | None = None,
    ) -> dict:
        """Describe a folder (default: this run's folder); see jupyter_tracker.set_folder_details()."""
        return _details(self._store, path or self.info.folder, metadata, tags, description)
