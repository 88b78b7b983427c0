"""Run cards: one file with everything about a run (JSON for machines, self-contained HTML for people).

`export_run(store, run_id, "card.html")` writes a card; `import_card("card.json", db=...)` recreates the run
in another database. The JSON layout is versioned ("schema": "jupyter-tracker/run-card", "version": 1) and
described by the JSON Schema shipped as `schema/run-card.schema.json` (see `card` for the number encoding).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InvalidArgument
from .card import COMPARISON_SCHEMA, RUN_SCHEMA, VERSION, build_comparison_card, build_run_card, to_json
from .html import CHART_POINTS, file_slug, render_run
from .importer import import_card, json_schema, load_card, validate_card

__all__ = [
    "COMPARISON_SCHEMA",
    "RUN_SCHEMA",
    "VERSION",
    "comparison_card",
    "comparison_html",
    "export_comparison",
    "export_run",
    "import_card",
    "json_schema",
    "load_card",
    "run_card",
    "run_card_html",
    "validate_card",
]

FORMATS = ("json", "html")


def run_card(store, run_id: int, *, max_points: int | None = None) -> dict:
    """The JSON card of a run as a dict; every point of every series unless `max_points` is given."""
    return build_run_card(store, run_id, max_points=max_points)


def run_card_html(store, run_id: int) -> str:
    """The HTML card of a run: one self-contained page (charts drawn from about 600 points per series)."""
    return render_run(build_run_card(store, run_id, max_points=CHART_POINTS))


def comparison_card(store, run_ids) -> dict:
    """The JSON comparison card of several runs (each a full run card)."""
    return build_comparison_card(store, _ids(run_ids))


def comparison_html(store, run_ids) -> str:
    """The HTML comparison of several runs: parameters side by side, metric summaries, overlaid charts."""
    from .compare import render_comparison

    ids = _ids(run_ids)
    # Each chart holds every run: fewer points per run keeps a comparison of many runs light.
    points = max(150, min(CHART_POINTS, 2400 // len(ids)))
    return render_comparison(build_comparison_card(store, ids, max_points=points))


def export_run(store, run_id: int, path=None, format: str | None = None) -> Path:
    """Write the run's card to `path` (format from its suffix, or `format` "json"/"html"); returns the path.

    Without `path`, the file is "<project>-<name>.card.html" (or .json) in the current folder.
    """
    path, kind = card_target(store, [run_id], path, format)
    text = run_card_html(store, run_id) if kind == "html" else to_json(run_card(store, run_id))
    return _write(path, text)


def export_comparison(store, run_ids, path=None, format: str | None = None) -> Path:
    """Write the comparison card of `run_ids` to `path` (format from its suffix or `format`).

    Without `path`, the file is "comparison-<name>-<name>....card.html" (or .json) in the current folder.
    """
    path, kind = card_target(store, _ids(run_ids), path, format, comparison=True)
    text = comparison_html(store, run_ids) if kind == "html" else to_json(comparison_card(store, run_ids))
    return _write(path, text)


def card_target(store, run_ids: list[int], path=None, format: str | None = None, *, comparison=False):
    """(file, "json" or "html") for a card: `path` as given, or the default name in the current folder (or in
    `path` when it is a folder). The format is `format`, else the file's suffix, else html."""
    folder = Path()
    if path is not None and (os.fspath(path).endswith(("/", os.sep)) or Path(path).expanduser().is_dir()):
        folder, path = Path(path).expanduser(), None
    kind = _format(path, format)
    if path is None:
        return folder / default_card_name(store, run_ids, kind, comparison=comparison), kind
    return Path(path).expanduser(), kind


def default_card_name(store, run_ids: list[int], kind: str, *, comparison: bool = False) -> str:
    """The file name of a card written without a path: "<project>-<name>.card.html", or for a comparison
    "comparison-<name>-<name>....card.html" (`kind` is "html" or "json")."""
    if comparison:
        names = "-".join(file_slug(store.get_run(i).name) for i in run_ids)
        return f"comparison-{names[:100].rstrip('-')}.card.{kind}"
    info = store.get_run(run_ids[0])
    return f"{file_slug(info.project)}-{file_slug(info.name)}.card.{kind}"


def _ids(run_ids) -> list[int]:
    ids = [int(getattr(r, "id", r)) for r in run_ids]
    if not ids:
        raise InvalidArgument("a comparison needs at least one run")
    return ids


def _format(path, format: str | None) -> str:
    suffix = Path(path).suffix.lower().lstrip(".") if path is not None else ""
    implied = {"htm": "html", "html": "html", "json": "json"}.get(suffix)
    if format is not None:
        kind = str(format).lower().lstrip(".")
        if kind not in FORMATS:
            raise InvalidArgument(f"unknown card format {format!r}: choose json or html")
        if implied and implied != kind:
            raise InvalidArgument(
                f"format={kind!r} contradicts the .{suffix} ending of {os.fspath(path)}: drop one"
            )
        return kind
    if path is None:
        return "html"
    if implied:
        return implied
    raise InvalidArgument(
        f"cannot tell the card format from {os.fspath(path)!r}: end the name in .json or .html, or pass format="
    )


def _write(path, text: str) -> Path:
    target = Path(path).expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
    except OSError as exc:
        raise InvalidArgument(f"cannot write the card to {target}: {exc.strerror or exc}") from None
    return target.absolute()
