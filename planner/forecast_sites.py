"""The forecast's week on site catchments: where a session draws residents from, and a greedy week.

The same rule placement counts by (`planner.placement`): a session at a site takes kelurahan within
``max_travel_min`` at turnout ``2 ** (-t / turnout_half_min)``, weighted by class and remoteness.
"""

from __future__ import annotations

import math

import numpy as np

from planner.contracts import apportion


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


def _site_week(reach, left, closed, w, turnout: float, order, rows) -> None:
    """`_reach_week` on site catchments: `rows` maps the catchments' kelurahan rows to this table's.

    Each group's unit-days go, a session-day at a time, where a unit-day records the most weighted
    residents; a session-day takes its site's unit-days (more than one where a tour spends whole days
    on the road to it), and the last unit-days left hold that share of a session-day.
    """
    for r in reach:
        used = np.zeros(len(r.sites), dtype=np.int64)
        where = [(rows[kel][rows[kel] >= 0], rate[rows[kel] >= 0], factor[rows[kel] >= 0], cap, limit, load)
                 for kel, rate, factor, cap, limit, load in r.sites]
        budget = float(r.unit_days)
        while budget > 1e-9:
            best, pick = 0.0, None
            for n, (m, rate, factor, cap, limit, load) in enumerate(where):
                if used[n] >= limit or not len(m):
                    continue
                come = turnout * rate[:, None] * left[m, :3]  # expected to come, per kelurahan and class
                value = _best_value(come, w, factor, cap * min(1.0, budget / load)) / min(load, budget)
                if value > best:
                    best, pick = value, n
            if pick is None:
                break
            used[pick] += 1
            m, rate, _, cap, _, load = where[pick]
            room = float(cap) * min(1.0, budget / load)
            budget -= min(load, budget)
            for c in order:
                come = turnout * rate * left[m, c]
                if room <= 0 or come.sum() <= 0:
                    continue
                # whole residents: the expected number, rounded up as `_take` does, spread by who comes
                got = np.minimum(left[m, c], apportion(min(int(room), math.ceil(come.sum() - 1e-9)), come))
                left[m, c] -= got
                closed[m, c] += got
                room -= float(got.sum())


def _best_value(come: np.ndarray, w: np.ndarray, factor: np.ndarray, cap: float) -> float:
    """Weighted recordings of one session-day: the heaviest class first, up to `cap` recordings."""
    value, room = 0.0, float(cap)
    for c in np.argsort(-w, kind="stable"):
        got = min(room, float(come[:, c].sum()))
        value += got * w[c] * (float((come[:, c] * factor).sum()) / max(float(come[:, c].sum()), 1e-9))
        room -= got
        if room <= 0:
            break
    return value
