"""Forecast: weeks of outreach simulated ahead, until each kelurahan and the city reach the target.

Analysts ask "how many units, or Saturdays, to reach 100% (or 95%) before a date?" and "how many
first-time voters will miss the election?". Re-running placement and routing for every week of a
what-if sweep would take minutes, so this module uses a **capacity-based approximation** of a week
of plans, validated against the full pipeline on one week (`compare_with_plan`; on the real Bandar
Lampung scenario the first week's recordings agree within a few percent, see tests/test_forecast.py):

* with a plan's run (`travel=`), the week is the plan's own model: each unit group's unit-days go,
  one at a time, to the site it can reach (`supply.unit_pools`) whose session records the most
  weighted residents (weights and remoteness as in placement; a touring day pays its share of the
  road days, `Pool.day_cost` and `Pool.day_load`), drawing only on kelurahan within ``max_travel_min``
  of the site at placement's turnout ``2 ** (-t / turnout_half_min)``: residents far from every site wait, as in
  the plan (tests/test_rolling.py: four weeks of real plans against this forecast);
* without a run, sessions run at one site per kecamatan; each unit-day goes to the kecamatan with
  the most weighted residents left, at most one unit per kecamatan per working day, and records
  ``min(capacity_per_day, ceil(turnout x residents left in the kecamatan))``, taken class by
  class in weight order (pemula, lansia, umum) and spread over the kecamatan's kelurahan in
  proportion to what they have left: residents who do not come stay for a later week;
* home-visit teams close ``teams x days x visits per day`` home-visit residents a week, kelurahan
  with the most first (as `routing.weeks_home_visits` does);
* ``not_found_share`` of those reached turn out moved or dead: closed, but not recorded;
* blangko: recordings queue for printing; each week's deliveries are added to stock, then the
  stock prints first-time voters first (before the election), then the rest, oldest first.

No week can close more than ``unit_days x capacity_per_day + home visits``, so the projected number
of weeks is never below the capacity bound ``ceil(needed / capacity per week)`` (`Forecast.bound_weeks`).
Residents who turn 17 during the horizon are not modelled; the scenario's holidays take their share
of a week's unit-days, posts and visits off the week they fall in (`Capacity.in_week`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from planner.contracts import GAP_CLASSES, SESSION_CLASSES, apportion, require_columns
from planner.errors import InputError
from planner.fmt import hari_tanggal, month_year
from planner.forecast_sites import _catchments, _plan_first_week, _plan_week, _site_week
from planner.i18n import t, text, written

CLASSES = list(GAP_CLASSES)
MAX_WEEKS = 520


@dataclasses.dataclass
class Capacity:
    """What a week of outreach can do: session units x working days x recordings a day, plus home visits."""

    units: int
    days: int
    capacity_per_day: int
    home_visits_per_week: int = 0
    posts: dict = dataclasses.field(default_factory=dict)  # kode_kec -> recordings a week by its [[posts]]
    reach: list = dataclasses.field(default_factory=list)  # `Reach` per unit group and class of dates
    kelurahan: list = dataclasses.field(default_factory=list)  # kode_kel of the rows `Reach.sites` index
    weekdays: tuple = ()  # weekdays a normal week works (0 = Monday); empty: every week is normal
    plan_week: np.ndarray | None = None  # (kelurahan of `kelurahan`, 4 classes) what the week's plan records
    holidays: tuple = ()  # dates no one works: the weeks they fall in do that much less

    def open_share(self, week_start: dt.date) -> float:
        """Share of a normal week's working days that the week from `week_start` works (holidays out)."""
        if not self.weekdays or not self.holidays:
            return 1.0
        days = [week_start + dt.timedelta(days=k) for k in range(7)]
        normal = [d for d in days if d.weekday() in self.weekdays]
        return sum(d not in self.holidays for d in normal) / max(len(normal), 1)

    def in_week(self, week_start: dt.date) -> Capacity:
        """The capacity of the week from `week_start`: unit-days, posts and visits less its holidays."""
        share = self.open_share(week_start)
        if share >= 1.0:
            return self
        return dataclasses.replace(
            self, days=max(1, round(self.days * share)), units=self.units if share > 0 else 0,
            home_visits_per_week=int(round(self.home_visits_per_week * share)),
            posts={k: int(round(v * share)) for k, v in self.posts.items()},
            reach=[dataclasses.replace(r, unit_days=int(round(r.unit_days * share))) for r in self.reach])

    def rows_for(self, codes: list[str]) -> np.ndarray | None:
        """Row in `codes` of each kelurahan `Reach.sites` counts on (-1 = not in that table), or None."""
        if not self.kelurahan:
            return None
        index = {c: n for n, c in enumerate(codes)}
        return np.array([index.get(str(c), -1) for c in self.kelurahan], dtype=np.int64)

    def __post_init__(self):
        if self.units < 0 or self.days < 1 or self.capacity_per_day < 1 or self.home_visits_per_week < 0:
            raise InputError(f"capacity needs units >= 0, days >= 1, capacity_per_day >= 1, home visits >= 0 "
                             f"(got {self})")

    @property
    def unit_days(self) -> int:
        """Unit-days per week at this fleet size."""
        return self.units * self.days

    @property
    def per_week(self) -> int:
        """Most residents a week can close (sessions at full capacity plus home visits)."""
        sessions = (sum(r.unit_days * max(r.capacity.values(), default=0) for r in self.reach) if self.reach
                    else self.unit_days * self.capacity_per_day)
        return int(sessions) + self.home_visits_per_week + int(sum(self.posts.values()))

    @classmethod
    def from_scenario(cls, scenario, units: int | None = None, saturday: bool | None = None,
                      sites: pd.DataFrame | None = None, travel=None) -> Capacity:
        """A normal week of the scenario (its holidays kept aside: `in_week` takes them off the weeks
        they fall in); `units` replaces the number of session
        units, `saturday` the calendar's Saturday setting. Stationed posts record what
        `planner.posts.post_sessions` gives them, in their kecamatan (`sites` = the plan's sites;
        loaded from the scenario when it has posts and none are given).
        """
        calendar = scenario.calendar.model_copy(update={"holidays": []})
        if saturday is not None:
            calendar = calendar.model_copy(update={"saturday": saturday})
        days = len(calendar.working_dates())
        count = sum(g.count for g in scenario.units if g.sessions) if units is None else int(units)
        visits = sum(g.count * g.capacity_per_day for g in scenario.units if g.home_visits) * days
        week = scenario.model_copy(update={"calendar": calendar})
        reach = _reach(week, travel, units) if travel is not None else []
        gaps = getattr(travel, "gaps", None)
        own_week = units is None and saturday is None
        return cls(count, days, scenario.capacity_per_day or 50, visits,
                   _post_capacity(week, sites if sites is not None else getattr(travel, "sites", None)), reach,
                   gaps["kode_kel"].astype(str).tolist() if gaps is not None and reach else [],
                   weekdays=tuple(sorted({d.weekday() for d in calendar.working_dates()})),
                   holidays=tuple(scenario.calendar.holidays),
                   plan_week=_plan_week(travel) if own_week and reach else None)


