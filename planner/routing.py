"""Weekly itineraries for the mobile units: one OR-Tools routing model for the whole week.

`route` turns placement's session-days and the home-visit list into each unit's day-by-day
itinerary (which site on which day, the order of home visits, when the unit leaves and returns) and
lists what could not fit, with the reason. `check_schedule` re-checks a schedule against the
calendar and the sites without OR-Tools, so tests (and users) need not trust the solver.
The search settings (`SEARCH_CONFIGS`) are shared with benchmarks/vrptw.py, where they were chosen.

Formulation (chosen for simplicity, then checked on Bandar Lampung):
- one vehicle per unit per working day, depot to depot inside the working hours; holidays simply
  have no vehicle. Time runs over the whole week (minutes after `week_start` 00:00), so a job's
  allowed start times are the union, over the days its site is open, of its opening hours, written
  as holes in the cumul variable's domain; one time dimension serves every day and vehicle kind;
- the Friday prayer break is cut out of those domains rather than modelled as vehicle breaks: a job
  may not overlap it, except a full-day session, which may contain it whole (the team pauses and
  stays). A vehicle break cannot express "inside this one visit" without per-vehicle durations;
- every job is optional (a disjunction with a penalty far above any week of travel), so the model
  is always feasible and what does not fit is reported, never silently dropped.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2
from shapely.geometry import Point

from planner.contracts import require_columns, session_job_id
from planner.scenario import HHMM, CalendarConfig, UnitGroup, hhmm_to_minutes

FSS = routing_enums_pb2.FirstSolutionStrategy
LSM = routing_enums_pb2.LocalSearchMetaheuristic


@dataclass(frozen=True)
class SearchConfig:
    """OR-Tools search settings; `tuned` was chosen by measurement (benchmarks/vrptw.py)."""

    first_solution: str = "PATH_CHEAPEST_ARC"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    neighbors_ratio: float = 1.0
    min_neighbors: int = 1
    gls_lambda: float = 0.1
    extra: dict = field(default_factory=dict)

    def describe(self) -> str:
        text = f"{self.first_solution} + {self.metaheuristic}"
        if self.neighbors_ratio < 1:
            text += f", LS neighbours {self.neighbors_ratio:g} (min {self.min_neighbors})"
        if self.gls_lambda != 0.1:
            text += f", GLS lambda {self.gls_lambda:g}"
        if self.extra == _NO_PATH_LNS:
            text += ", path LNS off"
        elif self.extra:
            text += ", " + ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in self.extra.items())
        return text


# OR-Tools' heuristic path-LNS operators (unperform a whole route and re-insert it) are on by default;
# with every customer mandatory they rarely improve and slow each guided-local-search step.
_NO_PATH_LNS = {f"local_search_operators.{name}": optional_boolean_pb2.BOOL_FALSE for name in (
    "use_global_cheapest_insertion_path_lns", "use_local_cheapest_insertion_path_lns",
    "use_relocate_path_global_cheapest_insertion_insert_unperformed")}

# Chosen by measurement (benchmarks/vrptw.py; full tables in benchmarks/RESULTS.md, section vrptw).
# First round, 7 hard Solomon instances at 10 s: PARALLEL_CHEAPEST_INSERTION + GLS 4.5% mean gap;
# SAVINGS + GLS 5.5%; LOCAL_CHEAPEST_INSERTION + GLS 7.3%; GLS lambda 0.3 6.4%; neighbour lists 23.6%.
# The default (PATH_CHEAPEST_ARC) finds no solution within the fleet on R101, RC101, RC105.
# Second round, 10 hard instances (R105 R108 R110 R205 R211 RC103 RC107 RC204 RC208 C104), 10 s on an
# idle core: PCI + GLS 5.6%; the same without path LNS 3.6%; SAVINGS without path LNS 2.7%; LCI
# without path LNS 4.3%; multi-armed-bandit operator order 4.6%; GLS lambda 0.05/0.2 6.5%/5.3%;
# penalty reset 7.3%. Single runs vary by several % per instance, which a portfolio turns into gain:
# the best of (tuned, tuned_savings) was 2.3% on the same ten. OR-Tools 9.15's iterated local search
# (ruin and recreate) did not engage from Python here (the search ends at the first local optimum).
SEARCH_CONFIGS = {
    "default": SearchConfig(),
    "tuned": SearchConfig(first_solution="PARALLEL_CHEAPEST_INSERTION", extra=_NO_PATH_LNS),
    "tuned_savings": SearchConfig(first_solution="SAVINGS", extra=_NO_PATH_LNS),
    "pci_gls": SearchConfig(first_solution="PARALLEL_CHEAPEST_INSERTION"),
    "pci_descent": SearchConfig(first_solution="PARALLEL_CHEAPEST_INSERTION", metaheuristic="GREEDY_DESCENT"),
    "lci_descent": SearchConfig(first_solution="LOCAL_CHEAPEST_INSERTION", metaheuristic="GREEDY_DESCENT"),
    "pca_descent": SearchConfig(first_solution="PATH_CHEAPEST_ARC", metaheuristic="GREEDY_DESCENT"),
    "sav_descent": SearchConfig(first_solution="SAVINGS", metaheuristic="GREEDY_DESCENT"),
}
# Independent searches run side by side (one process each), best kept: for a plain VRPTW with a
# fixed wall-clock budget on a multi-core machine. See `run_portfolio`.
VRPTW_PORTFOLIO = ("tuned", "tuned_savings")


def search_parameters(config: str | SearchConfig, time_limit_s: float):
    """RoutingSearchParameters for a named or explicit SearchConfig and a time budget."""
    if isinstance(config, str):
        if config not in SEARCH_CONFIGS:
            raise ValueError(f"unknown search config '{config}'; expected one of {sorted(SEARCH_CONFIGS)}")
        config = SEARCH_CONFIGS[config]
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(FSS, config.first_solution)
    params.local_search_metaheuristic = getattr(LSM, config.metaheuristic)
    params.ls_operator_neighbors_ratio = config.neighbors_ratio
    params.ls_operator_min_neighbors = config.min_neighbors
    params.guided_local_search_lambda_coefficient = config.gls_lambda
    for key, value in config.extra.items():
        target = params
        *path, last = key.split(".")
        for part in path:
            target = getattr(target, part)
        setattr(target, last, value)
    params.time_limit.FromMilliseconds(int(time_limit_s * 1000))
    return params


def run_portfolio(solve, configs, time_limit_s: float, score, *, pool=None, workers: int | None = None):
    """Run ``solve(config, seconds)`` for every config in its own process; return (best config, results).

    Why: single OR-Tools searches from different first solutions end several % apart on one instance
    (benchmarks/vrptw.py), and on a machine with k cores k independent searches cost no extra wall
    clock. With fewer cores than configs each search gets a share of the budget, so the whole call
    stays within ``time_limit_s`` (plus model building). ``solve`` must be picklable (a module-level
    function or a functools.partial of one); ``score(result)`` is lower-is-better (inf: no solution).
    Pass a ``pool`` (a ProcessPoolExecutor of ``workers`` processes) to reuse warm workers across calls.
    """
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    configs = list(configs)
    own = pool is None
    if own:
        workers = workers or min(len(configs), os.cpu_count() or 1)
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    elif workers is None:
        raise ValueError("run_portfolio: give `workers` (the pool's size) along with `pool`")
    seconds = time_limit_s * min(1.0, workers / len(configs))
    try:
        results = [f.result() for f in [pool.submit(solve, c, seconds) for c in configs]]
    finally:
        if own:
            pool.shutdown()
    best = min(range(len(configs)), key=lambda k: score(results[k]))
    return configs[best], results


# ---- the weekly model -------------------------------------------------------------------------
SCHEDULE_COLUMNS = ["unit", "vehicle", "date", "stop", "job_id", "job_kind", "site_id", "name", "kode_kel",
                    "kode_kec", "lon", "lat", "arrival", "start", "end", "travel_min", "travel_km",
                    "expected_recordings"]
UNSCHEDULED_COLUMNS = ["job_id", "job_kind", "site_id", "kode_kel", "reason"]
DAY = 1440  # minutes; times inside the model are minutes after week_start 00:00
SESSION_PENALTY = 1_000_000  # dropping a session-day must cost more than any week of travel
VISIT_PENALTY = 200_000
# Greedy descents from these first solutions, best kept: deterministic, and as good as a long guided
# local search on the weekly model (see the docstring of `route`).
WEEKLY_PORTFOLIO = ("pci_descent", "lci_descent", "sav_descent")


@dataclass
class Routes:
    """Each unit's itinerary (`schedule`, one row per unit-day-stop) and the jobs left out, with why."""

    schedule: pd.DataFrame
    unscheduled: pd.DataFrame
    status: str = ""
    objective: int = 0
    stats: dict = field(default_factory=dict)


