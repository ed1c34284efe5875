"""Road graphs and travel matrices, on the real Bandar Lampung RBI roads and small generated OSM files."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from planner import network as nw
from planner.network.travel import _haversine_m as haversine_m
from tests.conftest import BL_ROADS, GOV_OFFICES


# ---- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bl_graph() -> nx.MultiDiGraph:
    return nw.graph_from_lines(gpd.read_file(BL_ROADS))


@pytest.fixture(scope="module")
def camat() -> gpd.GeoDataFrame:
    offices = gpd.read_file(GOV_OFFICES)
    offices = offices[(offices["REMARK"] == "Kantor Camat") & (offices["kode_kabkota"] == "18.71")]
    return gpd.GeoDataFrame({"id": offices["kode_kec"].astype(str) + "/" + offices["NAMOBJ"].astype(str)},
                            geometry=offices.geometry.values, crs=offices.crs).reset_index(drop=True)


def points(coords: list[tuple[float, float]], prefix: str = "p") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [f"{prefix}{i}" for i in range(len(coords))]},
                            geometry=[shapely.Point(c) for c in coords], crs=4326)


# A 4 x 3 grid of OSM nodes (about 440 m apart) near Bandar Lampung.
X0, Y0, STEP = 105.26, -5.42, 0.004
WAYS = [
    ("primary", [(0, 0), (1, 0), (2, 0), (3, 0)], {"maxspeed": "60"}),
    ("residential", [(0, 1), (1, 1), (2, 1), (3, 1)], {}),
    ("tertiary", [(0, 2), (1, 2), (2, 2), (3, 2)], {"oneway": "yes"}),
    ("secondary", [(1, 0), (1, 1), (1, 2)], {}),
    ("residential", [(2, 0), (2, 1), (2, 2)], {}),
    ("track", [(3, 0), (3, 1)], {}),
    ("footway", [(0, 0), (0, 1)], {}),
]


def node_id(i: int, j: int) -> int:
    return 1 + i * 3 + j


def write_osm(path: Path, ways=WAYS, extra: str = "") -> Path:
    """A tiny OSM XML extract: the grid nodes, the ways above and a building that must be ignored."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="planner-test">']
    for i in range(4):
        for j in range(3):
            out.append(f'<node id="{node_id(i, j)}" lat="{Y0 - j * STEP}" lon="{X0 + i * STEP}" version="1"/>')
    for k, (highway, seq, tags) in enumerate(ways):
        out.append(f'<way id="{100 + k}" version="1">')
        out += [f'<nd ref="{node_id(*c)}"/>' for c in seq]
        out += [f'<tag k="{a}" v="{b}"/>' for a, b in {"highway": highway, **tags}.items()]
        out.append("</way>")
    out.append('<way id="900" version="1"><nd ref="1"/><nd ref="2"/><nd ref="5"/><nd ref="1"/>'
               '<tag k="building" v="yes"/></way>')
    out.append(extra + "</osm>")
    path.write_text("\n".join(out), encoding="utf-8")
    return path


@pytest.fixture()
def osm_file(tmp_path) -> Path:
    return write_osm(tmp_path / "grid.osm")


def grid_point(i: float, j: float) -> tuple[float, float]:
    return (X0 + i * STEP, Y0 - j * STEP)


# ---- RBI line layer -----------------------------------------------------------------------------
def test_rbi_noding_keeps_99_percent_of_road_length(bl_graph):
    report = bl_graph.graph["report"]
    raw = gpd.read_file(BL_ROADS)
    raw_km = raw.to_crs(32748).length.sum() / 1000
    assert report["km_noded"] == pytest.approx(raw_km, rel=1e-3)  # noding splits, never loses length
    assert report["share_kept"] >= 0.99
    assert report["km_kept"] + report["km_dropped"] == pytest.approx(report["km_noded"], abs=0.01)
    assert report["components"] > 1 and report["edges_dropped"] > 0  # the drop is reported, not hidden
    assert nx.is_strongly_connected(bl_graph)
    kept = sum(d["length"] for _, _, d in bl_graph.edges(data=True)) / 2000
    assert kept == pytest.approx(report["km_kept"], rel=1e-6)
    # Noding joined roads: far more junctions than the raw line end points alone would give.
    assert report["edges_noded"] > len(raw)