@dataclasses.dataclass
class Reach:
    """What one unit group does in a class of dates, by the plan's own reach rule (`supply.unit_pools`).

    ``unit_days`` its units spend in the class; ``capacity`` {kode_kec: recordings a session-day
    there, the best site the group reaches}; ``days`` {kode_kec: most session-days the kecamatan's
    reachable sites hold in the class}. With the plan's travel matrix, ``sites`` holds each site the
    group may use as (kode_kel indices it draws from, their turnout, their remoteness priority,
    recordings a day, session-days in the class, unit-days a session-day takes with a tour's road days,
    the site's index and its most session-days in all, ``max_days_per_site``):
    a session then takes only residents within ``max_travel_min`` of its site, turnout falling with
    the trip, as placement counts them.
    """

    group: str
    unit_days: int
    capacity: dict
    days: dict
    sites: list = dataclasses.field(default_factory=list)


def _reach(scenario, travel, units: int | None) -> list[Reach]:
    """Each session group's reach in a normal week, from a run's sites and depot travel times.

    A touring group's unit-days are scaled by the share of its capacity its last plan recorded
    (`travel.routes`): days on the road hold no session. `units` rescales every group's unit-days to that fleet size.
    """
    from planner.supply import unit_pools

    sites = travel.sites
    kec = sites["kode_kec"].astype(str).to_numpy()
    per_site = min(scenario.sites.max_days_per_site, 7)
    total = sum(g.count for g in scenario.units if g.sessions) or 1
    scale = (int(units) / total) if units is not None else 1.0
    yields = _tour_yield(scenario, travel)
    catchments = _catchments(scenario, travel)
    out = []
    for pool in unit_pools(scenario, sites, travel.depot_times, getattr(travel, "tour_commute", None)):
        capacity, days = {}, {}
        for code in np.unique(kec[pool.capacity > 0]):
            at = (kec == code) & (pool.capacity > 0)
            capacity[str(code)] = float(pool.capacity[at].max())
            days[str(code)] = int(at.sum()) * min(pool.dates, per_site)
        # with site catchments a touring day's road time is charged where it goes (Pool.day_cost);
        # without them the share its last plan recorded stands in for it
        yield_ = 1.0 if catchments is not None else yields.get(pool.group, 1.0)
        unit_days = int(round(pool.slots * scale * yield_))
        road = pool.day_cost if pool.day_cost is not None else np.zeros(len(pool.capacity))
        load = pool.day_load if pool.day_load is not None else np.ones(len(pool.capacity))
        where = [(*catchments[j], max(float(pool.capacity[j] - road[j]), 0.0), min(pool.dates, per_site),
                  float(load[j]), int(j), per_site) for j in np.flatnonzero(pool.capacity > road)] \
            if catchments is not None else []
        out.append(Reach(pool.group, unit_days, capacity, days, where))
    return out


