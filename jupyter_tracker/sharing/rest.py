"""A small client of MLflow's REST API: JSON over one keep-alive HTTP(S) connection, standard library only.

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
from urllib.parse import quote, urlencode, urlsplit

from .. import config
from ..errors import InvalidArgument, ServerUnreachable, SharingError
from .mapping import run_page

URI_ENV = "MLFLOW_TRACKING_URI"
OUR_ENV = "TRACKER_MLFLOW_URI"  # also turns the live mirror on (config.mirror_url)
API = "/api/2.0/mlflow/"
TIMEOUT_SECONDS = 30.0
# A connection the server closed between two requests is opened again once, at once.
_STALE = (
    http.client.RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
    http.client.CannotSendRequest,
)


class NotFound(SharingError):
    """The server has no such experiment or run (RESOURCE_DOES_NOT_EXIST)."""


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


class MlflowRest:
    """One MLflow tracking server. `call("runs/create", {...})` posts JSON to /api/2.0/mlflow/runs/create;
    `call("runs/get", query={...}, method="GET")` gets. Not shared between threads: one per thread."""

    def __init__(self, url: str | None = None, *, timeout: float = TIMEOUT_SECONDS):
        self.url = server_url(url)  # also the key of the runs' sync records: no credentials in it
        parts = urlsplit(self.url)
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname or "", parts.port
        self._prefix = parts.path  # a server behind a path (--static-prefix, a proxy)
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
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

    def send(
        self, method: str, path: str, data: bytes | None, content_type: str, timeout: float | None = None
    ) -> bytes:
        """One request on the kept-alive connection (opened again once if the server closed it)."""
        headers = {"Content-Type": content_type, "Accept": "application/json", **_auth_header()}
        for attempt in (1, 2):
            reused = self._conn is not None
            try:
                conn = self._connection(timeout)
                conn.request(method, path, body=data, headers=headers)
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
        if status == 429 or status >= 500:
            return ServerUnreachable(text)  # busy or failing: worth trying again later
        return SharingError(text)

    def put_artifact(self, artifact_uri: str, name: str, data: bytes, content_type: str) -> None:
        """Upload one file through the server's artifact proxy (artifact_uri `mlflow-artifacts:/...`)."""
        where = urlsplit(artifact_uri).path.strip("/")
        path = f"{self._prefix}/api/2.0/mlflow-artifacts/artifacts/{quote(where)}/{quote(name)}"
        self.send("PUT", path, data, content_type, timeout=max(self.timeout, 60.0))

    def run_url(self, experiment_id: str, run_id: str) -> str:
        """The run's page in the MLflow UI."""
        return run_page(self.url, experiment_id, run_id)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def ms(seconds: float) -> int:
    """Epoch seconds as MLflow's epoch milliseconds."""
    return max(int(round(seconds * 1000)), 0)
