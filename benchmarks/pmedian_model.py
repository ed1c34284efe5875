"""The p-median problem, exactly: open ``p`` sites so the weighted distance to the nearest is least.

It is session placement's special case (every point served, no capacity, one day per site), used
to measure the placement solvers against published optima (OR-Library pmed1-40,
benchmarks/pmedian.py). Three exact forms:

* ``"benders"`` (default): a branch-and-cut on the Benders master of Fischetti, Ljubic & Sinnl
  (2017), its LPs on GLOP re-solved warm, with swap local search and reduced-cost fixing
  (`_pmedian_benders`); it proves every pmed1-20 optimal in under a second;
* ``"radius"``: the covering form of Cornuejols, Nemhauser & Wolsey (1980) / Elloumi (2010) on each
  point's sorted distinct distances, solved as one MIP;
* ``"assignment"``: `planner.placement`'s own model (`_build`), the classic formulation.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import time
from collections.abc import Iterable

import numpy as np
from ortools.linear_solver import pywraplp

from planner.placement import _build, _gap, _Solver


@dataclasses.dataclass
class PMedianResult:
    """A p-median solution: open site indices, each demand point's site, objective and proof."""

    status: str
    objective: float
    bound: float
    gap: float
    open: np.ndarray
    assign: np.ndarray
    solve_s: float
    build_s: float
    solver: str
    formulation: str



def solve_pmedian(cost: np.ndarray, p: int, time_limit_s: float = 10, *, solver: str = "HIGHS",
                  formulation: str = "benders", weights: np.ndarray | None = None, seed: int = 0) -> PMedianResult:
    """Minimise ``sum_i w_i min_{j open} cost[i, j]`` with exactly ``p`` open sites.

    ``formulation``: ``"benders"`` (default, fastest), ``"radius"`` (compact covering form) or
    ``"assignment"`` (`place`'s own model: every point served, p one-day sites, no capacity). All
    three are exact; with the time limit hit, ``status`` is "feasible" and ``gap`` says how far the
    proven bound is. The returned ``objective`` is recomputed from the open sites.

    ``solver`` is the MIP backend of the radius and assignment forms. The benders form is its own
    branch-and-cut and always solves its LPs with GLOP (warm re-solves; see `_pmedian_benders`),
    so it does not use ``solver`` and reports ``solver="GLOP"``.
    """
    cost = np.asarray(cost, dtype=float)
    if cost.ndim != 2 or not np.isfinite(cost).all():
        raise ValueError(f"cost must be a finite 2-D matrix (got shape {cost.shape})")
    n_i, n_j = cost.shape
    if not 1 <= p <= n_j:
        raise ValueError(f"p must be between 1 and the number of sites {n_j} (got {p})")
    w = np.ones(n_i) if weights is None else np.asarray(weights, dtype=float)
    if formulation == "benders":
        _Solver.check(solver)
        return _pmedian_benders(cost, w, p, time_limit_s)
    start = time.perf_counter()
    wrapper = _Solver(solver, time_limit_s, seed)
    if formulation == "assignment":
        model = _build(wrapper, w[:, None], np.ones((n_i, n_j), dtype=bool), -cost[:, :, None], None, None,
                       np.ones(n_j, dtype=np.int64), p, serve_all=True, budget_exact=True, strong_link=True)
        open_vars = model.open
    elif formulation == "radius":
        open_vars = _build_radius(wrapper, cost, w, p)
    else:
        raise ValueError(f"formulation must be 'benders', 'radius' or 'assignment' (got {formulation!r})")
    build_s = time.perf_counter() - start
    status, objective, bound, seconds = wrapper.solve(maximize=formulation == "assignment")
    if formulation == "assignment":
        objective, bound = -objective, -bound
    is_open = np.zeros(n_j, dtype=bool)
    if status in ("optimal", "feasible"):
        for j, var in open_vars.items():
            is_open[j] = var.solution_value() > 0.5
    opened = np.flatnonzero(is_open)
    assign = opened[np.argmin(cost[:, opened], axis=1)] if len(opened) else np.full(n_i, -1)
    if len(opened):
        objective = float((w * cost[np.arange(n_i), assign]).sum())  # exact, free of solver tolerances
    return PMedianResult(status, objective, bound, _gap(objective, bound), opened, assign, seconds, build_s,
                         solver, formulation)