def _tour_yield(scenario, travel) -> dict:
    """Per touring group: what its plan recorded over units x days x capacity_per_day (1 without a plan)."""
    routes = getattr(travel, "routes", None)
    out = {}
    days = len(scenario.calendar.working_dates()) or 1
    for group in scenario.units:
        if not group.overnight or routes is None or not len(routes.schedule):
            continue
        s = routes.schedule
        units = s["unit"].astype(str).str.replace(r" \d+$", "", regex=True)
        held = float(s.loc[(s["job_kind"] == "session") & (units == group.name), "expected_recordings"].sum())
        out[group.name] = min(1.0, held / (group.count * days * group.capacity_per_day))
    return out


@dataclasses.dataclass
class Forecast:
    """Weeks simulated ahead.

    ``weekly``: one row per week ``[week, week_start, recorded, not_found, recorded_<class>, remaining,
    remaining_<class>, coverage, delivered, stock_start, printed, printed_pemula, stock_end,
    awaiting_print, awaiting_pemula, shortfall]``; ``kelurahan``: ``[kode_kel, nama_kel, kode_kec,
    nama_kec, start, allowed, target_week, target_date]`` (NA when not reached by `until`).
    """

    label: str
    capacity: Capacity
    weekly: pd.DataFrame
    kelurahan: pd.DataFrame
    start_total: int
    allowed: int
    target: float
    target_week: int | None
    target_date: dt.date | None
    bound_weeks: int
    election: dict
    params: dict

    def kecamatan(self) -> pd.DataFrame:
        """Week each kecamatan reaches the target (its slowest kelurahan) and its start gap."""
        k = self.kelurahan
        return (k.groupby(["kode_kec", "nama_kec"], as_index=False)
                .agg(start=("start", "sum"), target_week=("target_week", lambda s: s.max() if s.notna().all()
                                                          else pd.NA)))


