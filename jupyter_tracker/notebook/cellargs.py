"""Parsing the argument lines of the magics, with no IPython in sight.

`%%track_run name=baseline lr=1e-3 layers=[64, 32] --project mnist --tags cnn,first`: `key=value` pairs are
params whose values are Python literals (else strings); `--flags` are options. Everything is checked here,
before the cell runs.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import keyword
import shlex

from ..errors import InvalidArgument
from ..models import STATUSES

_QUOTES = "'\""
_OPEN, _CLOSE = "([{", ")]}"


class HelpRequested(Exception):
    """`-h`/`--help` was on the line: the text to show instead of running anything."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would print and exit the kernel
        raise InvalidArgument(f"{self.prog}: {message}")


def tokenize(line: str) -> list[str]:
    """Split on spaces outside quotes and brackets, so `name="a b"` and `layers=[64, 32]` stay whole."""
    tokens, current, quote, depth = [], [], None, 0
    for char in line:
        if quote:
            current.append(char)
            if char == quote and (len(current) < 2 or current[-2] != "\\"):
                quote = None
        elif char in _QUOTES:
            quote = char
            current.append(char)
        elif char in _OPEN:
            depth += 1
            current.append(char)
        elif char in _CLOSE:
            depth -= 1
            if depth < 0:
                raise InvalidArgument(f"unbalanced {char!r} in: {line.strip()}")
            current.append(char)
        elif char.isspace() and depth == 0:
            if current:
                tokens.append("".join(current))
                current = []
        else:
            current.append(char)
    if quote:
        raise InvalidArgument(f"unbalanced quote ({quote}) in: {line.strip()}")
    if depth:
        raise InvalidArgument(f"unbalanced bracket in: {line.strip()}")
    if current:
        tokens.append("".join(current))
    return tokens


