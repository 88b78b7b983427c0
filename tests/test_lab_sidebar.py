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


def one_run(store, project, name, tags=(), loss=0.5) -> int:
    """A finished run with a short loss curve."""
    now = time.time()
    run_id, _ = store.create_run(project, [name], now - 600, status=RUNNING, started=now - 600)
    store.add_tags(run_id, tags)
    store.write_batch(
        run_id,
        [(run_id, 1, "loss")],
        [(run_id, 1, s, now - 600 + s, loss / (s + 1)) for s in range(20)],
        [],
        now - 500,
    )
    store.end_run(run_id, FINISHED, now - 500)
    return run_id


def watch_problems(page, problems: list[str]) -> None:
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda msg: (
            msg.type == "error" and "tracker" in msg.text.lower() and problems.append(f"console: {msg.text}")
        ),
    )


@pytest.mark.slow  # JupyterLab, a page and a reload: ~25 s
def test_a_chooser_of_the_stores_under_the_root_and_edits_from_the_context_menu(tmp_path):
    require_chromium()
    if not (BUILT / "package.json").exists():
        pytest.skip("the labextension is not built (cd labextension && jlpm install && jlpm build:prod)")
    from playwright.sync_api import expect, sync_playwright

    root = tmp_path / "root"
    vision = open_store(root / "notebooks" / "vision" / ".tracker" / "tracker.db")
    text = open_store(root / "notebooks" / "text" / ".tracker" / "tracker.db")
    sweeps = open_store(
        root
        / "experiments"
        / "2024-06-image-classification-hyperparameter-sweeps"
        / ".tracker"
        / "tracker.db"
    )
    one_run(vision, "cifar10", "resnet18", ["cnn"])
    one_run(vision, "cifar10", "vit-small", ["vit"])
    one_run(text, "imdb", "distilbert")
    bert = one_run(text, "imdb", "bert-base", ["nlp"])
    one_run(sweeps, "sweep", "lr-0.1")
    stores = {
        "sweeps": "experiments/2024-06-image-classification-hyperparameter-sweeps/.tracker/tracker.db",
        "text": "notebooks/text/.tracker/tracker.db",
        "vision": "notebooks/vision/.tracker/tracker.db",
    }
    url, token, proc = start_lab(
        tmp_path, root_dir=root, server_extensions=["jupyter_tracker.server"], labextensions=[BUILT]
    )
    problems: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1360, "height": 820})
            watch_problems(page, problems)
            page.goto(f"{url}lab?token={token}")
            tab = page.locator('.jp-SideBar .lm-TabBar-tab[data-id="jupyter-tracker-runs"]')
            tab.wait_for(timeout=30000)
            tab.click()
            panel = page.locator("#jupyter-tracker-runs")
            names = panel.locator(".jp-TrackerRun-name")

            # No store at the root: the first one found is shown, and the chooser lists every store.
            chooser = panel.locator(".jp-TrackerRuns-dbSelect")
            expect(chooser).to_have_value(stores["sweeps"], timeout=15000)
            options = chooser.locator("option")
            expect(options).to_have_text(
                ["…/2024-06-image-classifi…", "/notebooks/text", "/notebooks/vision"]
            )
            expect(options.first).to_have_attribute(
                "title", "/experiments/2024-06-image-classification-hyperparameter-sweeps"
            )
            expect(names).to_have_text(["lr-0.1"])
            page.wait_for_timeout(300)
            screenshot(page, "lab_sidebar_4_stores")

            # Switching shows the other store's runs.
            chooser.select_option(stores["vision"])
            expect(names).to_have_text(["vit-small", "resnet18"], timeout=10000)
            expect(panel.locator(".jp-TrackerProject-name")).to_have_text(["cifar10"])
            chooser.select_option(stores["text"])
            expect(names).to_have_text(["bert-base", "distilbert"], timeout=10000)

            # The choice outlives a reload.
            page.wait_for_timeout(1500)  # the workspace is saved a moment after a change
            page.reload()
            tab.wait_for(timeout=30000)
            # JupyterLab removes its splash once the layout is restored: only then is the panel's state known.
            page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=30000)
            if not panel.is_visible():
                tab.click()
            expect(chooser).to_have_value(stores["text"], timeout=15000)
            expect(names).to_have_text(["bert-base", "distilbert"], timeout=10000)

            # Right-click a run: rename it, then edit its tags; both land in that store.
            row = panel.locator(f'.jp-TrackerRun[data-run-id="{bert}"]')
            row.click(button="right")
            menu = page.locator(".lm-Menu")
            expect(menu.locator(".lm-Menu-itemLabel")).to_contain_text(
                ["Open Run Card", "Rename Run…", "Edit Tags…"]
            )
            screenshot(page, "lab_sidebar_5_context_menu")
            menu.locator(".lm-Menu-item", has_text="Rename Run…").click()
            dialog = page.locator(".jp-Dialog")
            dialog.locator("input").fill("bert-base-cased")
            dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
            expect(row.locator(".jp-TrackerRun-name")).to_have_text("bert-base-cased", timeout=10000)
            assert text.get_run(bert).name == "bert-base-cased"

            row.click(button="right")
            page.locator(".lm-Menu .lm-Menu-item", has_text="Edit Tags…").click()
            dialog.locator("input").fill("nlp, transformer, best")
            page.wait_for_timeout(200)
            screenshot(page, "lab_sidebar_6_tags_dialog")
            dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
            expect(row.locator(".jp-TrackerTag")).to_have_text(["best", "nlp", "transformer"], timeout=10000)
            assert sorted(text.get_run(bert).tags) == ["best", "nlp", "transformer"]

            # F2 renames too; a name the server refuses (taken in the project) is explained, nothing changes.
            row.focus()
            page.keyboard.press("F2")
            dialog.locator("input").fill("distilbert")
            dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
            refusal = page.locator(".jp-Dialog", has_text="Cannot rename the run")
            expect(refusal).to_contain_text("distilbert")
            page.wait_for_timeout(200)
            screenshot(page, "lab_sidebar_7_refused")
            refusal.locator(".jp-Dialog-button").last.click()
            expect(refusal).to_have_count(0)
            assert text.get_run(bert).name == "bert-base-cased"

            # The palette's "Choose Runs Database…" offers the same stores (and takes a typed path).
            page.keyboard.press("Control+Shift+C")
            palette = page.locator(".jp-ModalCommandPalette .lm-CommandPalette")
            palette.locator("input").fill("Choose Runs Database")
            palette.locator(".lm-CommandPalette-item", has_text="Choose Runs Database").click()
            field = page.locator(".jp-Dialog input")
            expect(field).to_have_value(stores["text"])
            expect(page.locator(".jp-Dialog datalist option")).to_have_count(3)
            field.fill(stores["vision"])
            page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
            expect(chooser).to_have_value(stores["vision"], timeout=10000)
            expect(names).to_have_text(["vit-small", "resnet18"], timeout=10000)
            browser.close()
        assert not problems, problems
        assert not (root / ".tracker").exists()  # nothing read or edited made a store at the root
    finally:
        stop_lab(proc)
        for store in (vision, text, sweeps):
            store.close()
