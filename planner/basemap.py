"""The offline basemap: the plan's own road network, light enough to travel inside map.html.

A field team opens the map with no signal, so there are no tiles; the roads the plan was computed
on are the basemap. Each road class becomes a few long lines (edges merged, simplified to ~15-30 m,
stored as encoded polylines in the Plan's `basemap` table), so `planner map plan.json` redraws it
without the graph. When a city's roads exceed the size budget the minor classes go first, then the
tolerance grows: the map must stay small enough to send over WhatsApp.
"""

from __future__ import annotations

import networkx as nx
import pandas as pd
import polyline
import shapely
from shapely.geometry import LineString, MultiLineString

from planner.contracts import BASEMAP_COLUMNS

#: OSM highway value -> basemap class (drawn widest first); anything else is 'minor'.
ROAD_CLASS = {
    **dict.fromkeys(["motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link"], "utama"),
    **dict.fromkeys(["secondary", "secondary_link", "tertiary", "tertiary_link"], "penghubung"),
}
CLASSES = ("utama", "penghubung", "lokal")  # arterial, collector, local (Bahasa: the map's legend says it)
#: Simplification (degrees; 1e-4 ~ 11 m) per class, before any budget pressure.
TOLERANCE = {"utama": 1.5e-4, "penghubung": 2e-4, "lokal": 2.5e-4}
#: Encoded characters the basemap may take in map.html (~1 byte each).
BUDGET_CHARS = 700_000


def road_class(highway) -> str:
    """The basemap class of an OSM highway value (or list of values, as osmnx merges them)."""
    value = highway[0] if isinstance(highway, list) and highway else highway
    return ROAD_CLASS.get(str(value), "lokal")


def road_lines(graph: nx.MultiDiGraph | None, budget_chars: int = BUDGET_CHARS) -> pd.DataFrame:
    """The graph's roads as (road_class, path) rows, within `budget_chars` of encoded text."""
    if graph is None or graph.number_of_edges() == 0:
        return pd.DataFrame(columns=BASEMAP_COLUMNS)
    pieces: dict[str, list] = {c: [] for c in CLASSES}
    seen = set()
    for u, v, data in graph.edges(data=True):
        key = (min(u, v), max(u, v))
        if key in seen:
            continue  # one line for both directions
        seen.add(key)
        geom = data.get("geometry")
        if geom is None:
            geom = LineString([(graph.nodes[u]["x"], graph.nodes[u]["y"]), (graph.nodes[v]["x"], graph.nodes[v]["y"])])
        pieces[road_class(data.get("highway"))].append(geom)
    merged = {c: shapely.line_merge(MultiLineString(p)) if p else None for c, p in pieces.items()}
    keep = list(CLASSES)
    for scale in (1.0, 1.5, 2.0, 3.0, 4.0):
        rows = _encoded(merged, keep, scale)
        if sum(len(p) for _, p in rows) <= budget_chars:
            break
        if len(keep) > 1 and scale >= 2.0:
            keep = keep[:-1]  # the local streets go before the main roads lose their shape
    return pd.DataFrame(rows, columns=BASEMAP_COLUMNS)


def _encoded(merged: dict, keep: list[str], scale: float) -> list[tuple[str, str]]:
    rows = []
    for cls in keep:
        geom = merged.get(cls)
        if geom is None or geom.is_empty:
            continue
        simple = geom.simplify(TOLERANCE[cls] * scale, preserve_topology=False)
        for line in getattr(simple, "geoms", [simple]):
            coords = list(line.coords)
            if len(coords) >= 2 and line.length > TOLERANCE[cls] * scale:
                rows.append((cls, polyline.encode([(round(y, 5), round(x, 5)) for x, y in coords], 5)))
    return rows


def decoded(basemap: pd.DataFrame | None) -> dict[str, list[list[tuple[float, float]]]]:
    """road_class -> list of [(lat, lon), ...] lines, for drawing."""
    out: dict[str, list] = {}
    if basemap is None or not len(basemap):
        return out
    for cls, path in zip(basemap["road_class"], basemap["path"]):
        out.setdefault(str(cls), []).append(polyline.decode(str(path), 5))
    return out
