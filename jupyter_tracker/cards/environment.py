"""The Environment and Code sections of an HTML run card: what environment.html.j2 and code.html.j2 lay out."""

from __future__ import annotations

from markupsafe import Markup

from . import fmt

_MACHINE_SHOWN = {
    "platform",
    "os",
    "os_release",
    "os_version",
    "machine",
    "cpu_model",
    "cpu_cores_physical",
    "cpu_cores_logical",
    "memory_total_bytes",
    "swap_total_bytes",
    "gpus",
    "gpu_driver",
    "cuda_driver",
    "gpu_status",
    "python_implementation",
    "python_version",
    "packages",
}


def _recorded(items) -> list[tuple]:
    """The (label, value) pairs that hold something."""
    return [(k, v) for k, v in items if v not in (None, "", [], {})]


def _packages(title: str, packages) -> tuple | None:
    if not isinstance(packages, dict) or not packages:
        return None
    return title, list(packages.items())


def _cores(machine: dict) -> str | None:
    physical, logical = machine.get("cpu_cores_physical"), machine.get("cpu_cores_logical")
    if physical and logical and physical != logical:
        return f"{physical} cores, {logical} threads"
    return f"{logical or physical} cores" if (logical or physical) else None


def _gpus(machine: dict) -> str | None:
    gpus = machine.get("gpus") or []
    if not isinstance(gpus, list) or not gpus:
        return None
    names = []
    for gpu in gpus:
        if isinstance(gpu, dict):
            memory = gpu.get("memory_total_bytes")
            names.append(f"{gpu.get('name', 'GPU')}" + (f" ({fmt.size(memory)})" if memory else ""))
        else:
            names.append(str(gpu))
    return "; ".join(names)


def environment_part(card: dict) -> dict:
    """Python, machine and origin panels, package lists, and whatever else the environment records."""
    env = card["environment"]
    if not env and not any(card["origin"].values()):
        return {}
    python = env.get("python") if isinstance(env.get("python"), dict) else {}
    machine = env.get("machine") if isinstance(env.get("machine"), dict) else {}
    python_items = [
        (
            "Python",
            " ".join(str(p) for p in (python.get("implementation"), python.get("version")) if p)
            or machine.get("python_version"),
        ),
        ("Executable", python.get("executable")),
        ("Working folder", python.get("cwd")),
        ("Arguments", " ".join(map(str, python.get("argv") or [])) or None),
    ]
    drivers = ", ".join(
        f"{label} {machine[key]}"
        for label, key in (("driver", "gpu_driver"), ("CUDA", "cuda_driver"))
        if machine.get(key)
    )
    machine_items = [
        ("System", machine.get("platform") or machine.get("os")),
        ("CPU", machine.get("cpu_model")),
        ("Cores", _cores(machine)),
        ("Memory", fmt.size(machine["memory_total_bytes"]) if machine.get("memory_total_bytes") else None),
        ("GPUs", _gpus(machine)),
        ("GPU drivers", drivers or None),
        ("GPU metrics", env.get("gpu") or machine.get("gpu_status")),
    ]
    origin = card["origin"]
    where_items = [("Host", origin["host"]), ("User", origin["user"]), ("Process id", origin["pid"])]
    panels = [
        (title, _recorded(items))
        for title, items in (
            ("Python", python_items),
            ("Machine", machine_items),
            ("Where it ran", where_items),
        )
        if _recorded(items)
    ]
    packages = [
        _packages("Packages imported by the run", env.get("packages")),
        _packages("All installed packages", machine.get("packages")),
    ]
    extra_machine = {k: v for k, v in machine.items() if k not in _MACHINE_SHOWN}
    other = {k: v for k, v in env.items() if k not in {"python", "machine", "packages", "gpu"}}
    more = [(k, fmt.value_text(v)) for k, v in {**extra_machine, **other}.items()]
    view = {"panels": panels, "packages": [p for p in packages if p], "more": more}
    return view if any(view.values()) else {}


def highlight(source: str) -> Markup | None:
    """Python source as highlighted HTML with line numbers; None without pygments."""
    try:
        from pygments import highlight as pygmentize
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # pragma: no cover - pygments comes with IPython
        return None
    formatter = HtmlFormatter(cssclass="hl", linenos="table", wrapcode=True)
    # Safe as markup: pygments' HtmlFormatter escapes every piece of the source it writes out.
    return Markup(pygmentize(source, PythonLexer(), formatter))


def code_part(card: dict) -> dict:
    """Where the code came from, the cell's source (highlighted) and the traceback of a failed run."""
    code, run = card["code"], card["run"]
    # Cards written before the traceback field kept the whole traceback in `error`.
    error = run["error"] or ""
    traceback = run.get("traceback") or (error if "\n" in error.strip() else None)
    if not (code["cell_source"] or code["notebook"] or code["git"]["commit"] or traceback):
        return {}
    git = code["git"]
    if git["commit"]:
        git = {"branch": git["branch"] or "detached", "commit": git["commit"], "dirty": git["dirty"]}
        git["short"] = git["commit"][:12]
    return {
        "notebook": code["notebook"] or None,
        "cell": code["execution_count"],
        "git": git if git["commit"] else None,
        "source": code["cell_source"],
        "highlighted": highlight(code["cell_source"]) if code["cell_source"] else None,
        "traceback": traceback,
        "error": error.strip().splitlines()[-1] if error.strip() else None,
    }
