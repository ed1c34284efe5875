"""Wire the stages together: scenario -> areas -> register -> geocode -> gaps -> network -> sites ->
placement -> routing -> Plan -> outputs.

Each step is a small function so the CLI, notebooks and tests can run the whole chain or stop
anywhere; no stage module imports this one.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from rich.console import Console

from planner.areas import AreaSet, load_areas
from planner.plan import Plan
from planner.scenario import Scenario


@dataclass
class Run:
    """Everything one planning run produced. `register` holds personal data: never share it."""

    scenario: Scenario
    areas: AreaSet
    register: pd.DataFrame
    gaps: pd.DataFrame
    home_visits: pd.DataFrame
    sites: gpd.GeoDataFrame
    graph: object | None
    placement: object
    routes: object
    plan: Plan
    timings: dict = field(default_factory=dict)


@contextmanager
def _step(console: Console | None, timings: dict, name: str):
    start = dt.datetime.now()
    if console is not None:
        with console.status(f"[bold]{name}[/] ..."):
            yield
    else:
        yield
    seconds = (dt.datetime.now() - start).total_seconds()
    timings[name] = round(seconds, 2)
    if console is not None:
        console.print(f"[green]✓[/] {name} [dim]({seconds:.1f} s)[/]")


# ---- stage wrappers ---------------------------------------------------------------------------
def scenario_areas(scenario: Scenario) -> AreaSet:
    a = scenario.areas
    return load_areas(scenario.resolve(a.kelurahan), scenario.resolve(a.kecamatan), code_column=a.code_column,
                      name_column=a.name_column, layer=a.layer, kecamatan_layer=a.kecamatan_layer, within=a.within)


def scenario_register(scenario: Scenario, areas: AreaSet) -> pd.DataFrame:
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


def scenario_graph(scenario: Scenario, areas: AreaSet, roads: gpd.GeoDataFrame | None = None):
    """The road graph the scenario asks for (cached to disk when `roads.cache` is set), or None."""
    from planner import network

    cfg = scenario.roads
    cache = scenario.resolve(cfg.cache)
    if roads is None and cfg.source == "none":
        return None
    if cache is not None and cache.exists():
        return network.load_graph(cache)
    if roads is not None:
        graph = network.graph_from_lines(roads)
    elif cfg.source == "lines":
        graph = network.graph_from_lines(gpd.read_file(scenario.resolve(cfg.path)))
    elif cfg.source == "osm":
        graph = network.graph_from_osm_xml(scenario.resolve(cfg.path))
    elif cfg.source == "graphml":
        graph = network.load_graph(scenario.resolve(cfg.path))
    else:
        graph = network.graph_from_polygon(areas.bounds_polygon())
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        network.save_graph(graph, cache)
    return graph


def scenario_sites(scenario: Scenario, areas: AreaSet) -> gpd.GeoDataFrame:
    """Candidate sites from the scenario's points file, plus balai sites where a kelurahan has none."""
    from planner import sites as sites_mod

    cfg = scenario.sites
    prefix = scenario.areas.within or _common_prefix(areas.kelurahan["kode"])
    empty = gpd.GeoDataFrame({c: [] for c in ("site_id", "kode_kel")}, geometry=[], crs="EPSG:4326")
    found = (sites_mod.load_sites(scenario.resolve(cfg.path), kinds=cfg.kinds, within=prefix,
                                  kelurahan=areas.kelurahan, max_days=cfg.max_days_per_site)
             if cfg.path is not None else empty)
    if cfg.fallback_balai or not len(found):
        found = sites_mod.add_fallback_sites(found, areas.kelurahan, max_days=cfg.max_days_per_site)
    return found


def _common_prefix(codes: pd.Series) -> str | None:
    kab = codes.str[:5].unique()
    return kab[0] if len(kab) == 1 else None


# ---- the whole chain --------------------------------------------------------------------------
@dataclass
class Placed:
    """The chain up to session placement: what `planner place` needs and routing starts from."""

    areas: AreaSet
    register: pd.DataFrame
    gaps: pd.DataFrame
    home_visits: pd.DataFrame
    graph: object | None
    sites: gpd.GeoDataFrame
    matrix: object
    placement: object
    timings: dict


