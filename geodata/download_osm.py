"""Download the OpenStreetMap drive network for an area set and cache it as a graph.

    python geodata/download_osm.py --areas kecamatan.geojson --out graph.graphml [--network-type drive]
    python geodata/download_osm.py --osm extract.osm[.bz2|.pbf] --out graph.graphml   # offline file

Needs internet for the first form (Overpass API, through osmnx; osmnx caches responses in ./cache).
The second form builds the same kind of graph from a file downloaded elsewhere (e.g. an extract
cut with osmium or JOSM). All the work is planner.network's.
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
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--areas", type=Path, help="polygons (kecamatan or kelurahan) whose union is downloaded")
    source.add_argument("--osm", type=Path, help="local OSM file instead of downloading")
    parser.add_argument("--out", type=Path, required=True, help="graph cache (.graphml or .gpkg)")
    parser.add_argument("--network-type", default="drive", help="osmnx network type for the download")
    args = parser.parse_args(argv)

    if args.osm:
        pbf = args.osm.name.lower().endswith(".pbf")
        G = network.graph_from_osm_pbf(args.osm) if pbf else network.graph_from_osm_xml(args.osm)
    else:
        polygon = gpd.read_file(args.areas).to_crs(4326).union_all()
        G = network.graph_from_polygon(polygon, network_type=args.network_type)
    network.save_graph(G, args.out)
    print(f"{args.out}: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} directed edges "
          f"from {G.graph['source']}")
    for key, value in G.graph.get("report", {}).items():
        print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
