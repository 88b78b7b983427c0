"""Run cards: JSON layout and schema, NaN/inf encoding, export paths, import and the round trip, HTML."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
from datetime import datetime
from importlib import resources

import pytest
from cards import IMG, SCRIPT, XSS, big_run, make_run
from waiting import stored_points, wait_until

from jupyter_tracker import cards as export
from jupyter_tracker import load_run, start_run
from jupyter_tracker.cards import axes, fmt
from jupyter_tracker.cards import card as card_module
from jupyter_tracker.cards import html as html_module
from jupyter_tracker.cards.page import compact
from jupyter_tracker.charts import overlay, vega
from jupyter_tracker.errors import InvalidArgument

jsonschema = pytest.importorskip("jsonschema")

# Fields that must differ between a card and the card of its imported copy.
DIFFERENT = ("exported",)


def comparable(card: dict) -> dict:
    card = {k: v for k, v in card.items() if k not in DIFFERENT}
    return {**card, "run": {k: v for k, v in card["run"].items() if k != "id"}}


@pytest.fixture
def run(db):
    return make_run(db)


def test_schema_ships_in_the_package_and_is_a_valid_schema():
    for name in ("run-card", "comparison-card"):
        text = resources.files("jupyter_tracker.cards").joinpath("schema", f"{name}.schema.json").read_text()
        jsonschema.Draft202012Validator.check_schema(json.loads(text))


def test_card_has_every_part_and_follows_the_schema(run):
    store, run_id = run
    card = export.run_card(store, run_id)
    export.validate_card(card)
    json.dumps(card, allow_nan=False)  # strict JSON: no bare NaN or Infinity anywhere
    assert (card["schema"], card["version"]) == ("jupyter-tracker/run-card", 1)
    assert card["run"]["name"] == "baseline" and card["run"]["tags"] == ["cnn"]
    assert card["run"]["status"] == "finished" and card["timing"]["duration"] > 0
    assert card["code"]["cell_source"].startswith("import torch") and card["code"]["execution_count"] == 7
    assert [s["key"] for s in card["metrics"]["series"]] == ["train/loss", "lr", "val/acc"]
    assert {s["key"] for s in card["system"]["series"]} >= {"system/cpu/percent", "system/process/rss_bytes"}
    assert card["system"]["series"][0]["unit"] == "%"
    assert card["system"]["hardware"]["peak_rss_bytes"] == pytest.approx(1.5e9 + 29e7)
    assert card["metrics"]["summaries"]["val/acc"]["count"] == 10
    assert [e["message"] for e in card["events"]] == ["started epoch 1", "loss spike"]
    assert card["artifacts"][0]["size"] == 123_456 and len(card["artifacts"][0]["sha256"]) == 64
    assert card["alerts"][0]["name"] == "loss-nan"


def test_nan_and_infinities_are_spelled_as_text(run):
    store, run_id = run
    card = export.run_card(store, run_id)
    loss = next(s for s in card["metrics"]["series"] if s["key"] == "train/loss")
    assert loss["value"][-3:] == ["NaN", "Infinity", "-Infinity"]
    summary = card["metrics"]["summaries"]["train/loss"]
    assert (summary["min"], summary["max"], summary["last"]) == ("-Infinity", "Infinity", "-Infinity")
    # Free-form values tag their non-finite floats, so the string "NaN" stays a string.
    assert card["params"]["eps"] == {"$float": "NaN"} and card["params"]["text"] == "NaN"
    assert card["metadata"]["floor"] == {"$float": "-Infinity"}
    assert card["events"][1]["extra"]["norm"] == {"$float": "Infinity"}
    assert card["alerts"][0]["rule"]["x"] == {"$float": "NaN"}


def test_round_trip_through_another_database(run, tmp_path):
    store, run_id = run
    path = export.export_run(store, run_id, tmp_path / "card.json")
    first = json.loads(path.read_text())
    other = tmp_path / "other.db"
    record = export.import_card(path, db=other)
    assert record.store.path == other and record.uuid == first["run"]["uuid"]
    second = json.loads(export.export_run(record.store, record.id, tmp_path / "again.json").read_text())
    assert comparable(second) == comparable(first)
    # The copy holds real floats again: NaN and infinities in params, points and events.
    copy = load_run(record.uuid, db=other)
    assert math.isnan(copy.params["eps"]) and copy.params["clip"] == math.inf and copy.params["text"] == "NaN"
    values = copy.metrics("train/loss")["value"].tolist()
    assert math.isnan(values[-3]) and values[-2:] == [math.inf, -math.inf]


def test_import_keeps_uuid_refuses_a_second_copy_and_numbers_a_taken_name(run, tmp_path):
    store, run_id = run
    card = export.run_card(store, run_id)
    with pytest.raises(InvalidArgument, match="already"):
        export.import_card(card, db=store)
    assert len(store.list_runs()) == 1  # nothing half-imported left behind
    card = {**card, "run": {**card["run"], "uuid": "f" * 32}}
    copy = export.import_card(card, db=store)
    assert copy.name == "baseline-2" and copy.uuid == "f" * 32


def test_export_into_a_folder_and_a_format_that_contradicts_the_name(run, tmp_path):
    run = load_run(run[1], db=run[0])
    folder = tmp_path / "cards"
    written = run.export(f"{folder}/")
    assert written.parent == folder and written.name.endswith(".card.html") and written.is_file()
    assert run.export(folder, format="json").name.endswith(".card.json")
    with pytest.raises(InvalidArgument, match="format='html' contradicts the .json ending"):
        run.export(tmp_path / "card.json", format="html")


def test_a_snapshot_of_a_running_run_imports_as_interrupted_and_says_so(db, tmp_path):
    with start_run(name="still-going", system=False) as live:
        for step in range(10):
            live.log(loss=1 / (step + 1))
        path = live.export(tmp_path / "snapshot.json")
    assert json.loads(path.read_text())["run"]["status"] == "running"
    copy = export.import_card(path, db=tmp_path / "other.db")
    assert copy.status == "interrupted" and copy.summary().loc["loss", "count"] == 10
    assert (
        "exported at" in copy.events().message.iloc[-1] and "still running" in copy.events().message.iloc[-1]
    )


def test_import_refuses_newer_and_foreign_cards(run, tmp_path):
    store, run_id = run
    card = export.run_card(store, run_id)
    with pytest.raises(InvalidArgument, match="version 2"):
        export.import_card({**card, "version": 2}, db=tmp_path / "x.db")
    with pytest.raises(InvalidArgument, match="not a run card"):
        export.import_card({"schema": "something/else"}, db=tmp_path / "x.db")
    broken = {**card, "metrics": {"series": [{"key": "x"}], "summaries": {}}}
    with pytest.raises(InvalidArgument, match="invalid run card at metrics/series/0"):
        export.import_card(broken, db=tmp_path / "x.db")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InvalidArgument, match="neither"):
        export.import_card(tmp_path / "notes.txt", db=tmp_path / "x.db")


def test_max_points_downsamples_series_but_keeps_full_summaries(db):
    store, run_id = big_run(db, metrics=2, steps=3000)
    card = export.run_card(store, run_id, max_points=200)
    export.validate_card(card)
    series = card["metrics"]["series"][0]
    assert series["downsampled"] and series["count"] == 3000 and len(series["step"]) <= 200
    assert series["step"][0] == 0 and series["step"][-1] == 2999
    assert card["metrics"]["summaries"][series["key"]]["count"] == 3000
    full = export.run_card(store, run_id)["metrics"]["series"][0]
    assert not full["downsampled"] and len(full["step"]) == 3000


def test_export_paths_and_formats(run, tmp_path, monkeypatch):
    store, run_id = run
    monkeypatch.chdir(tmp_path)
    default = export.export_run(store, run_id)
    assert default == tmp_path / "mnist-baseline.card.html" and default.read_text().startswith(
        "<!DOCTYPE html>"
    )
    as_json = export.export_run(store, run_id, format="json")
    assert as_json.name == "mnist-baseline.card.json" and json.loads(as_json.read_text())["version"] == 1
    forced = export.export_run(store, run_id, tmp_path / "sub" / "card.txt", format="html")
    assert forced.read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(InvalidArgument, match=r"\.json or \.html"):
        export.export_run(store, run_id, tmp_path / "card.txt")
    with pytest.raises(InvalidArgument, match="unknown card format"):
        export.export_run(store, run_id, tmp_path / "card.json", format="pdf")


def test_json_file_is_readable_with_series_on_one_line(run, tmp_path):
    store, run_id = run
    text = export.export_run(store, run_id, tmp_path / "card.json").read_text()
    assert '\n  "run": {' in text
    assert re.search(r'"value": \[[^\n]*"NaN","Infinity","-Infinity"\]', text)
    assert card_module.to_json(json.loads(text), indent=None).count("\n") == 0


def test_html_card_embeds_its_json_and_can_be_imported(run, tmp_path):
    store, run_id = run
    path = export.export_run(store, run_id, tmp_path / "card.html")
    record = export.import_card(path, db=tmp_path / "other.db")
    assert record.uuid == store.get_run(run_id).uuid
    assert record.params["layers"] == [64, 32]


def test_html_escapes_every_piece_of_user_text(db):
    store, run_id = make_run(db, evil=XSS)
    page = export.run_card_html(store, run_id)
    # Scripts: the chart specs, the vega bundle, the card JSON and the page script; nothing else.
    assert len(re.findall(r"<script\b", page)) == 4
    markup = re.sub(r'<script type="module">.*?</script>', "", page, flags=re.S)  # our code, not user text
    assert SCRIPT not in markup and "<img" not in markup and IMG not in markup
    assert markup.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 15  # shown, as text
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.S):
        assert "<" not in block
        json.loads(block)


def test_comparison_card_and_page(db, tmp_path):
    store, first = make_run(db, name="small")
    _, second = make_run(db, name="large", system=False)
    store.set_params(second, {"lr": 0.1})
    comparison = export.comparison_card(store, [first, second])
    export.validate_card(comparison)
    assert comparison["params"]["differing"] == ["lr"]
    assert [c["run"]["name"] for c in comparison["runs"]] == ["small", "large"]
    page = export.export_comparison(store, [first, second], tmp_path / "compare.html").read_text()
    assert "2 runs compared" in page and page.count('class="chart-card"') == 3
    as_json = export.export_comparison(store, [first, second], tmp_path / "compare.json")
    export.validate_card(json.loads(as_json.read_text()))
    with pytest.raises(InvalidArgument, match="comparison card"):
        export.import_card(as_json, db=tmp_path / "x.db")


def test_real_hardware_samples_make_a_hardware_summary(db):
    with start_run(name="sampled", db=db, interval=0.1) as run:
        for step in range(5):
            run.log(loss=1 / (step + 1))
        wait_until(lambda: len(stored_points(run, "system/cpu/percent")) >= 2, what="CPU samples")
    card = export.run_card(run.store, run.id)
    export.validate_card(card)
    assert card["system"]["series"] and card["system"]["hardware"]["peak_rss_bytes"] > 0
    assert "machine" in card["environment"]
    page = export.run_card_html(run.store, run.id)
    assert "Peak memory (RSS)" in page


def test_chart_rows_travel_as_columns():
    rows = [{"key": "a", "step": i, "value": i / 3, "time": 1.7e12 + i + 0.25} for i in range(3)]
    packed = compact({"datasets": {"d": rows}, "mark": "line"})
    columns = packed["datasets"]["d"]["$columns"]
    assert packed["datasets"]["d"]["$length"] == 3 and columns["key"] == {"$repeat": "a"}
    assert columns["value"] == [0.0, 0.3333333, 0.6666667] and columns["time"][1] == 1700000000001


def test_card_of_20_metrics_by_5000_steps_stays_small(db, tmp_path, capsys):
    store, run_id = big_run(db)
    html = export.export_run(store, run_id, tmp_path / "big.html").stat().st_size
    data = export.export_run(store, run_id, tmp_path / "big.json").stat().st_size
    with capsys.disabled():
        print(f"\n20 metrics x 5,000 steps: HTML card {html / 1e6:.2f} MB, JSON card {data / 1e6:.2f} MB")
    assert html < 3_000_000


def test_cli_exports_a_card_and_a_comparison(db, tmp_path):
    store, first = make_run(db, name="small")
    make_run(db, name="large", system=False)

    def cli(*args):
        done = subprocess.run(
            [sys.executable, "-m", "jupyter_tracker.cli", "export", *args, "--db", str(db)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    printed = cli("small", "--format", "json")
    assert printed == str(tmp_path / "mnist-small.card.json")
    export.validate_card(json.loads((tmp_path / "mnist-small.card.json").read_text()))
    printed = cli("--compare", "small", "large", "-o", "both.html")
    assert (
        printed == str(tmp_path / "both.html") and "2 runs compared" in (tmp_path / "both.html").read_text()
    )


def test_a_run_with_nothing_logged_still_makes_a_card(db, tmp_path):
    with start_run(name="empty", db=db, system=False) as run:
        pass
    card = export.run_card(run.store, run.id)
    export.validate_card(card)
    assert card["metrics"]["series"] == [] and "hardware" not in card["system"]
    page = export.export_run(run.store, run.id, tmp_path / "empty.html").read_text()
    assert 'id="metrics"' not in page and 'id="jt-charts"' not in page and "vegaEmbed=" not in page
    copy = export.import_card(tmp_path / "empty.html", db=tmp_path / "other.db")
    assert copy.name == "empty" and copy.status == "finished"


def test_alert_rules_read_as_sentences(run):
    rule = {
        "source": "metrics",
        "window": 3,
        "frequency": 1,
        "metric": "loss",
        "rule": "is above",
        "threshold": 1.0,
    }
    assert fmt.alert_rule(rule) == "loss is above 1 (mean of 3 points, checked every point)"
    ranged = {
        **rule,
        "rule": "is outside range",
        "range_low": 0.0,
        "range_high": 1.5,
        "window": 1,
        "frequency": 10,
    }
    assert fmt.alert_rule(ranged) == "loss is outside 0 to 1.5 (last point, checked every 10 points)"
    events = {"source": "events", "window": 5, "frequency": 1, "pattern": "nan", "notify": True}
    assert fmt.alert_rule(events) == "events match /nan/ (last 5); calls notify"
    assert fmt.alert_rule({"metric": "loss", "op": "nan"}) is None and fmt.alert_rule("x") is None

    store, run_id = run
    page = export.run_card_html(store, run_id)
    alerts = page[page.index("<h3>Alerts</h3>") : page.index("</table>", page.index("<h3>Alerts</h3>"))]
    assert "train/loss is above 1 (mean of 3 points, checked every point)</td>" in alerts
    assert "events match /nan/ (last 5)</td>" in alerts
    assert alerts.count("&#34;source&#34;") == 2  # the JSON only on hover (title) for known rules
    assert '<td class="mono">{&#34;metric&#34;: &#34;train/loss&#34;' in alerts  # an unknown shape: JSON
    assert 'class="level state-critical"' in alerts


def test_non_finite_values_are_counted_and_said_in_place_of_a_chart(db):
    with start_run(name="nan", db=db, system=False) as run:
        for step in range(12):
            run.log(
                {"gone": math.nan, "blown": math.inf, "some": math.nan if step in (3, 7) else step}, step=step
            )
        for step in range(12, 3000):
            run.log({"long": math.nan if step % 100 == 0 else step}, step=step)
    card = export.run_card(run.store, run.id, max_points=600)
    export.validate_card(card)
    counts = {s["key"]: (s["nonfinite"], s["count"]) for s in card["metrics"]["series"]}
    assert counts == {"gone": (12, 12), "blown": (12, 12), "some": (2, 12), "long": (29, 2988)}
    page = export.run_card_html(run.store, run.id)
    assert page.count('class="chart-none"') == 2 and page.count('class="chart"') == 2
    assert ">All 12 values are NaN</p>" in page and ">All 12 values are infinite</p>" in page
    assert "2 of 12 points are NaN, not drawn" in page
    assert "29 of 2,988 points are NaN or infinite, not drawn" in page  # counted before downsampling
    assert "<dt>points</dt><dd>12</dd>" in page and "<dt>NaN/±∞</dt><dd>12</dd>" in page
    assert "12 points, all NaN" in page  # the overview tile
    # A card written before the count was kept still says it, from its values.
    old = {**card["metrics"]["series"][0]}
    del old["nonfinite"]
    assert fmt.nonfinite(old) == 12


def test_byte_axes_use_binary_units_from_zero():
    gib, mib = 1024**3, 1024**2
    assert axes.binary_ticks(24.77 * gib) == ([0, 10 * gib, 20 * gib, 30 * gib], 3)
    assert axes.binary_ticks(243.9 * mib) == ([0, 100 * mib, 200 * mib, 300 * mib], 2)
    assert axes.binary_ticks(0.8 * gib) == ([0, 0.5 * gib, gib], 3)
    assert axes.binary_ticks(0) == ([0, 0.5 * 1024, 1024], 1)
    times = [1.7e9 + i for i in range(20)]
    svgs = {}
    for key, unit, values in [
        ("system/memory/available_bytes", "bytes", [24.77e9 + (i % 3) * 5e6 for i in range(20)]),
        ("system/network/recv_bytes_per_s", "bytes/s", [i * 2.5e6 for i in range(20)]),
        ("system/cpu/load_1m", "processes", [0.87109] * 20),
    ]:
        series = {"key": key, "step": list(range(20)), "value": values, "time": times}
        chart = overlay.metric_chart(card_module.series_frame([series]), x="time", width=300, height=100)
        svgs[key] = vega.to_svg(axes.y_axis(vega.spec(chart), series, unit))
    labels = {key: re.findall(r"<text[^>]*>([^<]*)</text>", svg) for key, svg in svgs.items()}
    assert {"0", "10 GiB", "20 GiB", "30 GiB"} <= set(labels["system/memory/available_bytes"])
    assert not any(re.fullmatch(r"[\d.]+G", text) for text in labels["system/memory/available_bytes"])
    assert {"0", "20 MiB/s", "40 MiB/s"} <= set(labels["system/network/recv_bytes_per_s"])
    assert "1" not in labels["system/cpu/load_1m"]  # a flat 0.871 is not labelled "1"
    label = html_module.system_label("system/cpu/load_1m", "processes")
    assert "load (1 min)" in label and "processes" not in label
    assert "bytes" not in html_module.system_label("system/memory/used_bytes", "bytes")


def test_a_running_run_exports_as_a_snapshot(db, tmp_path):
    with start_run(name="live", db=db, system=False) as run:
        run.log(loss=1.0)
        run.log(loss=0.5)
        card = export.run_card(run.store, run.id)
        page = export.export_run(run.store, run.id, tmp_path / "live.html").read_text()
    export.validate_card(card)
    assert card["run"]["status"] == "running" and card["timing"]["ended"] is None
    exported = datetime.fromisoformat(card["exported"])
    assert exported.tzinfo is not None and abs(exported.timestamp() - time.time()) < 60
    assert '<span class="pill status-running">running</span>' in page
    assert f'<span class="snapshot">snapshot at {fmt.exported(card["exported"], seconds=True)}</span>' in page
    assert " so far</dd>" in page
    done = export.run_card_html(run.store, run.id)
    assert 'class="snapshot"' not in done and " so far</dd>" not in done


# -- tracebacks, notes, active time -------------------------------------------------------------------------
def test_a_failed_runs_traceback_and_its_notes_travel_in_both_cards(db, tmp_path):
    def load_shard(n):
        raise ValueError(f"shard {n} is {XSS}")

    with pytest.raises(ValueError), start_run(name="broken", system=False) as run:
        load_shard(3)
    record = load_run(run.id)
    record.add_note("retry with " + XSS)
    record.add_note("second note")
    card = export.run_card(record.store, record.id)
    export.validate_card(card)
    assert card["run"]["error"] == f"ValueError: shard 3 is {XSS}"
    assert "in load_shard" in card["run"]["traceback"] and "jupyter_tracker" not in card["run"]["traceback"]
    assert [e["message"] for e in card["events"]] == ["note: retry with " + XSS, "note: second note"]
    page = export.run_card_html(record.store, record.id)
    assert SCRIPT not in page and IMG not in page  # the traceback and the notes are escaped
    assert '<details class="fold panel" id="traceback" open>' in page and 'href="#traceback"' in page
    folded = page[page.index('id="traceback"') : page.index("</details>", page.index('id="traceback"'))]
    assert '<pre class="error">' in folded and "in load_shard" in folded and "&lt;script&gt;" in folded
    notes = page[page.index("<h3>Notes</h3>") :]
    assert notes.index("retry with &lt;script&gt;") < notes.index("second note")
    copy = export.import_card(card, db=tmp_path / "other.db")
    assert copy.info.traceback == card["run"]["traceback"] and [n["text"] for n in copy.notes()] == [
        "retry with " + XSS,
        "second note",
    ]


def test_a_resumed_run_card_shows_active_time_and_span_and_older_cards_still_read(db, tmp_path):
    with start_run(name="paused", system=False) as run:
        run.log(loss=1.0)
    ended = run.info.ended - 121
    run.store.update_run(run.id, started=ended - 1.6, ended=ended, heartbeat=ended)
    with start_run(resume="paused", system=False):
        pass
    card = export.run_card(run.store, run.id)
    export.validate_card(card)
    timing = card["timing"]
    assert timing["idle"] == pytest.approx(121, abs=2) and 1.6 <= timing["duration"] < 10
    assert timing["span"] == pytest.approx(timing["duration"] + timing["idle"])
    assert re.search(r"<dd>active \d+\.\d s \(span 2m 0\ds\)</dd>", export.run_card_html(run.store, run.id))
    copy = export.import_card(card, db=tmp_path / "copy.db")
    assert copy.info.idle == pytest.approx(timing["idle"]) and copy.info.duration == pytest.approx(
        timing["duration"]
    )
    # A card written before idle, span and traceback were kept: its error held the whole traceback.
    old = json.loads(json.dumps(card))
    del old["timing"]["idle"], old["timing"]["span"], old["run"]["traceback"]
    old["run"].update(
        uuid="0" * 32, status="failed", error="Traceback (most recent call last):\nValueError: x"
    )
    export.validate_card(old)
    imported = export.import_card(old, db=tmp_path / "old.db")
    assert imported.info.idle == 0 and imported.info.traceback is None
    page = export.run_card_html(imported.store, imported.id)
    assert "ValueError: x" in page and 'id="traceback"' in page


def test_key_value_tags_travel_in_cards_and_show_with_their_values(db, tmp_path):
    with start_run(name="tagged", project="p", db=db, system=False, tags=["cnn"]) as run:
        run.set_tag("team", "vision<&>")
        run.log(loss=1.0)
    record = load_run("tagged", db=db)
    path = record.export(tmp_path / "card.json")
    card = json.loads(path.read_text())
    export.validate_card(card)
    assert card["run"]["tags"] == ["cnn", "team"] and card["run"]["tag_values"] == {"team": "vision<&>"}
    copy = export.import_card(path, db=tmp_path / "other.db")
    assert copy.info.tag_values == {"cnn": None, "team": "vision<&>"}
    page = record.export(tmp_path / "card.html").read_text()
    assert (
        '<span class="tag">team=vision&lt;&amp;&gt;</span>' in page and '<span class="tag">cnn</span>' in page
    )
    # A card written before tag values existed imports its tags as plain ones.
    del card["run"]["tag_values"]
    older = export.import_card(card, db=tmp_path / "older.db")
    assert older.info.tag_values == {"cnn": None, "team": None}
