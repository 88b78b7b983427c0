"""The HTML templates: Jinja2 with autoescape on, so user text reaches a page only escaped.

Each page is rendered from runs whose every piece of user text carries EVIL (markup, both quotes and an
ampersand); the escaped text must be there, shown as text, and nothing of it may act as markup.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest
from cards import make_run
from jinja2 import StrictUndefined, UndefinedError
from markupsafe import escape

from jupyter_tracker import cards as export
from jupyter_tracker import compare
from jupyter_tracker.cards import html as html_module
from jupyter_tracker.cards import page
from jupyter_tracker.cards.card import build_comparison_card, build_run_card
from jupyter_tracker.cards.compare import render_comparison
from jupyter_tracker.notebook.widgets import fallback, images

EVIL = '<script>alert(1)</script>"\'& "><img src=x onerror=alert(1)>'
SHOWN = str(escape(EVIL))  # &lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&amp; ...
PACKAGE = Path(export.__file__).parent.parent
TEMPLATE_FOLDERS = [
    ("jupyter_tracker.cards", page.templates),
    ("jupyter_tracker.notebook.widgets", fallback.templates),
]


class _Markup(HTMLParser):
    """The elements, attributes and text of a page, scripts' contents aside."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.text, self._in_script = [], [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += attrs
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if not self._in_script:
            self.text.append(data)


def parse(html: str) -> _Markup:
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return parser


def assert_inert(html: str, *, scripts: int = 0, images: int = 0) -> _Markup:
    """EVIL is nowhere as markup: no script or image of its own, no event handler, no attribute broken open
    by its quote, no raw ampersand."""
    outside_scripts = re.sub(r"<script\b[^>]*>.*?</script>", "", html, flags=re.S)
    assert "<script>alert" not in outside_scripts and "<img src=x" not in outside_scripts
    assert "\"'& " not in outside_scripts  # its ampersand comes out escaped (quotes may stay raw in text)
    markup = parse(html)
    assert markup.tags.count("script") == scripts and markup.tags.count("img") == images
    assert not any(name.startswith("on") for name, _ in markup.attributes)
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S):
        assert "<" not in block  # JSON in a script element cannot end it
    return markup


def shown(html: str, text: str) -> bool:
    """`text` (which ends in EVIL) is in the page escaped."""
    return str(escape(text)) in html


@pytest.fixture
def evil_runs(db):
    store, first = make_run(db, evil=EVIL)
    _, second = make_run(db, name="second", evil=EVIL, system=False)
    return store, first, second


def evil_card(store, run_id) -> dict:
    card = build_run_card(store, run_id, max_points=200)
    card["environment"] = {
        "python": {
            "implementation": "CPython",
            "version": "3" + EVIL,
            "executable": "/py" + EVIL,
            "argv": [EVIL],
        },
        "machine": {
            "cpu_model": "cpu" + EVIL,
            "gpus": [{"name": "gpu" + EVIL}],
            "packages": {"pkg" + EVIL: EVIL},
        },
        "packages": {"imported" + EVIL: "1" + EVIL},
        "extra" + EVIL: "more" + EVIL,
    }
    card["origin"]["host"] = "host" + EVIL
    card["code"]["notebook"] = "notebook" + EVIL
    card["code"]["git"] = {"commit": "abc" + EVIL, "branch": "main" + EVIL, "dirty": True}
    card["run"]["error"] = "Traceback\nValueError: " + EVIL
    return card


def test_the_run_card_escapes_every_piece_of_user_text(evil_runs):
    store, run_id, _ = evil_runs
    html = html_module.render_run(evil_card(store, run_id))
    # Ours: the card JSON, the chart specs, the vega bundle and the page script.
    markup = assert_inert(html, scripts=4)
    for text in [
        "baseline" + EVIL,  # run name
        "mnist" + EVIL,  # project
        "Baseline CNN with dropout" + EVIL,  # description
        "train/loss" + EVIL,  # a metric key (the tile's title)
        "started epoch 1" + EVIL,  # an event message
        "loss-high" + EVIL,  # an alert's name
        "model.pt" + EVIL,  # an artifact
        "3" + EVIL,  # environment values
        "/py" + EVIL,
        "cpu" + EVIL,
        "imported" + EVIL,
        "extra" + EVIL,
        "host" + EVIL,  # origin
        "notebook" + EVIL,  # code
        "main" + EVIL,
        "ValueError: " + EVIL,  # traceback
    ]:
        assert shown(html, text), text
    assert f"<dt>{SHOWN}</dt><dd>{SHOWN}</dd>" in html  # a param whose key and value are both EVIL
    assert f"<dt>dataset</dt><dd>{escape('mnist' + EVIL)}</dd>" in html  # metadata
    assert f'<span class="tag">{SHOWN}</span>' in html
    assert f"<h1>{escape('baseline' + EVIL)}</h1>" in html
    assert any(EVIL in text for text in markup.text)  # shown as text, as typed


