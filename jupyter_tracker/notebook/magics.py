"""IPython magics: %%track_run, %track_runs, %track_compare, %track_export, %track_config.

The only module that turns TrackerError into IPython's UsageError: a bad argument line stops the cell
before it runs, with one short message.
"""

from __future__ import annotations

import ast
import builtins
import functools
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from .. import config
from ..errors import TrackerError
from ..tracking.start import start_run
from . import cellargs

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell


class _ShowHelp(Exception):
    pass


@contextmanager
def _usage_errors():
    __tracebackhide__ = True
    try:
        yield
    except cellargs.HelpRequested as request:
        print(request)
        raise _ShowHelp from None
    except TrackerError as exc:
        raise UsageError(str(exc)) from None


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name the code assigns, defines, imports or declares global (locals too: erring on the safe side)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Global):
            names.update(node.names)
    return names


def _with_help(magic):
    """`%magic --help` prints the options and does nothing else."""

    @functools.wraps(magic)
    def wrapper(*args, **kwargs):
        __tracebackhide__ = True
        try:
            return magic(*args, **kwargs)
        except _ShowHelp:
            return None

    return wrapper


def _end_cell(run, live, exc: BaseException | None = None) -> None:
    """End the cell's run (finished, or failed/interrupted by `exc`), then show its final state in the
    panel even when an interrupt or an error arrives while the run ends (Kernel > Interrupt during the last
    flush): run.finish() stores the status and re-raises, the panel shows what was stored, and the
    interrupt reaches the cell after that."""
    __tracebackhide__ = True
    try:
        if exc is None:
            run.finish()
        else:
            run.fail(exc)
    finally:
        if live is not None:
            live.finish()


