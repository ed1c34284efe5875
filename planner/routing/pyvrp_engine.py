"""The PyVRP routing engine: the same week as the OR-Tools engine, searched by PyVRP's iterated local search.

The week's problem maps onto PyVRP's data model without approximation:
- the problem's places are PyVRP `Location`s, so each vehicle kind's travel matrix is used as is
  (one routing profile per kind; "distance" and duration are both travel minutes, so the cost is
  travel time, as in the OR-Tools engine);
- one vehicle type per unit-day, with its start and end place and its shift window (a touring
  unit: one per day, between the lodgings `touring.tour_seed` chose for its nights);
- a job allowed on several days (or in two windows around the Friday break) becomes one client
  per window, the copies in one optional mutually exclusive `ClientGroup`: at most one is visited.
  Every client is optional with the job's drop penalty as its prize, so what does not fit is left
  out and reported, never an infeasible model;
- which unit may do which job: one load dimension per session unit group and one for home visits.
  A session client delivers one unit in its group's dimension, a home visit one in the last; a
  unit-day's capacity is what its group may do (0 elsewhere; a home-visit team's
  `capacity_per_day` visits a day).

Search: `pyvrp.solve` from the problem's seed, stopped after `NO_IMPROVEMENT` iterations without a
better solution (deterministic: the same plan on any machine) or at the time limit, whichever
comes first; `stats["reproducible"]` says which.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pyvrp
from pyvrp.stop import MaxRuntime, MultipleCriteria, NoImprovement

from planner.errors import SolverError
from planner.routing.problem import DAY, WeekProblem
from planner.routing.solution import Solution, VehicleRoute

#: iterations without improvement after which the search ends on its own (measured: see RESULTS.md)
NO_IMPROVEMENT = 4000
PRIZE_SCALE = 100


def day_vehicles(problem: WeekProblem) -> list[tuple[int, int, int, int, int]]:
    """``(vehicle, start point, end point, shift start, shift end)`` per PyVRP vehicle type.

    A unit-day vehicle is one; a touring vehicle is one per day, from where it slept to where it
    sleeps, the nights fixed by `touring.tour_seed` (PyVRP has no choice of lodging).
    """
    from planner.routing.touring import tour_seed

    seeds = tour_seed(problem, set()) if any(v.tour for v in problem.vehicles) else {}
    out = []
    for v, veh in enumerate(problem.vehicles):
        if not veh.tour:
            out.append((v, veh.depot, veh.end, veh.shift_start, veh.shift_end))
            continue
        sleeps = [stop[2] for stop in seeds.get(v, []) if stop[0] == "night"]
        for i, date in enumerate(veh.dates):
            lo, hi = veh.day_bounds(date)
            out.append((v, veh.depot if i == 0 else sleeps[i - 1], sleeps[i] if i < len(sleeps) else veh.end, lo, hi))
    return out


def _seeded_nights(problem: WeekProblem, days) -> dict[int, list[int]]:
    """Each touring vehicle's lodging per night, as `day_vehicles` fixed them."""
    nights: dict = {}
    for v, _, end, _, _ in days:
        if problem.vehicles[v].tour:
            nights.setdefault(v, []).append(end)
    return {v: ends[:-1] for v, ends in nights.items()}


