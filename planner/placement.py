"""Session placement: how many session-days at which site, and which residents each site serves.

A mixed-integer model solved through OR-Tools' linear-solver wrapper (pywraplp):

* decisions: ``open_j`` (binary) and ``days_j`` (integer, ``0..D_j``) per site, where ``D_j`` is the
  site's ``max_days`` capped by how many of the horizon's working dates fall on its opening days
  (one unit per site per day); ``x[i,c,j] >= 0`` residents of class ``c`` in kelurahan ``i`` asked to
  come to site ``j``, only for pairs within ``max_travel_min`` by the travel matrix;
* constraints: ``sum_j x[i,c,j] <= N[i,c]``; capacity ``sum_ic turnout(t_ij) x[i,c,j] <= cap * days_j``
  (expected recordings per session-day); ``open_j <= days_j <= D_j open_j``;
  ``sum_j days_j <= unit_days``; only each kelurahan's ``nearest_sites`` nearest usable sites are
  offered (farther ones only help when every nearer one is full; the model stays small);
* objective: maximise ``sum w_c turnout(t_ij) x[i,c,j] - travel_penalty * t_ij * x[i,c,j]``
  ``- sum_j day_cost_j days_j`` (a tiny cost keeps unneeded days unspent; a fallback ``balai``
  site costs one weighted recording more per day, so known venues win ties).

One unit of capacity earns ``w_c`` whoever uses it, so when capacity is short the model first drops
the class with the smallest weight (``umum``), then ``lansia``, and keeps first-time voters.

``turnout(t, half) = 2 ** (-t / half)``: the share of invited residents expected to come falls by
half every ``half`` minutes of travel (exponential distance decay, as in accessibility studies;
1.0 at the door, 0.5 at ``turnout_half_min``, 0.25 at twice that). Assigned residents are floored
to whole people, so expected recordings never exceed a site's capacity.

The p-median problem is the special case "every demand point served, ``p`` sites open, one day
each, no capacity, gain = -cost" (plus the strong link ``sum_c x[i,c,j] <= N_i open_j`` that
replaces the missing capacity row): ``solve_pmedian(..., formulation="assignment")`` builds it with
the very same model code as ``place``. Two faster exact forms:
``"radius"``, the covering form of Cornuejols, Nemhauser & Wolsey (1980) / Elloumi (2010) on each
point's sorted distinct distances (levels chained so each site appears once per point), and
``"benders"`` (the default), a branch-and-cut on the Benders master of Fischetti, Ljubic & Sinnl
(2017) with its LPs on GLOP, swap local search and reduced-cost fixing; see `_pmedian_benders` and
benchmarks/pmedian.py.

Solver choice (measured on 2 shared cores, benchmarks/RESULTS.md "pmedian"): HiGHS by default.
On the real Bandar Lampung size (126 kelurahan x 213 sites, 15-150 unit-days) HiGHS and SCIP both
prove optimality in 0.2-2.5 s (SCIP a little faster on some budgets, within machine noise); CP-SAT
must scale the continuous assignment to integers and stops at the 10 s limit 0.2-0.8 % from its
bound. On the p-median the benders branch-and-cut proves the optimum of every pmed1-20 in under
1 s each (see RESULTS.md for pmed21-40). Runs are single-threaded and seeded (the benders form is
deterministic), so the same inputs give the same plan.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import time
from typing import Iterable

import numpy as np
import pandas as pd
from ortools.linear_solver import pywraplp

from planner.sites import open_days_in

CLASSES = ("pemula", "lansia", "umum")
DEFAULT_WEIGHTS = {"pemula": 3.0, "lansia": 2.0, "umum": 1.0}
SOLVERS = ("HIGHS", "SCIP", "CP_SAT")
DAY_COST = 1e-3

SESSIONS_COLUMNS = ["site_id", "name", "kind", "kode_kel", "kode_kec", "session_days", "exp_pemula", "exp_lansia",
                    "exp_umum", "exp_total", "capacity"]
ASSIGNMENT_COLUMNS = ["kode_kel", "site_id", "travel_min", "pemula", "lansia", "umum", "exp_total"]
UNSERVED_COLUMNS = ["kode_kel", "kode_kec", "klass", "residents", "reason"]


@dataclasses.dataclass
class Placement:
    """Result of `place`: sessions per site, kelurahan -> site assignment, and what was left out."""

    sessions: pd.DataFrame
    assignment: pd.DataFrame
    unserved: pd.DataFrame
    status: str
    objective: float
    bound: float = math.nan
    solve_s: float = 0.0
    summary: dict = dataclasses.field(default_factory=dict)

    def explain(self) -> str:
        """Plain-language account of demand, what is served and why the rest is not."""
        s = self.summary
        lines = [f"status {self.status}; {s.get('session_days', 0)} of {s.get('unit_days', 0)} unit-days used "
                 f"at {s.get('sites_used', 0)} sites, capacity {s.get('capacity_per_day', 0)} recordings per day"]
        for klass in CLASSES:
            lines.append(f"{klass}: {s['demand'][klass]:,} residents, {s['assigned'][klass]:,} assigned to a site "
                         f"({s['expected'][klass]:,.0f} expected recordings), {s['unserved'][klass]:,} not served")
        for reason, count in s.get("unserved_by_reason", {}).items():
            lines.append(f"not served, {reason}: {count:,} residents")
        return "\n".join(lines)


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


def turnout(minutes, half_min: float = 30.0):
    """Share of invited residents expected to come when the trip takes ``minutes``.

    ``2 ** (-minutes / half_min)``: 1.0 at 0 min, 0.5 at ``half_min``, 0.25 at twice that.
    Works on scalars and numpy arrays.
    """
    if half_min <= 0:
        raise ValueError(f"turnout half time must be > 0 minutes (got {half_min})")
    return np.power(2.0, -np.asarray(minutes, dtype=float) / float(half_min))


# ---- solver wrapper shared by place and solve_pmedian -----------------------------------------
class _Solver:
    """pywraplp with the settings every model here needs: one thread, a seed, a time limit."""

    @staticmethod
    def check(name: str) -> str:
        name = name.upper()
        if name not in SOLVERS:
            raise ValueError(f"unknown solver {name!r}; expected one of {SOLVERS}")
        return name

    def __init__(self, name: str, time_limit_s: float, seed: int = 0):
        self.name = name = self.check(name)
        self.solver = pywraplp.Solver.CreateSolver(name)
        if self.solver is None:
            raise RuntimeError(f"OR-Tools was built without the {name} solver")
        self.solver.SuppressOutput()
        if name == "HIGHS":
            # HiGHS prints its banner to stdout even with output suppressed; this silences it (the call
            # reports False in OR-Tools 9.15 but the option is applied).
            self.solver.SetSolverSpecificParametersAsString("output_flag = false")
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
    days: dict  # j -> var


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
    """Allocation model shared by `place` and the p-median special case.

    strong_link adds ``sum_c x[i,c,j] <= N_i open_j`` per pair: needed when there is no capacity
    row to tie assignment to open sites (p-median); `place` leaves it out (its capacity row already
    does, and the model stays small).

    demand (I, C) residents; reach (I, J) bool allowed pairs; gain (I, J, C) objective per resident;
    load (I, J) capacity used per resident (turnout); capacity_per_day None = uncapacitated;
    max_days (J,) most days per site; budget total days (exactly, with budget_exact).
    """
    s = solver.solver
    n_i, n_c = demand.shape
    inf = s.infinity()
    usable = reach.any(axis=0) & (max_days > 0)
    open_, days = {}, {}
    for j in np.flatnonzero(usable):
        open_[j] = s.BoolVar(f"open_{j}")
        if max_days[j] > 1:
            days[j] = s.IntVar(0, int(max_days[j]), f"days_{j}")
            s.Add(days[j] >= open_[j])
            s.Add(days[j] <= int(max_days[j]) * open_[j])
        else:
            days[j] = open_[j]
    x, by_demand = {}, {}
    site_rows = {j: [] for j in open_}
    for i in range(n_i):
        total = float(demand[i].sum())
        if total <= 0:
            continue
        for j in np.flatnonzero(reach[i] & usable):
            if strong_link:
                link = s.RowConstraint(-inf, 0.0, f"link_{i}_{j}")
                link.SetCoefficient(open_[j], -total)
            for c in range(n_c):
                if demand[i, c] <= 0:
                    continue
                var = s.NumVar(0.0, float(demand[i, c]), f"x_{i}_{c}_{j}")
                x[i, c, j] = var
                by_demand.setdefault((i, c), []).append(var)
                if strong_link:
                    link.SetCoefficient(var, 1.0)
                site_rows[j].append((i, c, var))
    for (i, c), vars_ in by_demand.items():
        row = s.RowConstraint(float(demand[i, c]) if serve_all else -inf, float(demand[i, c]), f"dem_{i}_{c}")
        for var in vars_:
            row.SetCoefficient(var, 1.0)
    if capacity_per_day is not None:
        for j, members in site_rows.items():
            row = s.RowConstraint(-inf, 0.0, f"cap_{j}")
            row.SetCoefficient(days[j], -float(capacity_per_day))
            for i, c, var in members:
                row.SetCoefficient(var, float(load[i, j]))
    row = s.RowConstraint(float(budget) if budget_exact else -inf, float(budget), "budget")
    for j in days:
        row.SetCoefficient(days[j], 1.0)
    objective = s.Objective()
    for (i, c, j), var in x.items():
        objective.SetCoefficient(var, float(gain[i, j, c]))
    day_cost = np.broadcast_to(np.asarray(day_cost, dtype=float), max_days.shape)
    for j in days:
        objective.SetCoefficient(days[j], -float(day_cost[j]))
    objective.SetMaximization()
    return _Model(solver, x, open_, days)


# ---- place ------------------------------------------------------------------------------------
def place(
    gaps: pd.DataFrame,
    sites: pd.DataFrame,
    matrix,
    *,
    unit_days: int,
    capacity_per_day: int,
    max_travel_min: float = 45,
    weights: dict[str, float] | None = None,
    turnout_half_min: float = 30.0,
    travel_penalty: float = 0.001,
    working_dates: Iterable | None = None,
    time_limit_s: float = 10,
    seed: int = 0,
    solver: str = "HIGHS",
    nearest_sites: int | None = 12,
    fallback_day_cost: float = 1.0,
) -> Placement:
    """Choose session-days per site and assign each kelurahan's residents to sites.

    Parameters
    ----------
    gaps : one row per kelurahan ``[kode_kel, kode_kec, pemula, lansia, umum, ...]`` (home_visit
        residents are not placed: routing visits them).
    sites : sites contract ``[site_id, name, kind, kode_kel, kode_kec, open_days, max_days, ...]``.
    matrix : TravelMatrix with ``minutes`` (kelurahan x site), ``origins`` (kode_kel) and
        ``destinations`` (site_id); every gap row and site must be in it.
    unit_days : session-days the units can spend in the horizon.
    capacity_per_day : expected recordings one session-day can take.
    max_travel_min : pairs farther than this are not allowed.
    weights : priority per class (default pemula 3, lansia 2, umum 1).
    turnout_half_min : travel minutes at which turnout halves, see `turnout`.
    travel_penalty : objective cost per resident-minute of travel.
    working_dates : the horizon's dates; a site holds at most one session per date it is open.
    time_limit_s, seed, solver : search budget, seed and backend ("HIGHS", "SCIP", "CP_SAT").
    nearest_sites : consider only this many nearest open sites within reach per kelurahan
        (None = all); keeps the model small on dense city matrices.
    fallback_day_cost : objective cost (in weighted recordings) of a session-day at a fallback
        ``balai`` site, whose location is only a point inside the kelurahan: among equally good
        options a known venue (kantor camat/lurah) is chosen.

    Returns
    -------
    Placement with sessions, assignment and unserved (with a reason and numbers per row).
    """
    weights = _check_weights(weights)
    _check_columns(gaps, ["kode_kel", "kode_kec", *CLASSES], "gaps")
    _check_columns(sites, ["site_id", "name", "kind", "kode_kel", "kode_kec", "open_days", "max_days"], "sites")
    if unit_days < 0 or capacity_per_day <= 0:
        raise ValueError(f"unit_days must be >= 0 and capacity_per_day > 0 (got {unit_days}, {capacity_per_day})")
    if gaps["kode_kel"].duplicated().any():
        raise ValueError(f"gaps has duplicate kode_kel: {gaps.loc[gaps.kode_kel.duplicated(), 'kode_kel'].tolist()[:5]}")
    minutes = _align(matrix, gaps["kode_kel"].tolist(), sites["site_id"].tolist())

    demand = np.rint(gaps[list(CLASSES)].fillna(0).to_numpy(dtype=float)).astype(np.int64)
    if (demand < 0).any():
        raise ValueError("gaps has negative resident counts")
    max_days = sites["max_days"].fillna(0).to_numpy(dtype=np.int64)
    if working_dates is not None:
        dates = list(working_dates)
        open_count = np.array([open_days_in(d, dates) for d in sites["open_days"]], dtype=np.int64)
        max_days = np.minimum(max_days, open_count)
    within = minutes <= max_travel_min  # by travel time alone: what the explanation speaks of
    reach = within.copy()
    minutes_finite = np.where(np.isfinite(minutes), minutes, 1e6)
    rate = turnout(minutes_finite, turnout_half_min)
    w = np.array([weights[c] for c in CLASSES])
    gain = rate[:, :, None] * w[None, None, :] - travel_penalty * minutes_finite[:, :, None]
    reach &= (gain > 0).all(axis=2)  # a trip whose penalty exceeds its worth is never proposed
    reach &= max_days[None, :] > 0
    if nearest_sites is not None:
        # Keep each kelurahan's `nearest_sites` nearest usable sites: farther ones are dominated
        # (lower turnout, more travel) unless every nearer one is full, and the model stays small.
        masked = np.where(reach, minutes, np.inf)
        rank = np.argsort(np.argsort(masked, axis=1, kind="stable"), axis=1, kind="stable")
        reach &= rank < nearest_sites

    day_cost = DAY_COST + fallback_day_cost * (sites["kind"].to_numpy() == "balai")
    model = _build(_Solver(solver, time_limit_s, seed), demand, reach, gain, rate, capacity_per_day, max_days,
                   unit_days, day_cost=day_cost)
    status, objective, bound, seconds = model.solver.solve(maximize=True)
    if status not in ("optimal", "feasible"):
        raise RuntimeError(f"placement solver {solver} ended with status {status} in {seconds:.1f} s")

    # Whole residents only: floor each assignment (never exceeding capacity); the rest is unserved.
    assigned = np.zeros((len(gaps), len(sites), len(CLASSES)))
    for (i, c, j), var in model.x.items():
        assigned[i, j, c] = math.floor(var.solution_value() + 1e-6)
    session_days = np.zeros(len(sites), dtype=np.int64)
    for j, var in model.days.items():
        session_days[j] = int(round(var.solution_value()))

    expected = assigned * rate[:, :, None]
    sessions = _sessions_table(sites, session_days, expected, capacity_per_day)
    assignment = _assignment_table(gaps, sites, minutes, assigned, expected)
    unserved = _unserved_table(gaps, demand, assigned, minutes, within, max_days, max_travel_min, unit_days,
                               capacity_per_day)
    summary = {
        "unit_days": int(unit_days), "session_days": int(session_days.sum()),
        "sites_used": int((session_days > 0).sum()), "capacity_per_day": capacity_per_day,
        "demand": {c: int(demand[:, k].sum()) for k, c in enumerate(CLASSES)},
        "assigned": {c: int(assigned[:, :, k].sum()) for k, c in enumerate(CLASSES)},
        "expected": {c: float(expected[:, :, k].sum()) for k, c in enumerate(CLASSES)},
        "unserved": {c: int(unserved.loc[unserved.klass == c, "residents"].sum()) for c in CLASSES},
        "unserved_by_reason": unserved.groupby(unserved["reason"].str.split(":").str[0])["residents"].sum()
        .astype(int).to_dict(),
        "gap": _gap(objective, bound), "solver": solver,
    }
    return Placement(sessions, assignment, unserved, status, float(objective), float(bound), seconds, summary)


def place_from_scenario(scenario, gaps: pd.DataFrame, sites: pd.DataFrame, matrix, solver: str = "HIGHS") -> Placement:
    """`place` with every setting taken from a Scenario.

    First-time voters get their priority only while an election is ahead: with no election date,
    or one before the horizon starts, ``pemula`` weighs the same as ``umum``.
    """
    cfg = scenario.placement
    weights = dict(cfg.weights)
    dates = scenario.calendar.working_dates()
    if scenario.election_date is None or scenario.election_date < scenario.calendar.week_start:
        weights["pemula"] = weights.get("umum", 1.0)
    return place(gaps, sites, matrix, unit_days=scenario.unit_days, capacity_per_day=scenario.capacity_per_day,
                 max_travel_min=cfg.max_travel_min, weights=weights, turnout_half_min=cfg.turnout_half_min,
                 travel_penalty=cfg.travel_penalty, working_dates=dates,
                 time_limit_s=max(1.0, scenario.time_budget_s / 2), seed=scenario.seed, solver=solver)


# ---- p-median ---------------------------------------------------------------------------------
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


def _pmedian_benders(cost: np.ndarray, w: np.ndarray, p: int, time_limit_s: float) -> PMedianResult:
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
        reaches one unit below it). The small margin absorbs LP tolerances."""
        margin = 1e-7 * max(1.0, abs(upper))
        return upper - 1.0 + min(margin, 0.5) if integral else upper - margin

    def cut_loop(core: np.ndarray | None = None):
        """Solve the node LP, adding violated cuts until there are none or the bound prunes the node.

        Returns (status, bound, y, reduced costs); status "optimal", "pruned", "infeasible" or
        "stopped" (time limit). ``core`` turns on in-out stabilisation (cuts taken at the midpoint
        of the LP point and the core point, when they cut off the LP point)."""
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
    lower = upper if status == "optimal" else lower
    assign = best_open[np.argmin(cost[:, best_open], axis=1)]
    return PMedianResult(status, upper, lower, _gap(upper, lower), best_open, assign, seconds, 0.0, "GLOP",
                         "benders")


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
    levels beyond the (n - p + 1)-th nearest site are dropped (some open site is always that close)."""
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


# ---- helpers ----------------------------------------------------------------------------------
def _check_weights(weights: dict | None) -> dict:
    weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
    missing = [c for c in CLASSES if c not in weights]
    if missing:
        raise ValueError(f"weights need a value for each class {list(CLASSES)} (missing {missing})")
    if any(weights[c] <= 0 for c in CLASSES):
        raise ValueError(f"class weights must be > 0 (got {weights})")
    return weights


def _check_columns(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} is missing columns {missing} (expected {columns})")


def _align(matrix, origins: list[str], destinations: list[str]) -> np.ndarray:
    """The matrix's minutes reordered to (gap rows, sites); every key must be present."""
    o_index = {k: n for n, k in enumerate(matrix.origins)}
    d_index = {k: n for n, k in enumerate(matrix.destinations)}
    missing_o = [k for k in origins if k not in o_index]
    missing_d = [k for k in destinations if k not in d_index]
    if missing_o or missing_d:
        raise ValueError(f"travel matrix does not cover every kelurahan and site: missing origins {missing_o[:5]} "
                         f"({len(missing_o)}), destinations {missing_d[:5]} ({len(missing_d)})")
    rows, cols = [o_index[k] for k in origins], [d_index[k] for k in destinations]
    minutes = np.asarray(matrix.minutes, dtype=float)[np.ix_(rows, cols)]
    reachable = getattr(matrix, "reachable", None)
    if reachable is not None:  # no road route: never in reach, whatever the sentinel value
        minutes = np.where(np.asarray(reachable)[np.ix_(rows, cols)], minutes, np.inf)
    return minutes


