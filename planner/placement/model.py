"""The placement model: OR-Tools (pywraplp) MIP over session-day pools, and its greedy stand-in.

See the package docstring for the formulation; `_build` is the single-pool (p-median) form the
benchmarks solve, `_build_pools` the one `place` uses.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
from ortools.linear_solver import pywraplp

from planner.errors import InputError, SolverError

SOLVERS = ("HIGHS", "SCIP", "CP_SAT")
DAY_COST = 1e-3
#: Share of the session units' full-day capacity (slots x a full day's recordings) a plan should expect
#: to record (#12: 80% wherever demand allows). A first plan below it, where priorities (first-time
#: voters, remoteness) sent the units to record little, is placed again with THROUGHPUT_FLOOR asked
#: (a margin for what routing trims); only then, as the floor's row slows HiGHS several-fold.
THROUGHPUT_TARGET = 0.8
THROUGHPUT_FLOOR = 0.85
#: HiGHS stops once its plan is proven within this share of the best possible: the register and
#: turnout are estimates, and OR-Tools 9.15 returns no plan at all when HiGHS runs into its time limit
MIP_GAP = 0.002


# ---- solver wrapper shared by place and benchmarks.pmedian_model ---------------------------------------
class _Solver:
    """pywraplp with the settings every model here needs: one thread, a seed, a time limit."""

    @staticmethod
    def check(name: str) -> str:
        name = name.upper()
        if name not in SOLVERS:
            raise InputError(f"unknown solver {name!r}; expected one of {SOLVERS}")
        return name

    def __init__(self, name: str, time_limit_s: float, seed: int = 0):
        self.name = name = self.check(name)
        self.time_limit_s, self.seed = time_limit_s, seed
        self.solver = pywraplp.Solver.CreateSolver(name)
        if self.solver is None:
            raise SolverError(f"OR-Tools was built without the {name} solver")
        self.solver.SuppressOutput()
        if name == "HIGHS":
            # HiGHS prints its banner to stdout even with output suppressed; this silences it (the call
            # reports False in OR-Tools 9.15 but the option is applied).
            self.solver.SetSolverSpecificParametersAsString(f"output_flag = false\nmip_rel_gap = {MIP_GAP}")
        self.solver.SetTimeLimit(int(max(time_limit_s, 0.01) * 1000))
        self.solver.SetNumThreads(1)
        if name == "SCIP":
            self.solver.SetSolverSpecificParametersAsString(f"randomization/randomseedshift = {int(seed)}\n")
        elif name == "CP_SAT":
            self.solver.SetSolverSpecificParametersAsString(f"random_seed: {int(seed)} num_workers: 1")
        # HiGHS is deterministic with its default seed; pywraplp passes it no extra parameters.

    def solve(self, maximize: bool) -> tuple[str, float, float, float]:
        """Solve; return (status, objective, best bound, seconds)."""
        start = time.perf_counter()
        code = self.solver.Solve()
        seconds = time.perf_counter() - start
        status = {pywraplp.Solver.OPTIMAL: "optimal", pywraplp.Solver.FEASIBLE: "feasible",
                  pywraplp.Solver.INFEASIBLE: "infeasible", pywraplp.Solver.UNBOUNDED: "unbounded",
                  pywraplp.Solver.NOT_SOLVED: "not_solved"}.get(code, "error")
        if status not in ("optimal", "feasible"):
            return status, math.nan, math.nan, seconds
        objective = self.solver.Objective().Value()
        bound = self.solver.Objective().BestBound() if self.solver.NumVariables() else objective
        if status == "optimal" or not math.isfinite(bound):
            bound = objective if status == "optimal" else bound
        return status, objective, bound, seconds


def _gap(objective: float, bound: float) -> float:
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.nan
    return abs(objective - bound) / max(abs(objective), 1e-9)


# ---- the model --------------------------------------------------------------------------------
@dataclasses.dataclass
class _Model:
    solver: _Solver
    x: dict  # (i, c, j) -> var
    open: dict  # j -> var
    days: dict  # j -> var (p-median form) or (p, j) -> var (pools form)


@dataclasses.dataclass
class Pool:
    """Session-days one unit group may spend on one class of dates, and what a day records per site.

    Dates whose every site and every group's session fits the same way form one class (typically
    Mon-Thu, Friday with its prayer break, Saturday), so one variable per (pool, site) stands for
    that many interchangeable dates. A site holds at most one session a date (`dates` per class) and
    a group at most `slots` = units x dates; within those two bounds the session-days can always be
    laid out on actual dates (a bipartite multigraph of degree <= dates is dates-edge-colourable).
    """

    group: str
    slots: int  # session-days the group may spend in this class (units x dates)
    dates: int  # dates in the class: the most session-days one site can hold in it
    capacity: np.ndarray  # (J,) expected recordings one session-day records at each site; 0 = not offered
    dclass: int = 0
    tour: int | None = None  # a touring unit's own pool (its index in the group), kept to one region
    day_cost: np.ndarray | None = None  # (J,) objective cost of a session-day at each site (a tour's road days)
    day_load: np.ndarray | None = None  # (J,) unit-days a session-day takes (>= 1: a tour's whole road days)


def _assignment_vars(s, demand, reach, usable, serve_all: bool, link_to=None):
    """``x[i,c,j]`` per allowed pair and the demand rows; `link_to(i, j)` gives a link row or None."""
    inf = s.infinity()
    x, by_demand, site_rows = {}, {}, {j: [] for j in np.flatnonzero(usable)}
    for i in range(demand.shape[0]):
        total = float(demand[i].sum())
        if total <= 0:
            continue
        for j in np.flatnonzero(reach[i] & usable):
            link = link_to(i, j, total) if link_to is not None else None
            for c in range(demand.shape[1]):
                if demand[i, c] <= 0:
                    continue
                var = s.NumVar(0.0, float(demand[i, c]), f"x_{i}_{c}_{j}")
                x[i, c, j] = var
                by_demand.setdefault((i, c), []).append(var)
                if link is not None:
                    link.SetCoefficient(var, 1.0)
                site_rows[j].append((i, c, var))
    for (i, c), vars_ in by_demand.items():
        row = s.RowConstraint(float(demand[i, c]) if serve_all else -inf, float(demand[i, c]), f"dem_{i}_{c}")
        for var in vars_:
            row.SetCoefficient(var, 1.0)
    return x, site_rows


def _build(
    solver: _Solver,
    demand: np.ndarray,
    reach: np.ndarray,
    gain: np.ndarray,
    load: np.ndarray | None,
    capacity_per_day: float | None,
    max_days: np.ndarray,
    budget: int,
    *,
    serve_all: bool = False,
    budget_exact: bool = False,
    day_cost: float | np.ndarray = 0.0,
    strong_link: bool = False,
) -> _Model:
    """The single-pool allocation model: the p-median special case (benchmarks.pmedian_model).

    strong_link adds ``sum_c x[i,c,j] <= N_i open_j`` per pair: needed when there is no capacity
    row to tie assignment to open sites (p-median).

    demand (I, C) residents; reach (I, J) bool allowed pairs; gain (I, J, C) objective per resident;
    load (I, J) capacity used per resident (turnout); capacity_per_day None = uncapacitated;
    max_days (J,) most days per site; budget total days (exactly, with budget_exact).
    """
    s = solver.solver
    inf = s.infinity()
    usable = reach.any(axis=0) & (max_days > 0)
    open_, days = _site_day_vars(s, np.flatnonzero(usable), max_days)

    def link_to(i, j, total):
        if not strong_link:
            return None
        link = s.RowConstraint(-inf, 0.0, f"link_{i}_{j}")
        link.SetCoefficient(open_[j], -total)
        return link

    x, site_rows = _assignment_vars(s, demand, reach, usable, serve_all, link_to)
    if capacity_per_day is not None:
        for j, members in site_rows.items():
            row = s.RowConstraint(-inf, 0.0, f"cap_{j}")
            row.SetCoefficient(days[j], -float(capacity_per_day))
            for i, _, var in members:
                row.SetCoefficient(var, float(load[i, j]))
    row = s.RowConstraint(float(budget) if budget_exact else -inf, float(budget), "budget")
    for j in days:
        row.SetCoefficient(days[j], 1.0)
    day_cost = np.broadcast_to(np.asarray(day_cost, dtype=float), max_days.shape)
    _set_objective(s, x, {j: (var, float(day_cost[j])) for j, var in days.items()}, gain)
    return _Model(solver, x, open_, days)


def offered_sites(pools: list[Pool], max_days: np.ndarray) -> np.ndarray:
    """(pools, sites) bool: where each pool may hold a session-day (an empty pool list offers nothing)."""
    capacity = np.array([p.capacity for p in pools], dtype=float).reshape(len(pools), len(max_days))
    return (capacity > 0) & (max_days > 0)[None, :]


def _build_pools(solver: _Solver, demand, reach, gain, load, pools: list[Pool], max_days, fixed_capacity,
                 day_cost, floor: float = 0.0) -> _Model:
    """`place`'s model: session-days per (pool, site) ``y[p,j]``, integer (`_pool_day_vars`).

    What residents are asked to a site fits the session-days there:
    ``sum load x <= sum_p capacity[p,j] y[p,j] + fixed_capacity_j`` (a post's recordings are fixed).
    """
    s = solver.solver
    inf = s.infinity()
    offered = offered_sites(pools, max_days)
    usable = reach.any(axis=0) & (offered.any(axis=0) | (fixed_capacity > 0))
    y = _pool_day_vars(s, pools, offered & usable[None, :], max_days)
    by_site: dict = {}
    for (n, j), var in y.items():
        by_site.setdefault(j, []).append((n, var))
    x, site_rows = _assignment_vars(s, demand, reach, usable, False)
    for j, members in site_rows.items():
        row = s.RowConstraint(-inf, float(fixed_capacity[j]), f"cap_{j}")
        for n, var in by_site.get(j, []):
            row.SetCoefficient(var, -float(pools[n].capacity[j]))
        for i, _, var in members:
            row.SetCoefficient(var, float(load[i, j]))
    _set_objective(s, x, {key: (var, float(day_cost[key[1]]) + _pool_cost(pools[key[0]], key[1]))
                          for key, var in y.items()}, gain)
    if floor > 0:
        _throughput_floor(s, x, gain, load, pools, fixed_capacity, floor)
    return _Model(solver, x, {}, y)


def capacity_bound(pools: list[Pool]) -> float:
    """Recordings the session units' days hold at a full day each (posts apart): the throughput bound."""
    return sum(p.slots * float(np.max(p.capacity, initial=0.0)) for p in pools)


def _throughput_floor(s, x: dict, gain, load, pools: list[Pool], fixed_capacity, floor: float) -> None:
    """``sum load x + short >= floor x bound`` over the units' sites, each recording `short` costing more
    than any resident is worth: priorities choose among the plans that keep the units recording, and
    where demand cannot fill the floor the plan records all it can.
    """
    bound = capacity_bound(pools)
    mine = [(key, var) for key, var in x.items() if fixed_capacity[key[2]] <= 0]  # posts record apart
    if bound <= 0 or not mine:
        return
    worth = max(float(gain[i, j, c]) / max(float(load[i, j]), 1e-9) for (i, c, j), _ in mine)
    short = s.NumVar(0.0, floor * bound, "short")
    row = s.RowConstraint(floor * bound, s.infinity(), "floor")
    row.SetCoefficient(short, 1.0)
    for (i, _, j), var in mine:
        row.SetCoefficient(var, float(load[i, j]))
    s.Objective().SetCoefficient(short, -(2.0 * max(worth, 0.0) + 1.0))


def _pool_cost(pool: Pool, j: int) -> float:
    return float(pool.day_cost[j]) if pool.day_cost is not None else 0.0


def _pool_day_vars(s, pools: list[Pool], offered: np.ndarray, max_days: np.ndarray) -> dict:
    """``y[p,j]`` with its rows: a pool spends at most its slots; a site holds at most `dates`
    session-days per date class and `max_days` in all.
    """
    inf = s.infinity()
    y = {}
    for n, pool in enumerate(pools):
        for j in np.flatnonzero(offered[n]):
            top = int(min(pool.dates, max_days[j], pool.slots))
            if top > 0:
                y[n, j] = s.IntVar(0, top, f"y_{n}_{j}")

    def at_most(limit, variables, name):
        if len(variables) > 1 and sum(int(v.ub()) for v in variables) > limit:
            row = s.RowConstraint(-inf, float(limit), name)
            for var in variables:
                row.SetCoefficient(var, 1.0)

    for n, pool in enumerate(pools):
        at_most(pool.slots, [var for (m, _), var in y.items() if m == n], f"slots_{n}")
    for key, members in _tours(pools).items():
        # a touring unit's (or group's) session-days and the road days they need fit its days, all classes
        row = s.RowConstraint(-inf, float(sum(pools[n].slots for n in members)), f"tour_{key}")
        for (n, j), var in y.items():
            if n in members:
                row.SetCoefficient(var, float(pools[n].day_load[j]))
    by_site: dict = {}
    for (n, j), var in y.items():
        by_site.setdefault(j, []).append((n, var))
    for j, members in by_site.items():
        for dclass in {pools[n].dclass for n, _ in members}:
            same = [(n, var) for n, var in members if pools[n].dclass == dclass]
            at_most(min(pools[n].dates for n, _ in same), [var for _, var in same], f"class_{j}_{dclass}")
        at_most(int(max_days[j]), [var for _, var in members], f"days_{j}")
    return y


def _tours(pools: list[Pool]) -> dict:
    """(group, tour) -> the pools (all date classes) whose session-days share one tour's days (`Pool.day_load`)."""
    out: dict = {}
    for n, pool in enumerate(pools):
        if pool.day_load is not None:
            out.setdefault((pool.group, pool.tour), set()).add(n)
    return out


def _site_day_vars(s, sites, max_days) -> tuple[dict, dict]:
    """``open_j`` and ``days_j`` per usable site, linked by ``open_j <= days_j <= D_j open_j``."""
    open_, days = {}, {}
    for j in sites:
        open_[j] = s.BoolVar(f"open_{j}")
        if max_days[j] > 1:
            days[j] = s.IntVar(0, int(max_days[j]), f"days_{j}")
            s.Add(days[j] >= open_[j])
            s.Add(days[j] <= int(max_days[j]) * open_[j])
        else:
            days[j] = open_[j]
    return open_, days


def _set_objective(s, x: dict, days: dict, gain: np.ndarray) -> None:
    """Maximise the gain of every assignment less the cost of each session-day (`days`: var, cost)."""
    objective = s.Objective()
    for (i, c, j), var in x.items():
        objective.SetCoefficient(var, float(gain[i, j, c]))
    for var, cost in days.values():
        objective.SetCoefficient(var, -cost)
    objective.SetMaximization()


def _solve(solver: _Solver, demand, reach, gain, rate, pools, max_days, fixed_capacity, day_cost, floor: float = 0.0):
    """Solve the model; whole residents per (kelurahan, site, class), session-days per (pool, site), the
    status, objective, bound, seconds and which solver's plan it is.

    Never raises for a hard instance: with no allowed pair there is nothing to solve
    (``no_reachable_site``, the unserved reasons say why), and when the solver stops without a
    proven plan (time limit) the greedy fill below stands in (``greedy``) if it does better.
    """
    shape = (demand.shape[0], len(max_days), demand.shape[1])
    y = np.zeros((len(pools), len(max_days)), dtype=np.int64)
    nobody = sum(p.slots for p in pools) <= 0 and not (fixed_capacity > 0).any()
    if nobody or not (reach & (demand.sum(axis=1) > 0)[:, None]).any():
        return np.zeros(shape), y, "no_reachable_site", 0.0, 0.0, 0.0, solver.name
    model = _build_pools(solver, demand, reach, gain, rate, pools, max_days, fixed_capacity, day_cost, floor)
    status, objective, bound, seconds = model.solver.solve(maximize=True)
    if status in ("error", "not_solved") and solver.name == "HIGHS":
        # OR-Tools 9.15 hands back no incumbent when HiGHS stops at its time limit (or-tools#5016):
        # SCIP, which keeps its best plan at the limit, gets the same budget before the greedy fill
        model = _build_pools(_Solver("SCIP", solver.time_limit_s, solver.seed), demand, reach, gain, rate, pools,
                             max_days, fixed_capacity, day_cost, floor)
        status, objective, bound, more = model.solver.solve(maximize=True)
        seconds += more
    if status != "optimal":
        # a plan cut short by the time limit can be far from the bound: the greedy fill stands in when
        # it does better (or when the solvers found nothing)
        assigned, greedy_y = _greedy(demand, reach, gain, rate, pools, max_days, fixed_capacity, day_cost)
        costs = np.array([[day_cost[j] + _pool_cost(p, j) for j in range(len(max_days))] for p in pools])
        greedy_objective = float((assigned * gain).sum() - (greedy_y * costs.reshape(greedy_y.shape)).sum())
        if status != "feasible" or greedy_objective > objective:
            return assigned, greedy_y, "greedy", greedy_objective, bound, seconds, "greedy"
    # Whole residents only: floor each assignment (never exceeding capacity); the rest is unserved.
    assigned = np.zeros(shape)
    for (i, c, j), var in model.x.items():
        assigned[i, j, c] = math.floor(var.solution_value() + 1e-6)
    for (n, j), var in model.days.items():
        y[n, j] = int(round(var.solution_value()))
    return assigned, y, status, objective, bound, seconds, model.solver.name


def _greedy(demand, reach, gain, rate, pools, max_days, fixed_capacity, day_cost):
    """Posts first, then the best day first: one more session-day where it earns most per unit-day it
    takes (a tour's road days included), until none earns.

    A day at site j takes the reachable residents with the highest gain per unit of capacity
    until its capacity is full; the same bounds as the model hold (slots per pool, dates per
    class, max_days per site). Used only when the MIP solver returns no plan at all.
    """
    left = demand.astype(float).copy()  # (I, C)
    assigned = np.zeros((demand.shape[0], len(max_days), demand.shape[1]))
    y = np.zeros((len(pools), len(max_days)), dtype=np.int64)
    for j in np.flatnonzero(fixed_capacity > 0):
        _, take = _fill_one_day(left, reach[:, j], gain[:, j, :], rate[:, j], fixed_capacity[j])
        assigned[:, j, :] += take
        left -= take
    classes = sorted({p.dclass for p in pools})
    tour_of = {n: members for members in _tours(pools).values() for n in members}

    def tour_left(n):
        members = tour_of.get(n)
        if members is None:
            return np.inf
        return sum(pools[m].slots for m in members) - sum(float(pools[m].day_load @ y[m]) for m in members)

    while True:
        best = (0.0, None, None, None)
        for n, pool in enumerate(pools):
            if y[n].sum() >= pool.slots:
                continue
            same = [m for m, p in enumerate(pools) if p.dclass == pool.dclass]
            room = (y.sum(axis=0) < max_days) & (y[same].sum(axis=0) < pool.dates) & (pool.capacity > 0)
            if pool.day_load is not None:
                room &= pool.day_load <= tour_left(n) + 1e-9
            for j in np.flatnonzero(room & reach.any(axis=0)):
                value, take = _fill_one_day(left, reach[:, j], gain[:, j, :], rate[:, j], pool.capacity[j])
                cost = day_cost[j] + _pool_cost(pool, j)
                per_day = (value - cost) / (float(pool.day_load[j]) if pool.day_load is not None else 1.0)
                if per_day > best[0]:
                    best = (per_day, n, j, take)
        if best[1] is None or not classes:
            break
        _, n, j, take = best
        y[n, j] += 1
        assigned[:, j, :] += take
        left -= take
    return assigned, y


def _fill_one_day(left, reach_j, gain_j, rate_j, capacity):
    """Whole residents (I, C) one session-day at a site takes, and what they earn."""
    take = np.zeros_like(left)
    rows, classes = np.nonzero(reach_j[:, None] & (left > 0) & (gain_j > 0))
    if not len(rows):
        return 0.0, take
    per_capacity = gain_j[rows, classes] / np.maximum(rate_j[rows], 1e-9)
    room = float(capacity)
    value = 0.0
    for n in np.argsort(-per_capacity, kind="stable"):
        i, c = rows[n], classes[n]
        count = min(left[i, c], math.floor(room / max(rate_j[i], 1e-9) + 1e-9))
        if count <= 0:
            continue
        take[i, c] = count
        value += count * gain_j[i, c]
        room -= count * rate_j[i]
        if room <= 1e-9:
            break
    return value, take