def problem_data(problem: WeekProblem, days=None) -> tuple[pyvrp.ProblemData, list[int]]:
    """PyVRP data for the week, and for each PyVRP client the index of its job in `problem.active`.

    One load dimension per session unit group and one for home visits: a job is delivered only by
    vehicles of the group placement gave it to (their capacity in that dimension), as in OR-Tools.
    """
    jobs, vehicles = problem.active, problem.vehicles
    days = day_vehicles(problem) if days is None else days
    locations = [pyvrp.Location(x=float(g.x), y=float(g.y)) for g in problem.points.geoms]
    places = sorted({d[1] for d in days} | {d[2] for d in days})
    depot_of = {p: k for k, p in enumerate(places)}
    depots = [pyvrp.Depot(location=p) for p in places]
    kinds = sorted(problem.mats)
    profile = {kind: k for k, kind in enumerate(kinds)}
    dims = sorted({v.group.name for v in vehicles if v.group.sessions})
    dim = {name: k for k, name in enumerate(dims)}
    visits_dim = len(dims)
    clients, client_job, groups = [], [], []
    for j, job in enumerate(jobs):
        load = [0] * (len(dims) + 1)
        load[dim[vehicles[job.vehicles[0]].group.name] if job.kind == "session" else visits_dim] = 1
        members = []
        for a, b in job.windows:
            members.append(len(clients))
            clients.append(pyvrp.Client(location=job.point, delivery=load, service_duration=job.service,
                                        tw_early=a, tw_late=b, prize=_prize(job.penalty), required=False,
                                        group=len(groups) if len(job.windows) > 1 else None))
            client_job.append(j)
        if len(job.windows) > 1:
            groups.append(pyvrp.ClientGroup(members, required=False))
    vehicle_types = []
    for v, start, end, lo, hi in days:
        veh = vehicles[v]
        group = veh.group
        capacity = [0] * (len(dims) + 1)
        if group.sessions:
            capacity[dim[group.name]] = 2
        if group.home_visits:
            capacity[visits_dim] = int(group.capacity_per_day)
        vehicle_types.append(pyvrp.VehicleType(
            num_available=1, capacity=capacity, start_depot=depot_of[start], end_depot=depot_of[end],
            tw_early=lo, tw_late=hi, unit_distance_cost=1, unit_duration_cost=0,
            profile=profile[veh.kind], name=f"{veh.unit} {lo // DAY}"))
    matrices = []
    for kind in kinds:
        minutes = np.asarray(problem.mats[kind].minutes, dtype=np.int64)
        matrices.append(np.minimum(minutes, 10 * DAY))  # unreachable pairs: longer than any day
    data = pyvrp.ProblemData(locations, clients, depots, vehicle_types, matrices, matrices, groups)
    return data, client_job


def _prize(penalty: int) -> int:
    """The drop penalty scaled below PyVRP's largest feasibility penalty (1e5 per unit of excess).

    Unscaled, a session's prize (1e6) outweighs the penalty for a van taking a home visit, and the
    search settles on infeasible weeks; divided by 100 every prize still exceeds any day's travel.
    """
    return max(1, int(penalty) // PRIZE_SCALE)


def solve(problem: WeekProblem, time_limit_s: float = 10, *, config=None, workers: int | None = None,
          progress: bool = False) -> Solution:
    """PyVRP's best solution within `time_limit_s` (or earlier, at `NO_IMPROVEMENT`)."""
    jobs = problem.active
    if not jobs:
        return Solution([], 0, "SUCCESS", _stats(0.0, 0, False))
    days = day_vehicles(problem)
    data, client_job = problem_data(problem, days)
    stop = MultipleCriteria([NoImprovement(NO_IMPROVEMENT), MaxRuntime(max(time_limit_s, 0.1))])
    started = time.perf_counter()
    with warnings.catch_warnings():  # PyVRP warns when optional clients make its penalty bounds loose
        warnings.simplefilter("ignore")
        result = pyvrp.solve(data, stop=stop, seed=int(problem.seed), display=progress, collect_stats=False)
    seconds = time.perf_counter() - started
    best = result.best
    if not best.is_feasible():
        raise SolverError("PyVRP found no feasible week; every job is optional, so this is a bug: please report it")
    by_vehicle: dict = {}
    for route in best.routes():
        v, *_ = days[route.vehicle_type()]
        visits = [(client_job[a.idx], int(a.start_time)) for a in route.schedule() if a.is_client()]
        if v in by_vehicle:  # another day of a tour
            by_vehicle[v].stops = sorted(by_vehicle[v].stops + visits, key=lambda s: s[1])
        else:
            by_vehicle[v] = VehicleRoute(v, int(route.start_time()), visits)
    nights = _seeded_nights(problem, days)
    for v, route in by_vehicle.items():
        if problem.vehicles[v].tour:
            route.depart, route.nights = problem.vehicles[v].shift_start, nights[v]
    routes = sorted(by_vehicle.values(), key=lambda r: r.vehicle)
    cut = seconds >= 0.98 * time_limit_s
    objective = int(best.distance_cost() + PRIZE_SCALE * best.uncollected_prizes())
    return Solution(routes, objective, "TIME_LIMIT" if cut else "SUCCESS",
                    _stats(seconds, result.num_iterations, cut))


def _stats(seconds: float, iterations: int, cut: bool) -> dict:
    return {"engine": "pyvrp", "seconds": round(seconds, 2), "iterations": int(iterations), "cut": cut,
            "reproducible": not cut,
            "reproducible_why": (f"the search ended after {NO_IMPROVEMENT} iterations without improvement"
                                 if not cut else "the time budget cut the search short: a faster or slower "
                                 "machine may give another plan (raise time_budget_s)")}
