"""Which home visits go into this week's routing, and which wait (with the reason)."""

from __future__ import annotations

import pandas as pd

from planner.contracts import visit_job_id
from planner.scenario import CalendarConfig, UnitGroup


def weeks_home_visits(visits: pd.DataFrame, units: list[UnitGroup],
                      calendar: CalendarConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Home visits offered to routing this week, and the rest with the reason they wait.

    The home-visit teams can make at most `capacity_per_day` visits a day; offering routing many
    times more visits than fit only slows the search. Kelurahan with the most visits go first (a
    team serves a cluster in one trip), ties by code, so the choice is stable from week to week.
    """
    teams = [g for g in units if g.home_visits]
    days = len(calendar.working_dates())
    limit = sum(g.count * g.capacity_per_day for g in teams) * days
    if len(visits) <= limit:
        return visits, visits.iloc[0:0].assign(job_kind=[], reason=[])
    per_kel = visits.groupby("kode_kel")["visit_id"].transform("size")
    order = visits.assign(_n=per_kel).sort_values(["_n", "kode_kel", "visit_id"], ascending=[False, True, True],
                                                   kind="stable").drop(columns="_n")
    chosen, later = order.iloc[:limit], order.iloc[limit:]
    reason = (f"over this week's home-visit capacity ({limit} visits: "
              f"{sum(g.count for g in teams)} team(s) x {days} days x visits per day)")
    later = pd.DataFrame({"job_id": later["visit_id"].astype(str).map(visit_job_id), "job_kind": "home_visit",
                          "site_id": pd.NA, "kode_kel": later["kode_kel"], "reason": reason})
    return chosen.sort_index(), later
