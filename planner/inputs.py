"""What a scenario names, loaded: its areas, register, road graph (cached) and candidate sites.

Each loader takes the Scenario and returns the stage's input, or raises a planner error that names
the setting to fix. The pipeline calls these; so does `planner validate`, which is how validate
and plan check exactly the same things.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner.areas import AreaSet, load_areas
from planner.errors import InputError, MissingFileError, NetworkError, PlannerError
from planner.i18n import en
from planner.scenario import Scenario

#: Hosts tried (a few seconds at most) before downloading roads from OpenStreetMap.
OSM_HOSTS = (("overpass-api.de", 443), ("nominatim.openstreetmap.org", 443))


def scenario_areas(scenario: Scenario) -> AreaSet:
    """The scenario's kelurahan/desa and kecamatan polygons (checked by `areas.load_areas`)."""
    a = scenario.areas
    return load_areas(scenario.resolve(a.kelurahan), scenario.resolve(a.kecamatan), code_column=a.code_column,
                      name_column=a.name_column, layer=a.layer, kecamatan_layer=a.kecamatan_layer, within=a.within)


def scenario_register(scenario: Scenario, areas: AreaSet) -> pd.DataFrame:
    """The register file the scenario names, or a generated (fictional) register when it asks for one."""
    from planner.register import read_register

    cfg = scenario.register
    if cfg.path is not None:
        return read_register(scenario.resolve(cfg.path), mapping=cfg.columns or None)
    from planner.synth_register import make_register, residents_by_population

    synthetic = cfg.synthetic
    residents = residents_by_population(areas, synthetic.residents, scenario.resolve(synthetic.population),
                                        synthetic.population_vintage, scenario.seed)
    return make_register(areas.kelurahan, residents, seed=scenario.seed, as_of=scenario.calendar.week_start,
                         election_date=scenario.election_date)


def scenario_graph(scenario: Scenario, areas: AreaSet, roads: gpd.GeoDataFrame | None = None, notes=None):
    """The road graph the scenario asks for, or None (straight-line travel times).

    With ``roads.cache`` the graph is kept on disk beside a note of the source file it was built
    from (size and modification time): a changed roads file or a damaged cache is rebuilt, and
    `notes` (a list, if given) says so.
    """
    from planner import network

    cfg = scenario.roads
    notes = notes if notes is not None else []
    if roads is None and cfg.source == "none":
        return None
    cache = scenario.resolve(cfg.cache)
    source = scenario.resolve(cfg.path) if cfg.path is not None else None
    stamp = _stamp(cfg.source, source)
    if roads is None and cache is not None and cache.exists():
        graph = _cached(cache, stamp, notes)
        if graph is not None:
            return graph
    if roads is not None:
        graph = network.graph_from_lines(roads)
    elif cfg.source == "lines":
        lines = _read_lines(source)
        column, classes = network.line_classes(lines)
        graph = network.graph_from_lines(lines, column, classes=classes)
    elif cfg.source in ("osm", "graphml"):
        graph = _read_graph_file(source, cfg.source)
    else:
        require_internet("roads.source = \"online\"")
        graph = network.graph_from_polygon(areas.bounds_polygon())
    if cache is not None and roads is None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        network.save_graph(graph, cache)
        _stamp_path(cache).write_text(json.dumps(stamp), encoding="utf-8")
    return graph


def _read_graph_file(source: Path | None, kind: str):
    """A graph from an OSM extract or a saved GraphML/GeoPackage graph, or one clear NetworkError."""
    from planner import network

    if source is None or not source.exists():
        raise MissingFileError(source, f"roads file (roads.path, roads.source = \"{kind}\")")
    read = network.graph_from_osm_xml if kind == "osm" else network.load_graph
    try:
        return read(source)
    except PlannerError:
        raise
    except Exception as exc:  # XML, GDAL and key errors of many kinds: the file is not what it claims
        expected = "an OpenStreetMap extract (.osm, .osm.bz2, .osm.pbf)" if kind == "osm" else \
            "a graph saved by planner (.graphml or .gpkg)"
        raise NetworkError(f"roads.path {source}: cannot read it as {expected} ({type(exc).__name__}: "
                           f"{str(exc)[:200]})") from None