@dataclass
class _Job:
    job_id: str
    kind: str  # session | home_visit
    point: int  # row in the points table / matrices
    service: int  # minutes the unit is occupied (a Friday full session includes the break)
    windows: list  # allowed start times [(a, b)] in week minutes
    vehicles: list  # vehicles allowed
    penalty: int
    expected: float
    site_id: str | None
    name: str
    kode_kel: str | None
    kode_kec: str | None
    lon: float
    lat: float
    pausable: bool = False
    reason: str = ""


@dataclass
class _Vehicle:
    unit: str
    kind: str
    date: dt.date
    day: int  # days after week_start
    depot: int  # row in the points table
    depot_name: str
    group: UnitGroup


def session_minutes(calendar: CalendarConfig, open_from: str = "00:00", open_to: str = "23:59",
                    travel_reserve_min: int = 60) -> int:
    """Length of one session at a site: the site's hours within the working day, less a travel reserve.

    A full session keeps `travel_reserve_min` of the day for the trips out and back; a half session is
    half of what is left after two reserves (there is a trip between the two sites of the day).
    """
    lo = max(hhmm_to_minutes(calendar.day_start), hhmm_to_minutes(open_from))
    hi = min(hhmm_to_minutes(calendar.day_end), hhmm_to_minutes(open_to))
    if calendar.session == "full":
        return hi - lo - travel_reserve_min
    return (hi - lo - 2 * travel_reserve_min) // 2


def _friday_break(calendar: CalendarConfig) -> tuple[int, int] | None:
    if calendar.friday_break is None:
        return None
    return hhmm_to_minutes(calendar.friday_break[0]), hhmm_to_minutes(calendar.friday_break[1])


