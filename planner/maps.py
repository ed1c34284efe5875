"""Folium map of a plan: where the gaps are, where the units go, in one HTML file to share.

Coordinators forward the map over WhatsApp and field staff open it on a phone, so the map holds
aggregates only (counts per kelurahan, sessions, routes; never NIK, names or addresses), keeps its
geometry light (simplified, rounded) and can be written as one self-contained file with Leaflet
inlined (``offline=True``). Every text that comes from input data goes through `esc`, because
Leaflet and folium insert labels, tooltips and layer names as HTML (and folium inside JavaScript
template literals).
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element
from folium.plugins import MarkerCluster

from planner.contracts import SITE_KINDS
from planner.errors import InputError
from planner.fmt import hari_tanggal, minutes_text
from planner.fmt import number as _number
from planner.i18n import language, t, text, written
from planner.legs import day_legs, kelurahan_points, leg_index, route_stops
from planner.map_controls import CSS, KelurahanSearch, KelurahanTooltip, LabelThinning, Panel, RoadBasemap, RouteChooser
from planner.plan import schedule_frames as plan_frames

STATIC = Path(__file__).with_name("static")
# basename -> CDN url of the same version as the vendored copy in planner/static
ASSETS = {
    "leaflet.js": "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js",
    "leaflet.css": "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css",
    "leaflet.markercluster.js": "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.5.3/dist/leaflet.markercluster.js",
    "MarkerCluster.css": "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.5.3/dist/MarkerCluster.css",
    "MarkerCluster.Default.css": "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.5.3/dist/MarkerCluster.Default.css",
}
# one colour per unit (ColorBrewer Dark2 + Set1, readable on the map and in print)
UNIT_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
                "#377eb8", "#e41a1c", "#984ea3", "#ff7f00", "#4daf4a"]
GAP_COLOURS = ["#ffffcc", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"]
NO_DATA = "#d9d9d9"
def kind_label(kind) -> str:
    """A site kind as people read it: 'Kantor camat' (or the English name with --lang en)."""
    labels = SITE_KINDS.get(kind)
    return "" if not kind else (labels[1] if language() == "id" else labels[2]) if labels else str(kind)


def esc(value) -> str:
    """Text from input data, made safe as HTML *and* inside a JavaScript template literal.

    ``html.escape`` stops ``<img onerror=...>``; backticks, ``$`` and backslashes are escaped too
    because folium writes tooltips into JS template literals (``${...}`` would run). Braces become
    entities because folium renders tooltip and icon text as *Jinja templates*: a name such as
    ``{{ cycler.__init__.__globals__.os... }}`` would otherwise run Python while the map is written.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = html.escape(str(value), quote=True)
    return "".join(_ENTITY.get(ch, ch) for ch in text)


# characters that would start JS template-literal code (`, $, \\) or Jinja syntax ({{ {% {#)
_ENTITY = {"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"}

# branca renders every element's script and then parses that output *again* as a Jinja template
# (MacroElement.render -> Element(script)), so even JSON data (a GeoJSON property, a DivIcon) is
# template source on the second pass. Braces in input data therefore travel through folium as two
# private-use characters and become braces again only in the finished HTML (`render_html`).
_BRACES = str.maketrans({"{": "\ue000", "}": "\ue001"})
_UNBRACES = str.maketrans({"\ue000": "{", "\ue001": "}"})
_UNBRACES_JSON = re.compile(r"\\u[eE]00([01])")  # the same characters as JSON escapes (ensure_ascii)


def _restore_braces(text: str) -> str:
    """The finished HTML with the hidden braces back (no template pass follows)."""
    text = _UNBRACES_JSON.sub(lambda m: "{" if m.group(1) == "0" else "}", text)
    return text.translate(_UNBRACES)


def _inert(value):
    """A string from input data with its braces hidden from Jinja (other values unchanged)."""
    return value.translate(_BRACES) if isinstance(value, str) else value


