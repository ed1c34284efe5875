"""Road graphs from every source, with one speed table, and their cache files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from shapely.ops import split

from planner.errors import NetworkError

VEHICLES = ("van", "motorbike")

#: BIG RBI ``REMARK`` road classes and the OSM ``highway`` value each is treated as. RBI 1:50k uses
#: Arteri/Kolektor/Lokal/Lain in Bandar Lampung; Tol and Setapak appear in other sheets.
RBI_CLASSES: dict[str, str] = {
    "Jalan Tol": "motorway",
    "Jalan Arteri": "primary",
    "Jalan Kolektor": "secondary",
    "Jalan Lokal": "tertiary",
    "Jalan Lain": "residential",
    "Jalan Setapak": "path",
}

#: Road function classes of spatial plans (RTRW/RDTR layers, ``NAMOBJ``), e.g. Kota Bengkulu's RDTR:
#: arteri/kolektor/lokal/lingkungan, primer (between towns) or sekunder (inside a town).
PLAN_CLASSES: dict[str, str] = {
    "Jalan Tol": "motorway",
    "Jalan Arteri Primer": "trunk",
    "Jalan Arteri Sekunder": "primary",
    "Jalan Kolektor Primer": "secondary",
    "Jalan Kolektor Sekunder": "secondary",
    "Jalan Lokal Primer": "tertiary",
    "Jalan Lokal Sekunder": "tertiary",
    "Jalan Lingkungan Primer": "residential",
    "Jalan Lingkungan Sekunder": "residential",
}


def line_classes(lines: gpd.GeoDataFrame) -> tuple[str, dict[str, str]]:
    """The class column of a road line layer and its class table: RBI ``REMARK`` or a plan's ``NAMOBJ``."""
    if "REMARK" in lines.columns and set(lines["REMARK"].dropna()) & set(RBI_CLASSES):
        return "REMARK", RBI_CLASSES
    if "NAMOBJ" in lines.columns and set(lines["NAMOBJ"].dropna()) & set(PLAN_CLASSES):
        return "NAMOBJ", PLAN_CLASSES
    return "REMARK", RBI_CLASSES


#: Typical door-to-door speeds (km/h) by OSM ``highway`` class as (van, motorbike). They are urban
#: averages with traffic, junctions and market crowds, not speed limits: a van crosses Bandar Lampung
#: on an arterial at roughly 40 km/h, a motorbike weaves a little faster on every class. ``None``
#: means the vehicle may not use that class: motorbikes are banned from Indonesian toll roads
#: (jalan tol), vans do not fit on tracks, paths and footways (gang) that motorbikes ride.
SPEEDS: dict[str, tuple[float | None, float | None]] = {
    "motorway": (80.0, None),
    "motorway_link": (50.0, None),
    "trunk": (50.0, 50.0),
    "trunk_link": (35.0, 35.0),
    "primary": (40.0, 45.0),
    "primary_link": (30.0, 30.0),
    "secondary": (35.0, 40.0),
    "secondary_link": (30.0, 30.0),
    "tertiary": (30.0, 35.0),
    "tertiary_link": (25.0, 25.0),
    "unclassified": (25.0, 30.0),
    "residential": (20.0, 25.0),
    "living_street": (10.0, 15.0),
    "service": (15.0, 20.0),
    "road": (20.0, 25.0),
    "track": (None, 15.0),
    "path": (None, 10.0),
    "footway": (None, 10.0),
    "pedestrian": (None, 10.0),
    "bridleway": (None, 10.0),
    "cycleway": (None, 15.0),
    "steps": (None, None),
}

#: OSM ``highway`` values kept from OSM files: classes some vehicle may use. Others (buildings have
#: none; ``construction``, ``proposed``, ``platform``, ``steps``...) are dropped and counted.
ROUTABLE = {h for h, s in SPEEDS.items() if s != (None, None)}
#: No edge is faster than this, even where an OSM ``maxspeed`` tag says more (km/h).
TOP_SPEED_KPH: dict[str, float] = {"van": 80.0, "motorbike": 60.0}
#: Average speed for the straight-line fallback (km/h), applied to haversine x circuity.
STRAIGHT_LINE_KPH: dict[str, float] = {"van": 30.0, "motorbike": 35.0}
#: Walking speed (km/h): the default for the stretch between a point and the nearest road.
WALK_KPH = 5.0
#: Minutes and metres written for pairs with no route (the ``reachable`` mask is False there).
UNREACHABLE_MIN = 999_999
UNREACHABLE_M = 999_999_999
#: Points farther than this from any usable road (metres) are flagged ``far``.
MAX_SNAP_M = 1000.0

