"""Road graphs and travel-time matrices.

One graph type for every source: an osmnx-compatible ``networkx.MultiDiGraph`` (nodes with ``x``/``y``
in EPSG:4326, edges with ``length`` in metres, ``highway`` and a geometry), so osmnx's own tools
(plotting, ``graph_to_gdfs``, GraphML I/O) apply whatever the source:

1. OpenStreetMap online (:func:`graph_from_polygon`, through ``osmnx.graph_from_polygon``);
2. a local OSM file (:func:`graph_from_osm_xml` for ``.osm``/``.osm.bz2``, :func:`graph_from_osm_pbf`
   through GDAL's OSM driver for ``.osm.pbf``);
3. a road line layer such as BIG RBI ``JALAN_LN_50K`` (:func:`graph_from_lines`).

Every graph gets van and motorbike speeds from one documented table (:data:`SPEEDS`), so travel
times mean the same thing whichever source was used. :func:`travel_matrix` answers many-to-many
questions with one multi-source Dijkstra pass of ``scipy.sparse.csgraph`` instead of per-pair
networkx calls, and falls back to straight lines (haversine x circuity / speed), clearly marked, when
no graph is given.
"""

from __future__ import annotations

import json
import math
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from shapely.ops import split

from planner.errors import NetworkError

__all__ = [
    "RBI_CLASSES",
    "SPEEDS",
    "TOP_SPEED_KPH",
    "STRAIGHT_LINE_KPH",
    "WALK_KPH",
    "UNREACHABLE_MIN",
    "UNREACHABLE_M",
    "TravelMatrix",
    "graph_from_lines",
    "graph_from_osm_xml",
    "graph_from_osm_pbf",
    "graph_from_polygon",
    "add_vehicle_speeds",
    "save_graph",
    "load_graph",
    "read_points",
    "snap_points",
    "travel_matrix",
    "clear_cache",
]

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
    """osmnx keeps a list where simplification merged ways of several classes: use the first."""
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


# ---- points ------------------------------------------------------------------------------------
def _as_points(points, what: str) -> gpd.GeoDataFrame:
    """Check a points input (GeoDataFrame with ``id`` or GeoSeries with string index) -> [id, geometry]."""
    if isinstance(points, gpd.GeoSeries):
        points = gpd.GeoDataFrame({"id": points.index.astype(str)}, geometry=points.values, crs=points.crs)
    if not isinstance(points, gpd.GeoDataFrame):
        raise NetworkError(f"{what} must be a GeoDataFrame with an 'id' column or a GeoSeries, "
                         f"got {type(points).__name__}")
    if "id" not in points.columns:
        raise NetworkError(f"{what} need an 'id' column; columns are {list(points.columns)}")
    if points.crs is None:
        raise NetworkError(f"{what} have no CRS; expected points in EPSG:4326")
    if len(points) == 0:
        raise NetworkError(f"{what} are empty")
    points = points.to_crs(4326)
    bad = points.geometry.isna() | points.geometry.is_empty | (points.geom_type != "Point")
    if bad.any():
        raise NetworkError(f"{what}: {int(bad.sum())} rows are not points (ids {points.loc[bad, 'id'].head(5).tolist()})")
    ids = points["id"].astype(str)
    duplicated = ids[ids.duplicated()].unique()
    if len(duplicated):
        raise NetworkError(f"{what}: ids must be unique, repeated: {list(duplicated[:5])}")
    return gpd.GeoDataFrame({"id": ids.to_numpy()}, geometry=points.geometry.values, crs=4326)


def read_points(path: str | Path) -> gpd.GeoDataFrame:
    """Read points for a matrix: a CSV with ``id, lat, lon`` or any vector file with an ``id`` column."""
    path = Path(path)
    if not path.exists():
        raise NetworkError(f"points file not found: {path}")
    if path.suffix.lower() == ".csv":
        frame = pd.read_csv(path, dtype={"id": str})
        missing = [c for c in ("id", "lat", "lon") if c not in frame.columns]
        if missing:
            raise NetworkError(f"{path.name}: missing column(s) {missing}; expected id, lat, lon")
        bad = frame[["lat", "lon"]].apply(pd.to_numeric, errors="coerce").isna().any(axis=1)
        if bad.any():
            raise NetworkError(f"{path.name}: rows {list(frame.index[bad][:5] + 2)} have no numeric lat/lon")
        points = gpd.GeoDataFrame({"id": frame["id"]}, crs=4326,
                                  geometry=gpd.points_from_xy(frame["lon"].astype(float), frame["lat"].astype(float)))
    else:
        points = gpd.read_file(path)
    return _as_points(points, path.name)