def _sessions_table(sites, session_days, expected, capacity_per_day) -> pd.DataFrame:
    used = np.flatnonzero(session_days > 0)
    per_site = expected.sum(axis=0)  # (J, C)
    table = sites.iloc[used][["site_id", "name", "kind", "kode_kel", "kode_kec"]].reset_index(drop=True)
    table["session_days"] = session_days[used]
    for k, c in enumerate(CLASSES):
        table[f"exp_{c}"] = per_site[used, k].round(2)
    table["exp_total"] = per_site[used].sum(axis=1).round(2)
    table["capacity"] = session_days[used] * capacity_per_day
    return table[SESSIONS_COLUMNS]


def _assignment_table(gaps, sites, minutes, assigned, expected) -> pd.DataFrame:
    pairs = np.argwhere(assigned.sum(axis=2) > 0)
    rows = {
        "kode_kel": gaps["kode_kel"].to_numpy()[pairs[:, 0]],
        "site_id": sites["site_id"].to_numpy()[pairs[:, 1]],
        "travel_min": minutes[pairs[:, 0], pairs[:, 1]].astype(int),
    }
    for k, c in enumerate(CLASSES):
        rows[c] = assigned[pairs[:, 0], pairs[:, 1], k].astype(int)
    rows["exp_total"] = expected[pairs[:, 0], pairs[:, 1]].sum(axis=1).round(2)
    return pd.DataFrame(rows, columns=ASSIGNMENT_COLUMNS)