_EXTRA_EDGE_DTYPES = {
    "speed_kph_van": float,
    "speed_kph_motorbike": float,
    "travel_time_van": float,
    "travel_time_motorbike": float,
}


# ---- building graphs --------------------------------------------------------------------------
def graph_from_lines(
    lines: gpd.GeoDataFrame,
    class_column: str = "REMARK",
    *,
    classes: dict[str, str] | None = RBI_CLASSES,
    node_crossings: bool = True,
    level_column: str | None = None,
) -> nx.MultiDiGraph:
    """Build a routable two-way graph from a road line layer (e.g. BIG RBI ``JALAN_LN_50K``).

    Line layers are drawn for maps, not routing: RBI lines are not split where roads meet, so lines
    are noded first (split at shared vertices and at every crossing), each piece keeps the class of
    the line it came from, and only the largest connected piece of network is kept; what was dropped
    is reported in ``G.graph["report"]``.

    Parameters
    ----------
    lines
        (Multi)LineString layer with a CRS; reprojected to EPSG:4326. Z values are ignored (in RBI
        they are terrain elevation, not levels).
    class_column
        Column holding the road class.
    classes
        Map from class value to an OSM ``highway`` value (which selects the speeds in
        :data:`SPEEDS`). ``None`` when the column already holds OSM ``highway`` values.
    node_crossings
        Split lines where they cross. True for map layers (RBI); False for OSM-derived lines, which
        connect only at shared vertices.
    level_column
        Optional column of vertical levels (e.g. 1 on bridges and flyovers): lines on different
        levels are not joined where they cross, only at shared end points. RBI 1:50k has no such
        field, so on RBI every crossing, flyovers included, becomes a junction.

    Returns
    -------
    networkx.MultiDiGraph
        Edges in both directions with ``length`` (m), ``highway``, ``road_class``, ``geometry``,
        ``osmid`` (the road piece's number, shared by both directions; not an OSM id),
        ``speed_kph_van``/``_motorbike`` and ``travel_time_van``/``_motorbike`` (s).
    """
    if not isinstance(lines, gpd.GeoDataFrame):
        raise NetworkError(f"lines must be a GeoDataFrame of road lines, got {type(lines).__name__}")
    if lines.crs is None:
        raise NetworkError("the road lines have no CRS; expected one (e.g. EPSG:4326) to measure lengths")
    for column in (class_column, level_column):
        if column is not None and column not in lines.columns:
            raise NetworkError(f"column '{column}' not found in the road lines; columns are {list(lines.columns)}")
    lines = lines.to_crs(4326).explode(index_parts=False).reset_index(drop=True)
    kinds = set(lines.geom_type.dropna())
    if not kinds <= {"LineString"}:
        raise NetworkError(f"road layer must hold (Multi)LineStrings, found {sorted(kinds)}")
    usable = lines.geometry.notna() & ~lines.geometry.is_empty
    highway = lines[class_column].astype("string")
    if classes is not None:
        unknown = sorted(set(highway.dropna()) - set(classes))
        if unknown:
            raise NetworkError(f"unknown road classes in '{class_column}': {unknown}; expected one of "
                             f"{sorted(classes)} (pass classes= to map them to OSM highway values)")
        highway = highway.map(classes)
    missing = int((usable & highway.isna()).sum())
    if missing:
        raise NetworkError(f"{missing} road lines have no value in '{class_column}'")
    utm = lines.estimate_utm_crs()
    report = {
        "lines_in": int(len(lines)),
        "lines_empty": int((~usable).sum()),
        "km_in": round(float(lines[usable].to_crs(utm).length.sum()) / 1000, 3),
    }
    lines = lines[usable].reset_index(drop=True)
    geoms = shapely.force_2d(lines.geometry.values)
    levels = lines[level_column].to_numpy() if level_column else np.zeros(len(lines))

    pieces, best = _node_lines(geoms, levels, node_crossings)
    keep_piece = shapely.length(pieces) > 0
    pieces = pieces[keep_piece]
    if best is None:  # noding forgets where a piece came from: take the line under its midpoint
        best = _best_source(pieces, geoms, highway.to_numpy())
    else:
        best = best[keep_piece]

    lengths = gpd.GeoSeries(pieces, crs=4326).to_crs(utm).length.to_numpy()
    ends = np.round(np.concatenate([shapely.get_coordinates(shapely.get_point(pieces, 0)),
                                    shapely.get_coordinates(shapely.get_point(pieces, -1))]), 7)
    xy, inverse = np.unique(ends, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    start, end = inverse[: len(pieces)], inverse[len(pieces):]

    # Connected pieces of network (roads are two-way here); keep the one with the most length.
    adjacency = csr_matrix((np.ones(len(pieces)), (start, end)), shape=(len(xy), len(xy)))
    n_components, label = connected_components(adjacency, directed=False)
    component_m = np.bincount(label[start], weights=lengths, minlength=n_components)
    keep = label[start] == component_m.argmax()
    used = np.unique(np.concatenate([start[keep], end[keep]]))

    G = nx.MultiDiGraph(crs="EPSG:4326", source="lines")
    G.add_nodes_from((int(i), {"x": float(xy[i, 0]), "y": float(xy[i, 1])}) for i in used)
    highway_of, class_of = highway.to_numpy()[best], lines[class_column].astype(str).to_numpy()[best]
    for i in np.flatnonzero(keep):
        attrs = {"osmid": int(i), "length": float(lengths[i]), "highway": str(highway_of[i]),
                 "road_class": class_of[i], "oneway": False}
        G.add_edge(int(start[i]), int(end[i]), geometry=pieces[i], reversed=False, **attrs)
        G.add_edge(int(end[i]), int(start[i]), geometry=pieces[i].reverse(), reversed=True, **attrs)

    km_noded, km_kept = float(lengths.sum()) / 1000, float(lengths[keep].sum()) / 1000
    report.update({
        "edges_noded": int(len(pieces)),
        "km_noded": round(km_noded, 3),
        "components": int(n_components),
        "km_kept": round(km_kept, 3),
        "share_kept": round(km_kept / km_noded, 5) if km_noded else 0.0,
        "km_dropped": round(km_noded - km_kept, 3),
        "edges_dropped": int((~keep).sum()),
        "nodes_kept": G.number_of_nodes(),
        "edges_kept": int(keep.sum()),
        "crossings_noded": bool(node_crossings),
    })
    G.graph["report"] = report
    return add_vehicle_speeds(G)


def _node_lines(geoms: np.ndarray, levels: np.ndarray, node_crossings: bool):
    """Split lines into pieces that meet only at their ends; return pieces and source lines (or None)."""
    if not node_crossings:
        return _split_at_shared_vertices(geoms)
    groups = [shapely.get_parts(shapely.node(shapely.multilinestrings(geoms[levels == level])))
              for level in pd.unique(levels)]
    if len(groups) == 1:
        return groups[0], None
    # Different levels meet only where one's end point lies on the other: split there, never at crossings.
    pieces = np.concatenate(groups)
    group_of = np.concatenate([np.full(len(g), i) for i, g in enumerate(groups)])
    ends = np.concatenate([shapely.get_point(pieces, 0), shapely.get_point(pieces, -1)])
    end_group = np.concatenate([group_of, group_of])
    tree = shapely.STRtree(ends)
    out = []
    for piece, gid in zip(pieces, group_of):
        hits = tree.query(piece, predicate="dwithin", distance=1e-9)
        hits = hits[end_group[hits] != gid]
        if len(hits):
            cutter = shapely.multipoints(shapely.get_coordinates(ends[hits]))
            piece = split(shapely.snap(piece, cutter, 1e-9), cutter)
        out.extend(shapely.get_parts(piece))
    return np.array(out, dtype=object), None


def _split_at_shared_vertices(geoms: np.ndarray):
    """Split lines at vertices used by more than one line (how OSM ways connect); no crossings."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    key = np.round(coords, 7)
    _, vid, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    vid = vid.ravel()
    uses = np.zeros(len(counts), dtype=int)
    np.add.at(uses, vid, 1)
    pieces, source = [], []
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    stops = np.r_[starts[1:], len(index)]
    for a, b in zip(starts, stops):
        cut = a
        for j in range(a + 1, b):
            if j == b - 1 or uses[vid[j]] > 1:
                pieces.append(shapely.linestrings(coords[cut:j + 1]))
                source.append(index[a])
                cut = j
    return np.array(pieces, dtype=object), np.array(source, dtype=int)


def _best_source(pieces: np.ndarray, geoms: np.ndarray, highway: np.ndarray) -> np.ndarray:
    """Source line of each noded piece: the line under its midpoint (the highest class on overlaps)."""
    rank = {h: i for i, h in enumerate(SPEEDS)}
    mids = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    tree = shapely.STRtree(geoms)
    (pi, li), dist = tree.query_nearest(mids, all_matches=True, return_distance=True)
    order = pd.DataFrame({"piece": pi, "line": li, "rank": [rank.get(h, len(rank)) for h in highway[li]]})
    order = order.sort_values(["piece", "rank", "line"]).drop_duplicates("piece")
    best = np.zeros(len(pieces), dtype=int)
    best[order["piece"].to_numpy()] = order["line"].to_numpy()
    return best


def graph_from_osm_xml(path: str | Path) -> nx.MultiDiGraph:
    """Build a graph from a local OSM XML file (``.osm``, ``.osm.bz2``) with osmnx.

    Ways without a routable ``highway`` tag (buildings, rivers, ``steps``...) are removed, then the
    largest weakly connected part is kept and simplified exactly as osmnx does online. A ``.pbf``
    file is handed to :func:`graph_from_osm_pbf`.
    """
    path = Path(path)
    if not path.exists():
        raise NetworkError(f"OSM file not found: {path}")
    if path.name.lower().endswith(".pbf"):
        return graph_from_osm_pbf(path)
    G = ox.graph_from_xml(path, simplify=False, retain_all=True)
    return _finish_osm(G, source=f"osm:{path.name}")


def graph_from_polygon(polygon, network_type: str = "drive") -> nx.MultiDiGraph:
    """Download the OSM road network inside ``polygon`` (EPSG:4326) through Overpass with osmnx.

    Needs internet. Use the union of an AreaSet's kecamatan, e.g.
    ``graph_from_polygon(areas.kecamatan.union_all())``.
    """
    if not isinstance(polygon, (shapely.Polygon, shapely.MultiPolygon)):
        raise NetworkError(f"polygon must be a shapely (Multi)Polygon in EPSG:4326, got {type(polygon).__name__}")
    G = ox.graph_from_polygon(polygon, network_type=network_type, simplify=False, retain_all=True)
    return _finish_osm(G, source=f"overpass:{network_type}")


def _finish_osm(G: nx.MultiDiGraph, source: str) -> nx.MultiDiGraph:
    """Same cleaning for every OSM graph: routable ways, largest component, osmnx simplification."""
    edges_in = G.number_of_edges()
    drop = [(u, v, k) for u, v, k, h in G.edges(keys=True, data="highway") if _first(h) not in ROUTABLE]
    G.remove_edges_from(drop)
    G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])
    if G.number_of_edges() == 0:
        raise NetworkError("the OSM data holds no routable highway ways")
    G = ox.truncate.largest_component(G, strongly=False)
    G = ox.simplify_graph(G, edge_attrs_differ=["highway"])  # one class per edge, so one speed
    nx.set_node_attributes(G, ox.stats.count_streets_per_node(G), name="street_count")
    G.graph.update(source=source, report={"edges_in": edges_in, "edges_not_routable": len(drop),
                                          "nodes_kept": G.number_of_nodes(), "edges_kept": G.number_of_edges()})
    return add_vehicle_speeds(G)


def _first(value):
    """Osmnx keeps a list where simplification merged ways of several classes: use the first."""
    return value[0] if isinstance(value, list) else value


def graph_from_osm_pbf(path: str | Path) -> nx.MultiDiGraph:
    """Build a graph from an OSM file through GDAL's OSM driver (reads ``.osm.pbf`` and ``.osm``).

    Ways connect only at shared nodes, as in OSM. Limitation: ``oneway`` tags (in GDAL's
    ``other_tags``) are not read, so every way is two-way and no ``maxspeed`` is used; prefer
    :func:`graph_from_osm_xml` (or convert with ``osmium cat file.pbf -o file.osm``) where it matters.
    """
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise NetworkError(f"OSM file not found: {path}")
    lines = pyogrio.read_dataframe(path, layer="lines", columns=["highway"])
    lines = lines[lines["highway"].isin(ROUTABLE)]
    if lines.empty:
        raise NetworkError(f"{path} holds no routable highway ways")
    G = graph_from_lines(lines, "highway", classes=None, node_crossings=False)
    G.graph["source"] = f"osm:{path.name}"
    return G


def add_vehicle_speeds(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Add ``speed_kph_<vehicle>`` and ``travel_time_<vehicle>`` (s) for vans and motorbikes.

    The table :data:`SPEEDS` gives typical speeds by ``highway``; osmnx's ``add_edge_speeds`` fills
    them in where OSM has no ``maxspeed`` tag. A tag can only lower an edge's speed (limits are
    upper bounds, realised urban speeds are below them), and nothing exceeds :data:`TOP_SPEED_KPH`.
    Classes a vehicle may not use (any of them, where osmnx merged several) get speed 0 and travel
    time ``inf``, so they never carry a route. osmnx's own ``speed_kph``/``travel_time`` are set to
    the van values so its routing functions work too.
    """
    if G.number_of_edges() == 0:
        raise NetworkError("graph has no edges to add speeds to")
    highways = {_first(h) for _, _, h in G.edges(data="highway")}
    unknown = sorted(str(h) for h in highways if h not in SPEEDS)
    tagged = any("maxspeed" in data for _, _, data in G.edges(data=True))
    for vehicle, column in zip(VEHICLES, (0, 1)):
        table = {h: s[column] for h, s in SPEEDS.items() if s[column] is not None}
        fallback = min(table.values())  # unknown classes: slowest known class, never a guess upward
        if tagged:  # without any maxspeed tag (line layers) osmnx would only copy the table
            ox.add_edge_speeds(G, hwy_speeds=table, fallback=fallback)
        banned = {h for h, s in SPEEDS.items() if s[column] is None}
        for _, _, data in G.edges(data=True):
            kinds = data.get("highway")
            kinds = set(kinds) if isinstance(kinds, list) else {kinds}
            table_kph = table.get(_first(data.get("highway")), fallback)
            tag_kph = float(data["speed_kph"]) if tagged else table_kph
            speed = min(tag_kph, table_kph, TOP_SPEED_KPH[vehicle])
            if kinds & banned or not speed > 0:
                data[f"speed_kph_{vehicle}"] = 0.0
                data[f"travel_time_{vehicle}"] = math.inf
            else:
                data[f"speed_kph_{vehicle}"] = speed
                data[f"travel_time_{vehicle}"] = float(data["length"]) / (speed / 3.6)
    for _, _, data in G.edges(data=True):
        data["speed_kph"] = data["speed_kph_van"]
        data["travel_time"] = data["travel_time_van"]
    G.graph["unknown_highway"] = unknown
    return G


# ---- cache -------------------------------------------------------------------------------------
def save_graph(G: nx.MultiDiGraph, path: str | Path) -> Path:
    """Cache a graph to ``.graphml`` (everything kept) or ``.gpkg`` (nodes and edges layers)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    H = G.copy()
    for key in ("report", "unknown_highway"):
        if key in H.graph:
            H.graph[key] = json.dumps(H.graph[key])
    if path.suffix == ".graphml":
        ox.save_graphml(H, path)
    elif path.suffix == ".gpkg":
        ox.save_graph_geopackage(H, path, directed=True)
    else:
        raise NetworkError(f"graph file must end in .graphml or .gpkg, got '{path.name}'")
    return path


def load_graph(path: str | Path) -> nx.MultiDiGraph:
    """Reload a graph written by :func:`save_graph`, with numeric attributes as numbers again."""
    path = Path(path)
    if not path.exists():
        raise NetworkError(f"graph file not found: {path}")
    if path.suffix == ".graphml":
        G = ox.load_graphml(path, edge_dtypes=_EXTRA_EDGE_DTYPES)
        for key in ("report", "unknown_highway"):
            if isinstance(G.graph.get(key), str):
                G.graph[key] = json.loads(G.graph[key])
        return G
    if path.suffix == ".gpkg":
        nodes = gpd.read_file(path, layer="nodes").set_index("osmid")
        edges = gpd.read_file(path, layer="edges").set_index(["u", "v", "key"])
        for column in ("length", *_EXTRA_EDGE_DTYPES):
            if column in edges:
                edges[column] = edges[column].astype(float)
        return ox.graph_from_gdfs(nodes, edges, graph_attrs={"crs": "EPSG:4326"})
    raise NetworkError(f"graph file must end in .graphml or .gpkg, got '{path.name}'")