def place_stage(scenario: Scenario, *, console: Console | None = None, areas: AreaSet | None = None,
                register: pd.DataFrame | None = None, roads: gpd.GeoDataFrame | None = None,
                sites: gpd.GeoDataFrame | None = None, state: pd.DataFrame | None = None, gazetteer=None,
                solver: str = "HIGHS") -> Placed:
    """Areas, register, geocoding, gaps, roads, sites, travel times and session placement."""
    from planner import demand, geocode, network, placement

    timings: dict = {}
    with _step(console, timings, "areas"):
        areas = areas if areas is not None else scenario_areas(scenario)
    if state is not None:
        from planner.progress import open_rows

        coded = open_rows(state)
    else:
        with _step(console, timings, "register"):
            register = register if register is not None else scenario_register(scenario, areas)
        with _step(console, timings, f"geocode {len(register):,} rows"):
            gazetteer = gazetteer if gazetteer is not None else scenario.resolve(scenario.areas.gazetteer)
            coded = geocode.geocode(register, areas, gazetteer=gazetteer, progress=console is not None)
    with _step(console, timings, "gaps"):
        gaps = demand.gaps(coded, areas, as_of=scenario.calendar.week_start, election_date=scenario.election_date)
        visits = demand.home_visits(coded, areas, seed=scenario.seed)
    with _step(console, timings, "road network"):
        graph = scenario_graph(scenario, areas, roads)
    with _step(console, timings, "sites"):
        sites = sites if sites is not None else scenario_sites(scenario, areas)
    with _step(console, timings, "travel times"):
        origins = areas.representative_points().rename(columns={"kode": "id"})[["id", "geometry"]]
        matrix = network.travel_matrix(origins, sites.rename(columns={"site_id": "id"})[["id", "geometry"]],
                                       graph=graph, vehicle="van")
    with _step(console, timings, "session placement (OR-Tools)"):
        placed = placement.place_from_scenario(scenario, gaps, sites, matrix, solver=solver)
    return Placed(areas, coded, gaps, visits, graph, sites, matrix, placed, timings)


def run(scenario: Scenario, *, console: Console | None = None, areas: AreaSet | None = None,
        register: pd.DataFrame | None = None, roads: gpd.GeoDataFrame | None = None,
        sites: gpd.GeoDataFrame | None = None, areas_ref: dict | None = None,
        state: pd.DataFrame | None = None, gazetteer=None) -> Run:
    """Run every stage for a scenario. Pre-built inputs (the demo's synthetic city) may be passed in.

    With `state` (a register state from `planner.progress`, i.e. last week's loop) the plan starts
    from the residents still unrecorded there: the rolling horizon; they are already geocoded.
    """
    from planner import network, routing

    first = place_stage(scenario, console=console, areas=areas, register=register, roads=roads, sites=sites,
                        state=state, gazetteer=gazetteer)
    areas, coded, gaps, visits, graph = first.areas, first.register, first.gaps, first.home_visits, first.graph
    sites, matrix, placed, timings = first.sites, first.matrix, first.placement, first.timings

    def matrix_fn(points: gpd.GeoDataFrame, vehicle: str):
        return network.travel_matrix(points, points, graph=graph, vehicle=vehicle)

    week_visits, later_visits = routing.weeks_home_visits(visits, scenario.units, scenario.calendar)
    with _step(console, timings, "weekly routes (OR-Tools)"):
        routes = routing.route(placed.sessions, sites, week_visits, scenario.units, scenario.calendar, matrix_fn,
                               time_limit_s=scenario.time_budget_s, seed=scenario.seed)
    if len(later_visits):
        routes.unscheduled = pd.concat([routes.unscheduled, later_visits], ignore_index=True)
    ref = areas_ref if areas_ref is not None else {
        "kelurahan": scenario.resolve(scenario.areas.kelurahan),
        "kecamatan": scenario.resolve(scenario.areas.kecamatan),
        "code_column": scenario.areas.code_column, "name_column": scenario.areas.name_column,
        "layer": scenario.areas.layer, "kecamatan_layer": scenario.areas.kecamatan_layer,
        "within": scenario.areas.within,
    }
    plan = Plan(
        name=scenario.name, week_start=scenario.calendar.week_start,
        working_dates=scenario.calendar.working_dates(), gaps=gaps, sites=sites,
        sessions=placed.sessions, assignment=placed.assignment, unserved=placed.unserved,
        schedule=routes.schedule, unscheduled=routes.unscheduled,
        units=[u.model_dump(mode="json") for u in scenario.units], areas_ref=ref,
        meta={"seed": scenario.seed, "time_budget_s": scenario.time_budget_s,
              "travel_times": matrix.method, "election_date": str(scenario.election_date or ""),
              "geocode": coded["status"].value_counts().to_dict(), "timings": timings,
              "far_from_road": _far_points(matrix)},
    )
    plan.kpis.update(register_kpis(coded))
    return Run(scenario, areas, coded, gaps, visits, sites, graph, placed, routes, plan, timings)