def _stamp(source_kind: str, source: Path | None) -> dict:
    if source is None or not source.exists():
        return {"source": source_kind, "path": str(source) if source else None}
    info = source.stat()
    return {"source": source_kind, "path": str(source), "size": info.st_size, "mtime_ns": info.st_mtime_ns}


def _stamp_path(cache: Path) -> Path:
    return cache.with_name(cache.name + ".source.json")


def _cached(cache: Path, stamp: dict, notes: list):
    """The cached graph if it was built from the same source and can be read; else None (with a note)."""
    from planner import network

    try:
        recorded = json.loads(_stamp_path(cache).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = None
    if recorded is not None and recorded != stamp:
        notes.append(en("road cache {file} was built from another version of the roads file: rebuilt", file=cache))
        return None
    try:
        return network.load_graph(cache)
    except Exception as exc:  # a damaged GraphML raises XML, key and value errors of many kinds
        notes.append(en("road cache {file} could not be read ({error}): rebuilt", file=cache,
                        error=type(exc).__name__))
        return None


def _read_lines(path: Path) -> gpd.GeoDataFrame:
    """A road line layer, or a clear error when the file is missing, empty or not a GIS file."""
    if path is None or not path.exists():
        raise MissingFileError(path, "roads file (roads.path)")
    try:
        lines = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises DataSourceError and friends for unreadable files
        raise NetworkError(f"roads.path {path}: cannot read it as a line layer ({type(exc).__name__}: "
                           f"{str(exc)[:200]}); give a Shapefile, GeoPackage or GeoJSON of road lines") from None
    if lines.empty or lines.geometry.isna().all():
        raise NetworkError(f"roads.path {path}: the layer has no road lines")
    kinds = set(lines.geometry.geom_type.dropna())
    if not kinds & {"LineString", "MultiLineString"}:
        raise NetworkError(f"roads.path {path}: expected road lines, found {sorted(kinds)} geometries")
    return lines


def require_internet(setting: str, timeout_s: float = 3.0) -> None:
    """Refuse within seconds (not after a minute of HTTP retries) when OpenStreetMap cannot be reached."""
    for host, port in OSM_HOSTS:
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                return
        except OSError:
            continue
    raise NetworkError(f"{setting} downloads roads from OpenStreetMap, but this computer cannot reach it (no "
                       "internet). Use a local file instead: roads.source = \"lines\" with a road line layer (e.g. "
                       "BIG RBI JALAN_LN_50K.shp), \"osm\" with an .osm/.pbf extract, or \"none\" for straight-line "
                       "travel times")


def scenario_sites(scenario: Scenario, areas: AreaSet) -> gpd.GeoDataFrame:
    """Candidate sites from the scenario's points file, plus balai sites where a kelurahan has none."""
    from planner import sites as sites_mod

    cfg = scenario.sites
    prefix = scenario.areas.within or _common_prefix(areas.kelurahan["kode"])
    empty = gpd.GeoDataFrame({c: [] for c in ("site_id", "kode_kel")}, geometry=[], crs="EPSG:4326")
    kinds = list(dict.fromkeys([*cfg.kinds, *(post.kind for post in scenario.posts)]))
    found = (sites_mod.load_sites(scenario.resolve(cfg.path), kinds=kinds, within=prefix,
                                  kelurahan=areas.kelurahan, max_days=cfg.max_days_per_site)
             if cfg.path is not None else empty)
    if cfg.fallback_balai or not len(found):
        found = sites_mod.add_fallback_sites(found, areas.kelurahan, max_days=cfg.max_days_per_site)
    if not len(found):
        raise InputError("sites: no candidate site in the areas; give sites.path or set sites.fallback_balai = true")
    if scenario.posts:
        from planner.posts import post_sites, with_post_hours

        found = with_post_hours(scenario, found)
        post_sites(scenario, found)  # a post kind with no site is an error naming the block
    if any(g.overnight for g in scenario.units):
        from planner.tours import lodging_sites

        for group in scenario.units:
            if group.overnight:
                lodging_sites(group, found)  # a lodging rule with no site is an error naming the group
    return found


def _common_prefix(codes: pd.Series) -> str | None:
    kab = codes.str[:5].unique()
    return kab[0] if len(kab) == 1 else None
