"""Files, Python objects and dataset fingerprints kept with a run.

Files are copied into ``<database folder>/artifacts/<run uuid>/<name>``, streamed in chunks while their
size and sha256 are computed, so large files never sit in memory. Names are confined to the run's
folder: ``..`` parts, absolute paths, drive letters and symbolic links pointing out are refused with
UnsafeArtifactName. Each file lands under a temporary name first and is moved into place when complete.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import pickle
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import InvalidArgument, RunClosed, TrackerError, UnsafeArtifactName
from ..frames import DataFrame, Series, epoch_to_datetime
from ..models import ARTIFACT_COLUMNS, RUNNING, Artifact
from .datasets import log_dataset
from .validation import ended_message

CATEGORIES = ("code", "input", "output")
CHUNK_BYTES = 1 << 20
PICKLE_MIME = "application/x-python-pickle"
ARTIFACTS_FOLDER = "artifacts"
_DRIVE = re.compile(r"^[A-Za-z]:")


def artifact_root(store) -> Path:
    """The folder beside the database that holds every run's artifact files."""
    return store.path.parent / ARTIFACTS_FOLDER


def delete_run(store, run_id: int) -> None:
    """Delete a run's rows and its artifact folder (the copies of its files)."""
    import shutil

    uuid = store.get_run(run_id).uuid
    store.delete_run(run_id)
    root = artifact_root(store).resolve()
    folder = (root / uuid).resolve()
    if (
        folder.parent == root
    ):  # an imported uuid such as "" or "../x" never reaches beyond the run's own folder
        shutil.rmtree(folder, ignore_errors=True)


def safe_name(name: object) -> str:
    """`name` as a clean relative path with '/' separators, or UnsafeArtifactName saying why not."""
    text = os.fspath(name) if isinstance(name, os.PathLike) else name
    if not isinstance(text, str) or not text.strip():
        raise UnsafeArtifactName(f"artifact names must be non-empty strings, got {name!r}")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise UnsafeArtifactName(f"artifact name {text!r} contains a control character")
    slashed = text.replace("\\", "/")
    if slashed.startswith("/") or _DRIVE.match(slashed):
        raise UnsafeArtifactName(
            f"artifact name {text!r} is an absolute path, which would escape the artifact folder; "
            "give a relative name (e.g. name='model.pt')"
        )
    parts = [part for part in slashed.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeArtifactName(
            f"artifact name {text!r} contains '..', which would escape the artifact folder; "
            "give a name inside it (or save with preserve_path=False)"
        )
    if not parts:
        raise UnsafeArtifactName(f"artifact name {text!r} names no file")
    return "/".join(parts)


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def confined_path(store, run_uuid: str, name: str, *, create: bool = False) -> Path:
    """Where artifact `name` of the run lives; refuses a path that leaves the run's folder on disk."""
    root = artifact_root(store) / run_uuid
    target = root.joinpath(*safe_name(name).split("/"))
    if create:
        root.mkdir(parents=True, exist_ok=True)
    real_root = root.resolve()
    # Check the deepest existing folder before creating anything: a symbolic link inside the run's folder
    # could otherwise make mkdir create folders elsewhere.
    existing = target.parent
    while not existing.exists() and existing != root:
        existing = existing.parent
    if not _inside(existing.resolve(), real_root):
        raise UnsafeArtifactName(f"artifact {name!r}: a symbolic link in {root} points outside it")
    if create:
        target.parent.mkdir(parents=True, exist_ok=True)
        if not _inside(target.parent.resolve(), real_root):
            raise UnsafeArtifactName(f"artifact {name!r}: a symbolic link in {root} points outside it")
    return target


def stored_path(store, row: dict) -> Path:
    """The file of a stored artifact row, checked to lie inside the artifact folder (rows may be imported)."""
    root = artifact_root(store).resolve()
    path = (store.path.parent / row["path"]).resolve()
    if not _inside(path, root) or path == root:
        raise UnsafeArtifactName(
            f"artifact {row['name']!r} points outside {root} ({row['path']!r}); not read"
        )
    return path


class _Sink:
    """A file-like writer that hashes and counts what passes through it into a temporary file."""

    artifact: Artifact  # set by RunArtifacts.writer() once the file is in place and recorded

    def __init__(self, target: Path):
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        self._file = os.fdopen(fd, "wb")
        self._temporary = temporary
        self._target = target
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data) -> int:
        view = memoryview(data)
        self._hash.update(view)
        self.size += view.nbytes
        return self._file.write(view)

    def commit(self) -> str:
        self._file.close()
        os.replace(self._temporary, self._target)
        return self._hash.hexdigest()

    def abort(self) -> None:
        self._file.close()
        try:
            os.unlink(self._temporary)
        except OSError:
            pass


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _frame(rows: list[dict]):
    import pandas as pd

    frame = pd.DataFrame.from_records(rows, columns=list(ARTIFACT_COLUMNS))
    frame["created"] = epoch_to_datetime(frame["created"])
    return frame


