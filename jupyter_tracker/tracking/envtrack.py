"""Tracking without logging calls (runnable/magnus style): environment variables, track_this(), shell commands.

- ``TRACKER_TRACK_<NAME>=<value>`` in the environment when a run starts becomes ``<name>`` (lower-cased):
  numbers (``"42"``, ``"0.5"``) are metrics, JSON objects are flattened (``eggs.ham``), any other text is
  a parameter (``"true"`` stays text: magnus and runnable have no booleans in variables either).
  ``TRACKER_TRACK_<NAME>_STEP_<N>`` puts the value at step N. ``MAGNUS_TRACK_*`` and ``RUNNABLE_TRACK_*``
  (the prefixes of magnus and runnable, any case) are read the same way.
- ``track_this(step=N, **values)``: numbers are metrics at step N; other values are params, each also kept
  as an event with its step, so a text value per step is never lost (params hold the latest).
- ``run.shell("python train.py")`` runs a command, streams its output into the cell, keeps the output as
  the artifact ``<step>.execution.log`` (sha256 recorded), records exit code and duration as an event, and
  fails the run on a non-zero exit unless ``fail_run=False``.

A child process cannot change its parent's environment, so values come back two ways. The command runs
in ``/bin/sh`` with an EXIT trap that writes the shell's ``TRACKER_TRACK_*`` variables to a file (so
``export TRACKER_TRACK_LOSS=0.3`` in the command is seen, even after ``exit``). Programs the command
starts hand values back through the file named by ``$TRACKER_TRACKING_FILE``: ``jupyter_tracker.track_this()``
appends to it when no run is open in that process, and a script may append ``TRACKER_TRACK_LOSS=0.3`` lines
itself. Values the child merely inherited unchanged are not tracked again.
"""

from __future__ import annotations

import codecs
import dataclasses
import io
import json
import numbers
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import cast

from ..errors import CommandFailed, InvalidArgument, NoActiveRun, RunClosed, TrackerError
from ..models import RUNNING
from .active import active_run
from .validation import ended_message

PREFIX = "TRACKER_TRACK_"
PREFIXES = (PREFIX, "MAGNUS_TRACK_", "RUNNABLE_TRACK_")
TRACKING_FILE_ENV = "TRACKER_TRACKING_FILE"
_STEP = re.compile(r"^(?P<name>.+?)_STEP_(?P<step>\d+)$", re.IGNORECASE)
_INTEGER = re.compile(r"^[+-]?\d+$")
_DUMP_ENV = (
    "import json, os, sys; json.dump({k: v for k, v in os.environ.items() "
    f"if k.upper().startswith({PREFIXES!r})}}, open(sys.argv[1], 'w'))"
)
KILL_GRACE_S = 5.0


@dataclasses.dataclass(frozen=True)
class ShellResult:
    """What run.shell() did: the command, its exit code, duration (s), log artifact and what it tracked."""

    command: str
    exit_code: int
    duration: float
    log: str
    sha256: str
    step: int
    tracked: dict


# -- values ------------------------------------------------------------------------------------------------
def parse_value(text: str):
    """Numeric text -> int/float, a JSON object -> dict, a JSON array -> list, anything else stays text
    ("true" too: like magnus and runnable, variables carry no booleans)."""
    stripped = text.strip()
    if _INTEGER.match(stripped):
        return int(stripped)
    try:
        return float(stripped)
    except ValueError:
        pass
    if stripped.startswith(("{", "[")):
        try:
            value = json.loads(stripped)
        except ValueError:
            return text
        if isinstance(value, dict | list):
            return value
    return text


def tracked_variables(environ: Mapping[str, str]) -> list[tuple[str, int | None, object]]:
    """(name, step or None, value) for every TRACKER_TRACK_* (MAGNUS_TRACK_*, RUNNABLE_TRACK_*) variable."""
    found = []
    for variable, text in environ.items():
        prefix = next((p for p in PREFIXES if variable.upper().startswith(p)), None)
        if prefix is None or len(variable) == len(prefix):
            continue
        name, step = variable[len(prefix) :], None
        match = _STEP.match(name)
        if match:
            name, step = match["name"], int(match["step"])
        found.append((name.lower(), step, parse_value(text)))
    return found


def as_plain(value):
    """Pydantic models (by alias) and dataclass instances as dicts; anything else unchanged."""
    if isinstance(value, type):
        return value
    dump = getattr(value, "model_dump", None)  # pydantic 2
    if callable(dump):
        return dump(by_alias=True)
    if hasattr(value, "__fields__") and callable(getattr(value, "dict", None)):  # pydantic 1
        return value.dict(by_alias=True)
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)  # type: ignore[arg-type]  # classes were handed back above
    return value


