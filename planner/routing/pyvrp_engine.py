"""The PyVRP routing engine: the same week as the OR-Tools engine, searched by PyVRP's iterated local search.

The week's problem maps onto PyVRP's data model without approximation:
- the problem's places are PyVRP `Location`s, so each vehicle kind's travel matrix is used as is
  (one routing profile per kind; "distance" and duration are both travel minutes, so the cost is
  travel time, as in the OR-Tools engine);
- one vehicle type per unit-day, with its start and end place and its shift window;
- a job allowed on several days (or in two windows around the Friday break) becomes one client
  per window, the copies in one optional mutually exclusive `ClientGroup`: at most one is visited.
  Every client is optional with the job's drop penalty as its prize, so what does not fit is left
  out and reported, never an infeasible model;
- which unit may do which job: two load dimensions, sessions and home visits. A session client
  delivers one unit of the first, a home visit one of the second; a unit-day's capacity is what its
  group may do (0 where it does not hold sessions or visits; a home-visit team's
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

from planner.errors import InputError, SolverError
from planner.routing.problem import DAY, WeekProblem
from planner.routing.solution import Solution, VehicleRoute

#: iterations without improvement after which the search ends on its own (measured: see RESULTS.md)
NO_IMPROVEMENT = 4000
PRIZE_SCALE = 100


def problem_data(problem: WeekProblem) -> tuple[pyvrp.ProblemData, list[int]]:
    """PyVRP data for the week, and for each PyVRP client the index of its job in `problem.active`."""
    jobs, vehicles = problem.active, problem.vehicles
    locations = [pyvrp.Location(x=float(g.x), y=float(g.y)) for g in problem.points.geoms]
    places = sorted({v.depot for v in vehicles} | {v.end for v in vehicles})
    depot_of = {p: k for k, p in enumerate(places)}
    depots = [pyvrp.Depot(location=p) for p in places]
    kinds = sorted(problem.mats)
    profile = {kind: k for k, kind in enumerate(kinds)}
    clients, client_job, groups = [], [], []
    for j, job in enumerate(jobs):
        load = [1, 0] if job.kind == "session" else [0, 1]
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
    for veh in vehicles:
        group = veh.group
        capacity = [2 if group.sessions else 0, int(group.capacity_per_day) if group.home_visits else 0]
        vehicle_types.append(pyvrp.VehicleType(
            num_available=1, capacity=capacity, start_depot=depot_of[veh.depot], end_depot=depot_of[veh.end],
            tw_early=veh.shift_start, tw_late=veh.shift_end, unit_distance_cost=1, unit_duration_cost=0,
            profile=profile[veh.kind], name=f"{veh.unit} {veh.date}"))
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
    if any(v.tour for v in problem.vehicles):
        raise InputError("touring units (overnight = true) are routed by the OR-Tools engine only; set [routing] "
                         "engine = \"ortools\" or --engine ortools")
    if not jobs:
        return Solution([], 0, "SUCCESS", _stats(0.0, 0, False))
    data, client_job = problem_data(problem)
    stop = MultipleCriteria([NoImprovement(NO_IMPROVEMENT), MaxRuntime(max(time_limit_s, 0.1))])
    started = time.perf_counter()
    with warnings.catch_warnings():  # PyVRP warns when optional clients make its penalty bounds loose
        warnings.simplefilter("ignore")
        result = pyvrp.solve(data, stop=stop, seed=int(problem.seed), display=progress, collect_stats=False)
    seconds = time.perf_counter() - started
    best = result.best
    if not best.is_feasible():
        raise SolverError("PyVRP found no feasible week; every job is optional, so this is a bug: please report it")
    routes = []
    for route in best.routes():
        visits = [(client_job[a.idx], int(a.start_time)) for a in route.schedule() if a.is_client()]
        routes.append(VehicleRoute(route.vehicle_type(), int(route.start_time()), visits))
    routes.sort(key=lambda r: r.vehicle)
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
