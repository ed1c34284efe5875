"""Which home visits go into this week's routing, and which wait (with the reason)."""

from __future__ import annotations

import pandas as pd

from planner.contracts import visit_job_id
from planner.i18n import en
from planner.scenario import CalendarConfig, UnitGroup


def weeks_home_visits(visits: pd.DataFrame, units: list[UnitGroup], calendar: CalendarConfig,
                      reachable=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Home visits offered to routing this week, and the rest with the reason they wait.

    The home-visit teams can make at most `capacity_per_day` visits a day; offering routing many
    times more visits than fit only slows the search. Kelurahan with the most visits go first (a
    team serves a cluster in one trip), ties by code, so the choice is stable from week to week.
    `reachable` (one bool per visit row) leaves out visits no team can drive to and back from in a
    working day: they would take a place in the week and then not fit (a far desa in a kabupaten).
    """
    teams = [g for g in units if g.home_visits]
    days = len(calendar.working_dates())
    limit = sum(g.count * g.capacity_per_day for g in teams) * days
    far = visits.iloc[0:0]
    if reachable is not None and len(visits):
        ok = pd.Series(reachable, index=visits.index).astype(bool)
        visits, far = visits[ok], visits[~ok]
    far = pd.DataFrame({"job_id": far["visit_id"].astype(str).map(visit_job_id), "job_kind": "home_visit",
                        "site_id": pd.NA, "kode_kel": far["kode_kel"],
                        "reason": en("no home-visit team can drive there, visit and be back within the working day")})
    if len(visits) <= limit:
        return visits, far
    per_kel = visits.groupby("kode_kel")["visit_id"].transform("size")
    order = visits.assign(_n=per_kel).sort_values(["_n", "kode_kel", "visit_id"], ascending=[False, True, True],
                                                   kind="stable").drop(columns="_n")
    chosen, later = order.iloc[:limit], order.iloc[limit:]
    reason = en("over this week's home-visit capacity ({limit} visits: {teams} team(s) x {days} days x visits "
                "per day)", limit=limit, teams=sum(g.count for g in teams), days=days)
    later = pd.DataFrame({"job_id": later["visit_id"].astype(str).map(visit_job_id), "job_kind": "home_visit",
                          "site_id": pd.NA, "kode_kel": later["kode_kel"], "reason": reason})
    return chosen.sort_index(), pd.concat([far, later], ignore_index=True) if len(far) else later