def _day_windows(date: dt.date, lo: int, hi: int, duration: int, pausable: bool,
                 fbreak: tuple[int, int] | None) -> list[tuple[int, int]]:
    """Allowed start minutes (of that day) for a job of `duration` in [lo, hi], around the Friday break.

    A job may not overlap the break; a pausable one (a full-day session) may instead contain it whole:
    work stops for prayers and resumes after, so the unit stays at the site.
    """
    last = hi - duration
    if last < lo:
        return []
    if fbreak is None or date.weekday() != 4:
        return [(lo, last)]
    bs, be = fbreak
    bad = [(bs - duration + 1, be - 1)]  # would overlap the break
    if pausable:
        # starting in the break, or ending inside it, is not allowed; spanning it whole is
        bad = [(bs, be - 1), (bs - duration + 1, be - duration)]
    allowed = [(lo, last)]
    for a, b in bad:
        nxt = []
        for x, y in allowed:
            if b < x or a > y:
                nxt.append((x, y))
                continue
            if x <= a - 1:
                nxt.append((x, a - 1))
            if b + 1 <= y:
                nxt.append((b + 1, y))
        allowed = nxt
    return allowed


def _unit_names(units: list[UnitGroup]) -> list[tuple[str, UnitGroup]]:
    names = []
    for group in units:
        for i in range(group.count):
            names.append((group.name if group.count == 1 else f"{group.name} {i + 1}", group))
    seen = [n for n, _ in names]
    dup = sorted({n for n in seen if seen.count(n) > 1})
    if dup:
        raise ValueError(f"unit names {dup} are not unique; give each [[units]] group its own 'name'")
    return names


def _session_jobs(sessions, sites, calendar, travel_reserve_min, fbreak, dates, vehicles, points):
    jobs = []
    if sessions is None or len(sessions) == 0:
        return jobs
    require_columns(sessions, ["site_id", "session_days"], "sessions")
    require_columns(sites, ["site_id", "name", "open_days", "open_from", "open_to", "geometry"], "sites")
    by_id = sites.set_index(sites["site_id"].astype(str))
    unknown = sorted(set(sessions["site_id"].astype(str)) - set(by_id.index))
    if unknown:
        raise ValueError(f"sessions refer to site_id(s) not in sites: {unknown[:5]}")
    pausable = calendar.session == "full"
    session_vehicles = [v for v, veh in enumerate(vehicles) if veh.group.sessions]
    for _, row in sessions.iterrows():
        site = by_id.loc[str(row["site_id"])]
        for col in ("open_from", "open_to"):
            if not isinstance(site[col], str) or not re.match(HHMM, site[col]):
                raise ValueError(f"site {row['site_id']}: {col} is {site[col]!r}; expected a time 'HH:MM'")
        days = int(row["session_days"])
        if days <= 0:
            continue
        n_jobs = days if calendar.session == "full" else 2 * days
        duration = session_minutes(calendar, site["open_from"], site["open_to"], travel_reserve_min)
        lo = max(hhmm_to_minutes(calendar.day_start), hhmm_to_minutes(site["open_from"]))
        hi = min(hhmm_to_minutes(calendar.day_end), hhmm_to_minutes(site["open_to"]))
        open_days = {int(c) for c in str(site["open_days"]) if c.isdigit()}
        windows, open_dates = [], set()
        for date in dates:
            if date.weekday() not in open_days or duration <= 0:
                continue
            day = (date - calendar.week_start).days
            w = _day_windows(date, lo, hi, duration, pausable, fbreak)
            if w:
                open_dates.add(date)
                windows += [(day * DAY + a, day * DAY + b) for a, b in w]
        point = points.index_of(f"site:{row['site_id']}", site.geometry)
        exp_total = float(row.get("exp_total", 0) or 0)
        for k in range(n_jobs):
            job = _Job(
                job_id=session_job_id(row["site_id"], k, half=calendar.session != "full"), kind="session",
                point=point, service=max(duration, 0),
                windows=windows, vehicles=[v for v in session_vehicles if vehicles[v].date in open_dates],
                # earlier session-days of a site and busier sites are kept first
                penalty=(SESSION_PENALTY + int(100 * exp_total / n_jobs) + 1000 * (n_jobs - k)) * _priority(row),
                expected=exp_total / n_jobs, site_id=str(row["site_id"]), name=str(site["name"]),
                kode_kel=_text(site.get("kode_kel")), kode_kec=_text(site.get("kode_kec")),
                lon=float(site.geometry.x), lat=float(site.geometry.y), pausable=pausable,
            )
            if not session_vehicles:
                job.reason = "no unit holds sessions (every [[units]] group has sessions = false)"
            elif duration <= 0:
                job.reason = (f"site hours {site['open_from']}-{site['open_to']} leave no session time in the "
                              f"working day {calendar.day_start}-{calendar.day_end}")
            elif not open_dates:
                job.reason = f"site closed on every working day (open_days '{site['open_days']}')"
            jobs.append(job)
    return jobs