def simulate(gaps: pd.DataFrame, capacity: Capacity, *, start: dt.date, until: dt.date, turnout: float = 0.9,
             not_found_share: float = 0.0, target: float = 1.0, population: int | None = None,
             election_date: dt.date | None = None, blangko=None, weights: dict | None = None,
             label: str | None = None) -> Forecast:
    """Simulate weeks of plans from `gaps` (demand.gaps output) starting on `start`, at most until `until`.

    Parameters
    ----------
    gaps
        ``[kode_kel, nama_kel, kode_kec, nama_kec, pemula, lansia, umum, home_visit, unrecorded]``.
    capacity
        A week's capacity (`Capacity.from_scenario`).
    turnout
        Share of the residents invited to a session who come (0-1]; the others wait for a later week.
    not_found_share
        Share of the residents reached who turn out moved or dead (closed, not recorded).
    target
        Coverage to reach: 1.0 everyone, 0.95 leaves 5% (of `population`, or of the start gap).
    population
        Wajib KTP count coverage is measured against; default the start gap itself.
    election_date
        First-time voters (pemula) must be recorded and printed in a week that ends before it.
    blangko
        `scenario.BlangkoConfig` (stock, deliveries, print capacity); None = cards never run out.
    """
    require_columns(gaps, ["kode_kel", "kode_kec", *CLASSES], "the gaps table", "demand.gaps")
    if not 0 < turnout <= 1 or not 0 <= not_found_share < 1 or not 0 < target <= 1:
        raise InputError(f"turnout must be in (0, 1], not_found_share in [0, 1), target in (0, 1] "
                         f"(got {turnout}, {not_found_share}, {target})")
    if until < start:
        raise InputError(f"forecast end {until} is before its start {start}")
    weights = {**{"pemula": 3.0, "lansia": 2.0, "umum": 1.0}, **(weights or {})}
    order = sorted(range(3), key=lambda j: -weights[SESSION_CLASSES[j]])
    w = np.array([weights[c] for c in SESSION_CLASSES])
    kel = gaps.reset_index(drop=True)
    left = kel[CLASSES].to_numpy(dtype=np.int64).copy()
    start_k = left.sum(axis=1)
    start_total = int(start_k.sum())
    base = int(population) if population else start_total
    if base < start_total:
        raise InputError(f"population {base:,} is smaller than the gap {start_total:,}")
    allowed = int(math.floor((1 - target) * base + 1e-9))
    allowed_k = np.floor((1 - target) * base * start_k / max(start_total, 1) + 1e-9).astype(np.int64)
    kec_codes, kec_index = np.unique(kel["kode_kec"].astype(str).to_numpy(), return_inverse=True)
    members = [np.flatnonzero(kec_index == j) for j in range(len(kec_codes))]
    kel_rows = capacity.rows_for(kel["kode_kel"].astype(str).tolist())
    target_week = np.full(len(kel), -1)
    target_week[start_k <= allowed_k] = 0
    needed = max(start_total - allowed, 0)
    bound = math.ceil(needed / capacity.per_week) if capacity.per_week else (0 if needed == 0 else MAX_WEEKS)
    printer = _Printer(blangko, election_date)
    rows = []
    city_week = 0 if start_total <= allowed else None
    week = 0
    while True:
        week_start = start + dt.timedelta(days=7 * week)
        if week_start > until or week >= MAX_WEEKS:
            break
        if city_week is not None and printer.waiting == 0:
            break  # target reached and every card printed: the campaign is over
        closed = np.zeros_like(left)
        used = np.zeros(len(kec_codes), dtype=np.int64)
        week_capacity = _week_capacity(capacity, week, week_start, kel_rows, left, closed, turnout)
        for j, code in enumerate(kec_codes):  # posts first: they record where they stand, every week
            if week_capacity.posts.get(str(code)):
                m = members[j]
                _take(left, closed, m, min(week_capacity.posts[str(code)], math.ceil(turnout * left[m, :3].sum())),
                      order)
        if capacity.reach:
            _reach_week(week_capacity.reach, kec_codes, members, left, closed, w, turnout, order, kel_rows)
        for _ in range(0 if capacity.reach else week_capacity.unit_days):
            score = np.array([(left[m, :3] * w).sum() for m in members])
            score[used >= week_capacity.days] = -1
            j = int(np.argmax(score))
            if score[j] <= 0:
                break
            used[j] += 1
            m = members[j]
            _take(left, closed, m, min(capacity.capacity_per_day, math.ceil(turnout * left[m, :3].sum())), order)
        visits = week_capacity.home_visits_per_week
        for k in np.lexsort((np.arange(len(kel)), -left[:, 3])):
            if visits <= 0 or left[k, 3] <= 0:
                break
            got = min(visits, int(left[k, 3]))
            left[k, 3] -= got
            closed[k, 3] += got
            visits -= got
        by_class = closed.sum(axis=0)
        lost = np.floor(by_class * not_found_share + 0.5).astype(np.int64)
        rec = by_class - lost
        remaining = left.sum(axis=0)
        reached = (left.sum(axis=1) <= allowed_k) & (target_week < 0)
        target_week[reached] = week + 1
        if city_week is None and remaining.sum() <= allowed:
            city_week = week + 1
        printing = printer.week(week_start, week, int(rec[0]), int(rec[1:].sum()))
        rows.append({
            "week": week + 1, "week_start": week_start, "recorded": int(rec.sum()), "not_found": int(lost.sum()),
            **{f"recorded_{c}": int(rec[i]) for i, c in enumerate(CLASSES)},
            **{f"not_found_{c}": int(lost[i]) for i, c in enumerate(CLASSES)},
            "remaining": int(remaining.sum()), **{f"remaining_{c}": int(remaining[i]) for i, c in enumerate(CLASSES)},
            "coverage": 1 - remaining.sum() / base if base else 1.0,
            **printing,
        })
        week += 1
    weekly = pd.DataFrame(rows)
    out_kel = kel[[c for c in ("kode_kel", "nama_kel", "kode_kec", "nama_kec") if c in kel.columns]].copy()
    out_kel["start"] = start_k
    out_kel["allowed"] = allowed_k
    out_kel["target_week"] = pd.array(np.where(target_week >= 0, target_week, 0), dtype="Int64")
    out_kel.loc[target_week < 0, "target_week"] = pd.NA
    out_kel["target_date"] = [start + dt.timedelta(days=7 * (int(t) - 1)) if pd.notna(t) and t > 0 else
                              (start if pd.notna(t) else pd.NaT) for t in out_kel["target_week"]]
    capacity_label = f"{capacity.units} unit(s), {capacity.days} days/week"
    return Forecast(
        label=label or capacity_label, capacity=capacity, weekly=weekly, kelurahan=out_kel,
        start_total=start_total, allowed=allowed, target=target, target_week=city_week,
        target_date=(start + dt.timedelta(days=7 * (city_week - 1)) if city_week else None),
        bound_weeks=bound, election=_election(kel, weekly, election_date, start,
                                              ended=city_week is not None and printer.waiting == 0),
        params={"start": start, "until": until, "turnout": turnout, "not_found_share": not_found_share,
                "target": target, "population": base, "election_date": election_date,
                "blangko": blangko.model_dump() if blangko is not None else None},
    )


