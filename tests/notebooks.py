"""Executing notebooks in a real IPython kernel with nbclient (shared by the notebook tests)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def make_notebook(*cells: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def execute(
    nb,
    cwd: Path,
    *,
    db: Path | None = None,
    allow_errors: bool = False,
    timeout: int = 120,
    env: dict | None = None,
    store_widget_state: bool = True,
):
    """Run every cell in a fresh kernel started in `cwd`; returns the executed notebook."""
    kernel_env = {**os.environ, **(env or {})}
    if db is not None:
        kernel_env["TRACKER_DB"] = str(db)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        store_widget_state=store_widget_state,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute(env=kernel_env)
    return nb


def outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
    return "".join(parts)


__all__ = ["CellExecutionError", "execute", "make_notebook", "outputs_text"]
