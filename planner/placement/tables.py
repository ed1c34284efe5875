"""Placement's result tables: sessions per (site, unit group), assignment, and the unserved with why."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from planner.contracts import ASSIGNMENT_COLUMNS, UNSERVED_COLUMNS
from planner.contracts import SESSION_CLASSES as CLASSES
from planner.contracts import SESSION_COLUMNS as SESSIONS_COLUMNS
from planner.i18n import en


def _sessions_table(sites, y, pools, post_rows, expected) -> pd.DataFrame:
    """One row per (site, unit group): its session-days, capacity and its share of the site's expected."""
    rows = []
    for n, pool in enumerate(pools):
        for j in np.flatnonzero(y[n] > 0):
            rows.append((j, pool.group, int(y[n, j]), float(pool.capacity[j]) * int(y[n, j])))
    index = {str(k): n for n, k in enumerate(sites["site_id"])}
    for _, post in post_rows.iterrows():
        rows.append((index[str(post["site_id"])], str(post["unit_group"]), int(post["session_days"]),
                     float(post["capacity"])))
    frame = pd.DataFrame(rows, columns=["j", "unit_group", "session_days", "capacity"])
    frame = frame.groupby(["j", "unit_group"], as_index=False, sort=True).sum()
    per_site = expected.sum(axis=0)  # (J, C)
    share = frame["capacity"] / frame.groupby("j")["capacity"].transform("sum").clip(lower=1e-9)
    table = sites.iloc[frame["j"]][["site_id", "name", "kind", "kode_kel", "kode_kec"]].reset_index(drop=True)
    table["session_days"] = frame["session_days"].astype(int).to_numpy()
    for k, c in enumerate(CLASSES):
        table[f"exp_{c}"] = (per_site[frame["j"], k] * share.to_numpy()).round(2)
    table["exp_total"] = table[[f"exp_{c}" for c in CLASSES]].sum(axis=1).round(2)
    table["capacity"] = frame["capacity"].round(1).to_numpy()
    table["unit_group"] = frame["unit_group"].to_numpy()
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


def _unserved_table(gaps, demand, assigned, minutes, reach, max_days, served, max_travel_min,
                    budget) -> pd.DataFrame:
    rows = []
    left = demand - assigned.sum(axis=1).astype(np.int64)
    for i in range(len(gaps)):
        if left[i].sum() <= 0:
            continue
        nearest = float(minutes[i].min()) if minutes.shape[1] else math.inf
        in_reach = reach[i]
        if not in_reach.any():
            reason = (en("out_of_reach: nearest site is {minutes} min away, limit {limit} min",
                         minutes=round(nearest), limit=round(max_travel_min))
                      if math.isfinite(nearest) else en("out_of_reach: no road route to any candidate site"))
        elif not (max_days[in_reach] > 0).any():
            reason = en("no_open_site: {n} site(s) within {limit} min, none open on a working day of the horizon",
                        n=int(in_reach.sum()), limit=round(max_travel_min))
        elif not served[in_reach].any():
            reason = en("no_unit_reaches: {n} site(s) within {limit} min, but no unit can drive there, hold a "
                        "session of at least min_session_min and be back in the day",
                        n=int(in_reach.sum()), limit=round(max_travel_min))
        else:
            reason = en("over_capacity: the units' {days} session-days went to higher-priority or nearer residents",
                        days=budget)
        for k, c in enumerate(CLASSES):
            if left[i, k] > 0:
                rows.append((gaps["kode_kel"].iloc[i], gaps["kode_kec"].iloc[i], c, int(left[i, k]), reason))
    return pd.DataFrame(rows, columns=UNSERVED_COLUMNS)
