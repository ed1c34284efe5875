"""The forecast's week on site catchments: where a session draws residents from, and a greedy week;
and the first week taken from a run's own plan.

The same rule placement counts by (`planner.placement`): a session at a site takes kelurahan within
``max_travel_min`` at turnout ``2 ** (-t / turnout_half_min)``, weighted by class and remoteness.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from planner.contracts import GAP_CLASSES, SESSION_CLASSES, apportion


def _catchments(scenario, travel) -> list | None:
    """Per site of the run: kelurahan rows (`travel.gaps` order) within max_travel_min, their turnout and
    their remoteness priority (`supply.remoteness_factor`), as placement weighs them.
    """
    from planner.placement import _align, turnout
    from planner.supply import remoteness_factor

    matrix, gaps = getattr(travel, "matrix", None), getattr(travel, "gaps", None)
    if matrix is None or gaps is None:
        return None
    minutes = _align(matrix, gaps["kode_kel"].astype(str).tolist(), travel.sites["site_id"].astype(str).tolist())
    cfg = scenario.placement
    within = minutes <= cfg.max_travel_min
    rate = turnout(np.where(np.isfinite(minutes), minutes, 1e6), cfg.turnout_half_min)
    factor = remoteness_factor(getattr(travel, "office_min", None), cfg.remoteness_weight)
    factor = np.ones(len(gaps)) if factor is None else factor
    return [(np.flatnonzero(within[:, j]), rate[within[:, j], j], factor[within[:, j]])
            for j in range(minutes.shape[1])]


def _site_week(reach, left, closed, w, turnout: float, rows) -> None:
    """`_reach_week` on site catchments: `rows` maps the catchments' kelurahan rows to this table's.

    Each group's unit-days go, a session-day at a time, where a unit-day records the most weighted
    residents; a session-day takes its site's unit-days (more than one where a tour spends whole days
    on the road to it), and the last unit-days left hold that share of a session-day. A day fills its
    recordings as placement does: the residents worth most per recording first (class weight times
    remoteness priority), then the next.
    """
    held: dict = {}  # site -> session-days this week, every group and class of dates (max_days_per_site)
    for r in reach:
        used = np.zeros(len(r.sites), dtype=np.int64)
        where = []
        for kel, rate, factor, cap, limit, load, j, most in r.sites:
            keep = rows[kel] >= 0
            worth = factor[keep][:, None] * w[None, :]  # (kelurahan, class) priority per recording
            where.append((rows[kel][keep], rate[keep], worth, np.argsort(-worth.ravel(), kind="stable"), cap, limit,
                          load, j, most))
        budget = float(r.unit_days)
        while budget > 1e-9:
            best, pick = 0.0, None
            for n, (m, rate, worth, rank, cap, limit, load, j, most) in enumerate(where):
                if used[n] >= limit or held.get(j, 0) >= most or not len(m):
                    continue
                come = turnout * rate[:, None] * left[m, :3]  # expected to come, per kelurahan and class
                take = _fill(come, rank, cap * min(1.0, budget / load))
                value = float((take * worth.ravel()[rank]).sum()) / min(load, budget)
                if value > best:
                    best, pick = value, n
            if pick is None:
                break
            used[pick] += 1
            m, rate, worth, rank, cap, _, load, j, _ = where[pick]
            held[j] = held.get(j, 0) + 1
            come = turnout * rate[:, None] * left[m, :3]
            room = cap * min(1.0, budget / load)
            take = np.zeros(come.size)
            take[rank] = _fill(come, rank, room)
            budget -= min(load, budget)
            # whole residents: the expected number, rounded up (within the day's room), spread over who comes
            got = apportion(min(int(room), math.ceil(take.sum() - 1e-9)), take).reshape(come.shape)
            got = np.minimum(got, left[m, :3])
            left[m, :3] -= got
            closed[m, :3] += got


def _fill(come: np.ndarray, rank: np.ndarray, cap: float) -> np.ndarray:
    """Recordings a day of `cap` takes from each (kelurahan, class) in `rank` order (most worth first)."""
    flat = come.ravel()[rank]
    before = np.cumsum(flat) - flat
    return np.clip(cap - before, 0.0, flat)


def _plan_week(travel) -> np.ndarray | None:
    """(kelurahan of `travel.gaps`, classes) what the run's own plan records in its week, or None without one.

    Session recordings by kelurahan and class are placement's expected ones, scaled per site to
    what routing scheduled there; home visits are the scheduled ones. The forecast's first week is
    then the plan itself, and the reach model (`_reach`) carries on from there.
    """
    placed, routes = getattr(travel, "placement", None), getattr(travel, "routes", None)
    gaps = getattr(travel, "gaps", None)
    if placed is None or routes is None or gaps is None:
        return None
    if not len(placed.assignment) and len(placed.sessions):
        return None  # sessions from a file: who they serve is not known
    row = {str(k): n for n, k in enumerate(gaps["kode_kel"].astype(str))}
    out = np.zeros((len(gaps), len(GAP_CLASSES)))
    s = routes.schedule
    done = s[s["job_kind"] == "session"].groupby("site_id")["expected_recordings"].sum() if len(s) else pd.Series()
    a = placed.assignment
    if len(a):
        per_site = a.groupby("site_id")["exp_total"].sum()
        scale = (done.reindex(per_site.index).fillna(0.0) / per_site.where(per_site > 0)).clip(upper=1.0).fillna(0.0)
        heads = a[list(SESSION_CLASSES)].sum(axis=1).where(lambda v: v > 0)
        rate = (a["exp_total"] / heads).fillna(0.0) * a["site_id"].map(scale).fillna(0.0)
        for c in SESSION_CLASSES:
            np.add.at(out[:, GAP_CLASSES.index(c)], a["kode_kel"].astype(str).map(row).to_numpy(dtype=np.int64),
                      (a[c] * rate).to_numpy(dtype=float))
    visits = s[s["job_kind"] == "home_visit"] if len(s) else s
    if len(visits):
        counts = visits.drop_duplicates("job_id")["kode_kel"].astype(str).map(row).dropna().astype(np.int64)
        np.add.at(out[:, GAP_CLASSES.index("home_visit")], counts.to_numpy(), 1.0)
    return out


def _plan_first_week(plan_week: np.ndarray, rows: np.ndarray, left, closed, turnout: float) -> None:
    """Close what the plan records (`Capacity.plan_week`, rows mapped to this table by `rows`), whole residents."""
    keep = rows >= 0
    want = np.zeros(left.shape)
    np.add.at(want, rows[keep], plan_week[keep])
    want[:, :3] *= turnout  # session recordings: the share of the invited who come
    got = np.stack([apportion(int(round(want[:, c].sum())), want[:, c]) for c in range(want.shape[1])], axis=1)
    got = np.minimum(left, got)
    left -= got
    closed += got
