"""The map's own Leaflet pieces (no plugins, so a self-contained map needs nothing but Leaflet).

Each is a folium MacroElement whose JavaScript is a fixed package file in planner/templates; data
reaches it only as JSON (`js`), and every text from input data is already escaped by the caller
(`maps.esc`). The panel, the unit x day chooser, the label thinning and the road basemap are what
make the map usable on a phone with no signal.
"""

from __future__ import annotations

import json
from pathlib import Path

import folium
from branca.element import MacroElement
from jinja2 import Template

TEMPLATES = Path(__file__).with_name("templates")


def js(value) -> str:
    """JSON for a <script> block: '<', '>', '&' (and '`', '$') as unicode escapes: no text can close the tag
    or start template-literal code.
    """
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("`", "\\u0060").replace("$", "\\u0024")
            .replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def load_template(name: str) -> Template:
    """A folium macro template from planner/templates (fixed code; data reaches it only as JSON)."""
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


class HtmlControl(MacroElement):
    """A Leaflet control holding fixed HTML; the HTML must already be escaped."""

    _template = load_template("html_control.js.j2")

    def __init__(self, html_text: str, position: str, css_class: str):
        super().__init__()
        self.html_js = js(html_text)
        self.position = position
        self.css_class = css_class


class Panel(MacroElement):
    """The one collapsible panel (title, KPIs, route chooser, search, legend); collapsed on phones."""

    _template = load_template("panel.js.j2")

    def __init__(self, html_text: str, collapse_below: int = 700):
        super().__init__()
        self.html_js = js(html_text)
        self.collapse_below = int(collapse_below)


class RouteChooser(MacroElement):
    """Fills the panel's unit and day lists and shows only the routes chosen (first day at start)."""

    _template = load_template("route_chooser.js.j2")

    def __init__(self, routes: list[tuple[str, str, str, folium.FeatureGroup]], all_units: str, all_days: str):
        super().__init__()
        self.routes = [(js(unit), js(day), js(label), group.get_name()) for unit, day, label, group in routes]
        self.all_units_js, self.all_days_js = js(all_units), js(all_days)


class KelurahanSearch(MacroElement):
    """The panel's search box: type a kelurahan name, the map zooms to it and shows its tooltip.

    Names are set as option values and compared as plain strings (never parsed as HTML).
    """

    _template = load_template("kelurahan_search.js.j2")

    def __init__(self, layer: folium.GeoJson, names: dict[str, str]):
        super().__init__()
        self.layer_name = layer.get_name()
        self.names_js = js(names)


class KelurahanTooltip(MacroElement):
    """Tooltip per kelurahan built in the browser from the feature's numbers.

    Built with ``textContent`` (never HTML), so a name cannot inject markup, and the counts travel
    as numbers: the province map would carry megabytes of repeated tooltip HTML otherwise.
    """

    _template = load_template("kelurahan_tooltip.js.j2")

    def __init__(self, layer: folium.GeoJson, labels: dict[str, str]):
        super().__init__()
        self.layer_name = layer.get_name()
        self.labels_js = js(labels)


class LabelThinning(MacroElement):
    """Kecamatan and kelurahan names that do not overlap: the ones without room hide until zoomed in."""

    _template = load_template("labels.js.j2")

    def __init__(self, kelurahan_zoom: int = 14):
        super().__init__()
        self.kel_zoom = int(kelurahan_zoom)


class RoadBasemap(MacroElement):
    """The plan's roads drawn into `group` from encoded polylines, under the kelurahan colours.

    `roads` is road class -> encoded polylines (planner's own output: its braces are hidden from
    branca's template pass by the caller, like every text); `styles` the Leaflet path style per
    class, in drawing order.
    """

    _template = load_template("basemap.js.j2")

    def __init__(self, group: folium.FeatureGroup, roads: dict[str, list[str]], styles: dict[str, dict],
                 attribution: str):
        super().__init__()
        self.group_name = group.get_name()
        self.roads_js, self.styles_js, self.attribution_js = js(roads), js(styles), js(attribution)


CSS = "<style>\n" + (TEMPLATES / "map.css").read_text(encoding="utf-8") + "</style>\n"