def load_stored(store, run_id: int, name: str, *, verify: bool = True):
    """A pickled artifact as its object, any other artifact as the Path of its stored copy."""
    row = store.artifact(run_id, safe_name(name))
    if row is None:
        known = ", ".join(r["name"] for r in store.artifacts(run_id)) or "none"
        raise TrackerError(f"no artifact named {name!r} in this run (artifacts: {known})")
    path = stored_path(store, row)
    if not path.is_file():
        raise TrackerError(f"artifact {name!r}: its file {path} is missing")
    if verify and file_sha256(path) != row["sha256"]:
        raise TrackerError(
            f"artifact {name!r}: {path} changed since it was saved (sha256 differs); not loaded"
        )
    if row["mime"] != PICKLE_MIME:
        return path
    with open(path, "rb") as source:
        return pickle.load(source)  # noqa: S301 - documented: only restore artifacts from sources you trust


def artifact_frame(store, run_id: int):
    """DataFrame of a run's artifacts: name, category, path, size, sha256, mime, created."""
    return _frame(store.artifacts_in_order(run_id))


def restore_stored(store, run_id: int, names: Iterable[str] | None = None) -> list:
    """Every object saved with log_artifact() (or those in `names`), unpickled, in the order saved."""
    wanted = None if names is None else {safe_name(n) for n in names}
    return [
        load_stored(store, run_id, row["name"])
        for row in store.artifacts_in_order(run_id)
        if row["mime"] == PICKLE_MIME and (wanted is None or row["name"] in wanted)
    ]


