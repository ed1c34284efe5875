"""The OR-Tools routing engine: the week's problem as one RoutingModel, searched by greedy descents.

Formulation (chosen for simplicity, then checked on Bandar Lampung):
- one vehicle per unit per working day, start to end place inside its shift. Time runs over the
  whole week (minutes after `week_start` 00:00), so a job's allowed start times are the union, over
  the days its site is open, of its opening hours, written as holes in the cumul variable's domain;
  one time dimension serves every day and vehicle kind;
- the Friday prayer break is already cut out of those windows by the problem builder (a full-day
  session may contain it whole: the team pauses and stays);
- every job is optional (a disjunction with its drop penalty), so the model is always feasible and
  what does not fit is reported, never silently dropped.

Search: greedy descents from several first solutions (`WEEKLY_PORTFOLIO`), best kept. A descent
stops at a local optimum, so the plan does not depend on machine speed unless the budget cuts it
short. On a machine with several cores the descents run side by side in separate processes (the
problem is picklable); the result is the same as running them one after another.
"""

from __future__ import annotations

import os
import time
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

from planner.routing.problem import DAY, WeekProblem
from planner.routing.solution import Solution, VehicleRoute

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
        """One line for reports: first-solution strategy + metaheuristic (+ options)."""
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
    "pci_descent": SearchConfig(first_solution="PARALLEL_CHEAPEST_INSERTION", metaheuristic="GREEDY_DESCENT"),
    "lci_descent": SearchConfig(first_solution="LOCAL_CHEAPEST_INSERTION", metaheuristic="GREEDY_DESCENT"),
    "pca_descent": SearchConfig(first_solution="PATH_CHEAPEST_ARC", metaheuristic="GREEDY_DESCENT"),
    "sav_descent": SearchConfig(first_solution="SAVINGS", metaheuristic="GREEDY_DESCENT"),
}
# Greedy descents from these first solutions, best kept: deterministic, and as good as a long guided
# local search on the weekly model (measured on Bandar Lampung: each descent ~0.3 s and within ten
# travel minutes of 60 s of guided local search; 208 jobs: ~7 s per descent).
WEEKLY_PORTFOLIO = ("pci_descent", "lci_descent", "sav_descent")
#: Below this many jobs a descent takes well under a second: separate processes cost more than they save.
PARALLEL_MIN_JOBS = 80


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