def test_rbi_edges_carry_class_speeds_and_times(bl_graph):
    classes = {d["road_class"] for _, _, d in bl_graph.edges(data=True)}
    assert classes == {"Jalan Arteri", "Jalan Kolektor", "Jalan Lokal", "Jalan Lain"}
    for _, _, d in bl_graph.edges(data=True):
        van, bike = nw.SPEEDS[nw.RBI_CLASSES[d["road_class"]]]
        assert d["highway"] == nw.RBI_CLASSES[d["road_class"]]
        assert d["speed_kph_van"] == van and d["speed_kph_motorbike"] == bike
        assert d["travel_time_van"] == pytest.approx(d["length"] / (van / 3.6))
    assert bl_graph.graph["crs"] == "EPSG:4326"


def test_graph_from_lines_rejects_bad_input():
    lines = gpd.GeoDataFrame({"REMARK": ["Jalan Raya Baru"]},
                             geometry=[shapely.LineString([(105.2, -5.4), (105.21, -5.4)])], crs=4326)
    with pytest.raises(ValueError, match="unknown road classes.*Jalan Raya Baru"):
        nw.graph_from_lines(lines)
    with pytest.raises(ValueError, match="column 'kelas' not found"):
        nw.graph_from_lines(lines, "kelas")
    with pytest.raises(ValueError, match="no CRS"):
        nw.graph_from_lines(lines.set_crs(None, allow_override=True))


def test_levels_keep_a_flyover_apart_from_the_road_below():
    cross = [shapely.LineString([(105.20, -5.40), (105.22, -5.40)]),   # road
             shapely.LineString([(105.21, -5.39), (105.21, -5.41)])]   # flyover crossing it
    lines = gpd.GeoDataFrame({"REMARK": ["Jalan Lokal", "Jalan Arteri"], "level": [0, 1]}, geometry=cross, crs=4326)
    flat = nw.graph_from_lines(lines)
    assert flat.graph["report"]["components"] == 1 and flat.number_of_nodes() == 5  # joined at the crossing
    layered = nw.graph_from_lines(lines, level_column="level")
    assert layered.graph["report"]["components"] == 2  # not joined: the shorter one is dropped and reported
    assert layered.graph["report"]["km_dropped"] > 0
    # A ramp on level 1 that ends on the level-0 road does join it, in the road's middle.
    ramp = [cross[0], shapely.LineString([(105.21, -5.40), (105.21, -5.41)])]
    joined = nw.graph_from_lines(lines.set_geometry(ramp), level_column="level")
    assert joined.graph["report"]["components"] == 1 and joined.number_of_nodes() == 4


# ---- matrices on the real network ---------------------------------------------------------------
def test_kantor_camat_matrix_is_finite_and_never_beats_the_crow(bl_graph, camat):
    assert len(camat) == 20
    tm = nw.travel_matrix(camat, camat, bl_graph, "van")
    assert tm.method == "network" and tm.vehicle == "van"
    assert tm.minutes.dtype == np.int32 and tm.metres.dtype == np.int64
    assert tm.reachable.all() and not tm.origin_far.any()
    assert (np.diag(tm.minutes) == 0).all()
    off = ~np.eye(20, dtype=bool)
    assert (tm.minutes[off] >= 1).all()
    x, y = camat.geometry.x.to_numpy(), camat.geometry.y.to_numpy()
    crow = haversine_m(x[:, None], y[:, None], x[None, :], y[None, :])
    top = nw.TOP_SPEED_KPH["van"] / 3.6
    assert (tm.minutes * 60 >= crow / top).all()
    assert (tm.metres >= crow * 0.995).all()
    speed_kph = crow[off] / 1000 / (tm.minutes[off] / 60)
    assert 5 < np.median(speed_kph) < 45  # city driving, not teleporting and not walking


