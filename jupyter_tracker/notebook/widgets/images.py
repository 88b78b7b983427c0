"""The charts of a saved summary: one small SVG per chart, drawn by vl-convert without a browser, made
compact, and given to an <img> as a data URI.

An <img> because an SVG there cannot run script, and because sanitizers keep images where they drop inline
<svg> (JupyterLab's, for untrusted notebooks; nbconvert itself puts SVG outputs in <img> for that reason).
A URI-encoded SVG is about a fifth smaller than base64. Colours read on light and dark pages alike and the background is transparent
(charts.vega.BASE_CONFIG); text is drawn at 11 px in a chart about CHART_WIDTH pixels wide (plus its
axes), shown at its own size where it fits and narrower where it does not, never blown up.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from markupsafe import Markup

from ...charts import specs as chart_specs
from ...charts import vega

CHART_WIDTH = 280
CHART_HEIGHT = 120
MAX_POINTS = 2 * CHART_WIDTH  # per series: a min and a max per pixel column
# A font list without quotes: the SVG's attributes are single-quoted once it is a URI.
FONT = "system-ui,-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif"
CONFIG = {
    **vega.BASE_CONFIG,
    "background": None,  # no background at all (not even a transparent one to draw)
    "font": FONT,
    "axis": {**vega.BASE_CONFIG["axis"], "labelFontSize": 11, "titleFontSize": 11, "ticks": False},
    # The top label inside the chart: every chart the same height, titles in a row.
    "axisY": {"labelFlush": True},
    "legend": {**vega.BASE_CONFIG["legend"], "labelFontSize": 11, "symbolSize": 50},
}


def thin(rows: list, limit: int = MAX_POINTS, value=lambda row: row["value"]) -> list:
    """At most about `limit` of `rows` (in order): the lowest and highest of each run of neighbours, so
    spikes stay."""
    if len(rows) <= limit:
        return rows
    buckets = max(limit // 2, 1)
    size = len(rows) / buckets
    out = []
    for b in range(buckets):
        part = rows[int(b * size) : int((b + 1) * size)]
        if part:
            low = min(range(len(part)), key=lambda i: value(part[i]))
            high = max(range(len(part)), key=lambda i: value(part[i]))
            out += [part[i] for i in sorted({low, high})]
    return out


def _chart(template: dict, rows: list[dict], title: str) -> dict:
    """A live template drawn alone from inline rows, with a title, at the static size."""
    body = {k: v for k, v in template.items() if k not in ("data", "height")}
    return body | {
        "data": {"values": rows},
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "title": {"text": title, "anchor": "start", "fontSize": 12, "fontWeight": 600, "limit": CHART_WIDTH},
        "config": CONFIG,
    }


def metric_chart(key: str, rows: list[dict]) -> dict:
    """One metric against its step, as the panel draws it (rows: step, value, time in epoch ms)."""
    template = chart_specs.metric_spec("step")
    template["encoding"]["x"] = chart_specs.x_encoding("step")
    if len(rows) == 1:
        template["layer"] = template["layer"][1:]  # a lone point: its dot, no line
    return _chart(template, thin(rows), key)


def system_chart(title: str, unit: str, rows: list[dict]) -> dict:
    """One hardware panel: a line per series (rows: series, value, time in epoch ms) against wall time."""
    by_series: dict[str, list] = {}
    for row in rows:
        by_series.setdefault(row["series"], []).append(row)
    thinned = [row for part in by_series.values() for row in thin(part, CHART_WIDTH)]
    spec = _chart(chart_specs.system_spec(unit), thinned, title)
    spec["encoding"]["color"]["legend"] = {"title": None, "orient": "top", "direction": "horizontal"}
    spec["encoding"]["x"]["axis"] = {"format": "%H:%M:%S", "tickCount": 3, "labelOverlap": True}
    return spec


def overlay_chart(metric: str, runs: list[tuple[str, str, list[dict]]]) -> dict:
    """One metric of several runs, one colour each: runs are (label, colour, rows of step/value/time)."""
    rows = [{**row, "label": label} for label, _, points in runs for row in thin(points)]
    spec = _chart(chart_specs.overlay_spec("step"), rows, metric)
    spec["encoding"]["color"]["scale"] = {
        "domain": [label for label, _, _ in runs],
        "range": [colour for _, colour, _ in runs],
    }
    spec["encoding"]["color"]["legend"] = {"title": None, "orient": "bottom", "columns": 2, "labelLimit": 240}
    return spec


def image(spec: dict) -> Markup | None:
    """The chart as an `<img>` source (a data URI), or None when it cannot be drawn: a summary without a
    chart beats a failed cell."""
    try:
        svg = vega.to_svg(spec)
    except Exception:
        return None
    return data_uri(compact(svg))


# What vl-convert writes that a static picture does not need: accessibility and class attributes (an <img>
# has its own alt text), labels it hid (opacity 0), invisible paths, bare groups, attributes every child of a
# group repeats (once on the group: they are inherited), and digits beyond a tenth of a pixel.
SVG = "http://www.w3.org/2000/svg"
_DROP = ("class", "role", "pointer-events", "version")
_TRANSLATE = re.compile(r"translate\((-?[\d.]+),(-?[\d.]+)\)")
# Inherited attributes, and the elements that ignore each (a line has no area to fill, only text has a font).
_IGNORED_BY = {"fill": ("line",), "font-size": ("line", "path"), "font-weight": ("line", "path")}
_IGNORED_BY |= {"text-anchor": ("line", "path"), "stroke": (), "stroke-opacity": (), "stroke-width": ()}
_NUMBER = re.compile(r"-?\d+\.\d+")


def _short(match: re.Match) -> str:
    text = f"{float(match.group()):.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def compact(svg: str) -> str:
    """The same picture in about half the text."""
    import xml.etree.ElementTree as ET

    ET.register_namespace("", SVG)
    root = ET.fromstring(svg)
    _clean(root, {"fill": "black", "stroke": "none"})
    _unwrap(root)
    _hoist(root)
    _place(root)
    root.set("font-family", FONT)
    for node in root.iter():
        for name, value in node.attrib.items():  # coordinates, never the labels' text
            node.set(name, _relative(value) if name == "d" else _NUMBER.sub(_short, value))
    return ET.tostring(root, encoding="unicode").replace(" />", "/>")


def _clean(node, inherited: dict) -> None:
    """Drop what draws nothing, and the attributes a picture does not need."""
    for name, value in list(node.attrib.items()):
        unneeded = name in _DROP or name.startswith("aria-") or name == "font-family"
        if unneeded or (name, value) in (("opacity", "1"), ("transform", "translate(0,0)")):
            del node.attrib[name]
    context = {**inherited, **{k: node.attrib[k] for k in ("fill", "stroke") if k in node.attrib}}
    for child in list(node):
        tag = child.tag.rpartition("}")[2]
        invisible = child.get("opacity") == "0" or child.get("display") == "none"
        if tag == "path":
            fill, stroke = child.get("fill", context["fill"]), child.get("stroke", context["stroke"])
            invisible = invisible or not child.get("d") or (fill == "none" and stroke == "none")
        if invisible:
            node.remove(child)
        else:
            _clean(child, context)


def _unwrap(node) -> None:
    """Groups with no attributes give their children to their parent; empty groups go."""
    children = []
    for child in list(node):
        _unwrap(child)
        if child.tag == f"{{{SVG}}}g" and not child.attrib:
            children.extend(child)
        elif child.tag != f"{{{SVG}}}g" or len(child):
            children.append(child)
    node[:] = children


_POLYLINE = re.compile(r"M(-?[\d.]+),(-?[\d.]+)((?:L-?[\d.]+,-?[\d.]+)+)")
_POINT = re.compile(r"L(-?[\d.]+),(-?[\d.]+)")


def _relative(d: str) -> str:
    """A line's path (M x,y L x,y L ...) as steps from point to point ("l" once, then pairs): a long
    series takes about 40% less. Each step is taken between points rounded to a tenth: no drift."""
    line = _POLYLINE.fullmatch(d)
    if not line:
        return d
    x, y = round(float(line.group(1)), 1), round(float(line.group(2)), 1)
    parts = [f"M{_tenth(x)},{_tenth(y)}l"]
    for px, py in _POINT.findall(line.group(3)):
        nx, ny = round(float(px), 1), round(float(py), 1)
        dx, dy = _tenth(nx - x), _tenth(ny - y)
        parts.append(("" if len(parts) == 1 or dx.startswith("-") else " ") + dx)
        parts.append(dy if dy.startswith("-") else " " + dy)
        x, y = nx, ny
    return "".join(parts)


def _tenth(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    text = "0" if text in ("-0", "") else text
    return text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) else text


def _tag(node) -> str:
    return node.tag.rpartition("}")[2]


def _hoist(node) -> None:
    """An inherited attribute every child of a group sets to the same value (children that ignore it
    aside) is set once, on the group."""
    for child in node:
        _hoist(child)
    if len(node) < 2 or _tag(node) != "g":
        return
    for name, ignored_by in _IGNORED_BY.items():
        concerned = [child for child in node if _tag(child) not in ignored_by]
        values = {child.get(name) for child in concerned}
        if len(concerned) < 2 or len(values) != 1 or None in values or name in node.attrib:
            continue
        node.set(name, values.pop())
        for child in concerned:
            del child.attrib[name]


def _place(node) -> None:
    """A text or line moved by a translation gets coordinates instead (a shorter way to say the same)."""
    for child in node:
        _place(child)
        move = _TRANSLATE.fullmatch(child.get("transform", ""))
        tag = _tag(child)
        if not move or tag not in ("text", "line") or {"x", "y", "x1", "y1"} & set(child.attrib):
            continue
        x, y = float(move.group(1)), float(move.group(2))
        del child.attrib["transform"]
        if tag == "text":
            child.set("x", f"{x:g}")
            child.set("y", f"{y:g}")
        else:
            child.set("x1", f"{x:g}")
            child.set("y1", f"{y:g}")
            child.set("x2", f"{x + float(child.get('x2', 0)):g}")
            child.set("y2", f"{y + float(child.get('y2', 0)):g}")


def data_uri(svg: str) -> Markup:
    """`svg` as a data URI to put in a double-quoted attribute: its own apostrophes become entities, its
    attributes single-quoted, and everything else that HTML or a URL would read specially %-encoded."""
    svg = svg.replace("'", "&#39;").replace('"', "'")
    text = quote(svg, safe=" '=/:;,.-()_!*+?@~$")
    # Safe as markup: quote() has encoded every <, >, &, " and % (the only ' left delimit SVG attributes,
    # harmless inside a double-quoted HTML attribute).
    return Markup("data:image/svg+xml," + text)
