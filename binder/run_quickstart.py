"""Execute binder/quickstart.ipynb headless in a real kernel and print the path of the run card it writes.

python binder/run_quickstart.py [OUTPUT_DIR]     (default: ./quickstart-output)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from traitlets.config import Config

HERE = Path(__file__).resolve().parent


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "quickstart-output").resolve()
    out.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(HERE / "quickstart.ipynb", as_version=4)
    env = {**os.environ, "TRACKER_DB": str(out / "tracker.db")}
    print(f"running {HERE / 'quickstart.ipynb'} in a fresh kernel ...", flush=True)
    # A local kernel talks over Unix sockets where there are some: nothing listens on the network.
    sockets = (
        {"transport": "ipc", "ip": str(Path(tempfile.mkdtemp()) / "kernel")} if os.name == "posix" else {}
    )
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(out)}},
        config=Config(KernelManager=sockets),
    ).execute(env=env)
    nbformat.write(nb, out / "quickstart.ipynb")
    card = out / "quickstart-card.html"
    if not card.exists():
        print(f"the notebook ran but wrote no card at {card}", file=sys.stderr)
        return 1
    print(f"executed notebook: {out / 'quickstart.ipynb'}")
    print(f"run card: {card}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