# ---- the model ------------------------------------------------------------------------------------
def _build_model(problem: WeekProblem):
    """RoutingModel of the week: a vehicle per unit-day, one time dimension over the whole week."""
    jobs, vehicles = problem.active, problem.vehicles
    places = sorted({v.depot for v in vehicles} | {v.end for v in vehicles})
    nights = night_nodes(problem)
    node_point = places + [j.point for j in jobs] + [p for _, _, p in nights]  # model node -> point row
    place_node = {p: i for i, p in enumerate(places)}
    n_dep = len(places)
    manager = pywrapcp.RoutingIndexManager(len(node_point), len(vehicles), [place_node[v.depot] for v in vehicles],
                                           [place_node[v.end] for v in vehicles])
    model = pywrapcp.RoutingModel(manager)
    service = [0] * n_dep + [j.service for j in jobs] + [vehicles[v].nights[k].start - vehicles[v].nights[k].end
                                                        for v, k, _ in nights]
    transit, cost = {}, {}
    for kind, m in problem.mats.items():
        minutes = m.minutes[np.ix_(node_point, node_point)].astype(np.int64)
        minutes = np.minimum(minutes, 10 * DAY).tolist()  # unreachable pairs: longer than any day
        times = [[service[a] + minutes[a][b] for b in range(len(node_point))] for a in range(len(node_point))]
        # matrices live on the C++ side: no Python call per arc evaluation
        transit[kind] = model.RegisterTransitMatrix(times)
        cost[kind] = model.RegisterTransitMatrix(minutes)
    friday = {v for v, veh in enumerate(vehicles) if _on_friday(problem, veh)}
    if friday:
        # a full-day session on Friday records nothing during the prayer break: what it loses beyond what
        # placement already counted (in the prizes' units, 100 a recording) is charged on the arc into it,
        # so the search puts the sessions that lose least on Fridays (the other engine does not see this;
        # render does)
        kept = [problem.paused_recordings(j, vehicles[j.vehicles[0]].group) if j.vehicles else j.expected
                for j in jobs]
        loss = [0] * n_dep + [int(round(100 * (j.expected - k))) for j, k in zip(jobs, kept)] + [0] * len(nights)
        for kind in {vehicles[v].kind for v in friday}:
            minutes = np.minimum(problem.mats[kind].minutes[np.ix_(node_point, node_point)].astype(np.int64), 10 * DAY)
            cost[("friday", kind)] = model.RegisterTransitMatrix((minutes + np.array(loss)[None, :]).tolist())
    for v, veh in enumerate(vehicles):
        model.SetArcCostEvaluatorOfVehicle(cost[("friday", veh.kind) if v in friday else veh.kind], v)
    horizon = problem.horizon_days * DAY
    model.AddDimensionWithVehicleTransits([transit[v.kind] for v in vehicles], horizon, horizon, False, "Time")
    time_dim = model.GetDimensionOrDie("Time")
    for k, job in enumerate(jobs):
        index = manager.NodeToIndex(n_dep + k)
        cumul = time_dim.CumulVar(index)
        cumul.SetRange(job.windows[0][0], job.windows[-1][1])
        for (_, b), (c, _) in zip(job.windows, job.windows[1:]):
            if c > b + 1:
                cumul.RemoveInterval(b + 1, c - 1)
        model.AddDisjunction([index], job.penalty)
        model.VehicleVar(index).SetValues([-1] + sorted(set(job.vehicles)))
    # a home-visit team does at most its capacity_per_day visits on each day
    _tour_nights(problem, nights, manager, model, time_dim, n_dep + len(jobs))
    visits = model.RegisterUnaryTransitVector([0] * n_dep + [int(j.kind == "home_visit") for j in jobs]
                                              + [0] * len(nights))
    model.AddDimensionWithVehicleCapacity(
        visits, 0, [int(v.group.capacity_per_day) if v.group.home_visits else 0 for v in vehicles], True, "Visits")
    for v, veh in enumerate(vehicles):
        for index in (model.Start(v), model.End(v)):
            time_dim.CumulVar(index).SetRange(veh.shift_start, veh.shift_end)
        if veh.tour:
            time_dim.CumulVar(model.Start(v)).SetValue(veh.shift_start)  # a tour leaves at the start of its first day
        else:
            # leave as late and come back as early as the route allows
            model.AddVariableMaximizedByFinalizer(time_dim.CumulVar(model.Start(v)))
        model.AddVariableMinimizedByFinalizer(time_dim.CumulVar(model.End(v)))
    return manager, model, time_dim, n_dep


def _on_friday(problem: WeekProblem, veh) -> bool:
    """A one-day vehicle on a Friday with a prayer break (its sessions span the break)."""
    return problem.fbreak is not None and not veh.tour and veh.date is not None and veh.date.weekday() == 4


def night_nodes(problem: WeekProblem) -> list[tuple[int, int, int]]:
    """(vehicle, night, point) for every place a touring vehicle may sleep on each of its nights."""
    return [(v, k, p) for v, veh in enumerate(problem.vehicles) for k, night in enumerate(veh.nights)
            for p in night.places]