def test_matrix_matches_networkx_on_graph_nodes(bl_graph):
    rng = np.random.default_rng(3)
    nodes = list(rng.choice(list(bl_graph.nodes), 6, replace=False))
    pts = points([(bl_graph.nodes[n]["x"], bl_graph.nodes[n]["y"]) for n in nodes])
    for vehicle in ("van", "motorbike"):
        tm = nw.travel_matrix(pts, pts, bl_graph, vehicle)
        for i, a in enumerate(nodes):
            seconds, path = nx.single_source_dijkstra(bl_graph, a, weight=f"travel_time_{vehicle}")
            for j, b in enumerate(nodes):
                # Times are summed in whole milliseconds: only a route within a few ms of a full
                # minute could round the other way.
                near_boundary = abs(seconds[b] / 60 - round(seconds[b] / 60)) * 60 < 0.2
                assert tm.minutes[i, j] == math.ceil(seconds[b] / 60 - 1e-9) or near_boundary
                hops = zip(path[b][:-1], path[b][1:])
                metres = sum(min(bl_graph[u][v].values(), key=lambda d: d[f"travel_time_{vehicle}"])["length"]
                             for u, v in hops)
                assert abs(tm.metres[i, j] - metres) <= 1


def test_packed_weights_and_the_fallback_agree(bl_graph, camat, monkeypatch):
    packed = nw.travel_matrix(camat, camat, bl_graph, "motorbike")
    monkeypatch.setattr(nw.travel, "_PACK_BITS", 8)  # too few bits: every batch takes the predecessor-tree path
    plain = nw.travel_matrix(camat, camat, bl_graph, "motorbike")
    assert (packed.minutes == plain.minutes).all()
    assert np.abs(packed.metres - plain.metres).max() <= 1


def test_motorbike_is_never_slower_than_van_on_rbi(bl_graph, camat):
    van = nw.travel_matrix(camat, camat, bl_graph, "van")
    bike = nw.travel_matrix(camat, camat, bl_graph, "motorbike")
    assert bike.vehicle == "motorbike"
    assert (bike.minutes <= van.minutes).all()
    assert (bike.minutes < van.minutes).mean() > 0.5


def test_reversed_pass_gives_the_same_matrix(bl_graph, camat):
    # Fewer destinations than origins runs Dijkstra backwards from the destinations.
    few = camat.head(3)
    part, whole = nw.travel_matrix(camat, few, bl_graph), nw.travel_matrix(camat, camat, bl_graph)
    assert (part.minutes == whole.minutes[:, :3]).all()
    assert (part.metres == whole.metres[:, :3]).all()


def test_straight_line_fallback_is_marked(camat):
    tm = nw.travel_matrix(camat, camat.head(5), None, "motorbike", circuity=1.4)
    assert tm.method == "straight_line" and tm.minutes.shape == (20, 5)
    # One degree of latitude is about 111.2 km on the sphere.
    one = nw.travel_matrix(points([(105.0, -5.0)]), points([(105.0, -6.0)]), circuity=1.0)
    assert one.metres[0, 0] == pytest.approx(111_195, abs=5)
    assert one.minutes[0, 0] == math.ceil(111_195 / (nw.STRAIGHT_LINE_KPH["van"] / 3.6) / 60)
    assert (tm.to_long()["method"] == "straight_line").all()


