"""HTML cards in headless Chromium with the network cut: charts render, nothing is fetched, no user text runs,
and the page follows the reader's light or dark setting (or the theme its host page asks for).

Screenshots (desktop, dark, phone, print) land in tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cards import SCRIPT, XSS, make_run
from jupyterlab_harness import ARTIFACTS

from jupyter_tracker import cards as export

pytestmark = pytest.mark.browser


class Visit:
    """One page opened offline: requests that would leave the machine, dialogs and errors are recorded."""

    def __init__(self, browser, path: Path, width: int = 1280, height: int = 900, scheme: str = "light"):
        self.context = browser.new_context(
            viewport={"width": width, "height": height}, offline=True, color_scheme=scheme
        )
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-charts=ready]", timeout=30_000)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()

    def chart_states(self) -> list[tuple[str, bool]]:
        return self.page.eval_on_selector_all(
            ".chart",
            "els => els.map(e => [e.dataset.state, !!e.querySelector('.chart-live svg, .chart-live canvas')])",
        )

    def colours(self) -> tuple[str, str, str]:
        """The page's background, its text colour, and the fill of the first chart's first axis label."""
        return self.page.evaluate(
            """() => [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color,
                      document.querySelector('.chart-live svg .role-axis-label text')?.getAttribute('fill')]"""
        )

    def shot(self, name: str, **options) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name), full_page=True, **options)

    def close(self) -> None:
        self.context.close()


def test_cards_render_offline_with_interactive_charts(browser, db, tmp_path):
    store, run_id = make_run(db, name="baseline", tags=("cnn", "augment"))
    _, other = make_run(db, name="wider", system=False)
    store.set_params(other, {"lr": 0.003, "layers": [128, 64]})
    card = export.export_run(store, run_id, tmp_path / "card.html")
    comparison = export.export_comparison(store, [run_id, other], tmp_path / "comparison.html")

    desktop = Visit(browser, card)
    states = desktop.chart_states()
    assert len(states) == 3 + 3  # metrics, then hardware charts (the per-core one is left to the table)
    assert all(state == ["interactive", True] for state in states), states
    assert desktop.requests == [] and desktop.errors == [] and desktop.dialogs == []
    # Each chart's menu offers only what works offline: no "Open in Vega Editor", no source views.
    menu = desktop.page.eval_on_selector_all(".vega-actions a", "els => els.map(e => e.textContent)")
    assert set(menu) == {"Save as SVG", "Save as PNG"}, menu
    desktop.page.click(".chart-card .vega-embed summary")
    with desktop.page.expect_download() as download:
        desktop.page.click(".chart-card .vega-actions a:has-text('Save as PNG')")
    assert download.value.suggested_filename.endswith(".png")
    assert Path(download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert desktop.requests == [] and desktop.errors == []
    desktop.shot("card-desktop.png")
    desktop.page.emulate_media(media="print")
    desktop.shot("card-print.png")
    desktop.close()

    phone = Visit(browser, card, width=390, height=844)
    assert all(state == ["interactive", True] for state in phone.chart_states())
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than a phone
    # Every section tab is on screen (they wrap rather than scroll out of sight).
    tabs = phone.page.eval_on_selector_all(
        ".toc a", "els => els.map(e => [e.textContent, e.getBoundingClientRect().right])"
    )
    assert len(tabs) == 8 and all(right <= 390 for _, right in tabs), tabs
    phone.shot("card-phone.png")
    phone.close()

    # Scripts off (a mail client's preview, a locked-down viewer): the static SVG of every chart shows.
    context = browser.new_context(java_script_enabled=False, offline=True)
    static = context.new_page()
    static.goto(card.as_uri())
    assert static.locator(".chart-static svg").count() == len(states)
    assert all(static.locator(".chart-static svg").nth(i).is_visible() for i in range(len(states)))
    context.close()

    compared = Visit(browser, comparison)
    states = compared.chart_states()
    assert len(states) == 3 and all(state == ["interactive", True] for state in states), states
    assert compared.requests == [] and compared.errors == []
    compared.shot("comparison-desktop.png")
    compared.close()


def luminance(css_colour: str) -> float:
    red, green, blue = (float(x) for x in re.findall(r"[\d.]+", css_colour)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def test_cards_follow_a_dark_system_and_the_theme_their_host_asks_for(browser, db, tmp_path):
    store, run_id = make_run(db, name="baseline", tags=("cnn",))
    _, other = make_run(db, name="wider", system=False)
    card = export.export_run(store, run_id, tmp_path / "card.html")
    light = Visit(browser, card)
    light_colours = light.colours()
    light.close()

    dark = Visit(browser, card, scheme="dark")
    background, text, label = dark.colours()
    assert luminance(background) < 0.15 and luminance(text) > 0.8, (background, text)
    assert label != light_colours[2]  # the charts are drawn in the dark page's colours
    assert all(state == ["interactive", True] for state in dark.chart_states())
    dark.shot("card-dark.png")
    # JupyterLab's light theme asks a card on a dark system to be light: it redraws, no reload.
    dark.page.evaluate("window.postMessage({type: 'jupyter-tracker-theme', theme: 'light'}, '*')")
    dark.page.wait_for_function("document.documentElement.dataset.theme === 'light'")
    dark.page.wait_for_timeout(500)
    assert dark.colours() == light_colours
    # On paper a card is always light.
    dark.page.evaluate("window.postMessage({type: 'jupyter-tracker-theme', theme: 'dark'}, '*')")
    dark.page.emulate_media(media="print")
    assert luminance(dark.colours()[0]) > 0.9
    assert dark.requests == [] and dark.errors == []
    dark.close()

    compared = Visit(
        browser, export.export_comparison(store, [run_id, other], tmp_path / "cmp.html"), scheme="dark"
    )
    assert luminance(compared.colours()[0]) < 0.15
    compared.shot("comparison-dark.png")
    compared.close()


def test_user_text_never_runs_as_script(browser, db, tmp_path):
    store, run_id = make_run(db, evil=XSS)
    visit = Visit(browser, export.export_run(store, run_id, tmp_path / "evil.html"))
    assert visit.dialogs == []
    assert visit.page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    assert (
        visit.page.evaluate("document.scripts.length") == 4
    )  # chart specs, vega bundle, card JSON, page script
    assert SCRIPT in visit.page.inner_text("h1")  # shown as text
    assert all(state == ["interactive", True] for state in visit.chart_states())
    visit.page.hover(".chart-live svg")  # tooltips render user text too
    assert visit.dialogs == [] and visit.requests == []
    visit.close()

    _, plain = make_run(db, name="plain", system=False)
    compared = Visit(
        browser, export.export_comparison(store, [run_id, plain], tmp_path / "evil-compare.html")
    )
    assert compared.dialogs == [] and compared.requests == []
    assert compared.page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    assert compared.page.evaluate("document.scripts.length") == 4
    assert all(state == ["interactive", True] for state in compared.chart_states())
    compared.close()