def flatten(values: Mapping, prefix: str = "") -> dict:
    """{"eggs": {"ham": 1}} -> {"eggs.ham": 1}, models and dataclasses dumped first."""
    flat = {}
    for key, value in values.items():
        value = as_plain(value)
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def split_values(values: Mapping) -> tuple[dict, dict]:
    """(metrics, params): real numbers (bools, numpy scalars, 0-d arrays) are metrics, the rest params."""
    metrics, params = {}, {}
    for key, value in flatten(values).items():
        if getattr(value, "ndim", None) == 0 and callable(getattr(value, "item", None)):
            value = value.item()
        if isinstance(value, numbers.Real):
            metrics[key] = value
        else:
            try:
                json.dumps(value)
            except (TypeError, ValueError):
                value = str(value)
            params[key] = value
    return metrics, params


def _check_step(step) -> int:
    if type(step) is not int or step < 0:
        raise InvalidArgument(f"step must be a whole number >= 0, got {step!r}")
    return step


def track_this(step: int = 0, **values: object) -> None:
    """Track values on the active run: numbers become metrics at `step`, dicts are flattened (eggs.ham),
    pydantic models and dataclasses are dumped to dicts first, anything else becomes a parameter.

    In a process started by run.shell() with no run open, the values go back to that run instead."""
    _check_step(step)
    run = active_run()
    if run is not None:
        run.track_this(step, **values)
        return
    path = os.environ.get(TRACKING_FILE_ENV)
    if not path:
        raise NoActiveRun(
            "no active run to track to: start one with `%%track_run` or `jupyter_tracker.start_run()`, "
            "or run this program through run.shell()"
        )
    line = json.dumps({"step": step, "values": flatten(values)}, default=str)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def _read_tracking_file(path: Path) -> list[tuple[int | None, dict]]:
    """(step, values) from the lines a child appended: JSON from track_this() or TRACKER_TRACK_X=v."""
    found: list[tuple[int | None, dict]] = []
    if not path.exists():
        return found
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                record = json.loads(line)
                found.append((record.get("step"), dict(record["values"])))
            except (ValueError, KeyError, TypeError):
                continue
        elif "=" in line:
            variable, _, text = line.partition("=")
            found += [(step, {name: value}) for name, step, value in tracked_variables({variable: text})]
    return found


