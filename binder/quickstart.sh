#!/usr/bin/env bash
# Set up .venv, install jupyter-tracker into it, run the quickstart notebook headless, print the run cards' paths.
# Run it again: the new runs join the same store, and it prints the cards of the runs it just made.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
PYTHON=${PYTHON:-python3}
step() { printf '\n==> %s\n' "$*"; }

if [ -x .venv/bin/python ]; then
    step "[1/4] using the virtual environment in .venv"
else
    step "[1/4] creating a virtual environment in .venv"
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
if ! command -v node >/dev/null 2>&1 && [ -f jupyter_tracker/labextension/package.json ]; then
    export HATCH_JUPYTER_BUILDER_SKIP_NPM=1  # the JupyterLab extension is built already: keep it
fi
step "[2/4] installing jupyter-tracker and the notebook runner: a few minutes on a fresh machine (pip" \
    "brings a Node.js to build the JupyterLab extension, during \"Preparing editable metadata\")"
# pip's whole output goes to a log; the lines that say how far it got are shown as they come.
log=.venv/pip-install.log
if ! .venv/bin/python -m pip install --disable-pip-version-check -e . -r binder/requirements-run.txt 2>&1 \
    | tee "$log" | grep --line-buffered -E '^ *(Obtaining|Collecting|Preparing|Building|Installing|Successfully|ERROR)'; then
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "pip install failed: see $log" >&2; exit 1; }
fi
step "[3/4] registering the kernel"
.venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
step "[4/4] running the quickstart notebook"
.venv/bin/python binder/run_quickstart.py "${1:-quickstart-output}"
