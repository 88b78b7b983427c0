"""nbconvert's HTML of a notebook, opened in headless Chromium with the network cut (shared by the notebook
tests): what a reader sees offline, and what the page tried to fetch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from jupyterlab_harness import ARTIFACTS


def nbconvert_html(notebook: Path, *options: str, output: str | None = None) -> Path:
    """`jupyter nbconvert --to html NOTEBOOK OPTIONS...`, as a user runs it (no preprocessor of ours)."""
    name = output or f"{notebook.stem}-{'-'.join(o.lstrip('-').split('=')[-1] for o in options) or 'lab'}"
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(notebook), "--output", name]
    subprocess.run([*command, *options], check=True, capture_output=True, timeout=120)
    return notebook.parent / f"{name}.html"


class OfflinePage:
    """A local page opened with every request that would leave the machine aborted (and recorded)."""

    def __init__(self, browser, path: Path, *, width: int = 1200, dark: bool = False):
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, color_scheme="dark" if dark else "light"
        )
        self.page = self.context.new_page()
        self.blocked: list[str] = []
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def images(self, within: str = "body") -> list[dict]:
        """Every <img> under `within`: alt text, whether it was decoded, its drawn and its own width."""
        return self.page.eval_on_selector_all(
            f"{within} img",
            """els => els.map(e => ({alt: e.alt, ok: e.complete && e.naturalWidth > 0, width: e.clientWidth,
                                    natural: e.naturalWidth}))""",
        )

    def summaries(self) -> list[str]:
        """The text of each saved summary (run or comparison) on the page."""
        return self.page.eval_on_selector_all(
            "[data-jupyter-tracker=fallback]", "els => els.map(e => e.innerText)"
        )

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def shot_summary(self, name: str, index: int = 0) -> Path:
        """A screenshot of one saved summary alone."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.locator("[data-jupyter-tracker=fallback]").nth(index).screenshot(path=str(path))
        return path

    def close(self) -> None:
        self.context.close()