def _inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell and column name of a table, braces hidden from Jinja."""
    out = frame.copy()
    for column in out.columns:
        if column != "geometry" and (out[column].dtype == object or pd.api.types.is_string_dtype(out[column])):
            out[column] = out[column].map(_inert)
    return out.rename(columns=_inert)


def _inert_inputs(plan, areas):
    """Copies of the plan and areas whose every text from input data is inert to Jinja."""
    import dataclasses

    from planner.plan import TABLES

    tables = {t: _inert_frame(getattr(plan, t)) for t in TABLES}
    if "path" in plan.legs:  # encoded polylines are planner's own output, and braces are part of the code
        tables["legs"]["path"] = plan.legs["path"].to_numpy()
    plan = dataclasses.replace(plan, name=_inert(plan.name), kpis=dict(plan.kpis), **tables)
    areas = dataclasses.replace(areas, kelurahan=_inert_frame(areas.kelurahan),
                                kecamatan=_inert_frame(areas.kecamatan))
    return plan, areas


# ---- data preparation ------------------------------------------------------------------------
def _light_polygons(frame: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoSeries:
    """Simplified (in metres) and rounded polygons: the map must stay small for phones.

    Coordinates are rounded to 1e-5 degrees (~1 m), or 1e-4 (~11 m) when simplifying by 30 m or more,
    where the finer digits only cost bytes.
    """
    if frame.empty:
        return frame.geometry
    metric = frame.geometry.to_crs(frame.estimate_utm_crs())
    simple = metric.simplify(tolerance_m, preserve_topology=True).to_crs("EPSG:4326")
    grid = 1e-5 if tolerance_m < 30 else 1e-4
    return gpd.GeoSeries(shapely.set_precision(simple.values, grid), index=frame.index, crs="EPSG:4326")


def area_gaps(plan, areas) -> gpd.GeoDataFrame:
    """Kelurahan polygons with the plan's gaps, share of wajib KTP and planned sessions.

    Every kelurahan of the areas is kept (no gap row -> counts missing, drawn grey); a gap row
    whose kelurahan has no polygon means the plan was made on other areas and is an error.
    """
    kel = areas.kelurahan[["kode", "nama", "kode_kec", "nama_kec", "geometry"]].copy()
    gaps = plan.gaps.copy()
    if "kode_kel" not in gaps:
        raise InputError(f"plan.gaps needs a 'kode_kel' column; it has {list(gaps.columns)}")
    gaps["kode_kel"] = gaps["kode_kel"].astype(str)
    unknown = sorted(set(gaps["kode_kel"]) - set(kel["kode"].astype(str)))
    if unknown:
        raise InputError(f"{len(unknown)} kelurahan of the plan are not in the areas given "
                         f"(e.g. {unknown[:5]}); pass the areas the plan was made on")
    cols = [c for c in ("pemula", "lansia", "umum", "home_visit", "unrecorded", "wajib_ktp") if c in gaps]
    out = kel.merge(gaps[["kode_kel", *cols]], left_on="kode", right_on="kode_kel", how="left")
    out = out.drop(columns="kode_kel")
    out["share"] = (out["unrecorded"] / out["wajib_ktp"].where(out["wajib_ktp"] > 0)
                    if "wajib_ktp" in out else np.nan)
    sessions = plan.sessions
    if len(sessions) and {"kode_kel", "session_days"} <= set(sessions.columns):
        days = sessions.assign(kode_kel=sessions["kode_kel"].astype(str)).groupby("kode_kel")["session_days"].sum()
        out["session_days"] = out["kode"].map(days).fillna(0).astype(int)
    else:
        out["session_days"] = 0
    frames = plan_frames(plan)
    scheduled = frames["sessions"].groupby("kode_kel").size() if len(frames["sessions"]) else pd.Series(dtype=int)
    out["sessions_scheduled"] = out["kode"].map(scheduled).fillna(0).astype(int)
    visits = frames["visits"].groupby("kode_kel").size() if len(frames["visits"]) else pd.Series(dtype=int)
    out["visits_scheduled"] = out["kode"].map(visits).fillna(0).astype(int)
    served = _served_by(plan)
    out["served_by"] = out["kode"].map(served)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def _served_by(plan) -> pd.Series:
    """kode_kel -> 'site name (N min)' of the session site the kelurahan is assigned to."""
    a, sites = plan.assignment, plan.sites
    if not len(a) or "site_id" not in a:
        return pd.Series(dtype=object)
    names = dict(zip(sites["site_id"].astype(str), sites["name"])) if len(sites) and "name" in sites else {}
    a = a.assign(site_id=a["site_id"].astype(str), kode_kel=a["kode_kel"].astype(str))
    text = a.apply(lambda r: f"{names.get(r['site_id'], r['site_id'])}"
                   + (f" ({int(r['travel_min'])} mnt)" if pd.notna(r.get("travel_min")) else ""), axis=1)
    return text.groupby(a["kode_kel"]).agg(lambda s: "; ".join(s))


def _breaks(values: pd.Series, n: int = len(GAP_COLOURS)) -> list[float]:
    """Class breaks at quantiles of the positive counts (counts are skewed: a few big kelurahan)."""
    positive = values[values > 0].dropna()
    if positive.empty:
        return [0, 1]
    qs = np.unique(np.ceil(np.quantile(positive, np.linspace(0, 1, n)[1:])))
    return [0, *[float(q) for q in qs]]


def _colour(value, breaks: list[float]) -> str:
    if pd.isna(value):
        return NO_DATA
    if value <= 0:
        return GAP_COLOURS[0]
    for i, upper in enumerate(breaks[1:], start=1):
        if value <= upper:
            return GAP_COLOURS[min(i, len(GAP_COLOURS) - 1)]
    return GAP_COLOURS[-1]


def unit_colours(plan) -> dict[str, str]:
    """Unit name -> colour, in the order units first appear (stable across map, sheets, GeoPackage)."""
    units = list(dict.fromkeys(plan.schedule["unit"].astype(str))) if "unit" in plan.schedule else []
    return {u: UNIT_COLOURS[i % len(UNIT_COLOURS)] for i, u in enumerate(units)}


def plan_map(plan, areas, *, tolerance_m: float | None = None, tiles: str | None = "OpenStreetMap") -> folium.Map:
    """Build the shareable map of a plan.

    Parameters
    ----------
    plan
        A `planner.plan.Plan` (aggregates only).
    areas
        The `AreaSet` the plan was made on (the plan carries no geometry).
    tolerance_m
        Polygon simplification in metres. Default: 15 m up to 500 kelurahan (a city: recognisable
        shapes, a small file), 50 m beyond (a province, seen at lower zoom).
    tiles
        Online tiles offered as a layer to switch on (off at start, so a phone without signal asks
        for nothing); ``None`` for none. The basemap is the plan's own roads (`planner.basemap`).

    Returns
    -------
    folium.Map
        With layers: road basemap, gap choropleth, kecamatan outlines and names, kelurahan names,
        sessions, one route layer per unit-day (chosen in the panel), home visits counted per
        kelurahan; one collapsible panel with title, KPIs, route chooser, search and legend.
    """
    plan, areas = _inert_inputs(plan, areas)
    gaps = area_gaps(plan, areas)
    if tolerance_m is None:
        tolerance_m = 15.0 if len(gaps) <= 500 else 50.0
    minx, miny, maxx, maxy = gaps.total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=12, tiles=None,
                   control_scale=True, zoom_control=True, zoom_snap=0.25)
    m.options["maxZoom"] = 19  # folium keeps max_zoom for tile layers; the map itself needs it (clusters)
    m.default_js = [("leaflet", ASSETS["leaflet.js"])]
    m.default_css = [("leaflet_css", ASSETS["leaflet.css"])]
    m.get_root().header.add_child(Element(CSS), name="plan_css")
    m.get_root().header.add_child(Element('<meta name="viewport" content="width=device-width, initial-scale=1.0">'),
                                  name="viewport")
    m.get_root().title = esc(t("Plan {name}", name=plan.name))
    _road_layer(m, plan)
    if tiles:
        folium.TileLayer(tiles, name=esc(t("Online map (OpenStreetMap, needs internet)")), overlay=True,
                         show=False, control=True).add_to(m)
    layer, names, legend = _gap_layer(m, gaps, tolerance_m)
    _kecamatan_layer(m, areas, tolerance_m)
    colours = unit_colours(plan)
    stops = route_stops(plan, areas)
    _session_layer(m, plan, stops, colours)
    routes = _route_layers(m, stops, colours, plan.legs)
    _home_visit_layer(m, stops, areas)
    Panel(panel_html(plan, legend, bool(routes))).add_to(m)
    KelurahanSearch(layer, names).add_to(m)
    if routes:
        RouteChooser(routes, t("all units"), t("all days")).add_to(m)
    LabelThinning().add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


#: Leaflet style of each basemap road class, drawn in this order (local streets first).
ROAD_STYLES = {"lokal": {"color": "#6e6e6e", "weight": 1, "opacity": 0.8},
               "penghubung": {"color": "#444", "weight": 2, "opacity": 0.9},
               "utama": {"color": "#b35806", "weight": 3, "opacity": 0.95}}


def _road_layer(m: folium.Map, plan) -> None:
    """The offline basemap: the plan's own roads, under everything else, with 'peta dasar luring' credited."""
    basemap = getattr(plan, "basemap", None)
    roads: dict[str, list[str]] = {}
    if basemap is not None and len(basemap):
        for cls, path in zip(basemap["road_class"].astype(str), basemap["path"].astype(str)):
            roads.setdefault(cls, []).append(_inert(path))
    group = folium.FeatureGroup(name=esc(t("Roads (offline basemap)")), control=bool(roads)).add_to(m)
    RoadBasemap(group, roads, ROAD_STYLES, esc(t("offline basemap: the plan's roads"))).add_to(m)