def test_far_points_are_flagged(bl_graph, camat):
    sea = points([(105.30, -5.60)], "sea")  # in Lampung Bay, kilometres from any road
    snapped = nw.snap_points(bl_graph, gpd.GeoDataFrame(
        {"id": list(camat["id"][:3]) + ["sea"]}, geometry=list(camat.geometry[:3]) + list(sea.geometry), crs=4326))
    assert list(snapped["far"]) == [False, False, False, True]
    assert snapped["snap_m"].iloc[3] > 5_000
    tm = nw.travel_matrix(camat.head(2), sea, bl_graph)
    assert tm.destination_far.all() and not tm.origin_far.any()
    # beyond the network's reach a point is driven to (a partial road layer): its stretch costs the
    # straight line x circuity at the fallback speed, and the straight line wins where it is shorter
    drive_min = tm.destination_snap_m[0] * 1.3 / (nw.STRAIGHT_LINE_KPH["van"] / 3.6) / 60
    line = nw.travel_matrix(camat.head(2), sea, None)
    assert (tm.minutes == np.minimum(tm.minutes, line.minutes)).all() and tm.minutes.min() >= min(
        drive_min, line.minutes.min()) - 1
    assert tm.reachable.all() and tm.notes["estimated_pairs"] == 2


def test_bad_points_are_rejected(bl_graph, camat):
    with pytest.raises(ValueError, match="'id' column"):
        nw.travel_matrix(camat.drop(columns="id"), camat, bl_graph)
    with pytest.raises(ValueError, match="ids must be unique"):
        nw.travel_matrix(camat.assign(id="x"), camat, bl_graph)
    with pytest.raises(ValueError, match="vehicle must be one of"):
        nw.travel_matrix(camat, camat, bl_graph, "truck")


# ---- OSM files ------------------------------------------------------------------------------------
def test_osm_xml_graph_speeds_and_access(osm_file):
    G = nw.graph_from_osm_xml(osm_file)
    assert G.graph["report"]["edges_not_routable"] > 0  # the building ring is not a road
    by_class = {d["highway"]: d for _, _, d in G.edges(data=True)}
    assert by_class["primary"]["speed_kph_van"] == 40.0  # maxspeed 60 only caps, the table speed holds
    assert math.isinf(by_class["track"]["travel_time_van"]) and by_class["track"]["speed_kph_motorbike"] == 15.0
    assert math.isinf(by_class["footway"]["travel_time_van"])


def test_oneway_streets_and_dead_ends(osm_file):
    G = nw.graph_from_osm_xml(osm_file)
    # Row j=2 is one-way eastwards: P -> Q runs along it, Q -> P must go round by (2,1) and (1,1).
    pq = points([grid_point(1.2, 2), grid_point(1.8, 2)])
    tm = nw.travel_matrix(pq, pq, G)
    assert tm.metres[0, 1] == pytest.approx(0.6 * 443, abs=3)
    assert tm.metres[1, 0] == pytest.approx(0.4 * 443 + 445 + 443 + 445, abs=5)
    # (3,2) is a one-way dead end: a point there is routed from the nearest road it can also leave.
    end = points([grid_point(3, 2), grid_point(0, 0)])
    tm = nw.travel_matrix(end, end, G)
    assert tm.reachable.all() and tm.origin_snap_m[0] > 400
    assert tm.minutes.max() < nw.UNREACHABLE_MIN


def test_motorbike_takes_the_track_the_van_cannot(osm_file):
    G = nw.graph_from_osm_xml(osm_file)
    ends = points([grid_point(3, 0), grid_point(3, 1)])
    van = nw.travel_matrix(ends, ends, G, "van")
    bike = nw.travel_matrix(ends, ends, G, "motorbike")
    assert bike.metres[0, 1] == pytest.approx(445, abs=3)
    assert van.metres[0, 1] > 2.9 * bike.metres[0, 1]  # round by (2,0)-(2,1)


