"""The Environment and Code sections of an HTML run card."""

from __future__ import annotations

from . import fmt
from .fmt import esc

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


def _list(items) -> str:
    rows = [(k, v) for k, v in items if v not in (None, "", [], {})]
    if not rows:
        return '<p class="empty">not recorded</p>'
    return (
        '<dl class="kv">'
        + "".join(f'<div><dt>{esc(k)}</dt><dd class="text">{esc(v)}</dd></div>' for k, v in rows)
        + "</dl>"
    )


def _packages(title: str, packages) -> str:
    if not isinstance(packages, dict) or not packages:
        return ""
    items = "".join(
        f'<li><span>{esc(name)}</span><span class="v">{esc(version)}</span></li>'
        for name, version in packages.items()
    )
    return (
        f'<details class="fold panel"><summary>{esc(title)} ({len(packages)})</summary>'
        f'<ul class="packages">{items}</ul></details>'
    )


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


def render(card: dict) -> str:
    env = card["environment"]
    if not env and not any(card["origin"].values()):
        return ""
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
        f'<div class="panel"><h3>{title}</h3>{_list(items)}</div>'
        for title, items in (
            ("Python", python_items),
            ("Machine", machine_items),
            ("Where it ran", where_items),
        )
        if any(value not in (None, "", [], {}) for _, value in items)
    ]
    parts = [
        f'<div class="cols">{"".join(panels)}</div>' if panels else "",
        _packages("Packages imported by the run", env.get("packages")),
        _packages("All installed packages", machine.get("packages")),
    ]
    extra_machine = {k: v for k, v in machine.items() if k not in _MACHINE_SHOWN}
    other = {k: v for k, v in env.items() if k not in {"python", "machine", "packages", "gpu"}}
    if extra_machine or other:
        items = [(k, fmt.value_text(v)) for k, v in {**extra_machine, **other}.items()]
        parts.append(
            f'<details class="fold panel"><summary>More ({len(items)})</summary>{_list(items)}</details>'
        )
    return "\n".join(p for p in parts if p)


def highlight(source: str) -> str:
    """Python source as highlighted HTML with line numbers (pygments escapes the text)."""
    try:
        from pygments import highlight as pygmentize
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # pragma: no cover - pygments comes with IPython
        return f'<pre class="source">{esc(source)}</pre>'
    formatter = HtmlFormatter(cssclass="hl", linenos="table", wrapcode=True)
    return f'<div class="source">{pygmentize(source, PythonLexer(), formatter)}</div>'


def render_code(card: dict) -> str:
    code, run = card["code"], card["run"]
    if not (code["cell_source"] or code["notebook"] or code["git"]["commit"] or run["error"]):
        return ""
    facts = []
    if code["notebook"]:
        facts.append(f"notebook <b>{esc(code['notebook'])}</b>")
    if code["execution_count"] is not None:
        facts.append(f"cell <b>[{esc(code['execution_count'])}]</b>")
    git = code["git"]
    if git["commit"]:
        facts.append(
            f'git <b>{esc(git["branch"] or "detached")}</b> @ <code title="{esc(git["commit"])}">'
            f"{esc(git['commit'][:12])}</code>"
            + (' <span class="badge">dirty</span>' if git["dirty"] else "")
        )
    parts = ['<div class="panel">']
    if facts:
        parts.append(f'<div class="code-facts">{"".join(f"<span>{f}</span>" for f in facts)}</div>')
    if code["cell_source"]:
        parts.append(highlight(code["cell_source"]))
    parts.append("</div>")
    if run["error"]:
        parts.append(
            f'<div class="panel"><div class="error-head">Traceback</div>'
            f'<pre class="error">{esc(run["error"])}</pre></div>'
        )
    return "\n".join(parts)
