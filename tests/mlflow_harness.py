"""A real MLflow tracking server for the sharing tests, and a switchable TCP relay in front of it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from jupyterlab_harness import free_port


def mlflow_command() -> str:
    """The `mlflow` command of this environment (the `mlflow` package, in the test extras)."""
    found = Path(sys.executable).with_name("mlflow")
    if not found.exists() and not shutil.which("mlflow"):
        pytest.skip("the mlflow package (with its server) is not installed: pip install -e '.[test]'")
    return str(found) if found.exists() else str(shutil.which("mlflow"))


def start_mlflow_server(
    folder: Path, *extra: str, workers: int = 1, timeout: float = 90.0
) -> tuple[subprocess.Popen, str]:
    """`mlflow server` on 127.0.0.1 and a free port, storing in `folder`, with `workers` processes (the
    tests' 1; `mlflow server` alone starts 4); waits for /health."""
    port = free_port()
    artifacts = ["--artifacts-destination", str(folder / "artifacts")] if not extra else []
    with open(folder / "server.log", "wb") as log:  # the server keeps its own copy of the descriptor
        process = subprocess.Popen(
            [mlflow_command(), "server", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
             *artifacts, *extra, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=folder,
            env={**os.environ, "MLFLOW_TRACKING_URI": ""},
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return process, url
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise AssertionError(
                f"mlflow server did not start: {(folder / 'server.log').read_text()[-2000:]}"
            )
        time.sleep(0.25)


def stop(process: subprocess.Popen) -> None:
    """Stop the server and the workers it started (its own process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


class Relay:
    """A TCP relay on its own port in front of a server, that can be switched off (connections refused)
    and on again: a server that goes away and comes back, for the live mirror's retries."""

    def __init__(self, target: str):
        host, port = target.rsplit("//", 1)[1].split(":")
        self.target = (host, int(port))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []

    def on(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def off(self) -> None:
        """Refuse new connections and cut the open ones (a kept-alive connection too)."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for end in self._open:
            try:
                end.shutdown(socket.SHUT_RDWR)
                end.close()
            except OSError:
                pass
        self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink, listener), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, listener: socket.socket) -> None:
        try:
            while listener.fileno() != -1 and (data := source.recv(65536)):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.close()
                except OSError:
                    pass


def api(url: str, endpoint: str, body: dict | None = None, **query) -> dict:
    """One call of MLflow's REST API with the standard library (independent of the code under test)."""
    import json
    import urllib.parse

    address = f"{url}/api/2.0/mlflow/{endpoint}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(address, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"{}")


def remote_run(url: str, run_id: str) -> dict:
    """{info, params, tags, metrics: {key: [(step, value, timestamp), ...]}} of a run on the server."""
    run = api(url, "runs/get", run_id=run_id)["run"]
    data = run["data"]
    metrics = {}
    for latest in data.get("metrics", []):
        history = api(url, "metrics/get-history", run_id=run_id, metric_key=latest["key"])["metrics"]
        metrics[latest["key"]] = sorted((m["step"], m["value"], m["timestamp"]) for m in history)
    return {
        "info": run["info"],
        "params": {p["key"]: p["value"] for p in data.get("params", [])},
        "tags": {t["key"]: t["value"] for t in data.get("tags", [])},
        "metrics": metrics,
    }


def artifact(url: str, run: dict, name: str) -> bytes:
    """A file of the run's artifacts, downloaded through the server's proxy."""
    where = run["info"]["artifact_uri"].split("mlflow-artifacts:/", 1)[1]
    with urllib.request.urlopen(
        f"{url}/api/2.0/mlflow-artifacts/artifacts/{where}/{name}", timeout=30
    ) as answer:
        return answer.read()
