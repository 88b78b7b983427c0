"""A pushed run's card, seen where a teammate sees it: MLflow's own UI in headless Chromium (local only).

The screenshot (tests/artifacts/mlflow-card.png) shows the run's Artifacts tab with the HTML card open.
"""

from __future__ import annotations

import time

import pytest
from jupyterlab_harness import ARTIFACTS, launch_chromium, require_chromium

import jupyter_tracker as jt

pytestmark = pytest.mark.browser


def _best_effort(page, selector: str) -> None:
    """Click what tidies the page (a side panel, a mode switch) when it is there; the test never needs it."""
    try:
        page.locator(selector).first.click(timeout=2_000)
    except Exception:
        pass


def test_mlflow_ui_shows_the_pushed_run_card(mlflow_server, db):
    require_chromium()
    from playwright.sync_api import sync_playwright

    with jt.start_run(
        name="baseline", project="mnist-shared", params={"lr": 0.01}, tags=["cnn"], system=False
    ) as run:
        for step in range(300):
            run.log(loss=1 / (step + 1), acc=step / 300)
    [pushed] = jt.push("baseline", url=mlflow_server)
    left: list[str] = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url.startswith((mlflow_server, "blob:", "data:"))
                    else (left.append(route.request.url), route.abort())
                ),
            )
            page.goto(f"{pushed.url}/artifacts/jupyter-tracker/card.html")
            page.wait_for_selector("iframe", timeout=60_000)
            _best_effort(page, "[aria-label='Close']")  # the assistant panel, which covers part of the page
            page.wait_for_selector("iframe", timeout=30_000)
            deadline = time.monotonic() + 30
            card = None
            while card is None and time.monotonic() < deadline:
                card = next(
                    (f for f in page.frames if f is not page.main_frame and f.url.startswith("blob:")), None
                )
                page.wait_for_timeout(100)
            assert card is not None, "the card's frame did not appear"
            card.wait_for_selector("body[data-charts=ready]", timeout=30_000)
            text = card.inner_text("body")
            assert "baseline" in text and "finished" in text and "cnn" in text
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "mlflow-card.png"))
        finally:
            browser.close()
    assert not left, f"the page reached beyond the local server: {left[:5]}"