def register_kpis(coded: pd.DataFrame) -> dict:
    """Where the register rows ended: a plan must say how many residents it could not place."""
    status = coded["status"] if "status" in coded else pd.Series(dtype=str)
    level = coded["level"] if "level" in coded else pd.Series("", index=coded.index)
    return {
        "register_rows": int(len(coded)),
        "placed_in_kelurahan": int(((status == "matched") & (level == "kelurahan")).sum()),
        "placed_in_kecamatan_only": int(((status == "matched") & (level == "kecamatan")).sum()),
        "not_placed": int((status != "matched").sum()),
    }


def _far_points(matrix) -> list[str]:
    """Sites and kelurahan points far from any road: their travel times are guesses."""
    far = []
    for ids, flags in ((matrix.origins, getattr(matrix, "origin_far", None)),
                       (matrix.destinations, getattr(matrix, "destination_far", None))):
        if flags is not None:
            far += [str(i) for i, f in zip(ids, flags) if f]
    return sorted(set(far))


def write_outputs(result: Run, out: Path, *, offline: bool = False, with_names: bool = False) -> dict[str, Path]:
    """Write the shareable outputs: plan.json, schedule.csv/.xlsx, map.html, plan.gpkg, day sheets.

    With `with_names` the day sheets carry residents' names and RT/RW for the visiting teams
    (personal data: print them, do not share them).
    """
    from planner import maps, sheets

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "plan": result.plan.save(out / "plan.json"),
        "schedule_csv": sheets.write_schedule_csv(result.plan, out / "schedule.csv"),
        "schedule_xlsx": sheets.write_schedule_xlsx(result.plan, out / "schedule.xlsx"),
    }
    for table in ("sessions", "unserved", "unscheduled"):  # aggregates and job ids only
        path = out / f"{table}.csv"
        getattr(result.plan, table).to_csv(path, index=False)
        paths[table] = path
    m = maps.plan_map(result.plan, result.areas)
    paths["map"] = maps.save_map(m, out / "map.html", offline=offline)
    paths["gpkg"] = maps.write_geopackage(result.plan, result.areas, out / "plan.gpkg")
    sheets_dir = out / ("lembar-harian-nama" if with_names else "lembar-harian")
    paths["day_sheets"] = sheets.write_day_sheets(result.plan, sheets_dir,
                                                  register=result.register if with_names else None)[0]
    return paths


def next_monday(today: dt.date | None = None) -> dt.date:
    today = today or dt.date.today()
    return today + dt.timedelta(days=7 - today.weekday())


def demo_scenario(city, out: Path, seed: int, week_start: dt.date | None = None) -> Scenario:
    """A scenario for the synthetic city: two vans for sessions, a motorbike team for home visits."""
    depot = {"name": city.depot["name"], "lat": float(city.depot["lat"]), "lon": float(city.depot["lon"])}
    return Scenario.model_validate({
        "name": f"{city.name} (demo, fiktif)",
        "seed": seed,
        "time_budget_s": 10,
        "election_date": None,
        "areas": {"kelurahan": str(out / "areas" / "kelurahan.geojson"),
                  "kecamatan": str(out / "areas" / "kecamatan.geojson")},
        "register": {"synthetic": {"residents": max(1, len(city.register))}},
        "units": [
            {"name": "Van", "count": 2, "vehicle": "van", "capacity_per_day": 50, "depot": depot},
            {"name": "Motor", "count": 1, "vehicle": "motorbike", "sessions": False, "home_visits": True,
             "capacity_per_day": 12, "depot": depot},
        ],
        "calendar": {"week_start": week_start or next_monday(), "saturday": False},
        "base_dir": out,
    })


def run_demo(out: Path, *, seed: int = 7, size: str = "toy", console: Console | None = None,
             week_start: dt.date | None = None) -> Run:
    """Generate 'Kota Contoh' and run every stage on it; the fictional areas are written to out/areas/."""
    from planner.geocode import Gazetteer
    from planner.synth import make_city

    out = Path(out)
    start = week_start or next_monday()
    city = make_city(seed=seed, size=size, as_of=start)
    (out / "areas").mkdir(parents=True, exist_ok=True)
    city.areas.kelurahan.to_file(out / "areas" / "kelurahan.geojson", driver="GeoJSON")
    city.areas.kecamatan.to_file(out / "areas" / "kecamatan.geojson", driver="GeoJSON")
    scenario = demo_scenario(city, out.resolve(), seed, start)
    register = city.register.drop(columns=[c for c in city.register.columns if c.startswith("true_") or c == "style"])
    return run(scenario, console=console, areas=city.areas, register=register, roads=city.roads, sites=city.sites,
               gazetteer=Gazetteer.from_areas(city),
               areas_ref={"kelurahan": "areas/kelurahan.geojson", "kecamatan": "areas/kecamatan.geojson"})
