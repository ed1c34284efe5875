"""The roads each unit drives: every leg of every unit-day as a path on the road graph.

Stops come from `route_stops` (home visits merged per kelurahan at its representative point, so a
leg never ends at a house). Each leg is the fastest path on the graph for the unit's vehicle,
stored in the Plan as an encoded polyline (Google's algorithm, precision 5 = ~1 m) so that
`planner map plan.json` draws roads without the graph. Without a graph, or where the two ends are
not connected, the leg is a straight chord marked ``straight_line``: the map draws it dashed.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import polyline
from scipy.spatial import cKDTree

from planner.contracts import LEG_COLUMNS
from planner.plan import schedule_frames, stationed_units

PRECISION = 5
SIMPLIFY_DEG = 5e-5  # ~5 m


def route_stops(plan, areas) -> pd.DataFrame:
    """Each unit-day's stops in order, home visits merged per kelurahan at its representative point.

    A home-visit stop sits near a resident's house; the map and GeoPackage show only how many
    visits a unit makes in a kelurahan, so consecutive visits in one kelurahan become one stop.
    Stationed units (posts) have no route: their sessions are on the map as sessions.
    """
    s = schedule_frames(plan)["schedule"]
    s = s[~s["unit"].isin(stationed_units(plan))]
    if s.empty:
        return s.assign(visits=pd.Series(dtype=int))
    reps = kelurahan_points(areas)
    rows = []
    for _, group in s.groupby(["unit", "day"], sort=True):
        group = group.sort_values("stop")
        last_kel, last = None, None
        for _, r in group.iterrows():
            if r["job_kind"] == "home_visit":
                kel = str(r["kode_kel"])
                if last is not None and last_kel == kel:
                    last["visits"] += 1
                    last["end"] = r["end"]
                    last["travel_min"] += r["travel_min"]
                    last["travel_km"] += r["travel_km"]
                    continue
                lon, lat = reps.get(kel, (r["lon"], r["lat"]))
                last = {**r.to_dict(), "lon": lon, "lat": lat, "name": "", "visits": 1}
                last_kel = kel
                rows.append(last)
            else:
                last_kel, last = None, None
                rows.append({**r.to_dict(), "visits": 0})
    out = pd.DataFrame(rows)
    out["order"] = out.groupby(["unit", "day"]).cumcount()
    return out


def kelurahan_points(areas) -> dict[str, tuple[float, float]]:
    """kode_kel -> (lon, lat) of the kelurahan's representative point (always inside it)."""
    points = areas.kelurahan.geometry.representative_point()
    return {str(k): (float(p.x), float(p.y)) for k, p in zip(areas.kelurahan["kode"], points)}


def road_legs(stops: pd.DataFrame, graph: nx.MultiDiGraph | None) -> pd.DataFrame:
    """One row per leg ``[unit, date, order, method, path]``: `order` is the stop the leg arrives at."""
    rows = []
    paths = _Paths(graph) if graph is not None and graph.number_of_nodes() else None
    for (unit, day), g in stops.groupby(["unit", "day"], sort=True):
        g = g.sort_values("order")
        vehicle = str(g["vehicle"].iloc[0])
        points = list(zip(g["lon"].astype(float), g["lat"].astype(float)))
        for k in range(1, len(points)):
            a, b = points[k - 1], points[k]
            if a == b:
                continue
            line = paths.path(a, b, vehicle) if paths is not None else None
            method = "network" if line is not None else "straight_line"
            coords = _simplified(line) if line is not None else [a, b]
            rows.append((str(unit), day.isoformat(), int(g["order"].iloc[k]), method, encode(coords)))
    return pd.DataFrame(rows, columns=LEG_COLUMNS)


def day_legs(unit: str, day, g: pd.DataFrame, paths: dict) -> list[tuple[str, list]]:
    """A unit-day's legs in order: the stored road path, or the straight chord where there is none."""
    points = g[["lon", "lat"]].to_numpy().tolist()
    return [paths.get((unit, day.isoformat(), int(g["order"].iloc[k])), ("straight_line", [points[k - 1], points[k]]))
            for k in range(1, len(points)) if points[k - 1] != points[k]]


def leg_index(legs: pd.DataFrame | None) -> dict:
    """(unit, date, order) -> (method, [(lon, lat), ...]) from the plan's encoded road paths."""
    if legs is None or legs.empty:
        return {}
    return {(str(r.unit), str(r.date), int(r.order)): (r.method, decode(r.path)) for r in legs.itertuples()}


def encode(coords) -> str:
    """(lon, lat) pairs as an encoded polyline."""
    return polyline.encode([(lat, lon) for lon, lat in coords], PRECISION)


def decode(text: str) -> list[tuple[float, float]]:
    """An encoded polyline back to (lon, lat) pairs."""
    return [(lon, lat) for lat, lon in polyline.decode(text, PRECISION)]


class _Paths:
    """Fastest paths on one graph, with each stop snapped to its nearest junction."""

    def __init__(self, graph: nx.MultiDiGraph):
        self.graph = graph
        self.nodes = list(graph.nodes)
        xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in self.nodes], dtype=float)
        self.scale = math.cos(math.radians(float(np.mean(xy[:, 1]))))  # degrees of longitude shrink
        self.tree = cKDTree(np.column_stack([xy[:, 0] * self.scale, xy[:, 1]]))

    def nearest(self, point) -> object:
        _, k = self.tree.query([point[0] * self.scale, point[1]])
        return self.nodes[int(k)]

    def path(self, a, b, vehicle: str) -> list[tuple[float, float]] | None:
        """The road path from point a to point b (stop points at both ends), or None if unconnected."""
        weight = f"travel_time_{vehicle}"
        u, v = self.nearest(a), self.nearest(b)

        def cost(x, y, d):
            best = min(float(e.get(weight, e.get("length", 1.0))) for e in d.values())
            return best if math.isfinite(best) else None  # None: the vehicle may not use this road

        try:
            nodes = nx.shortest_path(self.graph, u, v, weight=cost)
        except nx.NetworkXNoPath:
            return None
        coords = [a]
        for x, y in zip(nodes, nodes[1:]):
            coords += self._edge_coords(x, y, weight)
        coords.append(b)
        return _dedupe(coords)

    def _edge_coords(self, u, v, weight: str) -> list[tuple[float, float]]:
        data = min(self.graph[u][v].values(), key=lambda e: float(e.get(weight, e.get("length", 1.0))))
        start = (self.graph.nodes[u]["x"], self.graph.nodes[u]["y"])
        end = (self.graph.nodes[v]["x"], self.graph.nodes[v]["y"])
        geom = data.get("geometry")
        if geom is None:
            return [start, end]
        line = list(geom.coords)
        if math.dist(line[0], start) > math.dist(line[-1], start):
            line.reverse()  # stored in the other direction (one geometry serves both ways)
        return [start, *line[1:-1], end]


def _simplified(coords, tolerance_deg: float = SIMPLIFY_DEG):
    """The path with vertices closer than ~5 m to the line dropped: the same road, a lighter map."""
    from shapely.geometry import LineString

    return list(LineString(coords).simplify(tolerance_deg, preserve_topology=False).coords)


def _dedupe(coords):
    out = [coords[0]]
    for c in coords[1:]:
        if (round(c[0], 6), round(c[1], 6)) != (round(out[-1][0], 6), round(out[-1][1], 6)):
            out.append(c)
    return out