@magics_class
class TrackerMagics(Magics):
    shell: InteractiveShell  # IPython registers the magics with its shell

    @cell_magic
    @_with_help
    def track_run(self, line: str, cell: str):
        """Record this cell as a run.

        %%track_run [name=NAME] [key=value ...] [--project P] [--tags a,b] [--description TEXT] [--folder /x]
                    [--as VAR] [--resume NAME_OR_ID] [--db PATH] [--interval S] [--no-system] [--no-panel]

        key=value pairs are params (Python literals, else text), stored and bound as variables in the cell;
        the run is bound to `run` (or VAR). Inside: run.log(loss=...), tracker.log(...), run.log_event(...).
        """
        __tracebackhide__ = True
        with _usage_errors():
            options, params, name = cellargs.parse_track_run(line)
        for hint in cellargs.typo_hints(params):  # a near miss of name= or an option: said, then run
            print(hint, file=sys.stderr)
        if not cell.strip():
            raise UsageError(
                "%%track_run: the cell is empty; put the code to record below the %%track_run line"
            )
        body, last, bound = self._compile(cell)
        run = self._start(options, params, name, cell)
        namespace = self.shell.user_ns
        # Params named like a built-in (type=, input=) are variables for this cell only, so that
        # len(), print() and friends work again afterwards; a name the cell binds itself stays.
        shadowing = [
            key for key in params if hasattr(builtins, key) and key not in namespace and key not in bound
        ]
        namespace.update(params)
        namespace[options.var] = run
        live = None
        if options.panel:
            from .display import show_run

            live = show_run(run)
        try:
            exec(body, namespace)
            result = eval(last, namespace) if last is not None else None
        except BaseException as exc:
            _end_cell(run, live, exc)
            raise
        finally:
            for key in shadowing:
                if namespace.get(key) is params[key]:
                    del namespace[key]
        _end_cell(run, live)
        return result

    def _start(self, options, params: dict, name: str | None, cell: str):
        with _usage_errors():
            return start_run(
                name,
                project=options.project,
                params=params,
                tags=options.tags,
                description=options.description,
                folder=options.folder,
                db=options.db,
                resume=options.resume,
                system=options.system,
                interval=options.interval,
                cell_source=cell,
                execution_count=self._execution_count(),
            )

    def _execution_count(self) -> int:
        """The In[n] number of the running cell (IPython 9 advances execution_count before the cell runs,
        earlier versions after; the input history has the cell either way)."""
        history = self.shell.history_manager
        assert history is not None  # the shell makes one when it starts
        return len(history.input_hist_raw) - 1

    def _compile(self, cell: str):
        """Compile the cell as IPython would (transforms, AST hooks, cached source for tracebacks);
        split off a trailing expression so its value is shown like a normal cell's. Also returns the names
        the cell binds itself."""
        shell = self.shell
        transformed = shell.transform_cell(cell)
        tree = shell.compile.ast_parse(transformed)
        tree = shell.transform_ast(tree)
        bound = _bound_names(tree)
        filename = shell.compile.cache(transformed, self._execution_count(), raw_code=cell)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            expression = ast.Expression(tree.body.pop().value)
            last = shell.compile(expression, filename, "eval")  # type: ignore[arg-type]  # an AST, as compile() takes
        body = shell.compile(tree, filename, "exec")
        return body, last, bound

    @line_magic
    @_with_help
    def track_runs(self, line: str):
        """List runs: %track_runs [--project P] [--status S] [--tags T] [--folder F] [--limit N] [--db PATH]

        The table of `jupyter-tracker ls`, sortable by its headers; jupyter_tracker.runs() is the DataFrame."""
        from IPython.display import display

        from ..reading.query import runs
        from .tables import runs_bundle

        parser = cellargs.add_run_filters(cellargs._Parser(prog="%track_runs", add_help=False))
        parser.add_argument("--db")
        with _usage_errors():  # a missing --db is a UsageError (a typo?): reading never creates one
            opts = cellargs.parse(parser, line)
            path = config.db_path(opts.db)
            if not opts.db and not path.exists():  # the project's store, before its first run: no error
                display({"text/plain": f"no runs yet: the first %%track_run creates {path}"}, raw=True)
                return
            frame = runs(**cellargs.run_filters(opts), db=path)
        display(runs_bundle(frame, path), raw=True)

    @line_magic
    @_with_help
    def track_compare(self, line: str):
        """Compare runs: %track_compare [RUN ...] [--project P] [--tags T] [--status S] [--folder F]
        [--metric M ...] [--last N] [--db PATH]"""
        from ..reading.comparison import compare

        parser = cellargs._Parser(prog="%track_compare", add_help=False)
        parser.add_argument("runs", nargs="*")
        cellargs.add_run_filters(parser, limit=None)
        parser.add_argument("--metric", "-m", action="append", dest="metrics")
        parser.add_argument("--last", type=int, help="the N newest runs")
        parser.add_argument("--db")
        with _usage_errors():
            opts = cellargs.parse(parser, line)
            filters = cellargs.run_filters(opts)
            comparison = compare(
                opts.runs or None, **filters, metrics=opts.metrics, last=opts.last, db=opts.db
            )
        from .display import show_comparison

        show_comparison(comparison)  # shown where the line stands in the cell, not only as its last line

    @line_magic
    @_with_help
    def track_export(self, line: str):
        """Export a run card: %track_export RUN [--format json|html] [--out PATH] [--db PATH]"""
        from ..cards import export_run
        from ..tracking.stores import store_for

        parser = cellargs._Parser(prog="%track_export", add_help=False)
        parser.add_argument("run")
        parser.add_argument("--format", "-f", choices=["json", "html"])
        parser.add_argument("--out", "-o")
        parser.add_argument("--db")
        with _usage_errors():
            opts = cellargs.parse(parser, line)
            store = store_for(opts.db, write=False)
            path = export_run(store, store.find_run(opts.run).id, opts.out, opts.format)
        print(f"Run card written to {path}")
        return None

    @line_magic
    @_with_help
    def track_config(self, line: str):
        """Session settings: %track_config [db=PATH] [project=NAME] [interval=SECONDS] [system=False]
        [mlflow=URL]  (mlflow: mirror every new run to that MLflow tracking server while it runs)"""
        with _usage_errors():
            _, settings = cellargs.parse(
                cellargs._Parser(prog="%track_config", add_help=False), line, params=True
            )
            if "interval" in settings:
                from ..config import check_interval

                check_interval(settings["interval"])
            current = config.configure(**settings)
        shown = ", ".join(f"{k}={v!r}" for k, v in current.items()) or "defaults"
        print(f"jupyter-tracker settings: {shown}; database: {config.db_path()}")


def load_ipython_extension(ipython) -> None:
    # register_magics replaces same-named magics, so loading twice registers them once.
    ipython.register_magics(TrackerMagics)


def unload_ipython_extension(ipython) -> None:
    registry = ipython.magics_manager.magics
    for kind, names in (
        ("cell", ["track_run"]),
        ("line", ["track_runs", "track_compare", "track_export", "track_config"]),
    ):
        for name in names:
            registry[kind].pop(name, None)