@dataclass
class _Router:
    """A graph prepared once for one vehicle: node index, road pieces for snapping, edge arrays."""

    nodes: np.ndarray          # node ids, position = matrix index
    utm: object
    pieces: np.ndarray         # shapely lines in UTM, one per road (both directions share one)
    a: np.ndarray              # node index at the start / end of each piece
    b: np.ndarray
    length: np.ndarray         # metres of each piece
    fwd: np.ndarray            # seconds a->b (inf when not allowed)
    bwd: np.ndarray            # seconds b->a
    tree: shapely.STRtree
    u: np.ndarray              # directed graph edges (node index), best per node pair
    v: np.ndarray
    time: np.ndarray
    metres: np.ndarray


_ROUTERS: "weakref.WeakKeyDictionary[nx.MultiDiGraph, dict]" = weakref.WeakKeyDictionary()


def clear_cache() -> None:
    """Forget the routing arrays prepared per graph (needed only after editing edge times in place)."""
    _ROUTERS.clear()


def _router(G: nx.MultiDiGraph, vehicle: str | None) -> _Router:
    signature = (G.number_of_nodes(), G.number_of_edges())
    cached = _ROUTERS.get(G, {})
    if cached.get("signature") == signature and vehicle in cached:
        return cached[vehicle]
    if cached.get("signature") != signature:
        cached = {"signature": signature}
        _ROUTERS[G] = cached
    attr = f"travel_time_{vehicle}" if vehicle else "length"
    if G.number_of_edges() == 0:
        raise NetworkError("graph has no edges")
    nodes = np.array(list(G.nodes))
    index = {n: i for i, n in enumerate(nodes)}
    rows = []
    for u, v, k, d in G.edges(keys=True, data=True):
        if attr not in d:
            raise NetworkError(f"graph edges lack '{attr}'; build graphs with planner.network or call add_vehicle_speeds")
        t = float(d[attr])
        if not math.isfinite(t):
            continue
        geom = d.get("geometry")
        if geom is None:
            geom = shapely.LineString([(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])])
        rows.append((index[u], index[v], t, float(d["length"]), geom))
    if not rows:
        raise NetworkError(f"no edge of the graph is usable by a {vehicle}")
    edges = pd.DataFrame(rows, columns=["u", "v", "time", "metres", "geometry"])
    # Route only inside the largest strongly connected part for this vehicle: a point snapped onto a
    # one-way dead end (common at the edge of an OSM extract) could otherwise be entered but not left.
    adjacency = csr_matrix((np.ones(len(edges)), (edges["u"], edges["v"])), shape=(len(nodes), len(nodes)))
    _, label = connected_components(adjacency, directed=True, connection="strong")
    biggest = np.bincount(label[edges["u"]]).argmax()
    edges = edges[(label[edges["u"]] == biggest) & (label[edges["v"]] == biggest)].reset_index(drop=True)
    if edges.empty:
        raise NetworkError(f"no two roads of the graph connect both ways for a {vehicle}")
    # Road pieces: a->b with a < b; the reverse direction of the same road joins the same piece.
    flip = edges["u"] > edges["v"]
    edges["a"] = np.where(flip, edges["v"], edges["u"])
    edges["b"] = np.where(flip, edges["u"], edges["v"])
    edges["lkey"] = edges["metres"].round(1)
    edges["fwd"] = np.where(flip, np.inf, edges["time"])
    edges["bwd"] = np.where(flip, edges["time"], np.inf)
    edges["geometry"] = [g.reverse() if f else g for g, f in zip(edges["geometry"], flip)]
    pieces = edges.groupby(["a", "b", "lkey"], sort=True).agg(
        fwd=("fwd", "min"), bwd=("bwd", "min"), length=("metres", "first"), geometry=("geometry", "first")
    ).reset_index()
    utm = gpd.GeoSeries(pieces["geometry"], crs=4326).estimate_utm_crs()
    lines_utm = gpd.GeoSeries(pieces["geometry"], crs=4326).to_crs(utm).to_numpy()
    best = edges.sort_values(["u", "v", "time"]).drop_duplicates(["u", "v"])
    router = _Router(
        nodes=nodes, utm=utm, pieces=lines_utm, a=pieces["a"].to_numpy(), b=pieces["b"].to_numpy(),
        length=pieces["length"].to_numpy(), fwd=pieces["fwd"].to_numpy(), bwd=pieces["bwd"].to_numpy(),
        tree=shapely.STRtree(lines_utm), u=best["u"].to_numpy(), v=best["v"].to_numpy(),
        time=best["time"].to_numpy(), metres=best["metres"].to_numpy(),
    )
    cached[vehicle] = router
    return router