def _gap_layer(m: folium.Map, gaps: gpd.GeoDataFrame, tolerance_m: float):
    """The kelurahan choropleth; returns (layer, search names, legend HTML) for the panel."""
    breaks = _breaks(gaps["unrecorded"])
    def count(column):
        values = gaps[column] if column in gaps else pd.Series(np.nan, index=gaps.index)
        return values.map(lambda v: None if pd.isna(v) else int(v))

    # raw values: folium writes them as escaped JSON and the tooltip puts them in with textContent
    data = gpd.GeoDataFrame({
        "kode": gaps["kode"].astype(str), "nama": gaps["nama"].astype(str),
        "kec": gaps["nama_kec"].map(lambda v: v if isinstance(v, str) else ""),
        "fill": gaps["unrecorded"].map(lambda v: _colour(v, breaks)),
        **{c: count(c) for c in ("unrecorded", "pemula", "lansia", "umum", "home_visit", "session_days",
                                 "sessions_scheduled", "visits_scheduled")},
        "share": gaps["share"].map(lambda v: None if pd.isna(v) else round(float(v), 4)),
        "served_by": gaps["served_by"].map(lambda v: v if isinstance(v, str) else None),
    }, geometry=_light_polygons(gaps, tolerance_m), crs="EPSG:4326")
    layer = folium.GeoJson(
        data.to_geo_dict(show_bbox=False), name=esc(t("Unrecorded e-KTP per kelurahan")),
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.55,
                                  "color": "#666", "weight": 0.6},
        highlight_function=lambda f: {"weight": 2.5, "color": "#000"},
        zoom_on_click=False,
    ).add_to(m)
    KelurahanTooltip(layer, {
        "locale": "id-ID" if language() == "id" else "en-US", "kec": t("Kec."), "unrecorded": t("Unrecorded"),
        "wajib": t("of wajib KTP"), "pemula": t("First-time voters"), "lansia": t("Elderly"), "umum": t("Others"),
        "home_visit": t("Home visits"), "session_days": t("Session-days (planned)"),
        "sessions_scheduled": t("Sessions scheduled"), "visits_scheduled": t("Visits scheduled"),
        "served_by": t("Served at:")}).add_to(m)
    names = {}
    for nama, nama_kec, kode in zip(gaps["nama"], gaps["nama_kec"], gaps["kode"]):
        label = f"{nama} ({nama_kec})" if isinstance(nama_kec, str) else str(nama)
        names[label] = str(kode)
    items = [f"<i style='background:{NO_DATA}'></i>{esc(t('no data'))}<br>"] if gaps["unrecorded"].isna().any() else []
    lower = 1
    for i, upper in enumerate(breaks[1:], start=1):
        label = f"{_number(lower)}" if upper == lower else f"{_number(lower)}–{_number(upper)}"
        items.append(f"<i style='background:{GAP_COLOURS[min(i, len(GAP_COLOURS) - 1)]}'></i>{label}<br>")
        lower = upper + 1
    legend = (f"<b>{esc(t('Unrecorded e-KTP'))}</b> <span class='note'>{esc(t('people per kelurahan'))}</span><br>"
              f"<i style='background:{GAP_COLOURS[0]}'></i>0<br>" + "".join(items))
    return layer, names, legend