def _pmedian_benders(cost: np.ndarray, w: np.ndarray, p: int, time_limit_s: float) -> PMedianResult:  # noqa: C901  (one generator/solver loop read top to bottom; splitting it scatters its state)
    """Branch-and-cut on the Benders master of the p-median (Fischetti, Ljubic & Sinnl 2017).

    Master LP: ``min sum_i theta_i`` over ``0 <= y <= 1``, ``sum y = p``, with optimality cuts
    ``theta_i >= w_i (D - sum_j max(0, D - c_ij) y_j)``, ``D`` the distance at which the sites
    nearest to i first add up to one open site (the cut is exact at integer y). The root LP is
    tightened with in-out stabilised cuts; then a best-first tree branches on the most fractional
    ``y_j``, separates cuts at every node LP, prunes on the incumbent and fixes sites by reduced
    cost. Incumbents: the p largest ``y`` of each LP point, improved by swap search.

    Why an own tree rather than a MIP solver: pywraplp cannot add cuts during a MIP search, so a
    binary master must be re-solved from scratch after each round of cuts, and its nodes only see
    cuts from points already visited (weak bounds, deep trees). Here each node bound uses its own
    cuts, and every LP is GLOP re-solved warm from the previous basis (dual simplex, no presolve:
    new cuts and changed bounds keep that basis dual feasible) instead of from scratch. Small p
    (5, 10) on n >= 200, where the root LP is 0.5-1 % below the optimum, then takes tens of nodes
    (pmed16: 0.7 s, was unproven at 10 s with the MIP re-solves).
    """
    start = time.perf_counter()
    deadline = start + time_limit_s
    n_i, n_j = cost.shape
    master = _BendersMaster(cost, w, p, deadline)
    integral = bool(np.allclose(w[:, None] * cost, np.rint(w[:, None] * cost)))
    best_open, upper = None, math.inf

    def offer(opened: np.ndarray) -> None:
        nonlocal best_open, upper
        value = float((w * cost[:, opened].min(axis=1)).sum())
        if value < upper:
            best_open, upper = np.sort(opened), value

    def threshold() -> float:
        """A bound above this proves nothing there beats the incumbent (integer data: nothing
        reaches one unit below it). The small margin absorbs LP tolerances.
        """
        margin = 1e-7 * max(1.0, abs(upper))
        return upper - 1.0 + min(margin, 0.5) if integral else upper - margin

    def cut_loop(core: np.ndarray | None = None):
        """Solve the node LP, adding violated cuts until there are none or the bound prunes the node.

        Returns (status, bound, y, reduced costs); status "optimal", "pruned", "infeasible" or
        "stopped" (time limit). ``core`` turns on in-out stabilisation (cuts taken at the midpoint
        of the LP point and the core point, when they cut off the LP point).
        """
        bound = -math.inf
        while True:
            status, value, y_lp, theta_lp, rc = master.solve()
            if status != "optimal":
                return status, bound, None, None
            bound = value
            offer(np.argsort(-y_lp, kind="stable")[:p])
            if value > threshold():
                return "pruned", bound, None, None
            rows = ()
            if core is not None:
                crit, rows = master.cuts(0.5 * y_lp + 0.5 * core, y_lp, theta_lp)
                core = 0.5 * core + 0.5 * y_lp
            if not len(rows):
                crit, rows = master.cuts(y_lp, y_lp, theta_lp)
            if not len(rows):
                return "optimal", bound, y_lp, rc
            master.add(crit, rows)

    # Root: stabilised cut loop, then swap search and the incumbent's own cuts.
    core = np.full(n_j, p / n_j)
    master.add(*master.cuts(core, core, np.full(n_i, -np.inf)))
    status, root_bound, _, _ = cut_loop(core)
    if best_open is not None:
        offer(_swap_search(cost, w, best_open, deadline))
        point = np.zeros(n_j)
        point[best_open] = 1.0
        master.add(*master.cuts(point, point, np.full(n_i, -np.inf)))
    # Tree: nodes are (bound, order, fixed) with fixed[j] = -1 free, 0 closed or 1 open.
    heap = [(root_bound, 0, np.full(n_j, -1, dtype=np.int8))]
    added = nodes = 0
    while heap and status != "stopped" and best_open is not None:
        if heap[0][0] > threshold():
            heap = []  # best-first: every open node is pruned
            break
        if time.perf_counter() >= deadline:
            break
        bound, _, fixed = heapq.heappop(heap)
        master.set_fixed(fixed)
        status, value, y_lp, rc = cut_loop()
        if status == "stopped":
            heapq.heappush(heap, (bound, -1, fixed))
            break
        if status != "optimal":
            continue
        nodes += 1
        if nodes % 20 == 0:
            offer(_swap_search(cost, w, np.argsort(-y_lp, kind="stable")[:p], deadline))
        # Reduced-cost fixing: valid in this subtree, as the LP bound plus |rc| bounds any flip.
        free = fixed < 0
        fixed = fixed.copy()
        fixed[free & (y_lp <= 1e-9) & (value + rc > threshold())] = 0
        fixed[free & (y_lp >= 1 - 1e-9) & (value - rc > threshold())] = 1
        fractional = np.flatnonzero((y_lp > 1e-6) & (y_lp < 1 - 1e-6))
        if not len(fractional):
            continue  # integer point, its exact cost already offered
        j = fractional[np.argmax(np.minimum(y_lp[fractional], 1.0 - y_lp[fractional]))]
        for side in (1, 0):
            child = fixed.copy()
            child[j] = side
            added += 1
            heapq.heappush(heap, (value, added, child))
    seconds = time.perf_counter() - start
    if best_open is None:
        return PMedianResult("not_solved", math.nan, root_bound, math.nan, np.array([], dtype=int),
                             np.full(n_i, -1), seconds, 0.0, "GLOP", "benders")
    lower = min([upper] + [node[0] for node in heap])
    gap = _gap(upper, lower)
    status = "optimal" if gap <= 1e-6 else "feasible"
    if status == "optimal":
        lower, gap = upper, 0.0
    assign = best_open[np.argmin(cost[:, best_open], axis=1)]
    return PMedianResult(status, upper, lower, gap, best_open, assign, seconds, 0.0, "GLOP", "benders")