class RunArtifacts:
    """Saving files and objects for an open run: what `run.save()`, `run.log_artifact()` and their aliases do.

    Contract: `run` is the Run it serves; this reads its `store`, `id`, `uuid`, `name` and `status`, and
    log_dataset() records through its `log_params()` and `_log_event()`."""

    def __init__(self, run):
        self._run = run

    def frame(self) -> DataFrame:
        """DataFrame of the run's artifacts: name, category, path, size, sha256, mime, created."""
        return artifact_frame(self._run.store, self._run.id)

    def load(self, name: str, *, verify: bool = True) -> Any:
        """An object saved with log_artifact() (unpickled), or the Path of a saved file.

        Unpickling runs code: only load artifacts from sources you trust. The sha256 recorded at save time
        is checked first (`verify=False` skips it)."""
        return load_stored(self._run.store, self._run.id, name, verify=verify)

    def restore(self, names: Iterable[str] | None = None) -> list:
        """Every object saved with log_artifact() (or those in `names`), unpickled, in the order saved."""
        return restore_stored(self._run.store, self._run.id, names)

    @contextmanager
    def writer(self, name: str, category: str, mime: str | None) -> Iterator[_Sink]:
        """Yield a file-like sink for artifact `name`; on success the file is moved in place and recorded."""
        if self._run.status != RUNNING:
            raise RunClosed(ended_message(self._run.name, self._run.status, "save artifacts"))
        if category not in CATEGORIES:
            raise InvalidArgument(f"category must be one of {', '.join(CATEGORIES)}, got {category!r}")
        name = safe_name(name)
        target = confined_path(self._run.store, self._run.uuid, name, create=True)
        sink = _Sink(target)
        try:
            yield sink
            sha256 = sink.commit()
        except BaseException:
            sink.abort()
            raise
        row: dict[str, Any] = {
            "name": name,
            "category": category,
            "path": target.relative_to(self._run.store.path.parent).as_posix(),
            "size": sink.size,
            "sha256": sha256,
            "mime": mime or mimetypes.guess_type(name)[0] or "application/octet-stream",
            "created": time.time(),
        }
        previous = self._run.store.artifact(self._run.id, name)
        self._run.store.put_artifact(self._run.id, row)
        sink.artifact = Artifact(**row)
        if (
            previous is not None
        ):  # a name saved again replaces the file: the run keeps a word of what was there
            self._run._log_event(
                f"artifact {name!r} replaced (it was {previous['category']}, {previous['size']:,} bytes, "
                f"sha256 {str(previous['sha256'])[:12]})",
                artifact=name,
            )

    def _copy(self, path: Path, name: str, category: str, filetype: str | None) -> Artifact:
        if path.is_dir():
            raise InvalidArgument(f"{path} is a directory: use save_directory() or save_all()")
        if not path.is_file():
            raise FileNotFoundError(f"no file at {path}")
        with open(path, "rb") as source, self.writer(name, category, filetype) as sink:
            while chunk := source.read(CHUNK_BYTES):
                sink.write(chunk)
        return sink.artifact

    def save(
        self,
        path: str | os.PathLike,
        category: str = "output",
        filetype: str | None = None,
        preserve_path: bool = False,
        *,
        name: str | None = None,
    ) -> Artifact:
        """Copy a file into the run's artifact folder (category 'code', 'input' or 'output').

        The artifact is named after the file, or after its relative path with `preserve_path=True`, or
        `name`. `filetype` is its MIME type, guessed from the name when not given. Saving a name again
        replaces it."""
        path = Path(path)
        if name is None:
            name = _relative_name(path) if preserve_path else path.name
        return self._copy(path, name, category, filetype)

    def save_directory(
        self,
        directory: str | os.PathLike,
        category: str = "output",
        filetype: str | None = None,
        preserve_path: bool = False,
    ) -> list[Artifact]:
        """Save every file under `directory` as `<directory name>/<path inside it>` (or its relative path
        with `preserve_path=True`). Symbolic links to folders are not followed."""
        directory = Path(directory)
        if not directory.is_dir():
            raise InvalidArgument(f"{directory} is not a directory")
        prefix = _relative_name(directory) if preserve_path else directory.resolve().name
        return self._copy_tree(directory, prefix, category, filetype)

    def _copy_tree(self, directory: Path, prefix: str, category: str, filetype: str | None) -> list[Artifact]:
        saved = []
        for folder, subfolders, files in os.walk(directory):
            subfolders.sort()
            for file in sorted(files):
                path = Path(folder) / file
                inner = path.relative_to(directory).as_posix()
                saved.append(self._copy(path, f"{prefix}/{inner}", category, filetype))
        return saved

    def save_all(
        self,
        items: Iterable[str | os.PathLike],
        category: str = "output",
        filetype: str | None = None,
        preserve_path: bool = False,
    ) -> list[Artifact]:
        """Save a list of files and/or directories."""
        if isinstance(items, str | os.PathLike):
            items = [items]
        saved = []
        for item in items:
            if Path(item).is_dir():
                saved += self.save_directory(item, category, filetype, preserve_path)
            else:
                saved.append(self.save(item, category, filetype, preserve_path))
        return saved

    def log_artifact_from_file(
        self, name: str, path: str | os.PathLike, category: str = "output", filetype: str | None = None
    ) -> Artifact:
        """Copy the file at `path` in as artifact `name` (OpsML's spelling)."""
        return self._copy(Path(path), name, category, filetype)

    def log_artifact(
        self,
        obj: object,
        name: str | None = None,
        category: str = "output",
        *,
        artifact_path: str | None = None,
        as_object: bool = False,
    ) -> Artifact | list[Artifact]:
        """A path (str or Path) to a file or folder: copy it in, MLflow's `log_artifact(local_path,
        artifact_path)`, into the folder `name`/`artifact_path` when given. Any other object: pickle it as
        artifact `name`; get it back with load_artifact(name). `as_object=True` pickles a str or Path too.

        A str or Path naming nothing is refused rather than pickled. Unpickling runs code: only restore
        artifacts from sources you trust."""
        if isinstance(obj, str | os.PathLike) and not as_object:
            return self._copy_path(Path(obj), artifact_path or name, category)
        if name is None:
            raise InvalidArgument(
                f"log_artifact(obj, name): give the {type(obj).__name__} a name to store it under"
            )
        name = f"{artifact_path}/{name}" if artifact_path else name
        with self.writer(name, category, PICKLE_MIME) as sink:
            pickle.dump(obj, sink, protocol=pickle.HIGHEST_PROTOCOL)
        return sink.artifact

    def _copy_path(self, path: Path, folder: str | None, category: str) -> Artifact | list[Artifact]:
        prefix = f"{folder.rstrip('/')}/" if folder else ""
        if path.is_dir():
            return self._copy_tree(path, prefix + path.resolve().name, category, None)
        if path.is_file():
            return self._copy(path, prefix + path.name, category, None)
        raise InvalidArgument(
            f"log_artifact({str(path)!r}): no file or folder there. A str or Path is a path to copy (as in "
            "MLflow); to pickle the text itself, pass log_artifact(obj, name, as_object=True)"
        )

    def log_dataset(self, data: DataFrame | Series, name: str, role: str = "train") -> dict:
        """Record a pandas DataFrame's fingerprint: shape, columns, dtypes and a content sha256.

        Stored as an event (extra `dataset`: the whole fingerprint) and a parameter `dataset.<name>`
        ({role, shape, hash}), so runs trained on the same data show the same hash. The data is not copied."""
        return log_dataset(self._run, data, name, role)


def _relative_name(path: Path) -> str:
    """The path as given (made relative to the working folder if absolute); safe_name refuses escapes."""
    if path.is_absolute():
        try:
            relative = os.path.relpath(path)
        except ValueError:  # another drive on Windows
            relative = os.pardir
        if relative.split(os.sep)[0] == os.pardir:
            raise UnsafeArtifactName(
                f"{path} is outside the working folder, so preserve_path=True would escape the artifact "
                "folder; save it with preserve_path=False or give name="
            )
        return safe_name(relative)
    return safe_name(path)