def test_no_two_way_connection_is_an_error(tmp_path):
    ways = [("residential", [(0, 0), (1, 0)], {"oneway": "yes"}),
            ("residential", [(1, 0), (2, 0)], {"oneway": "yes"})]
    G = nw.graph_from_osm_xml(write_osm(tmp_path / "oneway.osm", ways))
    pts = points([grid_point(0, 0), grid_point(2, 0)])
    with pytest.raises(ValueError, match="connect both ways"):
        nw.travel_matrix(pts, pts, G)


def test_minutes_round_up_and_identical_points_are_zero(osm_file):
    G = nw.graph_from_osm_xml(osm_file)
    # 100 m apart on the primary road at 40 km/h: 9 seconds, which is 1 minute, not 0.
    pts = points([grid_point(1.2, 0), grid_point(1.2 + 100 / 443, 0), grid_point(1.2, 0)])
    tm = nw.travel_matrix(pts, pts, G)
    assert tm.minutes[0, 1] == 1 and tm.metres[0, 1] == pytest.approx(100, abs=2)
    assert tm.minutes[0, 2] == 0 and tm.metres[0, 2] == 0


def test_online_builds_the_same_graph_as_offline(osm_file, monkeypatch):
    """graph_from_polygon with osmnx's Overpass request served from the same XML file."""
    from osmnx import _osm_xml, _overpass

    queries = []

    def fake_request(data):
        queries.append(data["data"])
        return _osm_xml._overpass_json_from_xml(osm_file, "utf-8")

    monkeypatch.setattr(_overpass, "_overpass_request", fake_request)
    online = nw.graph_from_polygon(shapely.box(105.25, -5.44, 105.28, -5.41))
    offline = nw.graph_from_osm_xml(osm_file)
    assert queries and '["highway"]' in queries[0] and "poly:" in queries[0]  # a real drive query was built
    assert sorted(online.nodes(data=True)) == sorted(offline.nodes(data=True))

    def edges(G):
        edges = G.edges(keys=True, data=True)
        return sorted((u, v, k, sorted((a, str(b)) for a, b in d.items())) for u, v, k, d in edges)

    assert edges(online) == edges(offline) and len(edges(online)) > 20


def test_pbf_reader_path_through_gdal(osm_file):
    G = nw.graph_from_osm_pbf(osm_file)  # GDAL's OSM driver reads XML and PBF the same way
    total = sum(d["length"] for _, _, d in G.edges(data=True)) / 2
    routable_ways_m = 3 * 3 * 443 + 2 * 2 * 445 + 445 + 445  # 3 east-west, 2 north-south, track, footway
    assert total == pytest.approx(routable_ways_m, rel=0.01)
    assert G.graph["report"]["crossings_noded"] is False
    # A .pbf name goes to the GDAL reader (GDAL recognises the content, XML here).
    renamed = osm_file.with_name("grid.osm.pbf")
    renamed.write_bytes(osm_file.read_bytes())
    assert nw.graph_from_osm_xml(renamed).number_of_edges() == G.number_of_edges()


# ---- cache ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".graphml", ".gpkg"])
def test_cache_round_trip(osm_file, tmp_path, suffix):
    centre = gpd.read_file(BL_ROADS).cx[105.24:105.28, -5.45:-5.41]  # central Bandar Lampung, for speed
    for name, G in (("osm", nw.graph_from_osm_xml(osm_file)), ("rbi", nw.graph_from_lines(centre))):
        H = nw.load_graph(nw.save_graph(G, tmp_path / f"{name}{suffix}"))
        assert H.number_of_nodes() == G.number_of_nodes() and H.number_of_edges() == G.number_of_edges()
        for attr in ("length", "travel_time_van", "travel_time_motorbike", "speed_kph_motorbike"):
            a = sorted(d[attr] for _, _, d in G.edges(data=True))
            b = sorted(float(d[attr]) for _, _, d in H.edges(data=True))
            assert np.allclose(a, b)  # inf (van on a footway) survives too
        if suffix == ".graphml":
            assert H.graph["report"] == G.graph["report"]
        pts = points(list(zip(np.linspace(105.245, 105.275, 12), np.linspace(-5.445, -5.415, 12))))
        for vehicle in ("van", "motorbike"):
            before, after = nw.travel_matrix(pts, pts, G, vehicle), nw.travel_matrix(pts, pts, H, vehicle)
            assert (before.minutes == after.minutes).all() and (before.metres == after.metres).all()


