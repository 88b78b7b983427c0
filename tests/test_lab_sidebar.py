"""The Runs sidebar in a real JupyterLab, driven by headless Chromium.

Screenshots land in tests/artifacts/ (lab_sidebar_*.png).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from jupyterlab_harness import launch_chromium, require_chromium, screenshot, start_lab, stop_lab

from jupyter_tracker.models import FINISHED, RUNNING
from jupyter_tracker.store import open_store

BUILT = Path(__file__).parent.parent / "jupyter_tracker" / "labextension"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def make_runs(store) -> dict[str, int]:
    """Two projects: finished, failed, interrupted, crashed runs, and one live run."""
    now = time.time()
    ids = {}

    def run(project, name, status, age, length, params, tags=(), metrics=None, **fields):
        started = now - age
        run_id, _ = store.create_run(project, [name], started, status=RUNNING, started=started, **fields)
        store.set_params(run_id, params)
        store.add_tags(run_id, tags)
        keys, points = [], []
        for index, (key, curve) in enumerate((metrics or {}).items(), 1):
            keys.append((run_id, index, key))
            points += [(run_id, index, step, started + step, value) for step, value in enumerate(curve)]
        store.write_batch(run_id, keys, points, [], started + length)
        if status != RUNNING:
            store.end_run(run_id, status, started + length)
        ids[name] = run_id
        return run_id

    loss = [2.3 * 0.93**s for s in range(60)]
    run(
        "mnist",
        "baseline",
        FINISHED,
        7200,
        754,
        {"lr": 0.01, "epochs": 3},
        ["cnn", "baseline"],
        {"loss": loss, "acc": [min(0.99, 0.5 + s / 100) for s in range(60)], "val_loss": loss[::2]},
    )
    run(
        "mnist",
        "wide-net",
        "failed",
        5400,
        95,
        {"lr": 0.1, "width": 512},
        ["cnn"],
        {"loss": [2.3, 4.1, 9.8, float("inf")]},
    )
    run(
        "mnist",
        "lr-sweep-3",
        "interrupted",
        3000,
        310,
        {"lr": 0.003},
        ["sweep"],
        {"loss": loss[:30], "acc": [0.5 + s / 80 for s in range(30)]},
    )
    # Stored as running, but silent for an hour: shown as crashed.
    run("cifar10", "vit-small", RUNNING, 4000, 200, {"patch": 4}, ["vit"], {"loss": loss[:12]})
    run(
        "cifar10",
        "resnet18",
        RUNNING,
        95,
        95,
        {"lr": 0.05, "batch": 128},
        ["gpu", "resnet"],
        {"loss": loss[:20], "acc": [0.3 + s / 50 for s in range(20)]},
        pid=os.getpid(),
    )
    return ids


class Heartbeat(threading.Thread):
    """Keeps the live run alive (heartbeat + a new point every second), as a training loop would."""

    def __init__(self, store, run_id):
        super().__init__(daemon=True)
        self.store, self.run_id, self.stop = store, run_id, threading.Event()

    def run(self):
        step = 20
        while not self.stop.wait(1.0):
            now = time.time()
            self.store.write_batch(self.run_id, [], [(self.run_id, 1, step, now, 2.3 * 0.93**step)], [], now)
            step += 1


@pytest.mark.slow  # JupyterLab and a page: ~16 s
def test_runs_sidebar_lists_filters_opens_and_updates_live(tmp_path):
    require_chromium()
    if not (BUILT / "package.json").exists():
        pytest.skip("the labextension is not built (cd labextension && jlpm install && jlpm build:prod)")
    from playwright.sync_api import expect, sync_playwright

    root = tmp_path / "root"
    store = open_store(root / ".tracker" / "tracker.db")
    ids = make_runs(store)
    beat = Heartbeat(store, ids["resnet18"])
    beat.start()
    url, token, proc = start_lab(
        tmp_path, root_dir=root, server_extensions=["jupyter_tracker.server"], labextensions=[BUILT]
    )
    problems: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1360, "height": 820})
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda msg: (
                    msg.type == "error"
                    and "tracker" in msg.text.lower()
                    and problems.append(f"console: {msg.text}")
                ),
            )
            page.goto(f"{url}lab?token={token}")

            # The sidebar tab with the tracker icon, and the runs grouped by project.
            tab = page.locator('.jp-SideBar .lm-TabBar-tab[data-id="jupyter-tracker-runs"]')
            tab.wait_for(timeout=30000)
            tab.click()
            panel = page.locator("#jupyter-tracker-runs")
            rows = panel.locator(".jp-TrackerRun")
            expect(rows).to_have_count(5, timeout=15000)
            expect(panel.locator(".jp-TrackerProject-name")).to_have_text(["cifar10", "mnist"])
            live = panel.locator(f'.jp-TrackerRun[data-run-id="{ids["resnet18"]}"]')
            expect(live).to_have_attribute("data-status", "running")
            expect(panel.locator(f'.jp-TrackerRun[data-run-id="{ids["vit-small"]}"]')).to_have_attribute(
                "data-status", "crashed"
            )
            expect(
                panel.locator(f'.jp-TrackerRun[data-run-id="{ids["baseline"]}"] .jp-TrackerMetric-key')
            ).to_have_text(["loss", "acc", "val_loss"])
            screenshot(page, "lab_sidebar_1_runs")

            # Filters: text, then status.
            search = panel.locator(".jp-TrackerRuns-searchInput")
            search.fill("wide")
            expect(rows).to_have_count(1)
            expect(rows.first.locator(".jp-TrackerRun-name")).to_have_text("wide-net")
            search.fill("lr=0.0")
            expect(rows).to_have_count(3)
            search.fill("")
            panel.locator('.jp-TrackerChip[data-status="failed"]').click()
            expect(rows).to_have_count(1)
            panel.locator(".jp-TrackerChip", has_text="All").click()
            expect(rows).to_have_count(5)

            # A click opens the run card in a main-area tab.
            panel.locator(f'.jp-TrackerRun[data-run-id="{ids["baseline"]}"]').click()
            expect(page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="baseline")).to_be_visible()
            card = page.locator(".jp-TrackerCard").last
            expect(
                card.locator("iframe.jp-TrackerFrame, .jp-TrackerCard-status[data-kind='error']")
            ).to_be_visible(timeout=20000)
            if card.locator("iframe.jp-TrackerFrame").count():
                frame = card.frame_locator("iframe.jp-TrackerFrame")
                expect(frame.locator("body")).to_contain_text("baseline", timeout=20000)
            else:
                expect(card).to_contain_text("not available")  # 501 until the export module exists
            page.wait_for_timeout(600)
            screenshot(page, "lab_sidebar_2_card")

            # Select two runs and compare them.
            for name in ("baseline", "lr-sweep-3"):
                panel.locator(f'.jp-TrackerRun[data-run-id="{ids[name]}"] .jp-TrackerRun-check').check()
            panel.locator(".jp-TrackerRuns-selection button", has_text="Compare").click()
            expect(
                page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="Compare 2 runs")
            ).to_be_visible()
            panel.locator(".jp-TrackerRuns-selection button[aria-label='Clear selection']").click()

            # Every action is in the command palette.
            page.keyboard.press("Control+Shift+C")
            palette = page.locator(".jp-ModalCommandPalette .lm-CommandPalette")
            palette.locator("input").fill("Experiment Tracker")
            for label in (
                "Show Runs Panel",
                "Refresh Runs",
                "Open Run Card",
                "Compare Runs",
                "Choose Runs Database",
            ):
                expect(palette.locator(".lm-CommandPalette-item", has_text=label)).to_have_count(1)
            page.keyboard.press("Escape")

            # The live run's card is open when the run finishes in the store: the sidebar and the card
            # both show it without a reload.
            live.click()
            live_card = page.locator(".jp-TrackerCard").last
            expect(
                live_card.locator("iframe.jp-TrackerFrame, .jp-TrackerCard-status[data-kind='error']")
            ).to_be_visible(timeout=20000)
            beat.stop.set()
            beat.join()
            ended = time.time()
            store.end_run(ids["resnet18"], FINISHED, ended)
            expect(live).to_have_attribute("data-status", "finished", timeout=8000)
            seen_after = time.time() - ended
            expect(panel.locator(".jp-TrackerRuns-live")).to_have_count(0)
            if live_card.locator("iframe.jp-TrackerFrame").count():
                expect(live_card.frame_locator("iframe.jp-TrackerFrame").locator("body")).to_contain_text(
                    "finished", timeout=15000
                )
            page.wait_for_timeout(500)
            screenshot(page, "lab_sidebar_3_finished")

            browser.close()
        assert seen_after < 6, f"the finished status took {seen_after:.1f} s to show"  # polled every 2 s
        assert not problems, problems
    finally:
        beat.stop.set()
        stop_lab(proc)
        store.close()