def _kecamatan_layer(m: folium.Map, areas, tolerance_m: float) -> None:
    """Kecamatan outlines and names, and kelurahan names (shown from zoom 14; `LabelThinning`)."""
    kec = areas.kecamatan
    group = folium.FeatureGroup(name=esc(t("Kecamatan outlines and names"))).add_to(m)
    outline = gpd.GeoDataFrame({"kode": kec["kode"].map(esc)}, geometry=_light_polygons(kec, tolerance_m),
                               crs="EPSG:4326")
    folium.GeoJson(outline.__geo_interface__,
                   style_function=lambda f: {"fill": False, "color": "#333", "weight": 2, "opacity": 0.9},
                   interactive=False, control=False).add_to(group)
    for nama, point in zip(kec["nama"], kec.geometry.representative_point()):
        folium.Marker([point.y, point.x], interactive=False, keyboard=False,
                      icon=folium.DivIcon(html=f"<div>{esc(nama)}</div>", class_name="kec-label",
                                          icon_size=(0, 0))).add_to(group)
    kel = areas.kelurahan
    names = folium.FeatureGroup(name=esc(t("Kelurahan names"))).add_to(m)
    for nama, point in zip(kel["nama"], kel.geometry.representative_point()):
        folium.Marker([point.y, point.x], interactive=False, keyboard=False,
                      icon=folium.DivIcon(html=f"<div>{esc(nama)}</div>", class_name="kel-label",
                                          icon_size=(0, 0))).add_to(names)


