"""Travel-matrix benchmark on the real Bandar Lampung RBI road network.

`planner.network.travel_matrix` (snapping + one multi-source scipy.sparse.csgraph pass) for 50, 100, 500,
1000 and 2000 points, against networkx per-pair ``shortest_path_length`` on the same points' nearest
nodes, run until a one-minute budget is spent. Writes the `matrix` section of benchmarks/RESULTS.md.

    python benchmarks/matrix.py [--budget 60] [--sizes 50 100 500 1000 2000]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import geopandas as gpd
import networkx as nx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from planner import network as nw  # noqa: E402

from benchmarks._results import write_section  # noqa: E402

SHARED = Path(os.environ.get("PLANNER_SHARED", REPO.parent / "shared")).resolve()
GEO = SHARED / "geodata-sources"
ROADS = GEO / "big-rbi50k-lampung" / "Kota_Bandar_Lampung" / "JALAN_LN_50K.shp"
KELURAHAN = GEO / "wilayah-boundaries-lampung" / "bandar_lampung" / "bandar_lampung_kelurahan.geojson"


def sample_points(n: int, seed: int = 1) -> gpd.GeoDataFrame:
    """N random points inside the city's kelurahan (where sites and residents are), fixed seed."""
    city = gpd.read_file(KELURAHAN).to_crs(4326).union_all()
    pts = gpd.GeoSeries([city], crs=4326).sample_points(n, rng=seed).explode(index_parts=False)
    return gpd.GeoDataFrame({"id": [f"p{i}" for i in range(len(pts))]}, geometry=pts.values, crs=4326)


def time_matrix(G, pts, repeats: int) -> tuple[float, float, float]:
    """Seconds for the first call on a fresh graph (cold: includes preparing the router), median of
    the next calls (warm), and peak traced memory (MiB) of one warm call.
    """
    nw.clear_cache()
    start = time.perf_counter()
    nw.travel_matrix(pts, pts, G, "van")
    cold = time.perf_counter() - start
    warm = []
    for _ in range(repeats):
        start = time.perf_counter()
        nw.travel_matrix(pts, pts, G, "van")
        warm.append(time.perf_counter() - start)
    tracemalloc.start()
    nw.travel_matrix(pts, pts, G, "van")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return cold, statistics.median(warm), peak / 2**20


def time_networkx(G, nodes: list, budget: float) -> tuple[int, float, dict]:
    """Per-pair networkx Dijkstra over all ordered pairs until `budget` seconds are spent."""
    done, seconds = 0, {}
    start = time.perf_counter()
    for a in nodes:
        for b in nodes:
            seconds[(a, b)] = nx.shortest_path_length(G, a, b, weight="travel_time_van")
            done += 1
        if time.perf_counter() - start > budget:
            break
    return done, time.perf_counter() - start, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 500, 1000, 2000])
    parser.add_argument("--budget", type=float, default=60.0, help="seconds of networkx per size")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    G = nw.graph_from_lines(gpd.read_file(ROADS))
    build_s = time.perf_counter() - start
    report = G.graph["report"]
    rows, agree_note = [], ""
    for n in args.sizes:
        pts = sample_points(n)
        cold, warm, peak = time_matrix(G, pts, repeats=3 if n <= 1000 else 1)
        nodes = list(dict.fromkeys(nw.snap_points(G, pts, vehicle="van")["node"]))
        nx_pairs, nx_s, nx_seconds = (0, 0.0, {})
        if args.budget > 0:
            nx_pairs, nx_s, nx_seconds = time_networkx(G, nodes, args.budget)
        full = len(nodes) ** 2
        per_pair = nx_s / nx_pairs if nx_pairs else math.nan
        if nx_pairs == full:
            nx_cell = f"{nx_s:.1f} s (all {full:,} pairs)"
            speedup = f"{nx_s / warm:,.0f}x"
        elif nx_pairs:
            nx_cell = (f"stopped after {nx_s:.0f} s: {nx_pairs:,} of {full:,} pairs "
                       f"({per_pair * 1000:.1f} ms/pair; all pairs would take ~{per_pair * full / 60:.0f} min, extrapolated)")
            speedup = f"~{per_pair * full / warm:,.0f}x (extrapolated)"
        else:
            nx_cell, speedup = "not run", "-"
        rows.append(f"| {n:,} | {cold:.2f} | {warm:.2f} | {peak:,.0f} | {nx_cell} | {speedup} |")
        print(rows[-1], flush=True)
        if nx_seconds and not agree_note:
            # Same answer check: the matrix computed on the nodes themselves equals networkx's times.
            done = sorted({a for a, _ in nx_seconds})
            node_pts = gpd.GeoDataFrame({"id": [str(v) for v in done]}, crs=4326,
                                        geometry=gpd.points_from_xy([G.nodes[v]["x"] for v in done],
                                                                    [G.nodes[v]["y"] for v in done]))
            tm = nw.travel_matrix(node_pts, gpd.GeoDataFrame(
                {"id": [str(v) for v in nodes]}, crs=4326,
                geometry=gpd.points_from_xy([G.nodes[v]["x"] for v in nodes], [G.nodes[v]["y"] for v in nodes])), G)
            col = {v: j for j, v in enumerate(nodes)}
            row = {v: i for i, v in enumerate(done)}
            same = sum(tm.minutes[row[a], col[b]] == math.ceil(s / 60 - 1e-9) for (a, b), s in nx_seconds.items())
            agree_note = (f"Check: on the {len(nx_seconds):,} node pairs networkx solved at n={n}, "
                          f"`travel_matrix` minutes equal ceil(networkx seconds / 60) for {same:,} "
                          f"({same / len(nx_seconds):.1%}).")

    body = f"""Network: BIG RBI `JALAN_LN_50K` Kota Bandar Lampung, noded with `graph_from_lines`
({report['nodes_kept']:,} nodes, {report['edges_kept']:,} two-way roads, {report['km_kept']:,.0f} km kept =
{report['share_kept']:.1%} of the noded length, {report['components']} components before keeping the largest;
built in {build_s:.1f} s). Points: n random points inside the city's kelurahan (seed 1), n x n van matrix
(minutes and metres along the fastest route, snapping included).

"cold" is the first call on a graph (prepares the routing arrays and the snapping index), "warm" the median
of later calls (3 runs up to 1,000 points, 1 run at 2,000). Peak memory is Python's traced peak
(`tracemalloc`, numpy included) during one warm call. networkx: `nx.shortest_path_length(G, a, b,
weight="travel_time_van")` for every ordered pair of the points' nearest nodes, stopped once
{args.budget:.0f} s were spent; speed-up = networkx time / warm time.

| points | cold (s) | warm (s) | peak memory (MiB) | networkx per pair | speed-up |
|---:|---:|---:|---:|---|---:|
{chr(10).join(rows)}

{agree_note}
The machine is shared: 1-minute load average {load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end
of the run (on {os.cpu_count()} cores), so absolute times are pessimistic; both methods ran under the same load.
Goal (issue 4): 1000 x 1000 in <= 3 s and >= 50x faster than per-pair networkx.
Run: `python benchmarks/matrix.py` (about {len(args.sizes) * args.budget / 60 + 1:.0f} min)."""
    write_section("matrix", "Travel matrices on the Bandar Lampung RBI network (network.py)", body)
    print(body)


if __name__ == "__main__":
    main()
