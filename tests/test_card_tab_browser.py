"""A run card in a JupyterLab tab follows JupyterLab's theme: dark from its first paint when Lab is dark, and a
live switch recolours it (charts too) without reloading it. Real JupyterLab, headless Chromium.

Screenshots: tests/artifacts/card-tab.png, card-tab-dark.png.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from jupyterlab_harness import launch_chromium, require_chromium, screenshot, start_lab, stop_lab

import jupyter_tracker

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]
BUILT = Path(__file__).parent.parent / "jupyter_tracker" / "labextension"
DARK = "JupyterLab Dark"


def switch_theme(page, theme: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Settings$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Theme$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{theme}$")).click()
    page.wait_for_function(f"document.body.dataset.jpThemeLight === '{str(theme != DARK).lower()}'")
    page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=20_000)


def card_state(frame) -> dict:
    return frame.locator("html").evaluate(
        """root => ({theme: root.dataset.theme || null,
                    background: getComputedStyle(document.body).backgroundColor,
                    label: document.querySelector('.chart-live svg .role-axis-label text')?.getAttribute('fill')})"""
    )


def wait_for(frame, condition, seconds: float = 10) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        state = card_state(frame)
        if condition(state) or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


@pytest.mark.slow  # JupyterLab, a page, two theme switches: ~25 s
def test_a_card_tab_follows_jupyterlabs_theme(tmp_path):
    require_chromium()
    if not (BUILT / "package.json").exists():
        pytest.skip("the labextension is not built (cd labextension && jlpm install && jlpm build)")
    from playwright.sync_api import sync_playwright

    root = tmp_path / "root"
    db = root / ".tracker" / "tracker.db"
    with jupyter_tracker.start_run(name="baseline", project="cards", params={"lr": 0.1}, db=db) as run:
        for step in range(120):
            run.log(loss=2.3 * 0.96**step, acc=1 - 0.97**step)
    settings = tmp_path / "jupyter" / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "themes.jupyterlab-settings").write_text(json.dumps({"theme": DARK}))
    url, token, proc = start_lab(
        tmp_path, root_dir=root, server_extensions=["jupyter_tracker.server"], labextensions=[BUILT]
    )
    try:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1360, "height": 860}, color_scheme="light")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{url}lab?token={token}")
            tab = page.locator('.jp-SideBar .lm-TabBar-tab[data-id="jupyter-tracker-runs"]')
            tab.wait_for(timeout=30_000)
            tab.click()
            page.locator("#jupyter-tracker-runs .jp-TrackerRun", has_text="baseline").click()
            frame = page.frame_locator(".jp-TrackerCard iframe.jp-TrackerFrame")
            frame.locator("body[data-charts=ready]").wait_for(timeout=30_000)

            # Lab is dark (the system is not): the card is dark from the start, charts included.
            dark = card_state(frame)
            assert dark["theme"] == "dark" and dark["label"], dark
            page.wait_for_timeout(400)
            screenshot(page, "card-tab-dark")

            # A live switch: the card and its charts follow, without a reload.
            frame.locator("body").evaluate("body => body.dataset.marker = 'same page'")
            switch_theme(page, "JupyterLab Light")
            light = wait_for(frame, lambda s: s["theme"] == "light" and s["label"] != dark["label"])
            assert light["theme"] == "light" and light["background"] != dark["background"], (light, dark)
            assert light["label"] != dark["label"], "the card's charts kept their dark colours"
            assert frame.locator("body").evaluate("body => body.dataset.marker") == "same page"
            page.wait_for_timeout(400)
            screenshot(page, "card-tab")
            assert not errors, errors
            browser.close()
    finally:
        stop_lab(proc)