def _tour_nights(problem: WeekProblem, nights, manager, model, time_dim, first_node: int) -> None:
    """Each night a touring vehicle sleeps at exactly one of its places (its depot or a lodging), there
    by the end of the working day; at most `max_nights` nights in a row away from the depot.
    """
    by_night: dict = {}
    for n, (v, k, _) in enumerate(nights):
        index = manager.NodeToIndex(first_node + n)
        time_dim.CumulVar(index).SetValue(problem.vehicles[v].nights[k].end)
        model.VehicleVar(index).SetValues([-1, v])  # -1: the places it does not sleep at
        by_night.setdefault((v, k), []).append(index)
    for indices in by_night.values():
        model.AddDisjunction(indices)  # no penalty: exactly one is visited
    solver = model.solver()
    for v, veh in enumerate(problem.vehicles):
        limit = int(veh.group.max_nights or 0)
        home = [by_night[v, k][0] for k in range(len(veh.nights))]  # the depot is each night's first place
        for k in range(len(home) - limit):
            solver.Add(solver.Sum([model.ActiveVar(i) for i in home[k:k + limit + 1]]) >= 1)


def _extract(problem: WeekProblem, assignment, manager, model, time_dim, n_dep) -> list[VehicleRoute]:
    nights = night_nodes(problem)
    n_jobs = len(problem.active)
    routes = []
    for v in range(len(problem.vehicles)):
        index = model.Start(v)
        depart = assignment.Value(time_dim.CumulVar(index))
        stops, slept = [], []
        index = assignment.Value(model.NextVar(index))
        while not model.IsEnd(index):
            node = manager.IndexToNode(index) - n_dep
            if node >= n_jobs:
                slept.append(nights[node - n_jobs][2])
            else:
                stops.append((node, assignment.Value(time_dim.CumulVar(index))))
            index = assignment.Value(model.NextVar(index))
        if stops:
            routes.append(VehicleRoute(v, depart, stops, nights=slept))
    return routes


def descent(problem: WeekProblem, config: str | SearchConfig, seconds: float, initial: dict | None = None) -> dict:
    """One search from one configuration: its routes, objective, time and whether the clock cut it.

    `initial` (vehicle -> ``("job", k, start)`` / ``("night", n, point)`` stops, as `touring.tour_seed`
    gives) starts the descent from that week instead of a first-solution heuristic.
    """
    manager, model, time_dim, n_dep = _build_model(problem)
    params = search_parameters(config, max(seconds, 0.1))
    started = time.perf_counter()
    start = None
    if initial is not None:
        model.CloseModelWithParameters(params)
        start = model.ReadAssignmentFromRoutes(_seed_routes(problem, initial, manager, n_dep), True)
    if start is not None:
        assignment = model.SolveFromAssignmentWithParameters(start, params)
    else:
        assignment = model.SolveWithParameters(params)
    took = time.perf_counter() - started
    found = assignment is not None
    return {"config": config if isinstance(config, str) else config.describe(), "seconds": round(took, 2),
            "objective": int(assignment.ObjectiveValue()) if found else None,
            "cut_by_time_limit": took >= 0.98 * seconds,
            "routes": _extract(problem, assignment, manager, model, time_dim, n_dep) if found else None}


def _seed_routes(problem: WeekProblem, initial: dict, manager, n_dep: int) -> list[list[int]]:
    """Model indices of each vehicle's seeded stops (jobs and nights), for ReadAssignmentFromRoutes."""
    night_index = {(v, n, p): i for i, (v, n, p) in enumerate(night_nodes(problem))}
    first_night = n_dep + len(problem.active)
    routes = []
    for v in range(len(problem.vehicles)):
        nodes = []
        for stop in initial.get(v, []):
            if stop[0] == "job":
                nodes.append(n_dep + stop[1])
            else:
                nodes.append(first_night + night_index[v, stop[1], stop[2]])
        routes.append([manager.NodeToIndex(n) for n in nodes])
    return routes


def _from_tour_seed(problem: WeekProblem, runs: list[dict], seconds: float) -> dict:
    """A descent from `touring.tour_seed`, the other vehicles as in the best run so far."""
    from planner.routing.touring import tour_seed

    done = [r for r in runs if r["routes"] is not None]
    best = min(done, key=lambda r: r["objective"])["routes"] if done else []
    keep = {r.vehicle: [("job", k, t) for k, t in r.stops] for r in best if not problem.vehicles[r.vehicle].tour}
    taken = {stop[1] for stops in keep.values() for stop in stops}
    run = descent(problem, "pci_descent", seconds, initial={**keep, **tour_seed(problem, taken)})
    run["config"] = "tour_seed + pci_descent"
    return run


