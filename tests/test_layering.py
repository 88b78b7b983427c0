"""The shape of the package, checked by reading every module's imports (those inside functions too).

Wings are layered; an import may point to the same wing or a lower one, never up, and the graph of imports
between modules has no circle. The one way up is the facade (`jupyter_tracker/__init__.py`, which imports
everything): a convenience method such as `RunRecord.export()` may reach it from inside a function.
"""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "jupyter_tracker"

# Lower layers never import higher ones. A new wing or root module must be given a layer here.
LAYERS = {
    # the ground floor: no I/O, imported by all
    "errors": 0,
    "models": 0,
    "config": 0,
    "version": 0,
    "frames": 0,
    "textfmt": 0,
    "jsonsafe": 0,
    "templating": 0,
    # SQL, and pure chart functions (neither knows the other)
    "store": 1,
    "charts": 1,
    "hardware": 2,
    "tracking": 3,
    "reading": 4,
    "cards": 5,
    "sharing": 5.5,  # push/pull with MLflow: needs the store, the reading wing and the cards; notebook and cli use it
    "notebook": 6,
    "server": 7,
    "cli": 7,
    "commands": 7,  # the bodies of the cli's commands
    "__init__": 9,
}
ROOT_MODULES_AT_MOST = 10
FRONTEND = ("IPython", "ipywidgets", "anywidget", "ipykernel")
SQL = ("sqlite3", "sqlite_utils")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules():
    """(dotted name, wing, path, tree) of every module of the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "labextension":
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        yield ".".join(parts), parts[0], path, ast.parse(path.read_text())


MODULES = {name: (wing, path, tree) for name, wing, path, tree in _modules()}


def _package_of(name: str, path: Path) -> list[str]:
    parts = name.split(".") if name != "__init__" else []
    return parts if path.name == "__init__.py" else parts[:-1]


def _resolve(base: list[str], dotted: str) -> str:
    """The longest prefix of base + dotted that is one of our modules (or the facade)."""
    parts = base + [p for p in dotted.split(".") if p]
    for i in range(len(parts), 0, -1):
        candidate = ".".join(parts[:i])
        if candidate in MODULES:
            return candidate
    return "__init__"


def _internal_imports(name: str, path: Path, tree: ast.AST, *, module_level_only: bool = False):
    """(imported module, line) for every import of one of our modules."""
    package = _package_of(name, path)
    for node in _module_level(tree) if module_level_only else ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)]
            for alias in node.names:
                target = _resolve(base, f"{node.module or ''}.{alias.name}")
                yield target, node.lineno
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "jupyter_tracker":
            yield "__absolute__", node.lineno


def _external_imports(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield (node.module or "").split(".")[0]


def _module_level(tree: ast.AST):
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))


def _graph() -> dict[str, set[str]]:
    """Imports between modules, function-level ones included, without the reach up to the facade."""
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, (_, path, tree) in MODULES.items():
        for target, _ in _internal_imports(name, path, tree):
            if target not in (name, "__init__", "__absolute__") and not name.startswith(target + "."):
                graph[name].add(target)
    return graph


def test_every_wing_has_a_layer():
    missing = {wing for wing, _, _ in MODULES.values()} - set(LAYERS)
    assert not missing, f"give these wings a layer in tests/test_layering.py: {sorted(missing)}"


def test_few_modules_at_the_root():
    root = [name for name, (_, path, _) in MODULES.items() if path.parent == PACKAGE]
    assert len(root) <= ROOT_MODULES_AT_MOST, f"the root holds {len(root)} modules: {sorted(root)}"


def test_imports_point_down():
    wrong = []
    for name, targets in _graph().items():
        wing = MODULES[name][0]
        for target in targets:
            if LAYERS[MODULES[target][0]] > LAYERS[wing]:
                wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_circles():
    graph = _graph()
    circles, state = [], dict.fromkeys(graph, 0)  # 0 new, 1 on the path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state[nxt] == 1:
                circles.append(" -> ".join(path[path.index(nxt) :] + [node, nxt]))
            elif state[nxt] == 0:
                visit(nxt, path + [node])
        state[node] = 2

    for node in sorted(graph):
        if state[node] == 0:
            visit(node, [])
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_the_facade_is_reached_only_from_inside_functions():
    wrong = []
    for name, (_, path, tree) in MODULES.items():
        if name == "__init__":
            continue
        for target, line in _internal_imports(name, path, tree, module_level_only=True):
            if target in ("__init__", "__absolute__"):
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports the package facade at module level")
    assert not wrong, "\n".join(wrong)


def test_front_end_sql_and_processes_stay_in_their_wings():
    wrong = []
    for name, (wing, _path, tree) in MODULES.items():
        for external in _external_imports(tree):
            if external in FRONTEND and wing not in ("notebook", "__init__"):
                wrong.append(f"{name} imports {external} (only notebook/ may)")
            if external in SQL and wing != "store":
                wrong.append(f"{name} imports {external} (only store/ talks SQL)")
            if external == "psutil" and wing == "store":
                wrong.append(f"{name} imports psutil (the store knows SQL, not processes)")
            if external == "jupyter_tracker":
                wrong.append(f"{name} imports jupyter_tracker absolutely; use a relative import")
    assert not wrong, "\n".join(wrong)


def test_widgets_never_reach_the_store():
    for name, targets in _graph().items():
        if name.startswith("notebook.widgets"):
            assert not any(t.startswith("store") for t in targets), f"{name} reads the store directly"


def test_modules_stay_small():
    big = [
        f"{path.relative_to(PACKAGE)}: {lines} lines"
        for _, path, _ in MODULES.values()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    ]
    assert not big, "split these modules:\n" + "\n".join(big)


def test_functions_stay_short():
    long = [
        f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1} lines"
        for _, path, tree in MODULES.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, "split these functions:\n" + "\n".join(long)


def test_notebook_panel_loads_without_altair_or_pandas():
    # Altair alone costs about a second: the panel and its static fallback work from plain Vega-Lite dicts.
    code = "import sys, jupyter_tracker.notebook.display, jupyter_tracker.notebook.widgets; print(sorted(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "'altair'" not in loaded and "'pandas'" not in loaded