def _snap(router: _Router, points: gpd.GeoDataFrame) -> pd.DataFrame:
    """Nearest road piece of each point: piece, distance off the road, and position along it."""
    pts = points.geometry.to_crs(router.utm).to_numpy()
    (pi, idx), dist = router.tree.query_nearest(pts, return_distance=True, all_matches=False)
    order = np.argsort(pi, kind="stable")
    idx, dist = idx[order], dist[order]
    lines = router.pieces[idx]
    along = shapely.line_locate_point(lines, pts)
    geom_len = shapely.length(lines)
    frac = np.divide(along, geom_len, out=np.zeros(len(pts)), where=geom_len > 0)
    return pd.DataFrame({"piece": idx, "snap_m": dist, "frac": np.clip(frac, 0.0, 1.0)})


def snap_points(G: nx.MultiDiGraph, points, *, vehicle: str | None = None,
                max_snap_m: float = MAX_SNAP_M) -> pd.DataFrame:
    """Snap points to the nearest road of ``G`` (usable by ``vehicle`` if given).

    Returns one row per point, in order: ``id``, ``node`` (nearer end of the nearest road), ``u``/``v``
    (the road's end nodes), ``pos_m`` (metres along the road from ``u``), ``snap_m`` (metres from the
    point to the road) and ``far`` (True when ``snap_m`` > ``max_snap_m``: likely a wrong location or
    a place the road data does not cover).
    """
    if vehicle is not None and vehicle not in VEHICLES:
        raise NetworkError(f"vehicle must be one of {VEHICLES}, got '{vehicle}'")
    points = _as_points(points, "points")
    router = _router(G, vehicle)
    snapped = _snap(router, points)
    piece = snapped["piece"].to_numpy()
    pos = snapped["frac"].to_numpy() * router.length[piece]
    u, v = router.nodes[router.a[piece]], router.nodes[router.b[piece]]
    return pd.DataFrame({
        "id": points["id"].to_numpy(),
        "node": np.where(snapped["frac"].to_numpy() <= 0.5, u, v),
        "u": u, "v": v, "pos_m": pos,
        "snap_m": snapped["snap_m"].to_numpy(),
        "far": snapped["snap_m"].to_numpy() > max_snap_m,
    })


# ---- matrices ----------------------------------------------------------------------------------
@dataclass
class TravelMatrix:
    """Travel minutes and metres from every origin (rows) to every destination (columns).

    ``minutes`` are whole minutes rounded up (a 20-second hop is 1; 0 only for the same point),
    ``metres`` whole metres along the fastest route. Where ``reachable`` is False both hold the
    sentinels :data:`UNREACHABLE_MIN` / :data:`UNREACHABLE_M`. ``method`` says whether a road network
    or the straight-line fallback produced the figures.
    """

    minutes: np.ndarray
    metres: np.ndarray
    origins: list[str]
    destinations: list[str]
    method: str
    vehicle: str
    reachable: np.ndarray | None = None
    origin_far: np.ndarray | None = None
    destination_far: np.ndarray | None = None
    origin_snap_m: np.ndarray | None = None
    destination_snap_m: np.ndarray | None = None
    notes: dict = field(default_factory=dict)

    def to_long(self) -> pd.DataFrame:
        """One row per pair: origin, destination, minutes, metres, reachable, method, vehicle."""
        n, m = self.minutes.shape
        reachable = self.reachable if self.reachable is not None else np.ones((n, m), bool)
        return pd.DataFrame({
            "origin": np.repeat(self.origins, m), "destination": np.tile(self.destinations, n),
            "minutes": self.minutes.ravel(), "metres": self.metres.ravel(), "reachable": reachable.ravel(),
            "method": self.method, "vehicle": self.vehicle,
        })