def _session_layer(m: folium.Map, plan, stops: pd.DataFrame, colours: dict) -> None:
    frames = plan_frames(plan)
    sessions = frames["sessions"]
    kinds = (dict(zip(plan.sites["site_id"].astype(str), plan.sites["kind"]))
             if len(plan.sites) and "kind" in plan.sites else {})
    group = folium.FeatureGroup(name=esc(t("Recording sessions (scheduled)"))).add_to(m)
    if len(sessions):
        for site_id, g in sessions.groupby("site_id", sort=True):
            g = g.sort_values("day")
            units = list(dict.fromkeys(g["unit"].astype(str)))
            expected = float(g["expected_recordings"].sum())
            days = "".join(f"<li>{esc(hari_tanggal(r.day))}, {esc(r.start_hm)}–{esc(r.end_hm)} · {esc(r.unit)}"
                           f" · ±{esc(t('{n} people', n=_number(r.expected_recordings)))}</li>"
                           for r in g.itertuples())
            tip = (f"<div class='plan-tip'><b>{esc(g['name'].iloc[0])}</b><br>"
                   f"{esc(kind_label(kinds.get(str(site_id))))}<br>"
                   f"<ul style='margin:2px 0;padding-left:16px'>{days}</ul>"
                   f"{esc(t('Expected recordings:'))} <b>{_number(expected)}</b></div>")
            folium.CircleMarker(
                [g["lat"].iloc[0], g["lon"].iloc[0]], radius=float(np.clip(5 + np.sqrt(expected) / 1.5, 6, 16)),
                color="#fff", weight=2, fill=True, fill_opacity=0.95,
                fill_color=colours.get(units[0], "#333"), tooltip=folium.Tooltip(tip, sticky=False),
            ).add_to(group)
    # planned session-days the routing could not fit: shown, not dropped
    planned = plan.sessions
    if len(planned) and "site_id" in planned:
        done = set(sessions["site_id"].astype(str)) if len(sessions) else set()
        left = planned[~planned["site_id"].astype(str).isin(done)]
        if len(left):
            sites = plan.sites.assign(site_id=plan.sites["site_id"].astype(str)).set_index("site_id")
            reasons = (plan.unscheduled.assign(site_id=plan.unscheduled["site_id"].astype(str))
                       .groupby("site_id")["reason"].first()
                       if len(plan.unscheduled) and "reason" in plan.unscheduled else pd.Series(dtype=object))
            lgroup = folium.FeatureGroup(name=esc(t("Sessions planned, not scheduled"))).add_to(m)
            for r in left.itertuples():
                sid = str(r.site_id)
                if sid not in sites.index:
                    continue
                planned_text = t("{n} session-day(s) planned, not in the schedule", n=int(r.session_days))
                tip = (f"<div class='plan-tip'><b>{esc(r.name)}</b><br>{esc(planned_text)}"
                       f"<br>{esc(text(reasons.get(sid, '')))}</div>")
                folium.CircleMarker([sites.loc[sid, "lat"], sites.loc[sid, "lon"]], radius=6, color="#555",
                                    weight=2, dash_array="3", fill=True, fill_color="#fff", fill_opacity=0.8,
                                    tooltip=folium.Tooltip(tip, sticky=False)).add_to(lgroup)


