"""Session placement: how many session-days at which site, and which residents each site serves.

A mixed-integer model solved through OR-Tools' linear-solver wrapper (pywraplp):

* decisions: ``y[p,j]`` (integer) session-days of pool ``p`` at site ``j``, where a pool is one
  unit group on one class of interchangeable dates (`Pool`, built by `planner.supply.unit_pools`:
  a site is offered to a group only on dates its units can drive out from their depot, record at
  least ``min_session_min`` and be back in the day, `planner.reach`); ``x[i,c,j] >= 0`` residents
  of class ``c`` in kelurahan ``i`` asked to come to site ``j``, only for pairs within
  ``max_travel_min`` by the travel matrix;
* constraints: ``sum_j x[i,c,j] <= N[i,c]``; capacity ``sum_ic turnout(t_ij) x[i,c,j] <=
  sum_p cap[p,j] y[p,j] + post_j`` (expected recordings; a session cut short by a long drive
  records less, a stationed post's recordings are fixed); per pool ``sum_j y[p,j] <= units x
  dates``; per site and date class at most one session a date, and ``max_days`` in all; only each
  kelurahan's ``nearest_sites`` nearest usable sites are offered (farther ones only help when
  every nearer one is full; the model stays small). Within those bounds the session-days can
  always be laid out on real dates by the group's units, so routing can schedule what placement
  plans;
* objective: maximise ``sum w_c f_i turnout(t_ij) x[i,c,j] - travel_penalty * t_ij * x[i,c,j]``
  ``- sum day_cost_j y[p,j]`` (``f_i`` the optional remoteness priority; a tiny cost keeps unneeded
  days unspent; a fallback ``balai`` site costs one weighted recording more per day, so known
  venues win ties).

Without pools (`place(..., unit_days=, capacity_per_day=)`) one pool of ``unit_days`` at every
site stands in: the unit-blind model, and the p-median special case below.

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
from collections.abc import Iterable

import numpy as np
import pandas as pd

from planner.contracts import ASSIGNMENT_COLUMNS, DEFAULT_WEIGHTS, UNSERVED_COLUMNS, require_columns
from planner.contracts import SESSION_CLASSES as CLASSES
from planner.contracts import SESSION_COLUMNS as SESSIONS_COLUMNS
from planner.errors import InputError
from planner.i18n import en
from planner.placement.model import (  # noqa: F401
    DAY_COST,
    SOLVERS,
    THROUGHPUT_FLOOR,
    THROUGHPUT_TARGET,
    Pool,
    _build,
    _gap,
    _solve,
    _Solver,
    capacity_bound,
    offered_sites,
)
from planner.placement.tables import _assignment_table, _sessions_table, _unserved_table
from planner.sites import open_days_in

__all__ = ["CLASSES", "SOLVERS", "Placement", "Pool", "given_sessions", "place", "place_from_scenario", "turnout"]


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
        if s.get("idle_groups"):
            return en("placement: {groups}", groups="; ".join(s["idle_groups"]))
        if self.status == "no_reachable_site":
            if not s.get("unit_days"):
                return en("placement: the units have no working day in the horizon, so no session is planned")
            return en("placement: no kelurahan with residents to record can reach any open site within "
                      "max_travel_min = {limit} min (see the unserved reasons); check max_travel_min, the roads "
                      "file and the sites", limit=s.get("max_travel_min", 0))
        if self.status == "greedy":
            return en("placement: the solver found no good plan within {seconds} s, so a greedy fill stands in; a "
                      "larger time_budget_s gives a better plan", seconds=s.get("time_limit_s", 0))
        if s.get("cut"):
            return en("placement: the search stopped at its {seconds} s limit {gap}% from the best bound; a "
                      "larger time_budget_s may do better", seconds=s.get("time_limit_s", 0),
                      gap=round(100 * s.get("gap", 0), 1))
        return ""

    def explain(self) -> str:
        """Plain-language account of demand, what is served and why the rest is not."""
        s = self.summary
        posts = s.get("post_days", 0)
        lines = [f"status {self.status}; {s.get('session_days', 0) - posts} of {s.get('unit_days', 0)} unit-days "
                 f"used" + (f", plus {posts} post-days," if posts else "") + f" at {s.get('sites_used', 0)} sites"]
        # (English, as stored; the CLI shows it through the catalogue, planner.i18n.text)
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


# ---- place ------------------------------------------------------------------------------------
def place(
    gaps: pd.DataFrame,
    sites: pd.DataFrame,
    matrix,
    *,
    unit_days: int = 0,
    capacity_per_day: int = 50,
    pools: list[Pool] | None = None,
    posts: pd.DataFrame | None = None,
    value_factor: np.ndarray | None = None,
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
    throughput_floor: float = 0.0,
) -> Placement:
    """Choose session-days per (unit group, site) and assign each kelurahan's residents to sites.

    Parameters
    ----------
    gaps : one row per kelurahan ``[kode_kel, kode_kec, pemula, lansia, umum, ...]`` (home_visit
        residents are not placed: routing visits them).
    sites : sites contract ``[site_id, name, kind, kode_kel, kode_kec, open_days, max_days, ...]``.
    matrix : TravelMatrix with ``minutes`` (kelurahan x site), ``origins`` (kode_kel) and
        ``destinations`` (site_id); every gap row and site must be in it.
    unit_days, capacity_per_day : without `pools`, one pool of `unit_days` session-days recording
        `capacity_per_day` each, at any site (the unit-blind model).
    pools : session-days per unit group and date class and what a day records per site
        (`planner.supply.unit_pools` builds them from the units, their depots and the calendar).
    posts : session-days already held by stationed operators ``[site_id, unit_group,
        session_days, capacity]`` (`capacity` = recordings over the horizon); no other unit holds a
        session at a post's site.
    value_factor : (kelurahan,) multiplier of every resident's worth (remoteness priority); 1 = none.
    max_travel_min : pairs farther than this are not allowed.
    weights : priority per class (default pemula 3, lansia 2, umum 1).
    turnout_half_min : travel minutes at which turnout halves, see `turnout`.
    travel_penalty : objective cost per resident-minute of travel.
    working_dates : the horizon's dates; a site holds at most one session per date it is open.
    time_limit_s, seed, solver : search budget, seed and backend ("HIGHS", "SCIP", "CP_SAT").
    nearest_sites : consider only this many nearest open sites within reach per kelurahan
        (None = all); keeps the model small on dense city matrices.
    throughput_floor : share of the units' full-day capacity the plan must expect to record before
        priorities may cost recordings (`model.THROUGHPUT_FLOOR`; 0 = none).
    fallback_day_cost : objective cost (in weighted recordings) of a session-day at a fallback
        ``balai`` site, whose location is only a point inside the kelurahan: among equally good
        options a known venue (kantor camat/lurah) is chosen.

    Returns
    -------
    Placement with sessions (one row per site and unit group), assignment and unserved (with a
    reason and numbers per row).
    """
    weights = _check_weights(weights)
    require_columns(gaps, ["kode_kel", "kode_kec", *CLASSES], "gaps")
    require_columns(sites, ["site_id", "name", "kind", "kode_kel", "kode_kec", "open_days", "max_days"], "sites")
    if pools is None and (unit_days < 0 or capacity_per_day <= 0):
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
    if pools is None:
        pools = [Pool("", int(unit_days), int(max(max_days.max(initial=0), 1)),
                      np.where(max_days > 0, float(capacity_per_day), 0.0))]
    fixed_capacity, post_rows = _posts(posts, sites)
    # no mobile session at a post's site: the post serves it
    pools = [dataclasses.replace(p, capacity=np.where(fixed_capacity > 0, 0.0, p.capacity)) for p in pools]
    served = offered_sites(pools, max_days).any(axis=0) | (fixed_capacity > 0)
    within = minutes <= max_travel_min  # by travel time alone: what the explanation speaks of
    reach = within.copy()
    minutes_finite = np.where(np.isfinite(minutes), minutes, 1e6)
    rate = turnout(minutes_finite, turnout_half_min)
    w = np.array([weights[c] for c in CLASSES])
    factor = np.ones(len(gaps)) if value_factor is None else np.asarray(value_factor, dtype=float)
    gain = rate[:, :, None] * w[None, None, :] * factor[:, None, None] - travel_penalty * minutes_finite[:, :, None]
    reach &= (gain > 0).all(axis=2)  # a trip whose penalty exceeds its worth is never proposed
    reach &= served[None, :]
    if nearest_sites is not None:
        # Keep each kelurahan's `nearest_sites` nearest usable sites: farther ones are dominated
        # (lower turnout, more travel) unless every nearer one is full, and the model stays small.
        masked = np.where(reach, minutes, np.inf)
        rank = np.argsort(np.argsort(masked, axis=1, kind="stable"), axis=1, kind="stable")
        reach &= rank < nearest_sites

    day_cost = DAY_COST + fallback_day_cost * (sites["kind"].to_numpy() == "balai")
    assigned, y, status, objective, bound, seconds, used = _solve(
        _Solver(solver, time_limit_s, seed), demand, reach, gain, rate, pools, max_days, fixed_capacity, day_cost,
        throughput_floor)
    expected = assigned * rate[:, :, None]
    sessions = _sessions_table(sites, y, pools, post_rows, expected)
    assignment = _assignment_table(gaps, sites, minutes, assigned, expected)
    budget = sum(p.slots for p in pools)
    unserved = _unserved_table(gaps, demand, assigned, minutes, within, max_days, served, max_travel_min, budget)
    summary = {
        "unit_days": int(budget), "session_days": int(sessions["session_days"].sum()),
        "sites_used": int(sessions["site_id"].nunique()), "capacity_per_day": capacity_per_day,
        "post_days": int(post_rows["session_days"].sum()) if len(post_rows) else 0,
        "demand": {c: int(demand[:, k].sum()) for k, c in enumerate(CLASSES)},
        "assigned": {c: int(assigned[:, :, k].sum()) for k, c in enumerate(CLASSES)},
        "expected": {c: float(expected[:, :, k].sum()) for k, c in enumerate(CLASSES)},
        "unserved": {c: int(unserved.loc[unserved.klass == c, "residents"].sum()) for c in CLASSES},
        "unserved_by_reason": unserved.groupby(unserved["reason"].str.split(":").str[0])["residents"].sum()
        .astype(int).to_dict(),
        "gap": _gap(objective, bound), "solver": used,
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
    table["unit_group"] = table["unit_group"].fillna("").astype(str) if "unit_group" in table else ""
    return Placement(table[SESSIONS_COLUMNS], pd.DataFrame(columns=ASSIGNMENT_COLUMNS),
                     pd.DataFrame(columns=UNSERVED_COLUMNS), "given", math.nan,
                     summary={"session_days": int(table["session_days"].sum()), "source": "sessions file"})


def place_from_scenario(scenario, gaps: pd.DataFrame, sites: pd.DataFrame, matrix, solver: str = "HIGHS", *,
                        depot_times: dict | None = None, posts: pd.DataFrame | None = None,
                        office_min: np.ndarray | None = None, held_back: dict | None = None,
                        tour_commute: dict | None = None, only_at: dict | None = None,
                        regions: np.ndarray | None = None) -> Placement:
    """`place` with every setting taken from a Scenario.

    With `depot_times` ({group index: (minutes out (J,), minutes back (J,))}) each unit group gets
    only the sites it can reach and hold a useful session at (`unit_pools`); without them the
    unit-blind single pool stands in. `posts` are the stationed operators' session-days
    (`planner.posts.post_sessions`); `office_min` (kelurahan,) the minutes to the office or the
    nearest post, which `[placement] remoteness_weight` turns into a priority. `held_back` {group
    name: session-days} keeps that many of a group's unit-days out of placement (a touring team's
    days on the road, which routing found it needs). `tour_commute` {group index: ((J,) minutes from
    the office to each site, (J,) back)} charges a touring group's drive out and home to its sessions
    (`unit_pools`). `only_at` {group name: (J,) bool} offers that group's session-days only at those
    sites (the days a tour left, near the tour). `regions` (centres, sites) bool
    (`planner.tours.regions`) keeps each touring unit's week in one region (`supply.tour_regions`).

    First-time voters get their priority only while an election is ahead: with no election date,
    or one before the horizon starts, ``pemula`` weighs the same as ``umum``.
    """
    cfg = scenario.placement
    weights = scenario.class_weights
    dates = scenario.calendar.working_dates()
    from planner.supply import idle_groups, remoteness_factor, tour_regions, unit_pools

    pools = unit_pools(scenario, sites, depot_times, tour_commute) if depot_times is not None else None
    for group, days in (held_back or {}).items():
        for pool in sorted([p for p in pools or [] if p.group == group], key=lambda p: -p.slots):
            cut = min(days, pool.slots)
            pool.slots -= cut
            days -= cut
    for pool in pools or []:
        if only_at and only_at.get(pool.group) is not None:
            pool.capacity = np.where(only_at[pool.group], pool.capacity, 0.0)

    def solve(pools, floor=0.0):
        return place(gaps, sites, matrix, unit_days=scenario.unit_days, capacity_per_day=scenario.capacity_per_day,
                     pools=pools, posts=posts, value_factor=remoteness_factor(office_min, cfg.remoteness_weight),
                     max_travel_min=cfg.max_travel_min, weights=weights, turnout_half_min=cfg.turnout_half_min,
                     travel_penalty=cfg.travel_penalty, working_dates=dates,
                     time_limit_s=max(1.0, scenario.time_budget_s / 2), seed=scenario.seed, solver=solver,
                     throughput_floor=floor)

    result = solve(pools)
    touring = {g.name: g.count for g in scenario.units if g.sessions and g.overnight}
    if regions is not None and pools and any(p.group in touring for p in pools):
        # each touring unit's week in the one region where the group-wide plan found most to do
        pools = tour_regions(pools, result.sessions, sites, regions, touring)
        result = solve(pools)
    if pools and _mobile_expected(result, pools) < THROUGHPUT_TARGET * capacity_bound(pools):
        # priorities sent the units where they record little: plan again, keeping them recording
        floored = solve(pools, THROUGHPUT_FLOOR)
        if _mobile_expected(floored, pools) > _mobile_expected(result, pools):
            result = floored
    if pools is not None:
        result.summary["idle_groups"] = idle_groups(scenario, pools, depot_times)
    return result


# ---- helpers ----------------------------------------------------------------------------------
def _mobile_expected(result: Placement, pools: list[Pool]) -> float:
    """Recordings placement expects of the session units' days (the pools' groups: posts record apart)."""
    s = result.sessions
    if not len(s):
        return 0.0
    return float(s.loc[s["unit_group"].isin({p.group for p in pools}), "exp_total"].sum())


def _posts(posts: pd.DataFrame | None, sites: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Recordings the stationed operators take per site (J,), and their rows as given."""
    fixed = np.zeros(len(sites))
    if posts is None or not len(posts):
        return fixed, pd.DataFrame(columns=["site_id", "unit_group", "session_days", "capacity"])
    require_columns(posts, ["site_id", "unit_group", "session_days", "capacity"], "posts")
    index = {str(k): n for n, k in enumerate(sites["site_id"])}
    for site_id, capacity in zip(posts["site_id"].astype(str), posts["capacity"]):
        if site_id not in index:
            raise InputError(f"posts: site {site_id} is not among the sites")
        fixed[index[site_id]] += float(capacity)
    return fixed, posts.reset_index(drop=True)


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
