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
each, no capacity, gain = -cost": `benchmarks.pmedian_model.solve_pmedian(..., formulation="assignment")`
builds it with the very same model code (`_build`), and benchmarks/pmedian.py measures it.

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
import math
import time
from collections.abc import Iterable

import numpy as np
import pandas as pd
from ortools.linear_solver import pywraplp

from planner.contracts import ASSIGNMENT_COLUMNS, DEFAULT_WEIGHTS, UNSERVED_COLUMNS, require_columns
from planner.contracts import SESSION_CLASSES as CLASSES
from planner.contracts import SESSION_COLUMNS as SESSIONS_COLUMNS
from planner.errors import InputError, SolverError
from planner.sites import open_days_in

SOLVERS = ("HIGHS", "SCIP", "CP_SAT")
DAY_COST = 1e-3


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

    def note(self) -> str:
        """One sentence when the plan is not the solver's proven best, else ''."""
        s = self.summary
        if self.status == "no_reachable_site":
            if not s.get("unit_days"):
                return "placement: the units have no working day in the horizon, so no session is planned"
            return ("placement: no kelurahan with residents to record can reach any open site within "
                    f"max_travel_min = {s.get('max_travel_min', 0):g} min (see the unserved reasons); "
                    "check max_travel_min, the roads file and the sites")
        if self.status == "greedy":
            return (f"placement: the solver found no plan within {s.get('time_limit_s', 0):g} s, so a greedy "
                    "fill stands in; a larger time_budget_s gives a better plan")
        if s.get("cut"):
            return (f"placement: the search stopped at its {s.get('time_limit_s', 0):g} s limit "
                    f"{100 * s.get('gap', 0):.1f}% from the best bound; a larger time_budget_s may do better")
        return ""

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


def turnout(minutes, half_min: float = 30.0):
    """Share of invited residents expected to come when the trip takes ``minutes``.

    ``2 ** (-minutes / half_min)``: 1.0 at 0 min, 0.5 at ``half_min``, 0.25 at twice that.
    Works on scalars and numpy arrays.
    """
    if half_min <= 0:
        raise InputError(f"turnout half time must be > 0 minutes (got {half_min})")
    return np.power(2.0, -np.asarray(minutes, dtype=float) / float(half_min))


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
        self.solver = pywraplp.Solver.CreateSolver(name)
        if self.solver is None:
            raise SolverError(f"OR-Tools was built without the {name} solver")
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
    open_, days = _site_day_vars(s, np.flatnonzero(usable), max_days)
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
            for i, _, var in members:
                row.SetCoefficient(var, float(load[i, j]))
    row = s.RowConstraint(float(budget) if budget_exact else -inf, float(budget), "budget")
    for j in days:
        row.SetCoefficient(days[j], 1.0)
    _set_objective(s, x, days, gain, np.broadcast_to(np.asarray(day_cost, dtype=float), max_days.shape))
    return _Model(solver, x, open_, days)


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


def _set_objective(s, x: dict, days: dict, gain: np.ndarray, day_cost: np.ndarray) -> None:
    """Maximise the gain of every assignment less the cost of each session-day."""
    objective = s.Objective()
    for (i, c, j), var in x.items():
        objective.SetCoefficient(var, float(gain[i, j, c]))
    for j in days:
        objective.SetCoefficient(days[j], -float(day_cost[j]))
    objective.SetMaximization()


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
    require_columns(gaps, ["kode_kel", "kode_kec", *CLASSES], "gaps")
    require_columns(sites, ["site_id", "name", "kind", "kode_kel", "kode_kec", "open_days", "max_days"], "sites")
    if unit_days < 0 or capacity_per_day <= 0:
        raise InputError(f"unit_days must be >= 0 and capacity_per_day > 0 (got {unit_days}, {capacity_per_day})")
    if gaps["kode_kel"].duplicated().any():
        twice = gaps.loc[gaps.kode_kel.duplicated(), "kode_kel"].tolist()[:5]
        raise InputError(f"gaps has duplicate kode_kel: {twice}")
    minutes = _align(matrix, gaps["kode_kel"].tolist(), sites["site_id"].tolist())

    demand = np.rint(gaps[list(CLASSES)].fillna(0).to_numpy(dtype=float)).astype(np.int64)
    if (demand < 0).any():
        raise InputError("gaps has negative resident counts")
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
    assigned, session_days, status, objective, bound, seconds = _solve(
        _Solver(solver, time_limit_s, seed), demand, reach, gain, rate, capacity_per_day, max_days, unit_days,
        day_cost)
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
        "cut": status != "optimal" and int(demand.sum()) > 0,
        "time_limit_s": float(time_limit_s), "max_travel_min": float(max_travel_min),
    }
    return Placement(sessions, assignment, unserved, status, float(objective), float(bound), seconds, summary)