def _route_layers(m: folium.Map, stops: pd.DataFrame, colours: dict, legs: pd.DataFrame | None = None) -> list:
    """One layer per unit-day: its legs along the roads (dashed where only a straight chord is known).

    Returns (unit, date, date label, layer) for the panel's unit x day chooser, which shows them;
    they are not in the layer list (dozens of checkboxes fill a phone's screen).
    """
    if stops.empty:
        return []
    depots = folium.FeatureGroup(name=esc(t("Offices (depots)"))).add_to(m)
    seen = set()
    first_day = stops["day"].min()
    paths = leg_index(legs)
    routes = []
    for (unit, day), g in stops.groupby(["unit", "day"], sort=True):
        g = g.sort_values("order")
        colour = colours.get(str(unit), "#333")
        km, mins = g["travel_km"].sum(), g["travel_min"].sum()
        name = f"{esc(t('Route'))} {esc(unit)} · {esc(hari_tanggal(day, short=True))}"
        # only the first day is drawn at start (the chooser can show the others): all days at once hide each other
        group = folium.FeatureGroup(name=name, show=day == first_day, control=False).add_to(m)
        routes.append((str(unit), pd.Timestamp(day).date().isoformat(), hari_tanggal(day, short=True), group))
        trip = t("{n} stops, {km} km, {time} driving", n=len(g) - 2, km=written(round(float(km), 1)),
                 time=minutes_text(mins))
        tip = f"<div class='plan-tip'><b>{name}</b><br>{esc(trip)}</div>"
        legs = day_legs(str(unit), day, g, paths)
        for method in ("network", "straight_line"):  # one line per kind: solid along roads, dashed chords
            lines = [[(lat, lon) for lon, lat in coords] for kind, coords in legs if kind == method]
            if not lines:
                continue
            note = "" if method == "network" else f"<br>({esc(t('dashed: road unknown'))})"
            folium.PolyLine(lines, color=colour, weight=4, opacity=0.85,
                            dash_array=None if method == "network" else "6 8",
                            tooltip=folium.Tooltip(tip.replace("</div>", f"{note}</div>"), sticky=True)).add_to(group)
        number = 0
        for r in g.itertuples():
            if r.job_kind == "lodging":
                if r.stop != 0:  # the evening's arrival: where the team sleeps
                    folium.Marker([r.lat, r.lon], icon=_frame_icon("M"),
                                  tooltip=folium.Tooltip(f"<b>{esc(t('Overnight:'))} {esc(r.name)}</b><br>"
                                                         f"{esc(unit)}, {esc(hari_tanggal(day))}")).add_to(group)
                continue
            if r.job_kind == "depot":
                key = (round(r.lat, 6), round(r.lon, 6))
                if key not in seen:
                    seen.add(key)
                    folium.Marker([r.lat, r.lon], icon=_frame_icon("D"),
                                  tooltip=folium.Tooltip(f"<b>{esc(r.name) or esc(t('Depot'))}</b> "
                                                         f"({esc(t('leaves and returns'))})")
                                  ).add_to(depots)
                continue
            number += 1
            what = (esc(t("{n} home visit(s)", n=int(r.visits))) if r.job_kind == "home_visit"
                    else f"{esc(t('Session:'))} {esc(r.name)} · "
                         f"±{esc(t('{n} people', n=_number(r.expected_recordings)))}")
            tip = (f"<div class='plan-tip'><b>{number}. {what}</b><br>{esc(unit)}, "
                   f"{esc(hari_tanggal(day))}<br>{esc(r.start_hm)}–{esc(r.end_hm)}</div>")
            icon = f"<div class='tap'><div class='stop-num' style='background:{colour}'>{number}</div></div>"
            folium.Marker([r.lat, r.lon], icon=folium.DivIcon(html=icon, icon_size=(0, 0), class_name=""),
                          tooltip=folium.Tooltip(tip, sticky=False), z_index_offset=1000).add_to(group)
    return routes