class _Printer:
    """Blangko stock and the print queue, week by week.

    Each week's deliveries are added to the stock (the weekly delivery from the second week: the
    first week's stock is `stock`), then cards are printed up to the stock (and `print_per_week`):
    before the election first-time voters first, then the rest; after it, both in proportion.
    Without a blangko setting every recording is printed in its week.
    """

    def __init__(self, blangko, election_date: dt.date | None):
        self.blangko = blangko
        self.election_date = election_date
        self.stock = blangko.stock if blangko is not None else 0
        self.cap = (blangko.print_per_week or np.inf) if blangko is not None else np.inf
        self.queue_p = self.queue_o = 0

    @property
    def waiting(self) -> int:
        return self.queue_p + self.queue_o

    def week(self, week_start: dt.date, index: int, pemula: int, other: int) -> dict:
        blangko = self.blangko
        delivered = 0
        if blangko is not None:
            end = week_start + dt.timedelta(days=7)
            delivered = (blangko.weekly_delivery if index > 0 else 0) + sum(
                d.count for d in blangko.deliveries if week_start <= d.date < end)
        stock_start = self.stock
        self.queue_p += pemula
        self.queue_o += other
        if blangko is None:
            printed_p, printed_o, shortfall = self.queue_p, self.queue_o, 0
        else:
            self.stock += delivered
            can = int(min(self.stock, self.cap))
            if self.election_date is not None and week_start < self.election_date:
                printed_p = min(self.queue_p, can)
                printed_o = min(self.queue_o, can - printed_p)
            else:
                printed = min(self.waiting, can)
                printed_p = int(round(printed * self.queue_p / self.waiting)) if self.waiting else 0
                printed_o = printed - printed_p
            shortfall = max(0, self.waiting - self.stock)
            self.stock -= printed_p + printed_o
        self.queue_p -= printed_p
        self.queue_o -= printed_o
        return {"delivered": int(delivered), "stock_start": int(stock_start), "printed": int(printed_p + printed_o),
                "printed_pemula": int(printed_p), "stock_end": int(self.stock), "awaiting_print": int(self.waiting),
                "awaiting_pemula": int(self.queue_p), "shortfall": int(shortfall)}


def blangko_weeks(weekly: pd.DataFrame, blangko, *, start: dt.date, until: dt.date,
                  election_date: dt.date | None = None) -> pd.DataFrame:
    """Stock, use and shortfall by week for recordings pooled from several forecasts (e.g. all kab/kota).

    `weekly` holds ``week_start``, ``recorded``, ``recorded_pemula`` and optionally ``not_found_pemula``
    (several rows per week are summed; feed the result to `election_risk`). Weeks continue after the
    last recording until the queue is printed or `until`.
    """
    columns = [c for c in ("recorded", "recorded_pemula", "not_found_pemula") if c in weekly.columns]
    sums = weekly.groupby("week_start")[columns].sum()
    printer = _Printer(blangko, election_date)
    rows, index = [], 0
    while True:
        week_start = start + dt.timedelta(days=7 * index)
        if week_start > until or (week_start > sums.index.max() and printer.waiting == 0):
            break
        pemula = int(sums["recorded_pemula"].get(week_start, 0))
        other = int(sums["recorded"].get(week_start, 0)) - pemula
        lost = int(sums["not_found_pemula"].get(week_start, 0)) if "not_found_pemula" in sums else 0
        rows.append({"week": index + 1, "week_start": week_start, "recorded": pemula + other,
                     "recorded_pemula": pemula, "not_found_pemula": lost,
                     **printer.week(week_start, index, pemula, other)})
        index += 1
    return pd.DataFrame(rows)