def _visit_jobs(home_visits, calendar, fbreak, dates, vehicles, points):
    jobs = []
    if home_visits is None or len(home_visits) == 0:
        return jobs
    require_columns(home_visits, ["visit_id", "kode_kel", "lon", "lat"], "home_visits")
    visit_vehicles = [v for v, veh in enumerate(vehicles) if veh.group.home_visits]
    duration = calendar.home_visit_minutes
    for _, row in home_visits.iterrows():
        lo, hi = hhmm_to_minutes(calendar.day_start), hhmm_to_minutes(calendar.day_end)
        if "window_from" in row and isinstance(row["window_from"], str):
            lo = max(lo, hhmm_to_minutes(row["window_from"]))
        if "window_to" in row and isinstance(row["window_to"], str):
            hi = min(hi, hhmm_to_minutes(row["window_to"]))
        windows = []
        for date in dates:
            day = (date - calendar.week_start).days
            windows += [(day * DAY + a, day * DAY + b) for a, b in _day_windows(date, lo, hi, duration, False, fbreak)]
        has_xy = pd.notna(row["lon"]) and pd.notna(row["lat"])
        job = _Job(
            job_id=f"V-{row['visit_id']}", kind="home_visit",
            point=points.index_of(f"visit:{row['visit_id']}", Point(row["lon"], row["lat"])) if has_xy else -1,
            service=duration, windows=windows, vehicles=visit_vehicles, penalty=VISIT_PENALTY * _priority(row),
            expected=1.0, site_id=None, name="Kunjungan rumah", kode_kel=_text(row["kode_kel"]),
            kode_kec=_text(row.get("kode_kec")), lon=float(row["lon"]) if has_xy else np.nan,
            lat=float(row["lat"]) if has_xy else np.nan,
        )
        if not has_xy:
            job.reason = "home visit has no coordinates"
        elif not visit_vehicles:
            job.reason = "no unit does home visits (set home_visits = true on a [[units]] group)"
        elif not windows:
            job.reason = "its time window leaves no room for a visit on any working day"
        jobs.append(job)
    return jobs


def _priority(row) -> int:
    """Optional `priority` column (1 = normal, 2 = twice as costly to leave out, ...)."""
    value = row.get("priority", 1)
    if pd.isna(value):
        return 1
    if int(value) < 1:
        raise ValueError(f"priority must be a whole number >= 1, got {value!r}")
    return int(value)


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


class _Points:
    """Every place the model knows (depots, sites, homes), each once, in matrix order."""

    def __init__(self):
        self.ids: list[str] = []
        self.geoms: list = []
        self._index: dict[str, int] = {}

    def index_of(self, key: str, geom) -> int:
        if key not in self._index:
            self._index[key] = len(self.ids)
            self.ids.append(key)
            self.geoms.append(geom)
        return self._index[key]

    def frame(self) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame({"id": self.ids}, geometry=self.geoms, crs="EPSG:4326")


def _first_start(windows, t: int) -> int | None:
    for a, b in windows:
        if t <= b:
            return max(a, t)
    return None


def _fits_alone(job: _Job, veh: _Vehicle, minutes: np.ndarray, day_start: int, day_end: int) -> bool:
    """Can `veh` do this job as its only stop (depot -> job -> depot inside the day)?"""
    base = veh.day * DAY
    out, back = int(minutes[veh.depot, job.point]), int(minutes[job.point, veh.depot])
    start = _first_start([(a, b) for a, b in job.windows if base <= a < base + DAY], base + day_start + out)
    return start is not None and start + job.service + back <= base + day_end