def _minutes(seconds: np.ndarray) -> np.ndarray:
    return np.ceil(np.asarray(seconds) / 60.0 - 1e-9).astype(np.int32)


def _haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def travel_matrix(origins, destinations, graph: nx.MultiDiGraph | None = None, vehicle: str = "van", *,
                  circuity: float = 1.3, max_snap_m: float = MAX_SNAP_M, offroad_kph: float = WALK_KPH,
                  chunk: int = 256, progress: bool = False) -> TravelMatrix:
    """Travel-time and distance matrix between two point sets.

    With a graph, each point is snapped onto its nearest road in the largest part of the network
    the vehicle can drive both ways (the stretch off the road is covered at ``offroad_kph``, walking
    by default) and one multi-source Dijkstra pass (``scipy.sparse.csgraph``) runs from the smaller
    side. One-way streets are respected. Without a graph, the straight-line
    fallback gives haversine x ``circuity`` at :data:`STRAIGHT_LINE_KPH` and says so in ``method``.

    Parameters
    ----------
    origins, destinations
        GeoDataFrames of points with a unique ``id`` column (or GeoSeries with string index).
    graph
        Graph from this module (needs ``travel_time_<vehicle>`` on edges), or None.
    vehicle
        "van" or "motorbike".
    circuity
        Road distance / straight distance, only for the fallback.
    max_snap_m
        Points farther than this from a usable road are flagged in ``origin_far``/``destination_far``.
    offroad_kph
        Speed between a point and its road (pass a driving speed if the last stretch is ridden).
    chunk
        Sources per Dijkstra batch (bounds memory). The arrays prepared from a graph are kept for
        the next call with the same graph object; see :func:`clear_cache`.
    progress
        Show a rich progress bar.
    """
    if vehicle not in VEHICLES:
        raise NetworkError(f"vehicle must be one of {VEHICLES}, got '{vehicle}'")
    if not circuity >= 1:
        raise NetworkError(f"circuity must be >= 1 (road distance over straight distance), got {circuity}")
    if not offroad_kph > 0:
        raise NetworkError(f"offroad_kph must be positive, got {offroad_kph}")
    orig = _as_points(origins, "origins")
    dest = _as_points(destinations, "destinations")
    if graph is None:
        o_lon, o_lat = orig.geometry.x.to_numpy()[:, None], orig.geometry.y.to_numpy()[:, None]
        d_lon, d_lat = dest.geometry.x.to_numpy()[None, :], dest.geometry.y.to_numpy()[None, :]
        metres = _haversine_m(o_lon, o_lat, d_lon, d_lat) * circuity
        seconds = metres / (STRAIGHT_LINE_KPH[vehicle] / 3.6)
        return TravelMatrix(
            minutes=_minutes(seconds), metres=np.round(metres).astype(np.int64),
            origins=orig["id"].tolist(), destinations=dest["id"].tolist(), method="straight_line",
            vehicle=vehicle, reachable=np.ones(seconds.shape, bool),
            notes={"circuity": circuity, "speed_kph": STRAIGHT_LINE_KPH[vehicle]},
        )

    router = _router(graph, vehicle)
    # One virtual node per distinct location, so identical points are 0 apart.
    allpts = pd.concat([orig, dest], ignore_index=True)
    keys = np.round(np.c_[allpts.geometry.x, allpts.geometry.y], 9)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    unique_pts = allpts.iloc[first].reset_index(drop=True)
    snapped = _snap(router, unique_pts)
    n_nodes, n_pts = len(router.nodes), len(unique_pts)
    u, v, t, m = _virtual_edges(router, snapped, offroad_kph)
    o_idx = n_nodes + inverse[: len(orig)]
    d_idx = n_nodes + inverse[len(orig):]
    seconds, metres = _many_to_many(u, v, t, m, n_nodes + n_pts, o_idx, d_idx, chunk, progress)
    reachable = np.isfinite(seconds)
    minutes = np.where(reachable, _minutes(np.where(reachable, seconds, 0)), UNREACHABLE_MIN).astype(np.int32)
    metres = np.where(reachable, np.round(np.where(reachable, metres, 0)), UNREACHABLE_M).astype(np.int64)
    snap_m = snapped["snap_m"].to_numpy()
    return TravelMatrix(
        minutes=minutes, metres=metres, origins=orig["id"].tolist(), destinations=dest["id"].tolist(),
        method="network", vehicle=vehicle, reachable=reachable,
        origin_far=snap_m[inverse[: len(orig)]] > max_snap_m, destination_far=snap_m[inverse[len(orig):]] > max_snap_m,
        origin_snap_m=snap_m[inverse[: len(orig)]], destination_snap_m=snap_m[inverse[len(orig):]],
        notes={"offroad_kph": offroad_kph, "max_snap_m": max_snap_m},
    )


