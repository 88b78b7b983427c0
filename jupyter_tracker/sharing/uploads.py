"""Files sent to a run's MLflow artifacts: the HTML run card (`jupyter-tracker/card.html`), the run's
events, one JSON object a line (`jupyter-tracker/events.jsonl`: time, level, message, extra), and the files
the run saved (`run.save(...)`, `run.log_artifact(...)`) under `artifacts/`, with their names.

A server that proxies artifacts (`mlflow server`'s default: the run's artifact URI is `mlflow-artifacts:/...`)
takes them over HTTP like everything else. Any other artifact store (S3, a shared folder, ...) is written by
MLflow's own client, the optional extra: `pip install "jupyter-tracker[mlflow]"`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from ..errors import SharingError
from ..store import Store
from .rest import MlflowRest

CARD_FOLDER = "jupyter-tracker"
FILES_FOLDER = "artifacts"
CARD_NAME = "card.html"
EVENTS_NAME = "events.jsonl"
PROXIED = "mlflow-artifacts:"
EXTRA = 'pip install "jupyter-tracker[mlflow]"'


def upload_card(client: MlflowRest, store: Store, run_id: int, remote_id: str, artifact_uri: str) -> None:
    """Render the run's HTML card and store it, and the run's events, among the remote run's artifacts."""
    from ..cards import run_card_html

    data = run_card_html(store, run_id).encode("utf-8")
    upload(client, remote_id, artifact_uri, f"{CARD_FOLDER}/{CARD_NAME}", data, "text/html; charset=utf-8")
    lines = [
        json.dumps({"time": when, "level": level, "message": message, "extra": extra}, default=str) + "\n"
        for when, level, message, extra in store.events(run_id)
    ]
    events = "".join(lines).encode("utf-8")
    upload(client, remote_id, artifact_uri, f"{CARD_FOLDER}/{EVENTS_NAME}", events, "application/x-ndjson")


def upload_file(
    client: MlflowRest, remote_id: str, artifact_uri: str, name: str, path: Path, kind: str
) -> None:
    """The file at `path` as `name` (a path under the run's artifact root), streamed from the disk."""
    if artifact_uri.startswith(PROXIED):
        with open(path, "rb") as data:
            client.put_artifact(artifact_uri, name, data, kind, size=path.stat().st_size)
        return
    if path.name == name.rpartition("/")[2]:
        _with_mlflow(client, remote_id, artifact_uri, name, path)
        return
    upload(client, remote_id, artifact_uri, name, path.read_bytes(), kind)


def upload(client: MlflowRest, remote_id: str, artifact_uri: str, name: str, data: bytes, kind: str) -> None:
    """One file, `name` a path under the run's artifact root."""
    if artifact_uri.startswith(PROXIED):
        client.put_artifact(artifact_uri, name, data, kind)
        return
    with tempfile.TemporaryDirectory(prefix="jupyter-tracker-") as scratch:
        path = Path(scratch) / name.rpartition("/")[2]
        path.write_bytes(data)
        _with_mlflow(client, remote_id, artifact_uri, name, path)


def _with_mlflow(client: MlflowRest, remote_id: str, artifact_uri: str, name: str, path: Path) -> None:
    """Store the file at `path` as `name` with MLflow's own client: into an artifact store the server does
    not serve (S3, a shared folder, ...), which MLflow's client writes to directly."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise SharingError(
            f"the MLflow server at {client.url} keeps artifacts in {artifact_uri.split('://')[0] or 'a store'} "
            f"that it does not serve itself; writing there needs MLflow's client: {EXTRA}"
        ) from None
    folder = name.rpartition("/")[0]
    try:
        MlflowClient(tracking_uri=client.url).log_artifact(remote_id, str(path), folder or None)
    except Exception as exc:  # the client's own errors (its store's SDK, permissions, ...)
        raise SharingError(f"cannot store {name} in {artifact_uri}: {type(exc).__name__}: {exc}") from None
