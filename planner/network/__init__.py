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

from planner.network.graphs import (  # noqa: F401
    RBI_CLASSES,
    ROUTABLE,
    SPEEDS,
    STRAIGHT_LINE_KPH,
    TOP_SPEED_KPH,
    UNREACHABLE_M,
    UNREACHABLE_MIN,
    VEHICLES,
    WALK_KPH,
    add_vehicle_speeds,
    graph_from_lines,
    graph_from_osm_pbf,
    graph_from_osm_xml,
    graph_from_polygon,
    line_classes,
    load_graph,
    save_graph,
)
from planner.network.travel import TravelMatrix, clear_cache, read_points, snap_points, travel_matrix  # noqa: F401

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
    "line_classes",
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