def route(sessions: pd.DataFrame, sites: gpd.GeoDataFrame, home_visits: pd.DataFrame | None,
          units: list[UnitGroup], calendar: CalendarConfig, matrix_fn=None, *, matrices: dict | None = None,
          time_limit_s: float = 10, seed: int = 0, config: str | SearchConfig | None = None,
          travel_reserve_min: int = 60, progress: bool = False) -> Routes:
    """Turn the week's session-days and home visits into each unit's day-by-day itinerary.

    One OR-Tools routing model for the whole week: a vehicle per unit per working day (start and end
    at the unit's depot, inside the working hours), time measured in minutes from `week_start`, so a
    job's allowed start times are the union of its site's opening hours on the days it is open
    (public holidays have no vehicle at all). The Friday prayer break is cut out of every job's
    allowed start times: home visits and half-day sessions may not overlap it, a full-day session
    spans it whole (work pauses, the unit stays). Every job is optional with a drop penalty far above
    any travel cost, so what cannot fit is listed in `unscheduled` with a reason instead of making the
    model infeasible.

    Parameters
    ----------
    sessions : placement sessions ``[site_id, session_days, exp_total, ...]`` (optional ``priority``,
        an integer >= 1 multiplying the cost of leaving a job out); one job per session-day
        (two half-day jobs per session-day when ``calendar.session == "half"``). Session-days of one
        site may go to different units and days.
    sites : GeoDataFrame per the contract (opening days and hours are used).
    home_visits : ``[visit_id, kode_kel, kode_kec, lon, lat]`` (optional ``window_from/window_to``
        "HH:MM" and ``priority``); served by groups with ``home_visits = true``, in the order that
        minimises travel.
    units, calendar : from the scenario.
    matrix_fn : ``matrix_fn(points_gdf, vehicle) -> TravelMatrix`` over a GeoDataFrame with an ``id``
        column (ids ``depot:<name>:<lat>:<lon>``, ``site:<site_id>``, ``visit:<visit_id>``), e.g.
        ``lambda p, v: network.travel_matrix(p, p, graph, vehicle=v)``; or ``matrices`` =
        {vehicle: TravelMatrix} already computed over those points in that order.
    time_limit_s : search budget for all runs together.
    seed : recorded only: the OR-Tools routing search uses no random numbers.
    config : one search setting (see `SEARCH_CONFIGS`). By default a portfolio (`WEEKLY_PORTFOLIO`):
        greedy descents from three insertion-style first solutions, best kept. A descent stops at a local
        optimum, so the plan does not depend on machine speed unless the budget cuts it short (the
        first run then returns its best so far; later runs are skipped or discarded; `stats` says
        so). Measured on Bandar Lampung (69 jobs, 20 unit-days): each descent takes ~0.3 s and ends
        within ten travel minutes of 60 s of guided local search; 208 jobs: ~7 s per descent.
    travel_reserve_min : minutes of the working day kept for travel when sizing a session (see
        `session_minutes`): 8:00-16:00 gives a 420-minute full session or two 180-minute halves.

    Returns
    -------
    Routes with `schedule` and `unscheduled` in the contract's columns.
    """
    fbreak = _friday_break(calendar)
    dates = calendar.working_dates()
    day_start, day_end = hhmm_to_minutes(calendar.day_start), hhmm_to_minutes(calendar.day_end)
    points = _Points()
    vehicles = []
    for unit, group in _unit_names(units):
        depot = points.index_of(f"depot:{group.depot.name}:{group.depot.lat}:{group.depot.lon}",
                                Point(group.depot.lon, group.depot.lat))
        for date in dates:
            vehicles.append(_Vehicle(unit, group.vehicle, date, (date - calendar.week_start).days, depot,
                                     group.depot.name, group))
    jobs = (_session_jobs(sessions, sites, calendar, travel_reserve_min, fbreak, dates, vehicles, points)
            + _visit_jobs(home_visits, calendar, fbreak, dates, vehicles, points))
    if not dates:
        for job in jobs:
            job.reason = "no working day in the horizon (holidays and weekends only)"
    kinds = sorted({v.kind for v in vehicles})
    mats = _matrices(points, kinds, matrix_fn, matrices)
    for job in jobs:
        if job.reason:
            continue
        job.vehicles = [v for v in job.vehicles
                        if _fits_alone(job, vehicles[v], mats[vehicles[v].kind].minutes, day_start, day_end)]
        if not job.vehicles:
            job.reason = "does not fit in any unit's working day (travel from the depot and back + duration)"
    active = [j for j in jobs if not j.reason]
    stats = {"vehicles": len(vehicles), "jobs": len(jobs), "jobs_in_model": len(active), "seed": seed}
    if not active or not vehicles:
        return _result(None, None, None, vehicles, active, jobs, mats, fbreak, "NO_JOBS", stats)
    n_days = (dates[-1] - calendar.week_start).days + 1
    configs = list(WEEKLY_PORTFOLIO) if config is None else [config]
    best, t0 = None, time.perf_counter()
    runs = []
    with _progress(progress, len(configs)) as advance:
        for k, cfg in enumerate(configs):
            remaining = time_limit_s - (time.perf_counter() - t0)
            if k > 0 and remaining < 1.5 * runs[0]["seconds"]:
                break  # not enough budget left for another full descent
            manager, model, time_dim = _build_model(active, vehicles, mats, day_start, day_end, n_days)
            started = time.perf_counter()
            solution = model.SolveWithParameters(search_parameters(cfg, max(remaining, 0.1)))
            seconds = time.perf_counter() - started
            cut = seconds >= 0.98 * remaining
            runs.append({"config": cfg if isinstance(cfg, str) else cfg.describe(), "seconds": round(seconds, 2),
                         "objective": solution.ObjectiveValue() if solution is not None else None,
                         "cut_by_time_limit": cut})
            advance()
            if solution is None or (cut and k > 0):
                continue  # a later run cut short is not used: the result should not depend on speed
            if best is None or solution.ObjectiveValue() < best[0]:
                best = (solution.ObjectiveValue(), solution, manager, model, time_dim)
    stats["seconds"] = round(time.perf_counter() - t0, 2)
    stats["runs"] = runs
    # Reproducible when every run ended on its own (a descent stops at a local optimum), not by the clock.
    stats["reproducible"] = len(runs) == len(configs) and not any(r["cut_by_time_limit"] for r in runs)
    if best is None:
        raise RuntimeError("OR-Tools found no solution; every job is optional, so this is a bug: please report it")
    _, solution, manager, model, time_dim = best
    status = "SUCCESS" if stats["reproducible"] else "TIME_LIMIT"
    return _result(solution, manager, (model, time_dim), vehicles, active, jobs, mats, fbreak, status, stats)


@contextmanager
def _progress(show: bool, total: int):
    """Yield an `advance()` callback; a Rich progress bar when `show`."""
    if not show:
        yield lambda: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("weekly routes (OR-Tools)"), BarColumn(), TextColumn("{task.completed}/{task.total} runs"),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task("route", total=total)
        yield lambda: bar.advance(task)


def _matrices(points: _Points, kinds: list[str], matrix_fn, matrices: dict | None) -> dict:
    frame = points.frame()
    out = {}
    for kind in kinds:
        if matrices is not None and kind in matrices:
            m = matrices[kind]
        elif matrix_fn is not None:
            m = matrix_fn(frame, kind)
        else:
            raise ValueError(f"no travel matrix for vehicle '{kind}': pass matrix_fn or matrices={{'{kind}': ...}}")
        n = len(points.ids)
        if np.shape(m.minutes) != (n, n) or list(m.origins) != points.ids or list(m.destinations) != points.ids:
            raise ValueError(f"travel matrix for '{kind}' must be {n}x{n} over the points' ids in order "
                             f"(got shape {np.shape(m.minutes)})")
        out[kind] = m
    return out


