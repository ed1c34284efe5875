"""Build and cache a routable graph from a road line layer (BIG RBI JALAN_LN_50K or similar).

    python geodata/prepare_roads.py ROADS.shp --out graph.graphml [--areas kelurahan.geojson]
        [--class-column REMARK] [--level-column LEVEL] [--crossings/--no-crossings]

Prints the noding report (how much road length ended up in the routable component) so the
coordinator can see at once whether the layer is usable. All the work is planner.network's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner import network  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roads", type=Path, help="road line layer (shapefile, GeoPackage, GeoJSON)")
    parser.add_argument("--out", type=Path, required=True, help="graph cache (.graphml or .gpkg)")
    parser.add_argument("--areas", type=Path, help="polygons: keep only roads within 500 m of their union")
    parser.add_argument("--class-column", default="REMARK", help="road class column (RBI: REMARK)")
    parser.add_argument("--level-column", help="column of vertical levels (bridges/flyovers), if the layer has one")
    parser.add_argument("--no-crossings", action="store_true",
                        help="join lines only at shared vertices (OSM-derived layers), not where they cross")
    args = parser.parse_args(argv)

    lines = gpd.read_file(args.roads)
    if args.areas:
        shapes = gpd.read_file(args.areas)
        utm = shapes.estimate_utm_crs()
        boundary = gpd.GeoSeries([shapes.to_crs(utm).union_all().buffer(500)], crs=utm).to_crs(lines.crs).iloc[0]
        lines = lines[lines.intersects(boundary)]
    G = network.graph_from_lines(lines, args.class_column, node_crossings=not args.no_crossings,
                                 level_column=args.level_column)
    network.save_graph(G, args.out)
    print(f"{args.out}: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} directed edges")
    for key, value in G.graph["report"].items():
        print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
