"""A small client of MLflow's REST API: JSON over keep-alive HTTP(S) connections, standard library only.

Credentials come from MLflow's own environment variables, read when a request is made and never stored,
logged or put in an error message: MLFLOW_TRACKING_TOKEN (a bearer token), or MLFLOW_TRACKING_USERNAME and
MLFLOW_TRACKING_PASSWORD (basic auth); MLFLOW_TRACKING_INSECURE_TLS=true skips the certificate check,
MLFLOW_TRACKING_SERVER_CERT_PATH names a CA bundle, MLFLOW_TRACKING_CLIENT_CERT_PATH a client certificate.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import ssl
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import BinaryIO
from urllib.parse import quote, urlencode, urlsplit

from .. import config
from ..errors import InvalidArgument, ServerUnreachable, SharingError
from .mapping import run_page

URI_ENV = "MLFLOW_TRACKING_URI"
OUR_ENV = "TRACKER_MLFLOW_URI"  # also turns the live mirror on (config.mirror_url)
API = "/api/2.0/mlflow/"
TIMEOUT_SECONDS = 30.0
IN_FLIGHT = 3  # log-batch requests a push keeps in flight (see Lanes; measured in tests/perf/bench_mlflow.py)
# A connection the server closed between two requests is opened again once, at once.
_STALE = (
    http.client.RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
    http.client.CannotSendRequest,
)


class NotFound(SharingError):
    """The server has no such experiment or run (RESOURCE_DOES_NOT_EXIST)."""


class AlreadyExists(SharingError):
    """The server has that already (RESOURCE_ALREADY_EXISTS): another client made it just before."""


def server_url(url: str | None = None) -> str:
    """The server to talk to: `url`, else the session's `mlflow` setting, else $TRACKER_MLFLOW_URI, else
    $MLFLOW_TRACKING_URI."""
    chosen = url or config.setting("mlflow") or os.environ.get(OUR_ENV) or os.environ.get(URI_ENV)
    if not chosen:
        raise InvalidArgument(
            "no MLflow server given: pass its URL (--to/--from URL, url=...), set it for the session with "
            f"%track_config mlflow=http://host:5000 (configure(mlflow=...)), or set {OUR_ENV} or {URI_ENV}"
        )
    return config.check_url(str(chosen))


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def _ssl_context() -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or None)
    if _flag("MLFLOW_TRACKING_INSECURE_TLS"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    client_cert = os.environ.get("MLFLOW_TRACKING_CLIENT_CERT_PATH")
    if client_cert:
        context.load_cert_chain(client_cert)
    return context


def _auth_header() -> dict[str, str]:
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return {"Authorization": f"Bearer {token}"}
    user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if user and password:
        pair = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {pair}"}
    return {}


def _ack_at_once(conn: http.client.HTTPConnection) -> None:
    """Acknowledge the answer's first packet at once rather than up to 40 ms later (Linux's TCP_QUICKACK,
    which lasts a few packets: set before each answer). `mlflow server` with several workers (its default
    4) sends an answer's headers and body as two packets without TCP_NODELAY, so the body waits for that
    acknowledgement: 40 ms more per request, measured 52-62 ms instead of 7-8 for a small call."""
    quick = getattr(socket, "TCP_QUICKACK", None)
    if quick is not None and conn.sock is not None:
        try:
            conn.sock.setsockopt(socket.IPPROTO_TCP, quick, 1)
        except OSError:
            pass


class MlflowRest:
    """One MLflow tracking server. `call("runs/create", {...})` posts JSON to /api/2.0/mlflow/runs/create;
    `call("runs/get", query={...}, method="GET")` gets. Not shared between threads: one per thread (its
    `lanes` send from threads of their own, each with its own connection)."""

    def __init__(
        self, url: str | None = None, *, timeout: float = TIMEOUT_SECONDS, in_flight: int | None = None
    ):
        self.url = server_url(url)  # also the key of the runs' sync records: no credentials in it
        parts = urlsplit(self.url)
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname or "", parts.port
        self._prefix = parts.path  # a server behind a path (--static-prefix, a proxy)
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._lanes: Lanes | None = None
        self.in_flight = in_flight  # log-batch requests at once (default IN_FLIGHT; 1: no threads)
        self.experiments: dict[str, str] = {}  # name -> id, looked up once per client
        self.checked: set[str] = set()  # remote runs known to exist

    def call(
        self, endpoint: str, body: dict | None = None, *, query: dict | None = None, method: str = "POST"
    ) -> dict:
        """The JSON answer of one API call; NotFound, SharingError (refused), ServerUnreachable (retry later)."""
        path = self._prefix + API + endpoint + (f"?{urlencode(query)}" if query else "")
        data = None if body is None else json.dumps(body, allow_nan=False).encode()
        answer = self.send(method, path, data, "application/json")
        return json.loads(answer) if answer else {}

    @property
    def lanes(self) -> Lanes:
        """Requests in flight side by side (made on first use, closed with the client)."""
        if self._lanes is None:
            self._lanes = Lanes(self, self.in_flight)
        return self._lanes

    def send(
        self,
        method: str,
        path: str,
        data: bytes | BinaryIO | None,
        content_type: str,
        timeout: float | None = None,
        size: int | None = None,
    ) -> bytes:
        """One request on the kept-alive connection (opened again once if the server closed it). `data`
        may be an open file of `size` bytes, streamed from its start."""
        headers = {"Content-Type": content_type, "Accept": "application/json", **_auth_header()}
        if size is not None:
            headers["Content-Length"] = str(size)
        for attempt in (1, 2):
            reused = self._conn is not None
            try:
                if data is not None and not isinstance(data, bytes):
                    data.seek(0)  # a file: from its start again
                conn = self._connection(timeout)
                conn.request(method, path, body=data, headers=headers)
                _ack_at_once(conn)
                response = conn.getresponse()
                answer = response.read()
                break
            except _STALE as exc:
                self.close()
                if not reused or attempt == 2:
                    raise self._unreachable(exc) from None
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise self._unreachable(exc) from None
        if response.will_close:
            self.close()
        if 200 <= response.status < 300:
            return answer
        raise self._refused(response.status, answer, method, path)

    def _connection(self, timeout: float | None) -> http.client.HTTPConnection:
        wait = self.timeout if timeout is None else max(timeout, 0.05)
        if self._conn is None:
            if self._https:
                self._conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=wait, context=_ssl_context()
                )
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=wait)
            self._conn.connect()
            if self._conn.sock is not None:  # small JSON requests one after another: no Nagle delay
                self._conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        elif self._conn.sock is not None:
            self._conn.sock.settimeout(wait)
        return self._conn

    def _unreachable(self, exc: BaseException) -> ServerUnreachable:
        why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return ServerUnreachable(f"the MLflow server at {self.url} did not answer ({why})")

    def _refused(self, status: int, answer: bytes, method: str, path: str) -> SharingError:
        try:
            found = json.loads(answer)
            code, message = found.get("error_code", ""), found.get("message", "")
        except (ValueError, AttributeError):
            code, message = "", answer[:300].decode("utf-8", "replace").strip()
        where = path.split("?")[0].removeprefix(self._prefix)
        text = f"the MLflow server at {self.url} answered {status} to {method} {where}: {message or code}"
        if status in (401, 403):
            return SharingError(
                f"{text}. Give its credentials in MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and "
                "MLFLOW_TRACKING_PASSWORD"
            )
        if status == 404 and code in ("RESOURCE_DOES_NOT_EXIST", ""):
            return NotFound(text)
        if code == "RESOURCE_ALREADY_EXISTS":
            return AlreadyExists(text)
        if status == 429 or status >= 500:
            return ServerUnreachable(text)  # busy or failing: worth trying again later
        return SharingError(text)

    def put_artifact(
        self, artifact_uri: str, name: str, data: bytes | BinaryIO, content_type: str, size: int | None = None
    ) -> None:
        """Upload one file (bytes, or an open file of `size` bytes) through the server's artifact proxy
        (artifact_uri `mlflow-artifacts:/...`)."""
        where = urlsplit(artifact_uri).path.strip("/")
        path = f"{self._prefix}/api/2.0/mlflow-artifacts/artifacts/{quote(where)}/{quote(name)}"
        self.send("PUT", path, data, content_type, timeout=max(self.timeout, 60.0), size=size)

    def run_url(self, experiment_id: str, run_id: str) -> str:
        """The run's page in the MLflow UI."""
        return run_page(self.url, experiment_id, run_id)

    def close(self) -> None:
        if self._lanes is not None:
            self._lanes.close()
            self._lanes = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class Lanes:
    """Up to `width` POSTs to one server in flight at once, from `width` threads with a kept-alive
    connection each; answers are taken in the order the requests were sent.

    MLflow's server spends 0.1-0.17 ms of its CPU per metric point of a log-batch (its SQL layer makes an
    object per point) against our 0.01, so a push of many points mostly waits for it. A server with several
    workers (`mlflow server` starts 4) works on requests in flight side by side (a 100,000-point push: 7-9 s
    with 3 in flight, 12-15 s with 1, on 2 cores), and the network's latency to a remote server overlaps
    with its work; a server with one worker gains nothing (tests/perf/bench_mlflow.py). Like its client,
    used by one thread at a time; `width` 1 sends on that thread (the live mirror's)."""

    def __init__(self, client: MlflowRest, width: int | None = None):
        self.client, self.width = client, max(IN_FLIGHT if width is None else width, 1)
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._clients: list[MlflowRest] = []
        self._lock = threading.Lock()
        self._pending: deque[tuple[Future, Callable[[], None]]] = deque()

    def call(self, endpoint: str, body: dict, then: Callable[[], None]) -> None:
        """Post `body` to `endpoint`; `then()` runs on the caller's thread once this call and every one
        before it were answered. The error of a call is raised by a later call() or by drain()."""
        if self.width == 1:
            self.client.call(endpoint, body)
            then()
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.width, thread_name_prefix="jupyter-tracker-mlflow")
        self._pending.append((self._pool.submit(self._post, endpoint, body), then))
        while self._pending and (len(self._pending) > self.width or self._pending[0][0].done()):
            self._settle_first()

    def drain(self) -> None:
        """Wait for every call in flight (and run what follows each), or drop them all at the first error."""
        try:
            while self._pending:
                self._settle_first()
        finally:
            self.abandon()

    def abandon(self) -> None:
        """Drop the calls not sent yet and wait for those in flight, whose answers are not used."""
        for future, _ in self._pending:
            future.cancel()
        wait([future for future, _ in self._pending])
        self._pending.clear()

    def close(self) -> None:
        self.abandon()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._lock:
            for client in self._clients:
                client.close()
            self._clients.clear()

    def _settle_first(self) -> None:
        future, then = self._pending[0]
        future.result()
        self._pending.popleft()
        then()

    def _post(self, endpoint: str, body: dict) -> dict:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = MlflowRest(self.client.url, timeout=self.client.timeout)
            with self._lock:
                self._clients.append(client)
        return client.call(endpoint, body)


def ms(seconds: float) -> int:
    """Epoch seconds as MLflow's epoch milliseconds."""
    return max(int(round(seconds * 1000)), 0)
