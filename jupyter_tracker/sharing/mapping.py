"""How our runs read in MLflow and back: names, values, tags and statuses within MLflow's limits.

MLflow accepts metric, param and tag keys made of letters, digits, `_ - . /`, spaces (and `:` except on
Windows servers), at most 250 characters, that stay the same when read as a path (no `//`, `./`, `..`,
no leading or trailing `/`). A key that breaks a rule is sent with each other character replaced by `_`
and 8 hex digits of its hash appended, so two keys never meet under one name. Param values are text of at
most 6,000 characters and cannot change once sent; tag values at most 8,000 characters.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from typing import Any

from ..models import CRASHED, FAILED, FINISHED, INTERRUPTED, RUNNING, RunInfo

MAX_KEY = 250
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
# ASCII only, and no colon: the rule every MLflow server (Windows too) accepts.
_BAD = re.compile(r"[^A-Za-z0-9_\-. /]")
CUT = "…"

# Tags that identify our runs on the server (`jupyter_tracker.uuid` finds a run pushed before).
UUID_TAG = "jupyter_tracker.uuid"
PROJECT_TAG = "jupyter_tracker.project"
HOST_TAG = "jupyter_tracker.host"
OUR_PREFIX = "jupyter_tracker."
MLFLOW_PREFIX = "mlflow."
NOTE_TAG = "mlflow.note.content"
USER_TAG = "mlflow.user"

TO_MLFLOW = {
    RUNNING: "RUNNING",
    FINISHED: "FINISHED",
    FAILED: "FAILED",
    INTERRUPTED: "KILLED",
    CRASHED: "FAILED",
}
FROM_MLFLOW = {
    "RUNNING": RUNNING,
    "SCHEDULED": RUNNING,
    "FINISHED": FINISHED,
    "FAILED": FAILED,
    "KILLED": INTERRUPTED,
}


def remote_key(key: str) -> str:
    """Our metric, param or tag key as MLflow accepts it: unchanged when it can be, else cleaned and hashed."""
    if len(key) <= MAX_KEY and not _BAD.search(key) and _path_safe(key):
        return key
    parts = [part for part in _BAD.sub("_", key).split("/") if part not in ("", ".")]
    clean = "/".join("_" if part == ".." else part for part in parts) or "_"
    suffix = "_" + hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return clean[: MAX_KEY - len(suffix)] + suffix


def _path_safe(key: str) -> bool:
    parts = key.split("/")
    return bool(key) and all(part not in ("", ".", "..") for part in parts)


def cut(text: str, limit: int) -> str:
    """`text` at most `limit` characters long; a cut one ends in an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + CUT


def param_text(value: Any) -> str:
    """A param value as MLflow text: text as it is, anything else as JSON (so it reads back as it was)."""
    return cut(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False), MAX_PARAM_VALUE)


def param_value(text: str) -> Any:
    """A pulled param: numbers, booleans, null, lists and dicts written as JSON come back as such; else text."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    return text if isinstance(value, str) else value


def wire(value: float) -> float | str:
    """A metric value as MLflow's JSON takes it: NaN and infinities as the strings protobuf reads."""
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def local(value: Any) -> float:
    """A pulled metric value: MLflow stores an infinity as the largest float64, which reads back as one."""
    number = float(value)  # "NaN", "Infinity" and "-Infinity" too
    if abs(number) == sys.float_info.max:
        return math.copysign(math.inf, number)
    return number


def run_tags(info: RunInfo) -> dict[str, str]:
    """The MLflow tags of a run: ours (a plain tag has an empty value), its identity, user and description."""
    tags = {remote_key(tag): cut(value or "", MAX_TAG_VALUE) for tag, value in info.tag_values.items()}
    tags.update({UUID_TAG: info.uuid, PROJECT_TAG: cut(info.project, MAX_TAG_VALUE)})
    if info.host:
        tags[HOST_TAG] = info.host
    if info.user:
        tags[USER_TAG] = info.user
    if info.description:
        tags[NOTE_TAG] = cut(info.description, MAX_TAG_VALUE)
    if info.notebook:
        tags.update({"mlflow.source.name": info.notebook, "mlflow.source.type": "NOTEBOOK"})
    if info.git_commit:
        tags["mlflow.source.git.commit"] = info.git_commit
    return tags


def local_tags(tags: dict[str, str]) -> dict[str, str | None]:
    """The tags of a pulled run: those not of MLflow or ours; an empty value reads as a plain tag."""
    return {
        key: (value or None) for key, value in tags.items() if not key.startswith((MLFLOW_PREFIX, OUR_PREFIX))
    }


def run_page(server: str, experiment_id: str, run_id: str) -> str:
    """The run's page in the MLflow UI of `server`."""
    return f"{server}/#/experiments/{experiment_id}/runs/{run_id}"
