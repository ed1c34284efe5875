"""Snapping points to a road graph and many-to-many travel-time matrices."""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from planner.errors import NetworkError
from planner.network.graphs import MAX_SNAP_M, STRAIGHT_LINE_KPH, UNREACHABLE_M, UNREACHABLE_MIN, VEHICLES, WALK_KPH


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
        ids = points.loc[bad, "id"].head(5).tolist()
        raise NetworkError(f"{what}: {int(bad.sum())} rows are not points (ids {ids})")
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


_ROUTERS: weakref.WeakKeyDictionary[nx.MultiDiGraph, dict] = weakref.WeakKeyDictionary()


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
    for u, v, _, d in G.edges(keys=True, data=True):
        if attr not in d:
            raise NetworkError(f"graph edges lack '{attr}'; build graphs with planner.network or call "
                               "add_vehicle_speeds")
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
        Road distance / straight distance, for the fallback: with no graph for every pair; with a
        graph for points farther than ``max_snap_m`` from it (a partial road layer), whose stretch
        to the road is then driven and whose pairs take the straight line when that is shorter.
    max_snap_m
        Points farther than this from a usable road are flagged in ``origin_far``/``destination_far``
        and their travel times are estimates (see ``circuity``; ``notes["estimated_pairs"]``).
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
    snap_all = snapped["snap_m"].to_numpy()
    far_pt = snap_all > max_snap_m
    # A point beyond the network's reach (a partial road layer) is driven to, not walked: its stretch
    # to the road is straight line x circuity at the fallback speed, and see below.
    drive = STRAIGHT_LINE_KPH[vehicle] / 3.6
    u, v, t, m = _virtual_edges(router, snapped.assign(
        off_s=np.where(far_pt, snap_all * circuity / drive, snap_all / (offroad_kph / 3.6)),
        off_m=np.where(far_pt, snap_all * circuity, snap_all)))
    o_idx = n_nodes + inverse[: len(orig)]
    d_idx = n_nodes + inverse[len(orig):]
    seconds, metres = _many_to_many(u, v, t, m, n_nodes + n_pts, o_idx, d_idx, chunk, progress)
    reachable = np.isfinite(seconds)
    snap_m = snap_all
    o_far, d_far = far_pt[inverse[: len(orig)]], far_pt[inverse[len(orig):]]
    estimated = o_far[:, None] | d_far[None, :]
    if estimated.any():
        # Between points the network does not reach, the straight line x circuity is the better guess
        # when it is shorter than going round by the mapped roads.
        line_m = _haversine_m(orig.geometry.x.to_numpy()[:, None], orig.geometry.y.to_numpy()[:, None],
                              dest.geometry.x.to_numpy()[None, :], dest.geometry.y.to_numpy()[None, :]) * circuity
        line_s = line_m / drive
        better = estimated & (~reachable | (line_s < seconds))
        seconds = np.where(better, line_s, seconds)
        metres = np.where(better, line_m, metres)
        reachable = reachable | estimated
    minutes = np.where(reachable, _minutes(np.where(reachable, seconds, 0)), UNREACHABLE_MIN).astype(np.int32)
    metres = np.where(reachable, np.round(np.where(reachable, metres, 0)), UNREACHABLE_M).astype(np.int64)
    return TravelMatrix(
        minutes=minutes, metres=metres, origins=orig["id"].tolist(), destinations=dest["id"].tolist(),
        method="network", vehicle=vehicle, reachable=reachable,
        origin_far=snap_m[inverse[: len(orig)]] > max_snap_m, destination_far=snap_m[inverse[len(orig):]] > max_snap_m,
        origin_snap_m=snap_m[inverse[: len(orig)]], destination_snap_m=snap_m[inverse[len(orig):]],
        notes={"offroad_kph": offroad_kph, "max_snap_m": max_snap_m, "circuity": circuity,
               "estimated_pairs": int(estimated.sum())},
    )


def _virtual_edges(router: _Router, snapped: pd.DataFrame):
    """Graph edges plus edges joining each point's virtual node to the ends of its road.

    Leaving or reaching a point costs its off-road stretch (`off_s` seconds, `off_m` metres per
    point), so a virtual node is never a shortcut. Points on the same road are also joined
    directly, along the road, in the allowed directions.
    """
    n = len(router.nodes)
    p = n + np.arange(len(snapped))
    piece = snapped["piece"].to_numpy()
    f = snapped["frac"].to_numpy()
    off_s = snapped["off_s"].to_numpy()
    off_m = snapped["off_m"].to_numpy()
    a, b, L = router.a[piece], router.b[piece], router.length[piece]
    fwd, bwd = router.fwd[piece], router.bwd[piece]
    us, vs, ts, ms = [router.u], [router.v], [router.time], [router.metres]

    def add(src, dst, sec, met):
        ok = np.isfinite(sec)  # 0 x inf (point at the end of a road it may not use) is NaN: dropped
        for out, values in ((us, src), (vs, dst), (ts, sec), (ms, met)):
            out.append(values[ok])

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