def _unserved_table(gaps, demand, assigned, minutes, reach, max_days, max_travel_min, unit_days,
                    capacity_per_day) -> pd.DataFrame:
    rows = []
    left = demand - assigned.sum(axis=1).astype(np.int64)
    for i in range(len(gaps)):
        if left[i].sum() <= 0:
            continue
        nearest = float(minutes[i].min()) if minutes.shape[1] else math.inf
        in_reach = reach[i]
        if not in_reach.any():
            reason = (f"out_of_reach: nearest site is {nearest:.0f} min away, limit {max_travel_min:.0f} min"
                      if math.isfinite(nearest) else "out_of_reach: no road route to any candidate site")
        elif not (max_days[in_reach] > 0).any():
            reason = (f"no_open_site: {int(in_reach.sum())} site(s) within {max_travel_min:.0f} min, none open on "
                      "a working day of the horizon")
        else:
            reason = (f"over_capacity: {unit_days} unit-days x {capacity_per_day} recordings went to "
                      "higher-priority or nearer residents")
        for k, c in enumerate(CLASSES):
            if left[i, k] > 0:
                rows.append((gaps["kode_kel"].iloc[i], gaps["kode_kec"].iloc[i], c, int(left[i, k]), reason))
    return pd.DataFrame(rows, columns=UNSERVED_COLUMNS)
