#!/usr/bin/env bash
# Set up a virtual environment, install jupyter-tracker, run the quickstart notebook headless, print the card's path.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if ! command -v node >/dev/null 2>&1 && [ -f jupyter_tracker/labextension/package.json ]; then
    export HATCH_JUPYTER_BUILDER_SKIP_NPM=1
fi
.venv/bin/python -m pip install -q -e . -r binder/requirements-run.txt
.venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
.venv/bin/python binder/run_quickstart.py "${1:-quickstart-output}"