def _virtual_edges(router: _Router, snapped: pd.DataFrame, offroad_kph: float):
    """Graph edges plus edges joining each point's virtual node to the ends of its road.

    Leaving or reaching a point costs its off-road stretch, so a virtual node is never a shortcut.
    Points on the same road are also joined directly, along the road, in the allowed directions.
    """
    n = len(router.nodes)
    p = n + np.arange(len(snapped))
    piece = snapped["piece"].to_numpy()
    f = snapped["frac"].to_numpy()
    off_s = snapped["snap_m"].to_numpy() / (offroad_kph / 3.6)
    off_m = snapped["snap_m"].to_numpy()
    a, b, L = router.a[piece], router.b[piece], router.length[piece]
    fwd, bwd = router.fwd[piece], router.bwd[piece]
    us, vs, ts, ms = [router.u], [router.v], [router.time], [router.metres]

    def add(src, dst, sec, met):
        ok = np.isfinite(sec)  # 0 x inf (point at the end of a road it may not use) is NaN: dropped
        us.append(src[ok]); vs.append(dst[ok]); ts.append(sec[ok]); ms.append(met[ok])

    with np.errstate(invalid="ignore"):
        add(p, b, (1 - f) * fwd + off_s, (1 - f) * L + off_m)   # point -> b along the road
        add(p, a, f * bwd + off_s, f * L + off_m)               # point -> a
        add(a, p, f * fwd + off_s, f * L + off_m)               # a -> point
        add(b, p, (1 - f) * bwd + off_s, (1 - f) * L + off_m)   # b -> point
    frame = pd.DataFrame({"p": p, "piece": piece, "f": f})
    shared = frame[frame.duplicated("piece", keep=False)]
    if len(shared):
        pairs = shared.merge(shared, on="piece", suffixes=("1", "2"))
        pairs = pairs[pairs["p1"] != pairs["p2"]]
        k = pairs["piece"].to_numpy()
        d = pairs["f2"].to_numpy() - pairs["f1"].to_numpy()
        with np.errstate(invalid="ignore"):  # 0 x inf where a one-way road holds both points
            sec = np.where(d > 0, d * router.fwd[k], np.where(d < 0, -d * router.bwd[k], 0.0))
        i1, i2 = pairs["p1"].to_numpy() - n, pairs["p2"].to_numpy() - n
        add(pairs["p1"].to_numpy(), pairs["p2"].to_numpy(), sec + off_s[i1] + off_s[i2],
            np.abs(d) * router.length[k] + off_m[i1] + off_m[i2])
    return (np.concatenate(us), np.concatenate(vs), np.concatenate(ts), np.concatenate(ms))


#: Bits of a packed edge weight that hold centimetres (see _many_to_many).
_PACK_BITS = 26