def _build_model(jobs, vehicles, mats, day_start, day_end, n_days):
    depots = sorted({v.depot for v in vehicles})
    node_point = depots + [j.point for j in jobs]  # model node -> point row
    depot_node = {p: i for i, p in enumerate(depots)}
    n_dep = len(depots)
    manager = pywrapcp.RoutingIndexManager(len(node_point), len(vehicles),
                                           [depot_node[v.depot] for v in vehicles],
                                           [depot_node[v.depot] for v in vehicles])
    model = pywrapcp.RoutingModel(manager)
    service = [0] * n_dep + [j.service for j in jobs]
    transit, cost = {}, {}
    for kind, m in mats.items():
        minutes = m.minutes[np.ix_(node_point, node_point)].astype(np.int64)
        minutes = np.minimum(minutes, 10 * DAY).tolist()  # unreachable pairs: longer than any day
        times = [[service[a] + minutes[a][b] for b in range(len(node_point))] for a in range(len(node_point))]
        # matrices live on the C++ side: no Python call per arc evaluation
        transit[kind] = model.RegisterTransitMatrix(times)
        cost[kind] = model.RegisterTransitMatrix(minutes)
    for v, veh in enumerate(vehicles):
        model.SetArcCostEvaluatorOfVehicle(cost[veh.kind], v)
    horizon = max(n_days, 1) * DAY
    model.AddDimensionWithVehicleTransits([transit[v.kind] for v in vehicles], horizon, horizon, False, "Time")
    time_dim = model.GetDimensionOrDie("Time")
    for k, job in enumerate(jobs):
        index = manager.NodeToIndex(n_dep + k)
        cumul = time_dim.CumulVar(index)
        cumul.SetRange(job.windows[0][0], job.windows[-1][1])
        for (a, b), (c, _) in zip(job.windows, job.windows[1:]):
            if c > b + 1:
                cumul.RemoveInterval(b + 1, c - 1)
        model.AddDisjunction([index], job.penalty)
        allowed = set(job.vehicles)
        model.VehicleVar(index).SetValues([-1] + sorted(allowed))
    for v, veh in enumerate(vehicles):
        base = veh.day * DAY
        for index in (model.Start(v), model.End(v)):
            time_dim.CumulVar(index).SetRange(base + day_start, base + day_end)
        # leave as late and come back as early as the route allows
        model.AddVariableMaximizedByFinalizer(time_dim.CumulVar(model.Start(v)))
        model.AddVariableMinimizedByFinalizer(time_dim.CumulVar(model.End(v)))
    return manager, model, time_dim


def _iso(week_start: dt.date, minutes: int) -> str:
    stamp = dt.datetime.combine(week_start, dt.time()) + dt.timedelta(minutes=int(minutes))
    return stamp.strftime("%Y-%m-%dT%H:%M")


def _result(solution, manager, model_parts, vehicles, active, jobs, mats, fbreak, status, stats) -> Routes:
    rows, done = [], set()
    if solution is not None:
        model, time_dim = model_parts
        n_dep = manager.GetNumberOfNodes() - len(active)
        week_start = vehicles[0].date - dt.timedelta(days=vehicles[0].day)
        for v, veh in enumerate(vehicles):
            index = model.Start(v)
            if model.IsEnd(solution.Value(model.NextVar(index))):
                continue
            m = mats[veh.kind]
            stops = []
            while True:
                stops.append(index)
                if model.IsEnd(index):
                    break
                index = solution.Value(model.NextVar(index))
            depart = solution.Value(time_dim.CumulVar(stops[0]))
            common = {"unit": veh.unit, "vehicle": veh.kind, "date": veh.date.isoformat()}
            depot_row = {"job_id": "depot", "job_kind": "depot", "site_id": None, "name": veh.depot_name,
                         "kode_kel": None, "kode_kec": None, "lon": veh.group.depot.lon, "lat": veh.group.depot.lat,
                         "expected_recordings": 0.0}
            out = [{**common, **depot_row, "arrival": depart, "start": depart, "end": depart,
                    "travel_min": 0, "travel_km": 0.0}]
            prev_point, prev_end = veh.depot, depart
            for index in stops[1:]:
                node = manager.IndexToNode(index)
                point = veh.depot if model.IsEnd(index) else active[node - n_dep].point
                travel = int(m.minutes[prev_point, point])
                km = round(float(m.metres[prev_point, point]) / 1000, 2)
                arrival = prev_end + travel
                if model.IsEnd(index):
                    out.append({**common, **depot_row, "arrival": arrival, "start": arrival, "end": arrival,
                                "travel_min": travel, "travel_km": km})
                    break
                job = active[node - n_dep]
                done.add(job.job_id)
                start = solution.Value(time_dim.CumulVar(index))
                end = start + job.service
                base = {**common, "job_id": job.job_id, "job_kind": job.kind, "site_id": job.site_id,
                        "name": job.name, "kode_kel": job.kode_kel, "kode_kec": job.kode_kec,
                        "lon": job.lon, "lat": job.lat}
                bs = be = None
                if fbreak is not None and veh.date.weekday() == 4:
                    bs, be = veh.day * DAY + fbreak[0], veh.day * DAY + fbreak[1]
                if job.pausable and bs is not None and start < bs and end > be:
                    # The team records only outside the break: fewer minutes, proportionally fewer people.
                    before, after = bs - start, end - be
                    per_minute = job.expected / job.service
                    out.append({**base, "arrival": arrival, "start": start, "end": bs, "travel_min": travel,
                                "travel_km": km, "expected_recordings": per_minute * before})
                    out.append({**base, "arrival": be, "start": be, "end": end, "travel_min": 0,
                                "travel_km": 0.0, "expected_recordings": per_minute * after})
                else:
                    out.append({**base, "arrival": arrival, "start": start, "end": end, "travel_min": travel,
                                "travel_km": km, "expected_recordings": job.expected})
                prev_point, prev_end = point, end
            for stop, row in enumerate(out):
                row["stop"] = stop
                for key in ("arrival", "start", "end"):
                    row[key] = _iso(week_start, row[key])
            rows += out
    schedule = pd.DataFrame(rows, columns=SCHEDULE_COLUMNS)
    if len(schedule):
        schedule["expected_recordings"] = schedule["expected_recordings"].astype(float).round(2)
    left = []
    for job in jobs:
        if job.job_id in done:
            continue
        reason = job.reason or "no room left in the week: every unit-day that could take it is full"
        left.append({"job_id": job.job_id, "job_kind": job.kind, "site_id": job.site_id,
                     "kode_kel": job.kode_kel, "reason": reason})
    unscheduled = pd.DataFrame(left, columns=UNSCHEDULED_COLUMNS)
    objective = int(solution.ObjectiveValue()) if solution is not None else 0
    stats["scheduled_jobs"] = len(done)
    return Routes(schedule, unscheduled, status, objective, stats)