def literal(text: str):
    """A Python literal when `text` is one (`1e-3`, `[64, 32]`, `"a b"`, `True`), else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in _QUOTES:
        try:
            return shlex.split(text)[0]
        except ValueError:
            return text[1:-1]
    return text


def parse(parser: argparse.ArgumentParser, line: str, *, params: bool = False, reserved=()):
    """Split `line` into options (parsed by `parser`) and, when `params`, a dict of key=value pairs."""
    tokens = tokenize(line)
    known = {opt for action in parser._actions for opt in action.option_strings}
    takes_value = {opt for action in parser._actions if action.nargs != 0 for opt in action.option_strings}
    flags: list[str] = []
    found: dict[str, object] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in ("-h", "--help"):
            raise HelpRequested(parser.format_help())
        if token.startswith("-") and not _is_number(token):
            flag = token.split("=", 1)[0]
            if flag not in known:
                longs = sorted(o for o in known if o.startswith("--"))
                bare = flag.lstrip("-").replace("_", "-")
                close = [o for o in longs if _near(bare, o.removeprefix("--"))]
                hint = f"; did you mean {close[0]}?" if close else ""
                raise InvalidArgument(
                    f"{parser.prog}: unknown option {flag}{hint} (the options are {', '.join(longs)})"
                )
            if "=" in token:
                flags += [flag, unquote(token.split("=", 1)[1])]
            else:
                flags.append(token)
                if flag in takes_value and i + 1 < len(tokens):
                    if tokens[i + 1].startswith(
                        "--"
                    ):  # `--tags --project x`: never take an option as a value
                        raise InvalidArgument(f"{parser.prog}: {flag} needs a value before {tokens[i + 1]}")
                    i += 1
                    flags.append(unquote(tokens[i]))
        elif params and "=" in token:
            key, _, value = token.partition("=")
            _check_key(key, token, reserved)
            if key in found:
                raise InvalidArgument(f"{key}= is given twice")
            if not value:
                raise InvalidArgument(f"{key}= has no value: write {key}=VALUE (quote text with spaces)")
            found[key] = literal(value)
        elif params:
            hint = ""
            if i and "=" in tokens[i - 1] and not tokens[i - 1].startswith("-"):
                key, _, value = tokens[i - 1].partition("=")
                hint = f'; a value with spaces needs quotes: {key}="{unquote(value)} {token}"'
            raise InvalidArgument(f"{token!r} is neither key=value nor an --option{hint}")
        else:
            flags.append(unquote(token))
        i += 1
    options = parser.parse_args(flags)
    return (options, found) if params else options


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _check_key(key: str, token: str, reserved) -> None:
    if not key:
        raise InvalidArgument(f"malformed parameter {token!r}: expected key=value")
    if not key.isidentifier() or keyword.iskeyword(key):
        raise InvalidArgument(
            f"parameter name {key!r} is not a valid Python variable name (params become variables in the cell)"
        )
    if key in reserved:
        raise InvalidArgument(f"{key}= looks like the --{key} option: write --{key} VALUE instead")


FILTERS = ("project", "status", "tags", "folder", "limit")


def add_run_filters(
    parser: argparse.ArgumentParser, *, limit: int | None = 50, limit_help: str | None = None
) -> argparse.ArgumentParser:
    """The options that select runs, shared by %track_runs, %track_compare and `jupyter-tracker ls`
    (no --limit when `limit` is None; 0 given for it means every run)."""
    parser.add_argument("--project", "-p", help="only runs of this project")
    parser.add_argument(
        "--status",
        "-s",
        choices=STATUSES,
        metavar="STATUS",
        help=f"only runs with this status: {', '.join(STATUSES)}",
    )
    parser.add_argument("--tags", "-t", action="append", help="only runs with this tag (repeatable)")
    parser.add_argument("--folder", help="only runs in this folder and its sub-folders")
    if limit is not None:
        parser.add_argument(
            "--limit",
            "-n",
            type=_count,
            default=limit,
            help=limit_help or f"at most this many runs (default {limit}; 0: all)",
        )
    return parser


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative: give a number of runs, or 0 for all")
    return value


def run_filters(options: argparse.Namespace) -> dict:
    """The run-selecting options as keyword arguments for runs() / compare() (--limit 0: no limit)."""
    found = {name: getattr(options, name) for name in FILTERS if hasattr(options, name)}
    if found.get("limit") == 0:
        found["limit"] = None
    return found


def track_run_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="%%track_run",
        add_help=False,
        description="Record the cell as a run: %%track_run [name=NAME] [key=value ...] [--options]",
    )
    parser.add_argument("--project", "-p", help="project the run belongs to (default: the notebook's name)")
    parser.add_argument("--tags", "-t", action="append", default=[], help="comma-separated tags")
    parser.add_argument("--description", "-d", help="free text describing the run")
    parser.add_argument("--folder", help="path-like group, e.g. /team/exp1")
    parser.add_argument("--as", dest="var", default="run", help="variable the run is bound to (default: run)")
    parser.add_argument("--resume", metavar="NAME_OR_ID", help="append this cell to an existing run")
    parser.add_argument("--db", help="database file for this run")
    parser.add_argument("--interval", type=float, help="seconds between hardware samples (>= 0.1, default 1)")
    parser.add_argument("--no-system", dest="system", action="store_false", help="do not sample hardware")
    parser.add_argument("--no-panel", dest="panel", action="store_false", help="do not show the live panel")
    return parser


TRACK_RUN_RESERVED = ("project", "tags", "description", "folder", "resume", "db", "interval")


def typo_hints(params: dict, parser: argparse.ArgumentParser | None = None) -> list[str]:
    """A line per param whose name is a near miss of `name` or of an option (`nmae=`, `tag=`, `desc=`): it
    stays a param, and the line says what was probably meant."""
    options = [
        opt.removeprefix("--").replace("-", "_")
        for action in (parser or track_run_parser())._actions
        for opt in action.option_strings
        if opt.startswith("--")
    ]
    hints = []
    for key, value in params.items():
        for candidate in ["name", *options]:
            if key != candidate and _near(key, candidate):
                meant = "name=" if candidate == "name" else f"--{candidate.replace('_', '-')}"
                hints.append(f"%%track_run: did you mean {meant}? {key}={value!r} is kept as a parameter")
                break
    return hints


# Short forms people write for an option; other prefixes are real params too often (fold, int, proj_dim).
_SHORT_FORMS = {"desc": "description", "descr": "description"}


def _near(key: str, candidate: str) -> bool:
    """A typo of `candidate`: letters swapped, a known short form, or a close spelling (fold is no folder)."""
    if sorted(key) == sorted(candidate) or _SHORT_FORMS.get(key) == candidate:
        return True
    return difflib.SequenceMatcher(None, key, candidate).ratio() > 0.8


def parse_track_run(line: str):
    """(options, params, name) for a %%track_run line; raises InvalidArgument naming the problem."""
    options, params = parse(track_run_parser(), line, params=True, reserved=TRACK_RUN_RESERVED)
    name = params.pop("name", None)
    if name is not None and (not isinstance(name, str | int) or not str(name).strip()):
        raise InvalidArgument(f"name= must be a non-empty text, got {name!r}")
    if not options.var.isidentifier() or keyword.iskeyword(options.var):
        raise InvalidArgument(f"--as {options.var!r} is not a valid Python variable name")
    if options.var in params:
        raise InvalidArgument(f"{options.var}= clashes with the run variable; rename it or use --as OTHER")
    if options.project is not None and not options.project.strip():
        raise InvalidArgument("--project needs a name (leave it out for the notebook's name)")
    if options.interval is not None and options.interval < 0.1:
        raise InvalidArgument(f"--interval must be at least 0.1 seconds, got {options.interval}")
    return options, params, None if name is None else str(name).strip()