def test_the_comparison_card_escapes_every_piece_of_user_text(evil_runs):
    store, first, second = evil_runs
    html = render_comparison(build_comparison_card(store, [first, second], max_points=200))
    assert_inert(html, scripts=4)
    for text in ["baseline" + EVIL, "second" + EVIL, "mnist" + EVIL]:
        assert shown(html, text), text
    assert f'<th scope="row">{SHOWN}</th>' in html  # the param key
    assert f'<td class="mono">{SHOWN}</td>' in html  # its value
    assert f'<span class="tag">{SHOWN}</span> ' in html
    assert shown(html, "train/loss" + EVIL)  # a metric key (its chart's label)


def test_the_run_fallback_escapes_every_piece_of_user_text(evil_runs):
    store, run_id, _ = evil_runs
    info = store.get_run(run_id)
    summaries = {"loss" + EVIL: {"last": 0.5, "min": 0.1, "max": 2.0, "count": 3}}
    events = [(1.7e12, "warning", "spike" + EVIL, {}), (1.7e12, "info", "quiet" + EVIL, None)]
    chart = images.image(images.metric_chart("loss" + EVIL, [{"step": 0, "value": 1.0, "time": 0.0}]))
    html = fallback.run_html(info, summaries, events, [("Metrics" + EVIL, [("loss" + EVIL, chart)])])
    markup = assert_inert(html, images=1)
    assert fallback.MARKER in html
    for text in ["baseline" + EVIL, "mnist" + EVIL, "loss" + EVIL, "spike" + EVIL, "Metrics" + EVIL]:
        assert shown(html, text), text
    assert not shown(html, "quiet" + EVIL)  # an info event is no alert
    assert f'<code style="background:none;color:inherit;">{SHOWN}</code>' in html  # the param's value
    assert ("alt", f"chart of loss{EVIL}") in markup.attributes
    assert ("src", chart) in markup.attributes  # the image, whole: its SVG escaped, then %-encoded
    failed = dataclasses.replace(info, error="Traceback\nValueError: " + EVIL)
    assert shown(fallback.run_html(failed, {}, [], []), "ValueError: " + EVIL)


def test_the_comparison_fallback_escapes_every_piece_of_user_text(db, evil_runs):
    _, first, second = evil_runs
    comparison = compare([first, second], db=db)
    chart = images.image(
        images.overlay_chart("m", [("second" + EVIL, "#123456", [{"step": 0, "value": 1.0}])])
    )
    html = fallback.comparison_html(comparison, [("m" + EVIL, chart)])
    assert_inert(html, images=1)
    assert fallback.MARKER in html
    for text in ["baseline" + EVIL, "second" + EVIL, "mnist" + EVIL, "params." + EVIL]:
        assert shown(html, text), text
    assert f">{SHOWN}</td>" in html  # the param's value


@pytest.mark.parametrize("package, environment", TEMPLATE_FOLDERS)
def test_one_environment_per_folder_escapes_and_refuses_unknown_names(package, environment):
    env = environment()
    assert env is environment()  # made once
    assert env.autoescape is True and env.undefined is StrictUndefined
    names = env.list_templates()
    assert names and all(name.endswith(".html.j2") for name in names)
    # Shipped inside the package, where the wheel takes them from.
    folder = resources.files(package).joinpath("templates")
    assert all(folder.joinpath(*name.split("/")).is_file() for name in names)
    for name in names:
        env.get_template(name)  # every template compiles


def test_a_template_refuses_a_missing_value():
    with pytest.raises(UndefinedError):
        page.render("run.html.j2", style="", script="", card_json="", charts=None)


def test_no_template_turns_escaping_off():
    for package, _ in TEMPLATE_FOLDERS:
        folder = resources.files(package).joinpath("templates")
        for path in Path(str(folder)).rglob("*.j2"):
            source = path.read_text()
            assert not re.search(r"\|\s*safe\b|autoescape\s+false|\|\s*e\b", source), path


def test_markup_is_made_only_where_a_comment_says_why_it_is_safe():
    """Every Markup(...) in the package sits under a comment starting "Safe as markup"."""
    for path in PACKAGE.joinpath("jupyter_tracker").rglob("*.py"):
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Markup":
                above = "\n".join(lines[max(0, node.lineno - 4) : node.lineno - 1])
                assert "Safe as markup" in above, f"{path}:{node.lineno}"


def test_file_slug_makes_a_file_name_of_a_run_name():
    assert html_module.file_slug("my run / v2: <b>") == "my-run-v2-b"
    assert html_module.file_slug("...") == "run"
