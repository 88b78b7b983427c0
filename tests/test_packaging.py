"""The Python package and the JupyterLab extension are released together, under one version."""

import json
from pathlib import Path

import jupyter_tracker

ROOT = Path(__file__).parent.parent


def test_the_labextension_carries_the_package_version():
    source = json.loads((ROOT / "labextension" / "package.json").read_text())
    assert source["version"] == jupyter_tracker.__version__, (
        "set labextension/package.json's version to jupyter_tracker/version.py's"
    )
    built = ROOT / "jupyter_tracker" / "labextension" / "package.json"
    if built.exists():  # present once the extension has been built
        assert json.loads(built.read_text())["version"] == jupyter_tracker.__version__