def election_risk(pemula: int, weekly: pd.DataFrame, election_date: dt.date | None, *,
                  not_found: pd.Series | None = None, ended: bool = True) -> dict:
    """First-time voters recorded and printed in weeks that end before the election, and those at risk.

    `weekly` needs ``week_start, recorded_pemula, printed_pemula`` (and ``not_found_pemula`` unless
    `not_found` is given). ``at_risk = pemula - not found - printed`` before the election.
    """
    if election_date is None:
        return {"election_date": None, "pemula": int(pemula)}
    mask = (weekly["week_start"].map(lambda d: d + dt.timedelta(days=7) <= election_date)
            if len(weekly) else pd.Series(dtype=bool))
    before = weekly[mask] if len(weekly) else weekly
    recorded = int(before["recorded_pemula"].sum()) if len(before) else 0
    lost_series = not_found if not_found is not None else weekly.get("not_found_pemula")
    lost = int(lost_series[mask].sum()) if lost_series is not None and len(before) else 0
    printed = int(before["printed_pemula"].sum()) if len(before) else 0
    simulated_to = weekly["week_start"].max() + dt.timedelta(days=6) if len(weekly) else None
    return {
        "election_date": election_date, "pemula": int(pemula), "weeks_before": int(len(before)),
        "recorded_before": recorded, "not_found_before": lost, "printed_before": printed,
        "not_recorded": int(pemula) - recorded - lost, "recorded_not_printed": recorded - printed,
        "at_risk": int(pemula) - lost - printed,
        "complete": bool(ended or (simulated_to is not None and simulated_to >= election_date - dt.timedelta(days=1))),
    }


def _election(kel: pd.DataFrame, weekly: pd.DataFrame, election_date: dt.date | None, start: dt.date,
              ended: bool) -> dict:
    """`election_risk` of one forecast; ``complete`` is False when it stopped before the election with
    work left (then ``at_risk`` counts everyone not printed by the forecast's end).
    """
    return election_risk(int(kel["pemula"].sum()), weekly, election_date, ended=ended)


# ---- scenarios -------------------------------------------------------------------------------
def _reach_week(reach, kec_codes, members, left, closed, w, turnout: float, order, codes=None) -> None:
    """A week of sessions by the plan's reach: each group's unit-days, one at a time, go where they
    record the most weighted residents (at most its sites' days there).

    With site catchments (`Reach.sites`, matched to this table's kelurahan by `codes`) a day at a
    site takes its kelurahan's residents at their turnout, best class first, up to the day's
    recordings; without them a day goes to a kecamatan and takes from any of its kelurahan
    (`Reach.capacity`).
    """
    if codes is not None and all(r.sites for r in reach if r.unit_days):
        _site_week(reach, left, closed, w, turnout, codes)
        return
    index = {str(code): j for j, code in enumerate(kec_codes)}
    for r in reach:
        where = [(index[c], cap, r.days[c]) for c, cap in r.capacity.items() if c in index]
        if not where:
            continue
        used = np.zeros(len(where), dtype=np.int64)
        for _ in range(r.unit_days):
            score = np.array([(left[members[j], :3] * w).sum() if used[n] < limit else -1.0
                              for n, (j, _, limit) in enumerate(where)])
            n = int(np.argmax(score))
            if score[n] <= 0:
                break
            used[n] += 1
            j, cap, _ = where[n]
            m = members[j]
            _take(left, closed, m, min(int(round(cap)), math.ceil(turnout * left[m, :3].sum())), order)


def _week_capacity(capacity: Capacity, week: int, week_start: dt.date, rows, left, closed, turnout: float) -> Capacity:
    """What is left to do in week `week`: the first week is the plan itself when there is one (closed
    here, its scheduled sessions and visits at this turnout), a holiday week does less.
    """
    if week == 0 and capacity.plan_week is not None and rows is not None:
        _plan_first_week(capacity.plan_week, rows, left, closed, turnout)
        return dataclasses.replace(capacity, posts={}, reach=[], units=0, home_visits_per_week=0)
    return capacity.in_week(week_start)