def _kill(process: subprocess.Popen) -> None:
    """Stop the command and everything it started (its own session on POSIX)."""
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(KILL_GRACE_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass


class EnvTracking:
    """track_this(), run.shell() and TRACKER_TRACK_* variables for an open run.

    Contract: `run` is the Run it serves; this reads its `store`, `id`, `name`, `status` and `next_step`,
    records through its `log()`, `parameters.log()` and `_log_event()`, writes logs through its artifacts'
    `writer()`, and ends it with `fail()` when a command fails."""

    def __init__(self, run):
        self._run = run

    def track(self, step: int = 0, **values: object) -> None:
        """Track values at `step` (default 0): numbers as metrics, dicts flattened, other values as params
        (each also an event with its step: the params keep the latest)."""
        if self._run.status != RUNNING:
            raise RunClosed(ended_message(self._run.name, self._run.status, "track more"))
        self._track_values([(_check_step(step), values)])

    def _track_values(self, batches: Sequence[tuple[int | None, Mapping]]) -> dict:
        """Log (step, values) batches; step None means the run's step counter. Returns all values tracked."""
        tracked = {}
        for step, values in batches:
            metrics, params = split_values(values)
            if metrics:
                self._run.log(metrics, step)
            if params:
                self._run.parameters.log(params, step)
            tracked.update(metrics)
            tracked.update(params)
        return tracked

    def track_environment(self, environ: Mapping[str, str] | None = None) -> None:
        """At run start: track every TRACKER_TRACK_* variable; a bad one becomes a warning event."""
        found = tracked_variables(os.environ if environ is None else environ)
        if not found:
            return
        try:
            self._track_values(_group(found, None))
        except TrackerError as exc:
            self._run._log_event(f"TRACKER_TRACK_* variables not tracked: {exc}", "warning")

    def shell(
        self,
        command: str | Sequence[str],
        *,
        fail_run: bool = True,
        step: int | None = None,
        name: str | None = None,
        cwd: str | os.PathLike | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        echo: bool = True,
    ) -> ShellResult:
        """Run a command, stream its output into the cell and keep it as `<step>.execution.log`.

        A string runs in a shell, a list runs as it is. The exit code and duration are recorded as an
        event; TRACKER_TRACK_* values the command sets are tracked at `step` (default: the run's next
        step). A non-zero exit (or `timeout` seconds passing) fails the run and raises CommandFailed,
        unless `fail_run=False`. Ctrl-C / interrupting the kernel stops the command too."""
        if self._run.status != RUNNING:
            raise RunClosed(ended_message(self._run.name, self._run.status, "run commands"))
        step = self._run.next_step if step is None else _check_step(step)
        text = command if isinstance(command, str) else shlex.join(map(str, command))
        log_name = self._free_log_name(str(name or step))
        with tempfile.TemporaryDirectory(prefix="tracker-shell-") as scratch:
            env_dump, tracking_file = Path(scratch) / "env.json", Path(scratch) / "tracked.jsonl"
            child_env = {**os.environ, **(env or {}), TRACKING_FILE_ENV: str(tracking_file)}
            argv, use_shell = _command_line(command, env_dump)
            started = time.perf_counter()
            with self._run.files.writer(log_name, "output", "text/plain") as sink:
                exit_code, timed_out, interrupted = _execute(
                    argv, use_shell, cwd, child_env, timeout, sink, sys.stdout if echo else None
                )
            duration = time.perf_counter() - started
            batches = _group(tracked_variables(_changed(env_dump, child_env)), step) + [
                (step if s is None else s, values) for s, values in _read_tracking_file(tracking_file)
            ]
        tracked = self._track_values(batches)
        result = ShellResult(text, exit_code, duration, log_name, sink.artifact.sha256, step, tracked)
        how = "timed out" if timed_out else "was interrupted" if interrupted else f"exited {exit_code}"
        failed = exit_code != 0 or timed_out or interrupted is not None
        self._record(result, how, failed)
        if interrupted is not None:
            raise interrupted
        if failed and fail_run:
            exc = CommandFailed(
                f"command {text!r} {how} (exit code {exit_code}); its output is in artifact {log_name!r}. "
                "Pass fail_run=False to carry on after a failing command."
            )
            exc.result = result
            self._run.fail(exc)
            raise exc
        return result

    def _record(self, result: ShellResult, how: str, failed: bool) -> None:
        self._run._log_event(
            f"shell: {result.command} {how} after {result.duration:.2f} s; output in {result.log!r}",
            "error" if failed else "info",
            command=result.command,
            exit_code=result.exit_code,
            duration=result.duration,
            log=result.log,
            sha256=result.sha256,
            step=result.step,
        )

    def _free_log_name(self, label: str) -> str:
        """`<label>.execution.log`, or `<label>-2.execution.log`... when a shell already used that name."""
        taken = {row["name"] for row in self._run.store.artifacts(self._run.id)}
        name, n = f"{label}.execution.log", 1
        while name in taken:
            n += 1
            name = f"{label}-{n}.execution.log"
        return name


def _changed(env_dump: Path, child_env: Mapping[str, str]) -> dict:
    """The TRACKER_TRACK_* variables the command's shell set or changed (dumped at its exit)."""
    if not env_dump.exists():
        return {}
    try:
        dumped = json.loads(env_dump.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    return {k: v for k, v in dumped.items() if child_env.get(k) != v}


def _execute(argv, use_shell: bool, cwd, env: dict, timeout: float | None, sink, echo):
    """Run the command, pumping its output into `sink` (and `echo`); (exit code, timed out, interrupt).

    Ctrl-C / interrupting the kernel kills the command and is handed back, to be raised once recorded."""
    process = subprocess.Popen(
        argv,
        shell=use_shell,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env=env,
        start_new_session=os.name == "posix",
    )
    timed_out = threading.Event()
    timer = None
    if timeout is not None:
        timer = threading.Timer(timeout, lambda: (timed_out.set(), _kill(process)))  # type: ignore[func-returns-value]
        timer.daemon = True
        timer.start()
    interrupted = None
    try:
        _pump(process, sink, echo)
    except KeyboardInterrupt as exc:
        interrupted = exc
        _kill(process)
    exit_code = process.wait()
    assert process.stdout is not None  # stdout=PIPE
    process.stdout.close()
    if timer is not None:
        timer.cancel()
    return exit_code, timed_out.is_set(), interrupted


def _group(found: list[tuple[str, int | None, object]], default_step: int | None) -> list[tuple]:
    """Values without a step go together at `default_step`; stepped ones each at their step."""
    plain = {name: value for name, step, value in found if step is None}
    batches = [(default_step, plain)] if plain else []
    return batches + [(step, {name: value}) for name, step, value in found if step is not None]


def _command_line(command: str | Sequence[str], env_dump: Path) -> tuple[list[str] | str, bool]:
    if not isinstance(command, str):
        return [os.fspath(part) for part in command], False
    if os.name != "posix":
        return command, True
    dump = shlex.join([sys.executable, "-I", "-S", "-c", _DUMP_ENV, str(env_dump)])
    return ["/bin/sh", "-c", f"trap {shlex.quote(dump)} EXIT\n{command}"], False


def _pump(process: subprocess.Popen, sink, echo) -> None:
    """Copy the command's output into the log as it comes, and into the cell (decoded, partial lines too)."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    while chunk := cast("io.BufferedReader", process.stdout).read1(65536):  # stdout=PIPE
        sink.write(chunk)
        if echo is not None:
            echo.write(decoder.decode(chunk))
            echo.flush()
    if echo is not None:
        echo.write(decoder.decode(b"", final=True))
        echo.flush()