def _frame_icon(letter: str) -> folium.DivIcon:
    """D (office) or M (where a touring team sleeps), with a 40 px tap area."""
    return folium.DivIcon(html=f"<div class='tap'><div class='depot-icon'>{letter}</div></div>", icon_size=(0, 0),
                          class_name="")


def _home_visit_layer(m: folium.Map, stops: pd.DataFrame, areas) -> None:
    """Home visits as counts per kelurahan, clustered; a cluster shows the sum of its counts."""
    if stops.empty or not (stops["job_kind"] == "home_visit").any():
        return
    visits = stops[stops["job_kind"] == "home_visit"].groupby("kode_kel")["visits"].sum()
    points = kelurahan_points(areas)
    names = dict(zip(areas.kelurahan["kode"].astype(str), areas.kelurahan["nama"]))
    sum_counts = """function (cluster) {
        var n = 0;
        cluster.getAllChildMarkers().forEach(function (mk) { n += mk.options.visits || 0; });
        var html = '<div class="tap hv"><div class="hv-badge">' + n + '</div></div>';
        return L.divIcon({html: html, className: '', iconSize: [0, 0]});
    }"""
    cluster = MarkerCluster(name=esc(t("Home visits (count per kelurahan)")), icon_create_function=sum_counts,
                            options={"showCoverageOnHover": False, "maxClusterRadius": 40})
    cluster.default_js = [("markerclusterjs", ASSETS["leaflet.markercluster.js"])]
    cluster.default_css = [("markerclustercss", ASSETS["MarkerCluster.css"]),
                           ("markerclusterdefaultcss", ASSETS["MarkerCluster.Default.css"])]
    cluster.add_to(m)
    for kode, n in visits.items():
        lon, lat = points.get(str(kode), (None, None))
        if lon is None:
            raise InputError(f"home visits in kelurahan {kode!r}, which is not in the areas given")
        folium.Marker([lat, lon], visits=int(n),
                      icon=folium.DivIcon(html=f"<div class='tap hv'><div class='hv-badge'>{int(n)}</div></div>",
                                          icon_size=(0, 0), class_name=""),
                      tooltip=folium.Tooltip(f"<b>{esc(names.get(str(kode), kode))}</b>: "
                                             f"{esc(t('{n} home visit(s) scheduled', n=int(n)))}")).add_to(cluster)