def _take(left, closed, m, take: int, order) -> None:
    """`take` residents of kelurahan `m`, class by class in weight order, spread by what each has left."""
    for c in order:
        if take <= 0:
            break
        got = apportion(min(take, int(left[m, c].sum())), left[m, c], cap=True)
        left[m, c] -= got
        closed[m, c] += got
        take -= int(got.sum())


def _post_capacity(scenario, sites: pd.DataFrame | None) -> dict:
    """kode_kec -> recordings a normal week of the scenario's posts take there."""
    if not scenario.posts:
        return {}
    from planner.posts import post_sessions

    if sites is None:
        from planner.inputs import scenario_areas, scenario_sites

        sites = scenario_sites(scenario, scenario_areas(scenario))
    held = post_sessions(scenario, sites)
    kec = dict(zip(sites["site_id"].astype(str), sites["kode_kec"].astype(str)))
    return held.assign(kode_kec=held["site_id"].map(kec)).groupby("kode_kec")["capacity"].sum().round().astype(
        int).to_dict()


def from_scenario(scenario, gaps: pd.DataFrame, *, until: dt.date, units: int | None = None,
                  saturday: bool | None = None, label: str | None = None, travel=None, **overrides) -> Forecast:
    """`simulate` with the scenario's units, calendar, election date, blangko and [forecast] assumptions.

    `travel` (a pipeline run up to "travel" or later: its sites and depot travel times) makes the
    week the plan's own: each unit group goes only where `supply.unit_pools` lets it, recording what
    a session-day records there (opening days, posts, tours and reach included). Without it every
    unit-day records a full capacity_per_day in the neediest kecamatan (an upper bound).
    `overrides` replace any of turnout, not_found_share, target, population, blangko, election_date.
    """
    cfg = scenario.forecast
    options = {"turnout": cfg.turnout, "not_found_share": cfg.not_found_share, "target": cfg.target,
               "population": cfg.population, "election_date": scenario.election_date,
               "blangko": scenario.blangko, "weights": scenario.class_weights}
    options.update(overrides)
    capacity = Capacity.from_scenario(scenario, units=units, saturday=saturday, travel=travel)
    if label is None:
        label = f"{capacity.units} unit(s)" + (" + Saturdays" if saturday else "")
    return simulate(gaps, capacity, start=scenario.calendar.week_start, until=until, label=label, **options)


def election_outlook(scenario, gaps: pd.DataFrame, travel=None) -> dict | None:
    """First-time voters at risk of missing the scenario's election if the current units keep going.

    A forecast with the scenario's units, calendar, blangko and [forecast] assumptions up to the
    election date; None when the scenario has no election date. Aggregates only (safe in plan.json).
    """
    if scenario.election_date is None:
        return None
    until = max(scenario.election_date, scenario.calendar.week_start)
    risk = from_scenario(scenario, gaps, until=until, travel=travel).election
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in risk.items()}


def what_if(scenario, gaps: pd.DataFrame, *, until: dt.date, units: Sequence[int] = (2, 4, 6),
            saturdays: Sequence[bool] = (False,), **overrides) -> tuple[pd.DataFrame, list[Forecast]]:
    """Forecasts for each number of units (and with/without Saturdays), with a summary table."""
    runs = [from_scenario(scenario, gaps, until=until, units=n, saturday=sat, **overrides)
            for sat in saturdays for n in units]
    return summary(runs), runs


def summary(forecasts: Sequence[Forecast]) -> pd.DataFrame:
    """One row per forecast: weeks and date to target, the capacity bound, first-time voters at risk."""
    rows = []
    for f in forecasts:
        rows.append({
            "scenario": f.label, "units": f.capacity.units, "days_per_week": f.capacity.days,
            "capacity_per_week": f.capacity.per_week, "start_gap": f.start_total, "target": f.target,
            "weeks_to_target": f.target_week, "target_date": f.target_date, "capacity_bound_weeks": f.bound_weeks,
            "pemula_at_risk": f.election.get("at_risk"), "blangko_shortfall_max":
                int(f.weekly["shortfall"].max()) if len(f.weekly) else 0,
        })
    out = pd.DataFrame(rows)
    out["weeks_to_target"] = out["weeks_to_target"].astype("Int64")
    return out


