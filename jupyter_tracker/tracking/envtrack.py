"""Tracking without logging calls (runnable/magnus style): environment variables, track_this(), shell commands.

- ``TRACKER_TRACK_<NAME>=<value>`` in the environment when a run starts becomes ``<name>`` (lower-cased):
  numbers (``"42"``, ``"0.5"``) are metrics, JSON objects are flattened (``eggs.ham``), any other text is
  a parameter. ``TRACKER_TRACK_<NAME>_STEP_<N>`` puts the metric at step N.
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

from .errors import CommandFailed, InvalidArgument, NoActiveRun, RunClosed, TrackerError
from .models import RUNNING

PREFIX = "TRACKER_TRACK_"
TRACKING_FILE_ENV = "TRACKER_TRACKING_FILE"
_STEP = re.compile(r"^(?P<name>.+?)_STEP_(?P<step>\d+)$", re.IGNORECASE)
_INTEGER = re.compile(r"^[+-]?\d+$")
_DUMP_ENV = (
    "import json, os, sys; json.dump({k: v for k, v in os.environ.items() "
    f"if k.startswith({PREFIX!r})}}, open(sys.argv[1], 'w'))"
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
    """Numeric text -> int/float, a JSON object -> dict, anything else stays text."""
    stripped = text.strip()
    if _INTEGER.match(stripped):
        return int(stripped)
    try:
        return float(stripped)
    except ValueError:
        pass
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except ValueError:
            return text
        if isinstance(value, dict):
            return value
    return text


def tracked_variables(environ: Mapping[str, str]) -> list[tuple[str, int | None, object]]:
    """(name, step or None, value) for every TRACKER_TRACK_* variable."""
    found = []
    for variable, text in environ.items():
        if not variable.upper().startswith(PREFIX) or len(variable) == len(PREFIX):
            continue
        name, step = variable[len(PREFIX) :], None
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
        return dataclasses.asdict(value)
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


def track_this(step: int = 0, **values) -> None:
    """Track values on the active run: numbers become metrics at `step`, dicts are flattened (eggs.ham),
    pydantic models and dataclasses are dumped to dicts first, anything else becomes a parameter.

    In a process started by run.shell() with no run open, the values go back to that run instead."""
    from .run import active_run

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
    found = []
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


class EnvTrackMixin:
    """track_this(), run.shell() and environment tracking for a running Run."""

    def track_this(self, step: int = 0, **values) -> None:
        """Track values at `step` (default 0): numbers as metrics, dicts flattened, other values as params."""
        self._track_values([(_check_step(step), values)])

    def _track_values(self, batches: Sequence[tuple[int | None, Mapping]]) -> dict:
        """Log (step, values) batches; step None means the run's step counter. Returns all values tracked."""
        tracked = {}
        for step, values in batches:
            metrics, params = split_values(values)
            if metrics:
                self.log(metrics, step)
            if params:
                self.log_params(params)
            tracked.update(metrics)
            tracked.update(params)
        return tracked

    def _track_environment(self, environ: Mapping[str, str] | None = None) -> None:
        """At run start: track every TRACKER_TRACK_* variable; a bad one becomes a warning event."""
        found = tracked_variables(os.environ if environ is None else environ)
        if not found:
            return
        try:
            self._track_values(_group(found, None))
        except TrackerError as exc:
            self.log_event(f"TRACKER_TRACK_* variables not tracked: {exc}", "warning")

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
        if self.status != RUNNING:
            raise RunClosed(f"run {self.name!r} has ended ({self.status}); resume it to run commands")
        step = self._step if step is None else _check_step(step)
        text = command if isinstance(command, str) else shlex.join(map(str, command))
        log_name = self._free_log_name(str(name or step))
        with tempfile.TemporaryDirectory(prefix="tracker-shell-") as scratch:
            env_dump, tracking_file = Path(scratch) / "env.json", Path(scratch) / "tracked.jsonl"
            child_env = {**os.environ, **(env or {}), TRACKING_FILE_ENV: str(tracking_file)}
            argv, use_shell = _command_line(command, env_dump)
            started = time.perf_counter()
            process = subprocess.Popen(
                argv,
                shell=use_shell,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=child_env,
                start_new_session=os.name == "posix",
            )
            timed_out = threading.Event()
            timer = None
            if timeout is not None:
                timer = threading.Timer(timeout, lambda: (timed_out.set(), _kill(process)))
                timer.daemon = True
                timer.start()
            interrupted = None
            with self._artifact_writer(log_name, "output", "text/plain") as sink:
                try:
                    _pump(process, sink, sys.stdout if echo else None)
                except KeyboardInterrupt as exc:
                    interrupted = exc
                    _kill(process)
                exit_code = process.wait()
                process.stdout.close()
            duration = time.perf_counter() - started
            if timer is not None:
                timer.cancel()
            changed = {}
            if env_dump.exists():
                try:
                    dumped = json.loads(env_dump.read_text(encoding="utf-8"))
                except ValueError:
                    dumped = {}
                changed = {k: v for k, v in dumped.items() if child_env.get(k) != v}
            batches = _group(tracked_variables(changed), step) + [
                (step if s is None else s, values) for s, values in _read_tracking_file(tracking_file)
            ]
        tracked = self._track_values(batches)
        artifact = sink.artifact
        failed = exit_code != 0 or timed_out.is_set() or interrupted is not None
        how = (
            "timed out" if timed_out.is_set() else "was interrupted" if interrupted else f"exited {exit_code}"
        )
        self.log_event(
            f"shell: {text} {how} after {duration:.2f} s; output in {log_name!r}",
            "error" if failed else "info",
            command=text,
            exit_code=exit_code,
            duration=duration,
            log=log_name,
            sha256=artifact.sha256,
            step=step,
        )
        if interrupted is not None:
            raise interrupted
        result = ShellResult(text, exit_code, duration, log_name, artifact.sha256, step, tracked)
        if failed and fail_run:
            exc = CommandFailed(
                f"command {text!r} {how} (exit code {exit_code}); its output is in artifact {log_name!r}. "
                "Pass fail_run=False to carry on after a failing command."
            )
            exc.result = result
            self.fail(exc)
            raise exc
        return result

    def _free_log_name(self, label: str) -> str:
        """`<label>.execution.log`, or `<label>-2.execution.log`... when a shell already used that name."""
        taken = {row["name"] for row in self._store.artifacts(self.id)}
        name, n = f"{label}.execution.log", 1
        while name in taken:
            n += 1
            name = f"{label}-{n}.execution.log"
        return name


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
    while chunk := process.stdout.read1(65536):
        sink.write(chunk)
        if echo is not None:
            echo.write(decoder.decode(chunk))
            echo.flush()
    if echo is not None:
        echo.write(decoder.decode(b"", final=True))
        echo.flush()