def test_cache_rejects_unknown_suffix(osm_file, tmp_path):
    with pytest.raises(ValueError, match=".graphml or .gpkg"):
        nw.save_graph(nw.graph_from_osm_xml(osm_file), tmp_path / "g.json")
    with pytest.raises(ValueError, match="graph file not found"):
        nw.load_graph(tmp_path / "missing.graphml")


# ---- command line ---------------------------------------------------------------------------------
def test_cli_build_and_matrix(osm_file, tmp_path):
    import pandas as pd
    from typer.testing import CliRunner

    from planner.cli import app

    runner = CliRunner()
    graph = tmp_path / "g.graphml"
    result = runner.invoke(app, ["network", "build", "--osm", str(osm_file), "--out", str(graph)])
    assert result.exit_code == 0, result.output
    assert nw.load_graph(graph).number_of_edges() == nw.graph_from_osm_xml(osm_file).number_of_edges()
    pts = tmp_path / "points.csv"
    pts.write_text("id,lat,lon\na,-5.42,105.26\nb,-5.424,105.272\nsea,-5.50,105.26\n")
    out = tmp_path / "m.csv"
    result = runner.invoke(app, ["network", "matrix", str(pts), "--graph", str(graph),
                                 "--vehicle", "motorbike", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert len(table) == 9 and set(table["method"]) == {"network"} and set(table["vehicle"]) == {"motorbike"}
    assert "sea" in result.output  # flagged: kilometres from any road
    result = runner.invoke(app, ["network", "matrix", str(pts), "--out", str(out)])
    assert result.exit_code == 0 and set(pd.read_csv(out)["method"]) == {"straight_line"}
    result = runner.invoke(app, ["network", "build", "--out", str(graph)])
    assert result.exit_code == 2 and "exactly one source" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("id,latitude,lon\na,-5.42,105.26\n")
    result = runner.invoke(app, ["network", "matrix", str(bad), "--out", str(out)])
    assert result.exit_code == 2 and "missing column" in result.output


def test_offline_basemap_keeps_the_roads_within_its_budget(bl_graph):
    """The map's basemap is the plan's own road graph: every class, nearly all its length, inside the
    graph's extent; a tighter budget drops local streets before main roads.
    """
    from planner.basemap import decoded, road_lines

    full = road_lines(bl_graph)
    assert set(full["road_class"]) == {"utama", "penghubung", "lokal"}
    lines = [line for group in decoded(full).values() for line in group]
    metres = sum(float(haversine_m(a[1], a[0], b[1], b[0])) for line in lines for a, b in zip(line, line[1:]))
    seen, graph_m = set(), 0.0
    for u, v, data in bl_graph.edges(data=True):
        if (min(u, v), max(u, v)) not in seen:
            seen.add((min(u, v), max(u, v)))
            graph_m += float(data["length"])
    assert 0.95 * graph_m <= metres <= 1.01 * graph_m
    xs = [n["x"] for _, n in bl_graph.nodes(data=True)]
    ys = [n["y"] for _, n in bl_graph.nodes(data=True)]
    assert all(min(ys) - 1e-4 <= lat <= max(ys) + 1e-4 and min(xs) - 1e-4 <= lon <= max(xs) + 1e-4
               for line in lines for lat, lon in line)
    budget = int(full["path"].str.len().sum()) // 4
    small = road_lines(bl_graph, budget_chars=budget)
    assert small["path"].str.len().sum() <= budget
    assert "utama" in set(small["road_class"]) and "lokal" not in set(small["road_class"])
    assert road_lines(None).empty