def solve(problem: WeekProblem, time_limit_s: float = 10, *, config: str | SearchConfig | None = None,
          workers: int | None = None, progress: bool = False) -> Solution:
    """The best of the portfolio's descents (or one `config`) within `time_limit_s` seconds.

    With `workers` > 1 (default: the machine's cores, for problems of `PARALLEL_MIN_JOBS` jobs or
    more) the descents run side by side, each with the whole budget; otherwise one after another,
    skipping a descent the remaining budget cannot finish. A run cut by the clock is used only when
    nothing else is available, and `stats["reproducible"]` says whether the plan could depend on
    machine speed (`stats["cut"]` whether any run was cut).
    """
    configs = list(WEEKLY_PORTFOLIO) if config is None else [config]
    if config is None and any(v.tour for v in problem.vehicles):
        # SAVINGS builds no first week with a tour's mandatory nights (measured on OKI: seconds, then none);
        # the tour gets its own start instead (`_from_tour_seed`)
        configs = [c for c in configs if c != "sav_descent"]
    if workers is None:
        workers = min(len(configs), os.cpu_count() or 1) if len(problem.active) >= PARALLEL_MIN_JOBS else 1
    t0 = time.perf_counter()
    if workers > 1 and len(configs) > 1:
        try:
            runs = _side_by_side(problem, configs, time_limit_s, workers, progress)
        except (BrokenProcessPool, OSError, RuntimeError):
            # no worker processes here (a script without a __main__ guard, a sandbox): search in this one
            workers = 1
            runs = _one_after_another(problem, configs, time_limit_s, progress)
    else:
        runs = _one_after_another(problem, configs, time_limit_s, progress)
    if any(v.tour for v in problem.vehicles):
        runs.append(_from_tour_seed(problem, runs, max(time_limit_s - (time.perf_counter() - t0), 1.0)))
        configs = [*configs, "tour_seed"]
    usable = [r for r in runs if r["routes"] is not None and not r["cut_by_time_limit"]]
    if not usable:
        usable = [r for r in runs[:1] if r["routes"] is not None]
    if not usable:
        raise RuntimeError("OR-Tools found no solution; every job is optional, so this is a bug: please report it")
    best = min(usable, key=lambda r: r["objective"])  # ties: portfolio order (min keeps the first)
    cut = any(r["cut_by_time_limit"] for r in runs)
    reproducible = len(runs) == len(configs) and not cut
    stats = {"engine": "ortools", "seconds": round(time.perf_counter() - t0, 2), "workers": workers,
             "runs": [{k: v for k, v in r.items() if k != "routes"} for r in runs], "cut": cut,
             "reproducible": reproducible,
             "reproducible_why": ("every search ended at its local optimum" if reproducible else
                                  "the time budget cut a search short: a faster or slower machine may give another "
                                  "plan (raise time_budget_s)")}
    return Solution(best["routes"], best["objective"], "SUCCESS" if reproducible else "TIME_LIMIT", stats)


def _one_after_another(problem, configs, time_limit_s, progress) -> list[dict]:
    runs, t0 = [], time.perf_counter()
    with _progress(progress, len(configs)) as advance:
        for k, cfg in enumerate(configs):
            remaining = time_limit_s - (time.perf_counter() - t0)
            if k > 0 and remaining < 1.5 * runs[0]["seconds"]:
                break  # not enough budget left for another full descent
            runs.append(descent(problem, cfg, remaining))
            advance()
    return runs


def _side_by_side(problem, configs, time_limit_s, workers, progress) -> list[dict]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with _progress(progress, len(configs)) as advance, ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        # with fewer cores than descents each gets its share of the budget, so the call stays within it
        seconds = time_limit_s * min(1.0, workers / len(configs))
        futures = [pool.submit(descent, problem, cfg, seconds) for cfg in configs]
        runs = []
        for future in futures:
            runs.append(future.result())
            advance()
    return runs


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
