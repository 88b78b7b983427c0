"""Execute binder/quickstart.ipynb headless in a real kernel, saying what it does, and print where the
executed notebook and the run cards it wrote are.

python binder/run_quickstart.py [OUTPUT_DIR]     (default: ./quickstart-output)

Run it again with the same folder: the runs join the same store (named baseline-2, wider-2, ...), and the
cards printed are the ones this execution wrote.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from traitlets.config import Config

HERE = Path(__file__).resolve().parent


def say(text: str) -> None:
    print(text, flush=True)


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "quickstart-output").resolve()
    out.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(HERE / "quickstart.ipynb", as_version=4)
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    env = {**os.environ, "TRACKER_DB": str(out / "tracker.db")}
    say(f"running {HERE / 'quickstart.ipynb'} in a fresh kernel ({len(code)} code cells) ...")

    def started(cell, cell_index, **_):
        if cell_index not in code:  # nbclient calls this for markdown cells too
            return
        line = cell.source.splitlines()[0] if cell.source else ""
        say(f"  [{code.index(cell_index) + 1}/{len(code)}] {line[:90]}")

    # A local kernel talks over Unix sockets where there are some: nothing listens on the network.
    sockets = (
        {"transport": "ipc", "ip": str(Path(tempfile.mkdtemp()) / "kernel")} if os.name == "posix" else {}
    )
    begun = time.time()
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(out)}},
        config=Config(KernelManager=sockets),
        on_cell_start=started,
    ).execute(env=env)
    nbformat.write(nb, out / "quickstart.ipynb")
    cards = sorted(p for p in out.glob("*.card.html") if p.stat().st_mtime >= begun - 1)
    if not cards:
        print(f"the notebook ran but wrote no run card in {out}", file=sys.stderr)
        return 1
    say(f"done in {time.time() - begun:.0f} s")
    say(f"executed notebook: {out / 'quickstart.ipynb'}")
    for card in cards:
        say(f"run card: {card}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