class _BendersMaster:
    """The p-median Benders master LP on GLOP, with its cuts separated in closed form."""

    def __init__(self, cost: np.ndarray, w: np.ndarray, p: int, deadline: float):
        self.cost, self.w, self.deadline = cost, w, deadline
        self.order = np.argsort(cost, axis=1, kind="stable")
        self.sorted_cost = np.take_along_axis(cost, self.order, axis=1)
        n_i, n_j = cost.shape
        s = self.solver = pywraplp.Solver.CreateSolver("GLOP")
        s.SuppressOutput()
        # Warm re-solves: after new cuts or changed bounds the old basis stays dual feasible.
        s.SetSolverSpecificParametersAsString("use_preprocessing: false use_dual_simplex: true")
        self.y = [s.NumVar(0.0, 1.0, f"y_{j}") for j in range(n_j)]
        self.theta = [s.NumVar(float(w[i] * self.sorted_cost[i, 0]), s.infinity(), f"theta_{i}")
                      for i in range(n_i)]
        row = s.RowConstraint(p, p, "p")
        for var in self.y:
            row.SetCoefficient(var, 1.0)
        objective = s.Objective()
        for var in self.theta:
            objective.SetCoefficient(var, 1.0)
        objective.SetMinimization()
        self.fixed = np.full(n_j, -1, dtype=np.int8)

    def cuts(self, point: np.ndarray, y_lp: np.ndarray, theta_lp: np.ndarray, tol: float = 1e-6):
        """The cuts generated at ``point`` that (y_lp, theta_lp) violates: (D per demand point, rows)."""
        cum = np.cumsum(point[self.order], axis=1)
        k = np.argmax(cum >= 1.0 - 1e-9, axis=1)
        crit = self.sorted_cost[np.arange(len(k)), k]
        value = self.w * (crit - np.maximum(crit[:, None] - self.cost, 0.0) @ y_lp)
        return crit, np.flatnonzero(value > theta_lp + tol * np.maximum(1.0, np.abs(value)))

    def add(self, crit: np.ndarray, rows: Iterable[int]) -> None:
        s, w, cost = self.solver, self.w, self.cost
        for i in rows:
            cut = s.RowConstraint(float(w[i] * crit[i]), s.infinity(), "")
            cut.SetCoefficient(self.theta[i], 1.0)
            for j in np.flatnonzero(cost[i] < crit[i]):
                cut.SetCoefficient(self.y[j], float(w[i] * (crit[i] - cost[i, j])))

    def set_fixed(self, fixed: np.ndarray) -> None:
        """Bounds of y for a node (-1 free, 0 closed, 1 open); only the changed ones are touched."""
        for j in np.flatnonzero(fixed != self.fixed):
            self.y[j].SetBounds(float(fixed[j] == 1), float(fixed[j] != 0))
        self.fixed = fixed

    def solve(self):
        """(status, objective, y, theta, reduced costs of y); status "optimal", "infeasible" or "stopped"."""
        s = self.solver
        s.SetTimeLimit(max(1, int((self.deadline - time.perf_counter()) * 1000)))
        code = s.Solve()
        if code != pywraplp.Solver.OPTIMAL:
            return ("infeasible" if code == pywraplp.Solver.INFEASIBLE else "stopped"), math.nan, None, None, None
        return ("optimal", s.Objective().Value(), np.array([v.solution_value() for v in self.y]),
                np.array([v.solution_value() for v in self.theta]), np.array([v.reduced_cost() for v in self.y]))