def compare_with_plan(plan, scenario, gaps: pd.DataFrame | None = None, travel=None) -> pd.DataFrame:
    """The approximation's first week against a full pipeline plan of the same week (turnout 1, no losses).

    Returns ``[measure, pipeline, forecast]`` for session recordings by class and home visits: the
    check behind using the approximation for what-ifs.
    """
    gaps = plan.gaps if gaps is None else gaps
    first = simulate(gaps, Capacity.from_scenario(scenario, sites=plan.sites, travel=travel), start=plan.week_start,
                     until=plan.week_start,
                     turnout=1.0, weights=scenario.class_weights).weekly.iloc[0]
    sessions = plan.sessions
    rows = [(f"sessions {c}", float(sessions[f"exp_{c}"].sum()), float(first[f"recorded_{c}"]))
            for c in SESSION_CLASSES]
    rows.append(("sessions total", float(sessions["exp_total"].sum()),
                 float(sum(first[f"recorded_{c}"] for c in SESSION_CLASSES))))
    rows.append(("home visits", float(plan.kpis.get("home_visits_scheduled", 0)), float(first["recorded_home_visit"])))
    return pd.DataFrame(rows, columns=["measure", "pipeline", "forecast"])


# ---- chart -----------------------------------------------------------------------------------
def plot(forecasts: Sequence[Forecast], path: str | Path | None = None, *, title: str | None = None):
    """Remaining gap over time, one line per forecast; the target and the election as guides.

    Returns the matplotlib Figure; with `path` it is also saved (PNG).
    """
    import matplotlib
    import matplotlib.dates
    import matplotlib.ticker

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5))
    for f in forecasts:
        if not len(f.weekly):
            continue
        x = [f.params["start"]] + [d + dt.timedelta(days=7) for d in f.weekly["week_start"]]
        y = [f.start_total] + f.weekly["remaining"].tolist()
        weeks = t("{n} wk", n=f.target_week) if f.target_week else t("not reached")
        ax.step(x, y, where="post", label=f"{text(f.label)} ({weeks})")
    if forecasts:
        first = forecasts[0]
        ax.axhline(first.allowed, color="grey", linestyle="--", linewidth=1,
                   label=t("target {share} ({n} left)", share=f"{first.target:.0%}", n=written(first.allowed)))
        election = first.params.get("election_date")
        if election is not None and election <= max(f.params["until"] for f in forecasts):
            ax.axvline(election, color="crimson", linestyle=":",
                       label=t("election {date}", date=hari_tanggal(election)))
    ax.set_xlabel(t("week"))
    ax.set_ylabel(t("residents still unrecorded"))
    ax.set_title(title or t("Remaining e-KTP gap"))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
        lambda x, _: month_year(matplotlib.dates.num2date(x))))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return fig


def week_blangko(scenario, sessions: pd.DataFrame, schedule: pd.DataFrame) -> dict | None:
    """The week's blank cards: stock, what the scheduled recordings need, what is printed and short.

    First-time voters among the scheduled recordings are estimated from the placed sessions' share
    (``exp_pemula / exp_total``); they print first before the election, as in the forecast. None
    when the scenario has no [blangko]. Aggregates only (safe in plan.json).
    """
    if scenario.blangko is None:
        return None
    s = schedule
    sessions_done = float(s.loc[s["job_kind"] == "session", "expected_recordings"].sum()) if len(s) else 0.0
    visits = int((s["job_kind"] == "home_visit").sum()) if len(s) else 0
    total = float(sessions["exp_total"].sum()) if len(sessions) else 0.0
    share = float(sessions["exp_pemula"].sum()) / total if total > 0 else 0.0
    needed = int(round(sessions_done)) + visits
    pemula = int(round(sessions_done * share))
    start = scenario.calendar.week_start
    week = pd.DataFrame([{"week_start": start, "recorded": needed, "recorded_pemula": pemula}])
    row = blangko_weeks(week, scenario.blangko, start=start, until=start,
                        election_date=scenario.election_date).iloc[0]
    return {"stock": int(row["stock_start"]) + int(row["delivered"]), "needed": needed, "needed_pemula": pemula,
            "printed": int(row["printed"]), "printed_pemula": int(row["printed_pemula"]),
            "stock_end": int(row["stock_end"]), "shortfall": int(row["awaiting_print"]),
            "awaiting_pemula": int(row["awaiting_pemula"])}