def given_sessions(sessions: pd.DataFrame, sites: pd.DataFrame) -> Placement:
    """A Placement holding session-days decided elsewhere (a ``sessions.csv`` written by `planner place`).

    Routing needs only the sessions; assignment and unserved stay empty, and the status says where
    the sessions came from.
    """
    require_columns(sessions, ["site_id", "session_days"], "sessions", "planner place (sessions.csv)")
    table = sessions.copy()
    table["site_id"] = table["site_id"].astype(str)
    known = set(sites["site_id"].astype(str))
    unknown = sorted(set(table["site_id"]) - known)
    if unknown:
        raise InputError(f"sessions: site_id(s) {unknown[:5]} are not among the scenario's sites; was the "
                         "sessions file made with another scenario?")
    days = pd.to_numeric(table["session_days"], errors="coerce")
    if days.isna().any() or (days < 0).any():
        raise InputError("sessions: session_days must be whole numbers >= 0")
    table["session_days"] = days.astype(int)
    by_id = sites.assign(site_id=sites["site_id"].astype(str)).set_index("site_id")
    for column in ("name", "kind", "kode_kel", "kode_kec"):
        if column not in table:
            table[column] = table["site_id"].map(by_id[column])
    for column in ("exp_pemula", "exp_lansia", "exp_umum", "exp_total", "capacity"):
        if column not in table:
            table[column] = 0.0
    return Placement(table[SESSIONS_COLUMNS], pd.DataFrame(columns=ASSIGNMENT_COLUMNS),
                     pd.DataFrame(columns=UNSERVED_COLUMNS), "given", math.nan,
                     summary={"session_days": int(table["session_days"].sum()), "source": "sessions file"})


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


# ---- helpers ----------------------------------------------------------------------------------
def _solve(solver: _Solver, demand, reach, gain, rate, capacity, max_days, budget, day_cost):
    """Solve the model; whole residents per (kelurahan, site, class) and days per site.

    Never raises for a hard instance: with no allowed pair there is nothing to solve
    (``no_reachable_site``, the unserved reasons say why), and when the solver stops without a
    plan (time limit before its first incumbent) the greedy fill below stands in (``greedy``).
    """
    shape = (demand.shape[0], len(max_days), demand.shape[1])
    if budget <= 0 or not (reach & (demand.sum(axis=1) > 0)[:, None]).any():
        return np.zeros(shape), np.zeros(len(max_days), dtype=np.int64), "no_reachable_site", 0.0, 0.0, 0.0
    model = _build(solver, demand, reach, gain, rate, capacity, max_days, budget, day_cost=day_cost)
    status, objective, bound, seconds = model.solver.solve(maximize=True)
    if status not in ("optimal", "feasible"):
        assigned, days = _greedy(demand, reach, gain, rate, capacity, max_days, budget, day_cost)
        objective = float((assigned * gain).sum() - (days * day_cost).sum())
        return assigned, days, "greedy", objective, math.nan, seconds
    # Whole residents only: floor each assignment (never exceeding capacity); the rest is unserved.
    assigned = np.zeros(shape)
    for (i, c, j), var in model.x.items():
        assigned[i, j, c] = math.floor(var.solution_value() + 1e-6)
    days = np.zeros(len(max_days), dtype=np.int64)
    for j, var in model.days.items():
        days[j] = int(round(var.solution_value()))
    return assigned, days, status, objective, bound, seconds


def _greedy(demand, reach, gain, rate, capacity, max_days, budget, day_cost):
    """Best day first: repeatedly give one more session-day to the site where it earns most.

    A day at site j takes the reachable residents with the highest gain per unit of capacity
    until its capacity is full. Used only when the MIP solver returns no plan at all.
    """
    left = demand.astype(float).copy()  # (I, C)
    assigned = np.zeros((demand.shape[0], len(max_days), demand.shape[1]))
    days = np.zeros(len(max_days), dtype=np.int64)
    day_cost = np.broadcast_to(np.asarray(day_cost, dtype=float), max_days.shape)
    for _ in range(int(budget)):
        best = (0.0, None, None)
        for j in np.flatnonzero((days < max_days) & reach.any(axis=0)):
            value, take = _fill_one_day(left, reach[:, j], gain[:, j, :], rate[:, j], capacity)
            if value - day_cost[j] > best[0]:
                best = (value - day_cost[j], j, take)
        if best[1] is None:
            break
        _, j, take = best
        days[j] += 1
        assigned[:, j, :] += take
        left -= take
    return assigned, days


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


def _check_weights(weights: dict | None) -> dict:
    weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
    missing = [c for c in CLASSES if c not in weights]
    if missing:
        raise InputError(f"weights need a value for each class {list(CLASSES)} (missing {missing})")
    if any(weights[c] <= 0 for c in CLASSES):
        raise InputError(f"class weights must be > 0 (got {weights})")
    return weights


def _align(matrix, origins: list[str], destinations: list[str]) -> np.ndarray:
    """The matrix's minutes reordered to (gap rows, sites); every key must be present."""
    o_index = {k: n for n, k in enumerate(matrix.origins)}
    d_index = {k: n for n, k in enumerate(matrix.destinations)}
    missing_o = [k for k in origins if k not in o_index]
    missing_d = [k for k in destinations if k not in d_index]
    if missing_o or missing_d:
        raise InputError(f"travel matrix does not cover every kelurahan and site: missing origins {missing_o[:5]} "
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