def _swap_search(cost: np.ndarray, w: np.ndarray, opened: np.ndarray, deadline: float) -> np.ndarray:
    """Best-improvement swap local search (Teitz & Bart 1968), all swaps scored at once with numpy."""
    opened = np.array(sorted(opened))
    n_i, n_j = cost.shape
    if len(opened) >= n_j:
        return opened
    rows = np.arange(n_i)
    while time.perf_counter() < deadline:
        sub = cost[:, opened]
        part = np.argsort(sub, axis=1, kind="stable")[:, :2]
        a1 = part[:, 0]
        d1 = sub[rows, a1]
        # With one open site, dropping it leaves only the new one: its cost is the "second best".
        d2 = sub[rows, part[:, 1]] if len(opened) > 1 else np.full(n_i, np.inf)
        near = np.minimum(d1[:, None], cost)
        gain = (w[:, None] * (d1[:, None] - near)).sum(axis=0)  # total saving of adding j
        extra = w[:, None] * (np.minimum(d2[:, None], cost) - near)  # what dropping i's site then costs
        owner = np.zeros((len(opened), n_i))
        owner[a1, rows] = 1.0
        loss = owner @ extra  # (open r, candidate j): cost of dropping r once j is open
        change = loss - gain[None, :]
        change[:, opened] = np.inf
        r, j = np.unravel_index(np.argmin(change), change.shape)
        if change[r, j] >= -1e-9:
            break
        opened = np.array(sorted(set(opened.tolist()) - {int(opened[r])} | {int(j)}))
    return opened


def _build_radius(wrapper: _Solver, cost: np.ndarray, w: np.ndarray, p: int) -> dict:
    """Covering form: per demand point i with sorted distinct costs D1 < D2 < ..., z_k = 1 when no
    open site lies within D_k; cost = D1 + sum_k (D_{k+1} - D_k) z_k. Levels are chained
    (z_{k-1} <= z_k + sum of sites entering at level k) so every site appears once per point, and
    levels beyond the (n - p + 1)-th nearest site are dropped (some open site is always that close).
    """
    s = wrapper.solver
    n_i, n_j = cost.shape
    inf = s.infinity()
    y = {j: s.BoolVar(f"y_{j}") for j in range(n_j)}
    row = s.RowConstraint(p, p, "p")
    for j in range(n_j):
        row.SetCoefficient(y[j], 1.0)
    objective = s.Objective()
    constant = 0.0
    for i in range(n_i):
        order = np.argsort(cost[i], kind="stable")
        sorted_cost = cost[i, order]
        last = sorted_cost[n_j - p]  # the (n-p+1)-th nearest: always reached
        levels = np.unique(sorted_cost[sorted_cost <= last])
        constant += w[i] * levels[0]
        previous = None
        for k in range(len(levels) - 1):
            z = s.NumVar(0.0, 1.0, f"z_{i}_{k}")
            objective.SetCoefficient(z, w[i] * (levels[k + 1] - levels[k]))
            entering = order[(sorted_cost == levels[k])]
            # z_k >= (z_{k-1} or 1) - sum(y_j entering at level k)
            row = s.RowConstraint(0.0 if previous is not None else 1.0, inf, f"cov_{i}_{k}")
            row.SetCoefficient(z, 1.0)
            if previous is not None:
                row.SetCoefficient(previous, -1.0)
            for j in entering:
                row.SetCoefficient(y[int(j)], 1.0)
            previous = z
    objective.SetOffset(constant)
    objective.SetMinimization()
    return y