# ---- independent re-check ---------------------------------------------------------------------
def check_schedule(schedule: pd.DataFrame, calendar: CalendarConfig, sites: pd.DataFrame | None = None, *,
                   units: list[UnitGroup] | None = None, travel_reserve_min: int = 60,
                   matrix_fn=None) -> list[str]:
    """Every rule a schedule breaks, re-derived from the calendar and sites without the solver.

    Checks: stops only on working dates (no holiday, Saturday only when on); each unit-day starts and
    ends at its depot inside the working hours; times run forward with the travel time between stops;
    sessions inside their site's opening days and hours and exactly one session length long (a full
    Friday session loses the prayer break, which it must contain whole); home visits exactly
    `home_visit_minutes` long; no session or home visit overlapping the Friday break; each job once.
    With `matrix_fn` (as for `route`), every hop's `travel_min` is recomputed from the coordinates.
    """
    problems: list[str] = []
    if schedule is None or len(schedule) == 0:
        return problems
    missing = [c for c in SCHEDULE_COLUMNS if c not in schedule.columns]
    if missing:
        return [f"schedule lacks columns {missing}"]
    s = schedule.copy()
    for col in ("arrival", "start", "end"):
        s[col] = pd.to_datetime(s[col], format="%Y-%m-%dT%H:%M")
    s["day"] = pd.to_datetime(s["date"]).dt.date
    working = set(calendar.working_dates())
    day_start, day_end = hhmm_to_minutes(calendar.day_start), hhmm_to_minutes(calendar.day_end)
    fbreak = _friday_break(calendar)
    depots = {}
    if units is not None:
        for name, group in _unit_names(units):
            depots[name] = (group.depot.lon, group.depot.lat)
    site_by_id = None if sites is None else sites.set_index(sites["site_id"].astype(str))

    def minute(ts) -> int:
        return ts.hour * 60 + ts.minute

    for (unit, day), g in s.sort_values("stop").groupby(["unit", "day"], sort=True):
        where = f"{unit} {day}"
        if day not in working:
            problems.append(f"{where}: stops on a non-working day (holiday, weekend or outside the horizon)")
        if (g["start"].dt.date != day).any() or (g["end"].dt.date != day).any():
            problems.append(f"{where}: times on another date than the row's date")
        first, last = g.iloc[0], g.iloc[-1]
        if first["job_kind"] != "depot" or last["job_kind"] != "depot" or len(g) < 3:
            problems.append(f"{where}: route must start and end with a depot row around at least one job")
        elif (first["lon"], first["lat"]) != (last["lon"], last["lat"]):
            problems.append(f"{where}: starts and ends at different depots")
        elif unit in depots and not np.allclose((first["lon"], first["lat"]), depots[unit]):
            problems.append(f"{where}: depot {first['lon']},{first['lat']} is not the unit's depot {depots[unit]}")
        if minute(first["start"]) < day_start:
            problems.append(f"{where}: leaves the depot at {first['start']:%H:%M} before {calendar.day_start}")
        if minute(last["arrival"]) > day_end:
            problems.append(f"{where}: back at the depot at {last['arrival']:%H:%M} after {calendar.day_end}")
        prev = None
        for _, row in g.iterrows():
            if row["start"] < row["arrival"] or row["end"] < row["start"]:
                problems.append(f"{where} stop {row['stop']}: arrival <= start <= end violated")
            if prev is not None and row["arrival"] < prev["end"] + pd.Timedelta(minutes=float(row["travel_min"])):
                problems.append(f"{where} stop {row['stop']}: arrives before the previous stop ends plus travel")
            prev = row
            if row["job_kind"] == "depot":
                continue
            if fbreak is not None and day.weekday() == 4:
                if minute(row["start"]) < fbreak[1] and minute(row["end"]) > fbreak[0]:
                    problems.append(f"{where} stop {row['stop']}: {row['job_kind']} overlaps the Friday break")
            if row["job_kind"] == "home_visit":
                if (row["end"] - row["start"]) != pd.Timedelta(minutes=calendar.home_visit_minutes):
                    problems.append(f"{where} stop {row['stop']}: home visit is not {calendar.home_visit_minutes} min")
            elif row["job_kind"] == "session" and site_by_id is not None:
                site = site_by_id.loc[str(row["site_id"])] if str(row["site_id"]) in site_by_id.index else None
                if site is None:
                    problems.append(f"{where} stop {row['stop']}: unknown site {row['site_id']}")
                    continue
                if str(day.weekday()) not in str(site["open_days"]):
                    problems.append(f"{where} stop {row['stop']}: site {row['site_id']} closed on that weekday")
                if (minute(row["start"]) < hhmm_to_minutes(site["open_from"])
                        or minute(row["end"]) > hhmm_to_minutes(site["open_to"])):
                    problems.append(f"{where} stop {row['stop']}: session outside the site's hours "
                                    f"{site['open_from']}-{site['open_to']}")
        if site_by_id is None:
            continue
        for job_id, rows in g[g["job_kind"] == "session"].groupby("job_id"):
            site = site_by_id.loc[str(rows["site_id"].iloc[0])] if str(rows["site_id"].iloc[0]) in site_by_id.index else None
            if site is None:
                continue
            length = session_minutes(calendar, site["open_from"], site["open_to"], travel_reserve_min)
            work = int(((rows["end"] - rows["start"]).dt.total_seconds() // 60).sum())
            if len(rows) == 2 and fbreak is not None and calendar.session == "full":
                a, b = rows.iloc[0], rows.iloc[1]
                if minute(a["end"]) != fbreak[0] or minute(b["start"]) != fbreak[1] or b["stop"] != a["stop"] + 1:
                    problems.append(f"{where} {job_id}: a session in two parts must pause exactly for the break")
                length -= fbreak[1] - fbreak[0]
            elif len(rows) != 1:
                problems.append(f"{where} {job_id}: session in {len(rows)} parts")
            if work != length:
                problems.append(f"{where} {job_id}: session works {work} min, expected {length}")
    if matrix_fn is not None:
        problems += _check_travel(s, matrix_fn)
    jobs = s[s["job_kind"] != "depot"].groupby("job_id")[["unit", "day"]].nunique()
    twice = jobs[(jobs["unit"] > 1) | (jobs["day"] > 1)].index.tolist()
    if twice:
        problems.append(f"jobs scheduled more than once: {twice[:5]}")
    return problems


def _check_travel(s: pd.DataFrame, matrix_fn) -> list[str]:
    """Recompute each hop's travel minutes from the stops' coordinates with a fresh matrix."""
    problems = []
    keys = s["lon"].round(7).astype(str) + "," + s["lat"].round(7).astype(str)
    s = s.assign(_key=keys)
    first = s.drop_duplicates("_key")
    points = gpd.GeoDataFrame({"id": first["_key"].to_numpy()},
                              geometry=gpd.points_from_xy(first["lon"], first["lat"]), crs="EPSG:4326")
    where = {k: i for i, k in enumerate(points["id"])}
    for kind, part in s.groupby("vehicle"):
        minutes = matrix_fn(points, kind).minutes
        for (unit, day), g in part.sort_values("stop").groupby(["unit", "day"]):
            prev = None
            for _, row in g.iterrows():
                if prev is not None:
                    pause = row["job_id"] == prev["job_id"] and row["job_kind"] == "session"
                    expected = 0 if pause else int(minutes[where[prev["_key"]], where[row["_key"]]])
                    if int(row["travel_min"]) != expected:
                        problems.append(f"{unit} {day} stop {row['stop']}: travel {row['travel_min']} min, "
                                        f"the matrix says {expected}")
                prev = row
    return problems


def weeks_home_visits(visits: pd.DataFrame, units: list[UnitGroup],
                      calendar: CalendarConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Home visits offered to routing this week, and the rest with the reason they wait.

    The home-visit teams can make at most `capacity_per_day` visits a day; offering routing many
    times more visits than fit only slows the search. Kelurahan with the most visits go first (a
    team serves a cluster in one trip), ties by code, so the choice is stable from week to week.
    """
    teams = [g for g in units if g.home_visits]
    days = len(calendar.working_dates())
    limit = sum(g.count * g.capacity_per_day for g in teams) * days
    if len(visits) <= limit:
        return visits, visits.iloc[0:0].assign(job_kind=[], reason=[])
    per_kel = visits.groupby("kode_kel")["visit_id"].transform("size")
    order = visits.assign(_n=per_kel).sort_values(["_n", "kode_kel", "visit_id"], ascending=[False, True, True],
                                                   kind="stable").drop(columns="_n")
    chosen, later = order.iloc[:limit], order.iloc[limit:]
    reason = (f"over this week's home-visit capacity ({limit} visits: "
              f"{sum(g.count for g in teams)} team(s) x {days} days x visits per day)")
    later = pd.DataFrame({"job_id": "V-" + later["visit_id"].astype(str), "job_kind": "home_visit",
                          "site_id": pd.NA, "kode_kel": later["kode_kel"], "reason": reason})
    return chosen.sort_index(), later
