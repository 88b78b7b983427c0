"""The dependency arrows of the design, kept one way by reading every module's imports."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "jupyter_tracker"

# Lower layers never import higher ones. A new module must be given a layer here.
LAYERS = {
    "errors": 0,
    "models": 0,
    "config": 0,
    "version": 0,
    "frames": 0,
    "textfmt": 0,
    "store": 1,
    "sampler": 2,
    "probes": 2,
    "gpu": 2,
    "names": 2,
    "validation": 2,
    "context": 2,
    "cellargs": 2,
    "writer": 3,
    "query": 3,
    "artifacts": 3,
    "alerts": 4,
    "envtrack": 4,
    "extras": 4,
    "folders": 4,
    "run": 4,
    "vega": 5,
    "chart_data": 5,
    "chart_specs": 5,
    "experiment": 5,
    "resume": 5,
    "charts": 5,
    "comparison": 5,
    "widgets": 6,
    "cards": 6,
    "display": 7,
    "magics": 8,
    "cli": 8,
    "server": 8,
    "__init__": 9,
}
# Result objects that show or export themselves (`run.export(...)`, a Comparison in a notebook) reach up to
# the module that does the work, inside the method, so importing the lower module never loads the upper one.
FACADES = {("query", "cards"), ("comparison", "display"), ("comparison", "cards")}
FRONTEND = ("IPython", "ipywidgets", "anywidget", "ipykernel")
FRONTEND_ALLOWED = {"magics", "display", "widgets", "__init__"}
SQL = ("sqlite3", "sqlite_utils")


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "labextension":
            continue
        yield relative.parts[0].removesuffix(".py"), relative, ast.parse(path.read_text())


def _imports(relative: Path, tree: ast.AST, *, deferred: bool = True):
    """(absolute top-level name, package-internal top-level name or None) for every import; with
    deferred=False, only those that run when the module is imported (not inside functions)."""
    depth = len(relative.parts) - 1
    nodes = ast.walk(tree) if deferred else _module_level(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], None
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                yield (node.module or "").split(".")[0], None
            elif node.level > depth:  # relative import reaching the package's top
                if node.module:
                    yield None, node.module.split(".")[0]
                else:
                    for alias in node.names:
                        yield None, alias.name
            # a relative import inside the same sub-package stays in its layer


def _module_level(tree: ast.AST):
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))


def test_every_module_has_a_layer():
    missing = {layer for layer, _, _ in _modules()} - set(LAYERS)
    assert not missing, f"give these modules a layer in tests/test_layering.py: {sorted(missing)}"


def test_imports_point_down():
    wrong = []
    for layer, relative, tree in _modules():
        for external, internal in _imports(relative, tree):
            upward = internal is not None and LAYERS.get(internal, 99) > LAYERS[layer]
            if upward and (layer, internal) not in FACADES:
                wrong.append(f"{relative} imports .{internal}")
            if external in FRONTEND and layer not in FRONTEND_ALLOWED:
                wrong.append(f"{relative} imports {external} (only magics, display and widgets may)")
            if external in SQL and layer != "store":
                wrong.append(f"{relative} imports {external} (only store/ talks SQL)")
            if external == "jupyter_tracker" and layer != "__init__":
                wrong.append(f"{relative} imports jupyter_tracker absolutely; use a relative import")
    assert not wrong, "\n".join(wrong)


def test_facades_reach_up_only_from_inside_methods():
    for layer, relative, tree in _modules():
        for _, internal in _imports(relative, tree, deferred=False):
            assert (layer, internal) not in FACADES, f"{relative} imports .{internal} at module level"


def test_widgets_never_reach_the_store():
    for layer, relative, tree in _modules():
        if layer == "widgets":
            for _, internal in _imports(relative, tree):
                assert internal != "store", f"{relative} reads the store directly; go through query/run"


def test_notebook_panel_loads_without_altair_or_pandas():
    # Altair alone costs about a second: the panel and its static fallback work from plain Vega-Lite dicts.
    code = "import sys, jupyter_tracker.display, jupyter_tracker.widgets; print(sorted(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "'altair'" not in loaded and "'pandas'" not in loaded
