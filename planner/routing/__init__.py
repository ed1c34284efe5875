"""Weekly itineraries for the mobile units: build the week's problem, let an engine search, render.

The seam (DESIGN.md): `problem.build_week` turns placement's session-days, the home visits, the
units and the calendar into an engine-neutral `WeekProblem` (no solver involved); an engine from
`ENGINES` returns a `Solution` (each vehicle's stops and start times); `render.render` turns it into
the schedule and unscheduled tables of the contract; `checker.check_schedule` re-checks any
schedule without a solver. A new engine is one module with ``solve(problem, time_limit_s, ...)``
and one entry in `ENGINES`.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from planner.contracts import SCHEDULE_COLUMNS, UNSCHEDULED_COLUMNS
from planner.errors import InputError
from planner.routing import best_engine, ortools_engine, pyvrp_engine
from planner.routing.checker import check_schedule
from planner.routing.home_visits import weeks_home_visits
from planner.routing.ortools_engine import SEARCH_CONFIGS, WEEKLY_PORTFOLIO, SearchConfig, search_parameters
from planner.routing.problem import DAY, SESSION_PENALTY, VISIT_PENALTY, WeekProblem, build_week, session_minutes
from planner.routing.render import Routes, merge_routes, render
from planner.routing.stationed import split_stationed, stationed_solution
from planner.scenario import CalendarConfig, UnitGroup

#: name -> solve(problem, time_limit_s, *, config, workers, progress) -> Solution
ENGINES = {"best": best_engine.solve, "ortools": ortools_engine.solve, "pyvrp": pyvrp_engine.solve}

__all__ = ["DAY", "ENGINES", "SCHEDULE_COLUMNS", "SEARCH_CONFIGS", "SESSION_PENALTY", "UNSCHEDULED_COLUMNS",
           "VISIT_PENALTY", "WEEKLY_PORTFOLIO", "Routes", "SearchConfig", "WeekProblem", "build_week",
           "check_schedule", "route", "search_parameters", "session_minutes", "solve_week", "weeks_home_visits"]


def route(sessions: pd.DataFrame, sites: gpd.GeoDataFrame, home_visits: pd.DataFrame | None,
          units: list[UnitGroup], calendar: CalendarConfig, matrix_fn=None, *, matrices: dict | None = None,
          time_limit_s: float = 10, seed: int = 0, config: str | SearchConfig | None = None,
          travel_reserve_min: int = 60, min_session_min: int = 0, progress: bool = False,
          engine: str = "best", workers: int | None = None) -> Routes:
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
    sessions : placement sessions ``[site_id, session_days, exp_total, ...]`` (optional ``unit_group``,
        the group that holds them, as placement chose; optional ``priority``,
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
    config : one OR-Tools search setting (see `ortools_engine.SEARCH_CONFIGS`). By default a portfolio
        of greedy descents, best kept (see `planner.routing.ortools_engine`).
    engine : which engine searches (`ENGINES`); every engine gets the same problem and its schedule
        is rendered and checked the same way.
    workers : processes for the engine's independent searches (default: the machine's cores when
        the week is large enough to gain from it).
    travel_reserve_min : minutes of the working day kept for travel when sizing a half-day session
        (see `session_minutes`: 8:00-16:00 gives two 180-minute halves). A full-day session runs from
        arrival until the unit must leave to be back by day_end (`planner.reach.session_shape`).
    min_session_min : a full-day session recording less than this (a long drive) is not offered.

    Returns
    -------
    Routes with `schedule` and `unscheduled` in the contract's columns.
    """
    problem = build_week(sessions, sites, home_visits, units, calendar, matrix_fn, matrices=matrices,
                         travel_reserve_min=travel_reserve_min, min_session_min=min_session_min, seed=seed)
    return solve_week(problem, time_limit_s=time_limit_s, config=config, progress=progress, engine=engine,
                      workers=workers)


def solve_week(problem: WeekProblem, *, time_limit_s: float = 10, config=None, progress: bool = False,
               engine: str = "best", workers: int | None = None) -> Routes:
    """Search an already built week with an engine and render the result.

    Stationed units (posts) need no search: their sessions are laid out first (`stationed_solution`)
    and only the mobile units' week goes to the engine; the two schedules are rendered alike.
    """
    if engine not in ENGINES:
        raise InputError(f"unknown routing engine {engine!r}; expected one of {sorted(ENGINES)}")
    posts, mobile = split_stationed(problem)
    fixed = render(posts, stationed_solution(posts)) if posts.jobs else None
    if not mobile.active or not mobile.vehicles:
        routes = render(mobile, None)
    else:
        kwargs = {"config": config} if config is not None else {}
        routes = render(mobile, ENGINES[engine](mobile, time_limit_s, workers=workers, progress=progress, **kwargs))
    return routes if fixed is None else merge_routes(fixed, routes)