def _many_to_many(u, v, t, m, size, o_idx, d_idx, chunk, progress):
    """Seconds and metres (along the fastest route) between virtual nodes, one Dijkstra pass per batch.

    Time and distance travel together in one float64 weight: whole milliseconds x 2**26 + whole
    centimetres. Sums of such integers are exact below 2**53, so one pass minimises time (ties go to
    the shorter route) and the distance of that very route is read from the low bits. The packing
    is checked on the result (no route over ~8 h, no carry into the time bits); when it does not
    hold, the batch is redone with plain seconds and the route lengths are summed from the
    predecessor trees (:func:`_path_metres`).
    """
    frame = pd.DataFrame({"u": u, "v": v, "ms": np.maximum(np.round(t * 1000), 1), "cm": np.round(m * 100)})
    frame = frame.sort_values(["u", "v", "ms", "cm"]).drop_duplicates(["u", "v"])  # csr would add parallel edges
    reverse = len(d_idx) < len(o_idx)
    if reverse:  # run from the smaller side on the reversed graph
        frame = frame.rename(columns={"u": "v", "v": "u"}).sort_values(["u", "v"])
        o_idx, d_idx = d_idx, o_idx
    rows, cols = frame["u"].to_numpy(), frame["v"].to_numpy()
    ms, cm = frame["ms"].to_numpy(), frame["cm"].to_numpy()
    scale = 2.0 ** _PACK_BITS
    packed = csr_matrix((ms * scale + cm, (rows, cols)), shape=(size, size))
    cm_per_ms = float((cm / ms).max())  # a route's centimetres never exceed this x its milliseconds
    sources, inv = np.unique(o_idx, return_inverse=True)
    seconds = np.empty((len(sources), len(d_idx)))
    metres = np.empty((len(sources), len(d_idx)))
    bar = _progress(progress, len(sources), "shortest paths")
    for start in range(0, len(sources), chunk):
        batch = sources[start:start + chunk]
        total = dijkstra(packed, directed=True, indices=batch)[:, d_idx]
        whole_ms = np.floor(total / scale)
        longest = whole_ms[np.isfinite(whole_ms)].max(initial=0.0)
        if longest < 2.0 ** (53 - _PACK_BITS) and longest * cm_per_ms < scale:
            seconds[start:start + len(batch)] = whole_ms / 1000
            with np.errstate(invalid="ignore"):  # inf - inf where unreachable; masked by the caller
                metres[start:start + len(batch)] = (total - whole_ms * scale) / 100
        else:
            timed = csr_matrix((ms / 1000, (rows, cols)), shape=(size, size))
            dist, pred = dijkstra(timed, directed=True, indices=batch, return_predecessors=True)
            seconds[start:start + len(batch)] = dist[:, d_idx]
            edge_key = rows.astype(np.int64) * size + cols
            metres[start:start + len(batch)] = _path_metres(pred, edge_key, cm / 100, size)[:, d_idx]
        if bar:
            bar[0].advance(bar[1], len(batch))
    if bar:
        bar[0].stop()
    seconds, metres = seconds[inv.ravel()], metres[inv.ravel()]
    return (seconds.T, metres.T) if reverse else (seconds, metres)


def _path_metres(pred: np.ndarray, edge_key: np.ndarray, edge_len: np.ndarray, size: int) -> np.ndarray:
    """Length of every shortest-path-tree branch, by pointer doubling over the predecessor arrays.

    After round k each entry holds the length of its first 2**k hops towards the source and the
    node reached, so a tree of depth d takes log2(d) vectorised rounds, not d.
    """
    rows = pred.shape[0]
    has = pred >= 0
    offset = (np.arange(rows, dtype=np.int64) * size)[:, None]
    cols = np.arange(size, dtype=np.int64)[None, :]
    key = np.where(has, pred.astype(np.int64) * size + cols, 0)
    acc = np.where(has, edge_len[np.minimum(np.searchsorted(edge_key, key), len(edge_key) - 1)], 0.0).ravel()
    anc = np.where(has, pred + offset, -1).ravel()
    live = np.flatnonzero(anc >= 0)
    while len(live):
        up = anc[live]
        acc[live] += acc[up]
        anc[live] = anc[up]
        live = live[anc[live] >= 0]
    return acc.reshape(rows, size)


def _progress(show: bool, total: int, label: str):
    if not show:
        return None
    from rich.progress import Progress

    bar = Progress(transient=True)
    bar.start()
    return bar, bar.add_task(label, total=total)
