"""The one orchestrator: scenario -> areas -> register -> geocode -> gaps -> network -> sites ->
travel times -> placement -> routing -> Plan.

`run(scenario, until=...)` fills one `Run` stage by stage and stops after any stage; the CLI, the
public API (`planner.run`) and the notebooks all call it, so a plan made in a notebook is the same
plan the CLI writes. Writing the outputs is `planner.outputs.write_outputs`. No stage module
imports this one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from rich.console import Console
from shapely.geometry import Point

from planner.areas import AreaSet
from planner.basemap import road_lines
from planner.errors import InputError
from planner.i18n import en, text
from planner.inputs import scenario_areas, scenario_graph, scenario_register, scenario_sites
from planner.legs import road_legs, route_stops
from planner.plan import Plan
from planner.posts import post_sessions, post_units
from planner.scenario import Scenario

__all__ = ["STAGES", "Run", "demo_scenario", "next_monday", "place_stage", "register_kpis", "run", "run_demo",
           "scenario_areas", "scenario_gaps", "scenario_graph", "scenario_register", "scenario_sites"]

#: The stages in order; `run(..., until=stage)` stops after that one.
STAGES = ("areas", "register", "gaps", "network", "sites", "travel", "placement", "routing", "plan")


@dataclass
class Run:
    """Everything one planning run produced, stage by stage (None for stages not run).

    `register` (the geocoded register, or the open rows of a register state) and `state` (the
    register state carried to next week) hold personal data: never share them.
    """

    scenario: Scenario
    areas: AreaSet | None = None
    register: pd.DataFrame | None = None
    state: pd.DataFrame | None = None
    state_source: Path | None = None
    gaps: pd.DataFrame | None = None
    home_visits: pd.DataFrame | None = None
    graph: object | None = None
    sites: gpd.GeoDataFrame | None = None
    matrix: object | None = None
    depot_times: dict | None = None  # session group index -> (minutes depot->site, site->depot), per site
    office_min: object | None = None  # per kelurahan: minutes to the nearest office (depot) or post
    tour_commute: dict | None = None  # touring group index -> per site: (minutes office->site, site->office)
    tour_regions: object | None = None  # (centres, sites) bool: where one touring unit's week may go
    placement: object | None = None
    routes: object | None = None
    plan: Plan | None = None
    timings: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    areas_ref: dict | None = None
    embedded_areas: bool = False  # the outputs carry the areas (a generated city has no files of its own)


@contextmanager
def _step(console: Console | None, timings: dict, name: str):
    start = dt.datetime.now()
    if console is not None:
        with console.status(f"[bold]{text(name)}[/] ..."):
            yield
    else:
        yield
    seconds = (dt.datetime.now() - start).total_seconds()
    timings[name] = round(seconds, 2)
    if console is not None:
        console.print(f"[green]✓[/] {text(name)} [dim]({seconds:.1f} s)[/]")


def run(scenario: Scenario, *, until: str = "plan", console: Console | None = None, areas: AreaSet | None = None,
        register: pd.DataFrame | None = None, roads: gpd.GeoDataFrame | None = None,
        sites: gpd.GeoDataFrame | None = None, areas_ref: dict | None = None, state: pd.DataFrame | None = None,
        state_source: Path | None = None, gazetteer=None, sessions: pd.DataFrame | None = None,
        solver: str = "HIGHS") -> Run:
    """Run the stages of a scenario up to `until`; pre-built inputs (a synthetic city) may be passed in.

    Parameters
    ----------
    scenario
        The validated scenario.
    until
        The last stage to run (one of `STAGES`).
    console
        A Rich console for progress messages (None: silent).
    areas, register, roads, sites, gazetteer
        Inputs built elsewhere (the demo's fictional city) instead of the scenario's files.
    areas_ref
        How the plan refers to its area files (default: the scenario's paths).
    state, state_source
        Last week's register state (`planner.progress`) and the file it came from: the plan starts
        from the residents still unrecorded there (they are already geocoded).
    sessions
        Session-days to route instead of running placement (`planner route --sessions`).
    solver
        Placement backend.
    """
    if until not in STAGES:
        raise InputError(f"unknown stage {until!r}; expected one of {list(STAGES)}")
    last = STAGES.index(until)
    r = Run(scenario, state_source=Path(state_source) if state_source is not None else None, areas_ref=areas_ref)
    steps = [_areas, _register, _gaps, _network, _sites, _travel, _placement, _routing, _plan]
    given = {"areas": areas, "register": register, "roads": roads, "sites": sites, "state": state,
             "gazetteer": gazetteer, "sessions": sessions, "solver": solver}
    for stage in steps[:last + 1]:
        stage(r, console, given)
    return r


# ---- the stages -------------------------------------------------------------------------------
def _areas(r: Run, console, given) -> None:
    from planner.checks import _depots

    with _step(console, r.timings, "areas"):
        r.areas = given["areas"] if given["areas"] is not None else scenario_areas(r.scenario)
    r.notes += list(getattr(r.areas, "warnings", []) or [])
    far = _depots(r.scenario, r.areas, "scenario")
    if far:
        raise InputError("; ".join(f"{p.key}: {p.message}" for p in far))


def _register(r: Run, console, given) -> None:
    from planner import geocode, progress

    if given["state"] is not None:
        r.state = progress.check_state(given["state"])
        r.register = progress.open_rows(r.state)
        return
    with _step(console, r.timings, "register"):
        register = given["register"] if given["register"] is not None else scenario_register(r.scenario, r.areas)
    report = register.attrs.get("import_report")
    if report is not None:
        r.notes += report.messages()
    with _step(console, r.timings, en("geocode {n} rows", n=len(register))):
        gazetteer = given["gazetteer"] if given["gazetteer"] is not None else r.scenario.resolve(
            r.scenario.areas.gazetteer)
        r.register = geocode.geocode(register, r.areas, gazetteer=gazetteer, progress=console is not None)
    r.register.attrs["import_report"] = report
    r.notes += r.register.attrs.get("warnings", [])
    r.state = progress.initial_state(r.register)


def _gaps(r: Run, console, given) -> None:
    from planner import demand

    with _step(console, r.timings, "gaps"):
        r.gaps = demand.gaps(r.register, r.areas, as_of=r.scenario.calendar.week_start,
                             election_date=r.scenario.election_date)
        r.home_visits = demand.home_visits(r.register, r.areas, seed=r.scenario.seed)


def _network(r: Run, console, given) -> None:
    with _step(console, r.timings, "road network"):
        r.graph = scenario_graph(r.scenario, r.areas, given["roads"], notes=r.notes)


def _sites(r: Run, console, given) -> None:
    with _step(console, r.timings, "sites"):
        r.sites = given["sites"] if given["sites"] is not None else scenario_sites(r.scenario, r.areas)


def _travel(r: Run, console, given) -> None:
    from planner import network

    detour = r.scenario.roads.detour
    with _step(console, r.timings, "travel times"):
        origins = r.areas.representative_points().rename(columns={"kode": "id"})[["id", "geometry"]]
        targets = r.sites.rename(columns={"site_id": "id"})[["id", "geometry"]]
        r.matrix = network.travel_matrix(origins, targets, graph=r.graph, vehicle="van", circuity=detour)
        r.depot_times, r.tour_commute, depots = {}, {}, []
        for g, group in enumerate(r.scenario.units):
            depot = gpd.GeoDataFrame({"id": [f"depot-{g}"]}, geometry=[Point(group.depot.lon, group.depot.lat)],
                                     crs="EPSG:4326")
            depots.append(depot)
            if group.sessions:
                out = network.travel_matrix(depot, targets, graph=r.graph, vehicle=group.vehicle, circuity=detour)
                back = network.travel_matrix(targets, depot, graph=r.graph, vehicle=group.vehicle, circuity=detour)
                r.depot_times[g] = (_minutes_or_inf(out)[0], _minutes_or_inf(back)[:, 0])
                if group.overnight:
                    r.tour_commute[g] = r.depot_times[g]  # (out, back) from the office, before the lodgings
                    r.depot_times[g] = _tour_reach(r, group, depot, targets, *r.depot_times[g])
        r.office_min = _office_minutes(r, origins, depots, detour)
        touring = [g for g in r.scenario.units if g.sessions and g.overnight]
        if touring:
            from planner import tours

            between = _minutes_or_inf(network.travel_matrix(targets, targets, graph=r.graph,
                                                            vehicle=touring[0].vehicle, circuity=detour))
            r.tour_regions = tours.regions(between, r.scenario.calendar, r.scenario.placement.min_session_min)


def _placement(r: Run, console, given) -> None:
    from planner import placement

    if given["sessions"] is not None:
        r.placement = placement.given_sessions(given["sessions"], r.sites)
        return
    posts = post_sessions(r.scenario, r.sites) if r.scenario.posts else None
    if given.get("fixed") is not None:
        posts = given["fixed"]  # the posts and a touring team's laid-out week (_tour_days)
    with _step(console, r.timings, "session placement (OR-Tools)"):
        r.placement = placement.place_from_scenario(r.scenario, r.gaps, r.sites, r.matrix, solver=given["solver"],
                                                    depot_times=r.depot_times, posts=posts, office_min=r.office_min,
                                                    tour_commute=r.tour_commute, regions=r.tour_regions,
                                                    held_back=given.get("held_back"), only_at=given.get("only_at"))
    note = r.placement.note()
    if note:
        r.notes.append(note)


def _routing(r: Run, console, given) -> None:
    _route_week(r, console, given)
    _tour_days(r, console, given)


def _route_week(r: Run, console, given) -> None:
    from planner import network, routing

    graph = r.graph

    def matrix_fn(points: gpd.GeoDataFrame, vehicle: str):
        return network.travel_matrix(points, points, graph=graph, vehicle=vehicle, circuity=r.scenario.roads.detour)

    week_visits, later_visits = routing.weeks_home_visits(r.home_visits, r.scenario.units, r.scenario.calendar,
                                                          reachable=_visits_in_reach(r))
    engine = {"best": "OR-Tools + PyVRP", "ortools": "OR-Tools", "pyvrp": "PyVRP"}[r.scenario.routing.engine]
    with _step(console, r.timings, f"weekly routes ({engine})"):
        r.routes = routing.route(r.placement.sessions, r.sites, week_visits, routing_units(r.scenario, r.sites),
                                 r.scenario.calendar, matrix_fn, time_limit_s=r.scenario.time_budget_s,
                                 seed=r.scenario.seed, engine=r.scenario.routing.engine,
                                 min_session_min=r.scenario.placement.min_session_min)
    if len(later_visits):
        r.routes.unscheduled = pd.concat([r.routes.unscheduled, later_visits], ignore_index=True)
    if not r.routes.stats.get("reproducible", True):
        r.notes.append(en("the search budget cut a routing run short: a larger time_budget_s gives a plan that "
                          "does not depend on machine speed"))


def _tour_days(r: Run, console, given) -> None:
    """Fix the touring teams' week to what routing laid out, and place the days it left around it.

    Placement counts a touring team's unit-days as session-days; a tour also needs days of driving
    (out to the far desa, home at the end, between desa far apart), which only routing sees. When
    routing could not lay out more than 5% of a touring group's session-days, the sessions it did
    lay out are kept as fixed session-days (like posts) and the days it left are offered again,
    but only at sites near the tour (`_near_tour`), where a team already there can hold them; after
    one such round whatever still does not fit is held back, and the rest of the week is placed
    around the tours. Residents of the dropped sessions go to other units or are reported unserved.
    """
    touring = {g.name for g in r.scenario.units if g.overnight}
    if not touring or given["sessions"] is not None or r.placement is None:
        return
    from planner.routing.problem import unit_names

    first = dropped = _dropped_tour_days(r, touring)
    touring_units = {unit for unit, group in unit_names(r.scenario.units) if group.overnight}
    posts = post_sessions(r.scenario, r.sites) if r.scenario.posts else None
    start = (r.placement, r.routes)
    for near_only in (True, False):
        placed = r.placement.sessions
        planned = int(placed.loc[placed["unit_group"].isin(touring), "session_days"].sum()) if len(placed) else 0
        if not dropped or sum(dropped.values()) <= 0.05 * max(planned, 1):
            break
        done = r.routes.schedule
        mine = done[(done["job_kind"] == "session") & done["unit"].isin(touring_units)] if len(done) else done
        days = mine.drop_duplicates("job_id").groupby("site_id").size() if len(mine) else pd.Series(dtype=int)
        tour = placed[placed["unit_group"].isin(touring) & placed["site_id"].isin(days.index)].copy()
        tour["capacity"] = tour["capacity"] * tour["site_id"].map(days) / tour["session_days"]
        tour["session_days"] = tour["site_id"].map(days).astype(int)
        fixed = tour[["site_id", "unit_group", "session_days", "capacity"]]
        fixed = pd.concat([posts, fixed]) if posts is not None else fixed
        laid_out = tour.groupby("unit_group")["session_days"].sum().to_dict()
        if near_only:
            held = {name: int(laid_out.get(name, 0)) for name in touring}
            only_at = {name: _near_tour(r, tour.loc[tour["unit_group"] == name, "site_id"]) for name in touring}
        else:
            held = {g.name: g.count * len(r.scenario.calendar.working_dates()) for g in r.scenario.units if g.overnight}
            only_at = None
        given = dict(given, held_back=held, fixed=fixed, only_at=only_at)
        _placement(r, console, given)
        _route_week(r, console, given)
        dropped = _dropped_tour_days(r, touring)
    if r.routes is start[1]:
        return
    if _recorded(r.routes) < 0.98 * _recorded(start[1]):
        r.placement, r.routes = start  # the later rounds did worse: keep the first, with its gaps
        return
    r.notes.append(en("touring teams spend days on the road: {days}; their residents were placed again around "
                      "the tours routing found", days=", ".join(
                          en("{group} {n} session-day(s) could not be laid out", group=g, n=d)
                          for g, d in sorted(first.items()))))


def _near_tour(r: Run, tour_sites: pd.Series) -> np.ndarray:
    """Per site: whether a team on this tour can reach it from one of the tour's sites and still hold a
    touring session (half the drive a working day leaves beside the shortest touring session).
    """
    from planner import network, tours

    at = r.sites["site_id"].astype(str).isin(set(tour_sites.astype(str))).to_numpy()
    if not at.any():
        return np.zeros(len(r.sites), dtype=bool)
    points = r.sites.rename(columns={"site_id": "id"})[["id", "geometry"]]
    minutes = _minutes_or_inf(network.travel_matrix(points[at], points, graph=r.graph, vehicle="van",
                                                    circuity=r.scenario.roads.detour))
    cal = r.scenario.calendar
    shape = tours.tour_shape(cal, cal.day_start, cal.day_end, r.scenario.placement.min_session_min)
    radius = (tours.day_span(cal) - (shape.minutes if shape else 0)) / 2
    return (minutes <= radius).any(axis=0)


def _visits_in_reach(r: Run) -> np.ndarray | None:
    """Per home visit: whether some home-visit team can drive out, visit and be back in a working day."""
    from planner import network
    from planner.tours import day_span

    visits, teams = r.home_visits, [g for g in r.scenario.units if g.home_visits]
    if visits is None or not len(visits) or not teams:
        return None
    points = gpd.GeoDataFrame({"id": visits["visit_id"].astype(str).to_numpy()},
                              geometry=gpd.points_from_xy(visits["lon"], visits["lat"]), crs="EPSG:4326")
    budget = day_span(r.scenario.calendar) - r.scenario.calendar.home_visit_minutes
    ok = np.zeros(len(visits), dtype=bool)
    for group in teams:
        depot = gpd.GeoDataFrame({"id": ["depot"]}, geometry=[Point(group.depot.lon, group.depot.lat)],
                                 crs="EPSG:4326")
        kw = {"graph": r.graph, "vehicle": group.vehicle, "circuity": r.scenario.roads.detour}
        out = _minutes_or_inf(network.travel_matrix(depot, points, **kw))[0]
        back = _minutes_or_inf(network.travel_matrix(points, depot, **kw))[:, 0]
        ok |= out + back <= budget
    return ok


def _recorded(routes) -> float:
    s = routes.schedule
    return float(s.loc[s["job_kind"] == "session", "expected_recordings"].sum()) if len(s) else 0.0


def _dropped_tour_days(r: Run, touring: set) -> dict:
    """Session-days per touring group that routing left out for want of room."""
    from planner.routing.render import FULL_WEEK

    left = r.routes.unscheduled
    if not len(left):
        return {}
    left = left[(left["job_kind"] == "session") & (left["reason"] == FULL_WEEK)]
    group = r.placement.sessions.drop_duplicates("site_id").set_index("site_id")["unit_group"]
    days = left["site_id"].map(group)
    days = days[days.isin(touring)]
    return days.value_counts().to_dict()


def _plan(r: Run, console, given) -> None:
    from planner.forecast import election_outlook, week_blangko

    s = r.scenario
    ref = r.areas_ref if r.areas_ref is not None else {
        "kelurahan": s.resolve(s.areas.kelurahan), "kecamatan": s.resolve(s.areas.kecamatan),
        "code_column": s.areas.code_column, "name_column": s.areas.name_column, "layer": s.areas.layer,
        "kecamatan_layer": s.areas.kecamatan_layer, "within": s.areas.within,
    }
    stats = r.routes.stats
    report = r.register.attrs.get("import_report") if r.register is not None else None
    meta = {"seed": s.seed, "time_budget_s": s.time_budget_s, "travel_times": r.matrix.method,
            "election_date": str(s.election_date or ""),
            "geocode": r.register["status"].value_counts().to_dict(), "timings": r.timings,
            "far_from_road": _far_points(r.matrix),
            "placement": {"status": r.placement.status, "cut": bool(r.placement.summary.get("cut", False))},
            "routing": {k: stats.get(k) for k in ("engine", "chosen", "reproducible", "reproducible_why", "cut")},
            "register": {"fingerprint": register_fingerprint(r.state), "from_state": r.state_source is not None
                         or given["state"] is not None,
                         "import": report.to_dict() if report is not None else None},
            "notes": list(r.notes)}
    outlook = election_outlook(s, r.gaps, travel=r)
    if outlook is not None:
        meta["election"] = outlook
    blangko = week_blangko(s, r.placement.sessions, r.routes.schedule)
    if blangko is not None:
        meta["blangko"] = blangko
    r.plan = Plan(name=s.name, week_start=s.calendar.week_start, working_dates=s.calendar.working_dates(),
                  gaps=r.gaps, sites=r.sites, sessions=r.placement.sessions, assignment=r.placement.assignment,
                  unserved=r.placement.unserved, schedule=r.routes.schedule, unscheduled=r.routes.unscheduled,
                  units=[u.model_dump(mode="json") for u in routing_units(s, r.sites)], areas_ref=ref, meta=meta)
    r.plan.kpis.update(register_kpis(r.register))
    with _step(console, r.timings, "road paths of the routes"):
        r.plan.legs = road_legs(route_stops(r.plan, r.areas), r.graph)
        r.plan.basemap = road_lines(r.graph)


# ---- helpers ------------------------------------------------------------------------------------
def routing_units(scenario: Scenario, sites: gpd.GeoDataFrame) -> list:
    """The scenario's unit groups and one unit per post: everyone routing schedules."""
    return [*scenario.units, *post_units(scenario, sites)] if scenario.posts else list(scenario.units)


def _tour_reach(r: Run, group, depot, targets, out, back) -> tuple[np.ndarray, np.ndarray]:
    """(minutes in, minutes out) per site for a touring group: from the office or a lodging (tours.tour_times)."""
    from planner import network, tours

    lodge = tours.lodging_sites(group, r.sites).rename(columns={"site_id": "id"})[["id", "geometry"]]
    detour = r.scenario.roads.detour

    def minutes(a, b):
        return _minutes_or_inf(network.travel_matrix(a, b, graph=r.graph, vehicle=group.vehicle, circuity=detour))

    same = lodge["id"].astype(str).to_numpy()[:, None] == targets["id"].astype(str).to_numpy()[None, :]
    return tours.tour_times(out, back, minutes(depot, lodge)[0], minutes(lodge, targets), minutes(targets, lodge),
                            tours.day_span(r.scenario.calendar), same)


def _minutes_or_inf(matrix) -> np.ndarray:
    minutes = np.asarray(matrix.minutes, dtype=float)
    return np.where(matrix.reachable, minutes, np.inf) if matrix.reachable is not None else minutes


def _office_minutes(r: Run, origins: gpd.GeoDataFrame, depots: list, detour: float) -> np.ndarray:
    """Minutes from each kelurahan (gaps order) to its nearest office (a depot) or post site."""
    from planner import network

    columns = []
    if depots:
        points = pd.concat(depots, ignore_index=True)
        columns.append(_minutes_or_inf(network.travel_matrix(origins, points, graph=r.graph, vehicle="van",
                                                             circuity=detour)))
    if r.scenario.posts:
        kinds = {p.kind for p in r.scenario.posts}
        at = r.sites["kind"].isin(kinds).to_numpy()
        columns.append(_minutes_or_inf(r.matrix)[:, at])
    if not columns:
        return np.zeros(len(origins))
    nearest = pd.Series(np.hstack(columns).min(axis=1), index=origins["id"].astype(str))
    return nearest.reindex(r.gaps["kode_kel"].astype(str)).to_numpy() if r.gaps is not None else nearest.to_numpy()


def place_stage(scenario: Scenario, **kwargs) -> Run:
    """`run` up to session placement: what `planner place` needs and routing starts from."""
    return run(scenario, until="placement", **kwargs)


def scenario_gaps(scenario: Scenario, state: pd.DataFrame | None = None) -> tuple[pd.DataFrame, AreaSet]:
    """Gaps per kelurahan for a scenario (its register geocoded, or a register state), and the AreaSet."""
    r = run(scenario, until="gaps", state=state)
    return r.gaps, r.areas


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


def register_fingerprint(state: pd.DataFrame | None) -> str:
    """A short hash of a register's (row, NIK) pairs: which register a plan was made from.

    The same register keeps its fingerprint week after week (the loop only relabels rows), so named
    day sheets can refuse a register that is not the one the plan used. A hash of the whole list
    reveals no single NIK.
    """
    if state is None or not len(state):
        return ""
    text = "\n".join(f"{r}:{n}" for r, n in zip(state["row"].astype(str), state["nik"].astype(str)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _far_points(matrix) -> list[str]:
    """Sites and kelurahan points far from any road: their travel times are guesses."""
    far = []
    for ids, flags in ((matrix.origins, getattr(matrix, "origin_far", None)),
                       (matrix.destinations, getattr(matrix, "destination_far", None))):
        if flags is not None:
            far += [str(i) for i, f in zip(ids, flags) if f]
    return sorted(set(far))


def next_monday(today: dt.date | None = None) -> dt.date:
    """The Monday after `today` (default: the real today): the week a new plan is for."""
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
    """Generate 'Kota Contoh' and run every stage on it (its areas go to OUT/areas/ with the outputs)."""
    from planner.geocode import Gazetteer
    from planner.synth import make_city

    out = Path(out)
    start = week_start or next_monday()
    city = make_city(seed=seed, size=size, as_of=start)
    scenario = demo_scenario(city, out.resolve(), seed, start)
    register = city.register.drop(columns=[c for c in city.register.columns if c.startswith("true_") or c == "style"])
    result = run(scenario, console=console, areas=city.areas, register=register, roads=city.roads, sites=city.sites,
                 gazetteer=Gazetteer.from_areas(city),
                 areas_ref={"kelurahan": "areas/kelurahan.geojson", "kecamatan": "areas/kecamatan.geojson"})
    result.embedded_areas = True  # write_outputs puts the fictional areas in OUT/areas/
    return result
