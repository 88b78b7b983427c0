"""Costs a notebook user feels, measured inside a real kernel (nbclient):

    python tests/perf/bench_magic.py

`%load_ext tracker`, and an empty `%%track_run` cell opened and closed, with and without the live panel and
the hardware sampler, next to a plain `exec` of the same empty cell as the baseline.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from notebooks import execute, make_notebook  # noqa: E402

CELLS = [
    "import time\nt = time.perf_counter()\n%load_ext tracker\nprint(f'BENCH load_ext {(time.perf_counter() - t) * 1e3:.1f} ms')",
    # The first run of a kernel also scans the installed packages once, imports the store (sqlite-utils loads
    # pandas) and anywidget, and loads the cached JavaScript bundle: measured apart, then warm.
    "import time\nt = time.perf_counter()\nget_ipython().run_cell_magic('track_run', 'name=first', 'pass')\n"
    "print(f'BENCH first %%track_run cell of a kernel (panel and sampler) {(time.perf_counter() - t) * 1e3:.0f} ms')",
    """
import time
ip = get_ipython()
def per_cell(line, n=20):
    t = time.perf_counter()
    for _ in range(n):
        ip.run_cell_magic("track_run", line, "pass")
    return (time.perf_counter() - t) / n * 1e3
t = time.perf_counter()
for _ in range(20):
    exec("pass", {})
baseline = (time.perf_counter() - t) / 20 * 1e3
rows = [
    ("plain exec of the cell (baseline)", baseline),
    ("%%track_run --no-panel --no-system", per_cell("--no-panel --no-system")),
    ("%%track_run --no-panel (sampler on)", per_cell("--no-panel")),
    ("%%track_run (panel and sampler)", per_cell("")),
]
for label, ms in rows:
    print(f"BENCH {label:40}{ms:8.2f} ms")
""",
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        nb = execute(
            make_notebook(*CELLS), Path(tmp), db=Path(tmp) / "t.db", env={"PYTHONWARNINGS": "ignore"}
        )
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores")
        for cell in nb.cells:
            for out in cell.outputs:
                if out.output_type == "stream":
                    for line in out.text.splitlines():
                        if line.startswith("BENCH "):
                            print(line.removeprefix("BENCH "))


if __name__ == "__main__":
    main()