def panel_html(plan, legend: str, with_routes: bool) -> str:
    """The panel's HTML: title, week, KPIs, the unit x day chooser, the search box and the legend.

    Every symbol on the map is explained here; texts from data are escaped, the lists are filled
    in the browser from JSON (`RouteChooser`, `KelurahanSearch`).
    """
    k = plan.kpis or {}
    dates = list(getattr(plan, "working_dates", []) or [])
    week = (f"{hari_tanggal(dates[0], short=True)} – {hari_tanggal(dates[-1], short=True)}" if dates
            else hari_tanggal(plan.week_start, short=True))
    sessions = k.get("sessions_scheduled", k.get("session_days_scheduled", 0))  # plans saved before the split
    kpi = t("{unrecorded} unrecorded · {sessions} sessions · {visits} home visits · ±{recordings} recordings",
            unrecorded=_number(k.get("unrecorded", 0)), sessions=_number(sessions),
            visits=_number(k.get("home_visits_scheduled", 0)),
            recordings=_number(k.get("expected_recordings_scheduled", 0)))
    chooser = (f"<div class='chooser'><label>{esc(t('Unit'))}<select class='plan-unit'></select></label>"
               f"<label>{esc(t('Day'))}<select class='plan-day'></select></label></div>" if with_routes else "")
    symbols = [
        ("<span class='sym session'></span>", t("recording session (size: expected recordings; colour: unit)")),
        ("<span class='sym planned'></span>", t("session planned, not yet in the schedule")),
        ("<span class='sym stop'>1</span>", t("stop number on the chosen route")),
        ("<span class='sym line'></span>", t("route along the roads")),
        ("<span class='sym line dashed'></span>", t("straight line: road unknown")),
        ("<span class='sym depot'>D</span>", t("office: the unit leaves and returns here")),
        ("<span class='sym depot'>M</span>", t("where a touring team sleeps")),
        ("<span class='sym hv'>3</span>", t("home visits in the kelurahan (a count, never a house)")),
        ("<span class='sym road main'></span>", t("main road")),
        ("<span class='sym road'></span>", t("other road (the plan's road data)")),
    ]
    rows = "".join(f"<div class='row'>{icon}<span>{esc(text)}</span></div>" for icon, text in symbols)
    return (f"<button type='button' class='panel-toggle' aria-expanded='true'>"
            f"<span class='burger' aria-hidden='true'>&#9776;</span><b>{esc(plan.name)}</b></button>"
            f"<div class='panel-body'><div class='week'>{esc(t('Week'))} {esc(week)}</div>"
            f"<div class='kpi'>{esc(kpi)}</div>{chooser}"
            f"<input type='search' class='plan-search-input' list='plan-kelurahan-list' "
            f"placeholder='{esc(t('Find kelurahan…'))}' aria-label='{esc(t('Find kelurahan'))}'>"
            f"<datalist id='plan-kelurahan-list'></datalist>"
            f"<div class='legend'>{legend}{rows}</div></div>")


# ---- writing ---------------------------------------------------------------------------------
def render_html(m: folium.Map, offline: bool = False) -> str:
    """The map's HTML; with ``offline`` every script and stylesheet is inlined from planner/static."""
    # folium indents its JavaScript deeply; leading blanks are a fifth of a city map
    text = re.sub(r"\n[ \t]+", "\n", _restore_braces(m.get_root().render()))
    if not offline:
        return text

    def asset(url: str) -> str:
        name = url.rsplit("/", 1)[-1]
        if ASSETS.get(name) != url or not (STATIC / name).exists():
            raise InputError(f"offline map needs {url}, which is not vendored in {STATIC}; "
                             "add it there (and to maps.ASSETS) or drop the element that needs it")
        return (STATIC / name).read_text(encoding="utf-8")

    def css(url: str) -> str:
        def data_uri(match):
            image = STATIC / match.group(1)
            if not image.exists():
                return match.group(0)
            return "url(data:image/png;base64," + base64.b64encode(image.read_bytes()).decode() + ")"
        return re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, asset(url))

    text = re.sub(r'<script src="(https?://[^"]+)"></script>',
                  lambda mt: "<script>" + asset(mt.group(1)).replace("</script", "<\\/script") + "</script>", text)
    text = re.sub(r'<link rel="stylesheet" href="(https?://[^"]+)"\s*/?>',
                  lambda mt: "<style>" + css(mt.group(1)) + "</style>", text)
    left = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', text)
    if left:
        raise InputError(f"offline map still links {left}; vendor them in {STATIC}")
    return text


def save_map(m: folium.Map, path: str | Path, offline: bool = False) -> Path:
    """Write the map as one HTML file (``offline``: Leaflet inlined, no internet needed to open it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(m, offline=offline), encoding="utf-8")
    return path
