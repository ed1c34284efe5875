"""What the units can offer placement: session-days per unit group, where, and worth how much.

`unit_pools` turns each session unit group (depot, vehicle, count, capacity) and the calendar into
`placement.Pool`s with the one reach rule (`planner.reach`): a site is offered to a group only on
dates its units can drive out, record at least ``min_session_min`` and be back in the day.
`remoteness_factor` is the optional priority for residents far from the office or the nearest
post; `idle_groups` names a group that can hold a session nowhere, with the settings to check.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from planner.placement import Pool

#: Remoteness stops adding priority beyond this many hours from the office (a far island is not 10x).
REMOTENESS_CAP_H = 4.0


def remoteness_factor(office_min: np.ndarray | None, weight: float) -> np.ndarray | None:
    """``1 + weight x hours`` from the office (or the nearest post), capped at REMOTENESS_CAP_H hours."""
    if office_min is None or not weight:
        return None
    hours = np.clip(np.nan_to_num(np.asarray(office_min, dtype=float) / 60.0, nan=0.0, posinf=REMOTENESS_CAP_H),
                    0.0, REMOTENESS_CAP_H)
    return 1.0 + float(weight) * hours


def unit_pools(scenario, sites: pd.DataFrame, depot_times: dict, tour_commute: dict | None = None) -> list[Pool]:
    """One `Pool` per (session unit group, class of dates): where the group can hold a useful session.

    A group is offered a site on a date only when `reach.session_work` says its units can drive
    out, record at least ``min_session_min`` and be back in the day; what a session-day records
    there is the group's capacity_per_day scaled by `reach.capacity_share`. A touring group's
    session-days also cost (`Pool.day_cost`, in recordings) their share of the tour's road time
    out from the office and home (`tours.road_minutes` over `tours.mean_tour_days`): a far desa
    costs the tour the Monday and Saturday it spends on the road, so placement sends the team
    there only when its residents are worth those hours.
    """
    from planner import reach, tours

    calendar = scenario.calendar
    dates = calendar.working_dates()
    min_session = scenario.placement.min_session_min
    weekdays = sorted({d.weekday() for d in dates})
    per_weekday = {w: [d for d in dates if d.weekday() == w] for w in weekdays}
    hours = list(zip(sites["open_from"].astype(str), sites["open_to"].astype(str)))
    open_days = sites["open_days"].astype(str).tolist()
    capacity = {}  # (group, weekday) -> (J,) recordings per session-day
    road = {}  # (group, weekday) -> (J,) recordings a tour's shortened road days cost per session-day there
    load = {}  # group -> (J,) unit-days a session-day there takes (a touring group's whole road days)
    for g, group in enumerate(scenario.units):
        if not group.sessions or g not in depot_times:
            continue
        out, back = depot_times[g]
        charge = np.zeros(len(sites))
        if group.overnight and tour_commute and g in tour_commute:
            tour_days = tours.mean_tour_days(dates, group.max_nights)
            minutes, whole = tours.road_legs(tour_commute[g], calendar, min_session)
            charge = minutes / tour_days
            load[g] = tours.day_load(whole, tour_days)
        if group.overnight:
            shapes = [tours.reach_shape(calendar, a, b, o, r, min_session) for (a, b), o, r in zip(hours, out, back)]
        else:
            shapes = [reach.session_shape(calendar, a, b, o, r) for (a, b), o, r in zip(hours, out, back)]
        for w in weekdays:
            day = per_weekday[w][0]
            work = [reach.session_work(calendar, day, od, shape, min_session) for od, shape in zip(open_days, shapes)]
            capacity[g, w] = np.array([group.capacity_per_day * reach.capacity_share(calendar, a, b, m)
                                       for (a, b), m in zip(hours, work)])
            if g in load:
                capacity[g, w][~np.isfinite(load[g])] = 0.0  # a tour too short to hold a session there
            road[g, w] = np.array([group.capacity_per_day * min(1.0, reach.capacity_share(calendar, a, b, c)) if m
                                   else 0.0 for (a, b), m, c in zip(hours, work, charge)])
    # Weekdays on which every group and every site fit alike form one class of interchangeable dates.
    classes: dict = {}
    for w in weekdays:
        key = tuple(capacity[g, w].tobytes() for g in sorted({g for g, _ in capacity}))
        classes.setdefault(key, []).append(w)
    pools = []
    for dclass, members in enumerate(classes.values()):
        n_dates = sum(len(per_weekday[w]) for w in members)
        for g in sorted({g for g, _ in capacity}):
            group = scenario.units[g]
            pools.append(Pool(group.name, group.count * n_dates, n_dates, capacity[g, members[0]], dclass,
                              day_cost=road[g, members[0]] if group.overnight else None,
                              day_load=np.where(np.isfinite(load[g]), load[g], 1.0) if g in load else None))
    return pools


def tour_regions(pools: list[Pool], sessions: pd.DataFrame, sites: pd.DataFrame, regions: np.ndarray,
                 touring: dict) -> list[Pool]:
    """Each touring unit's own pools, offered only in one region: the one holding most of what the
    group-wide plan (`sessions`) found to do there and another unit has not taken.

    A group-wide plan spreads a touring group's session-days over the whole kabupaten, and routing
    then loses days driving between them; one region per unit (`planner.tours.regions`) keeps the
    week to desa a team can move between. `touring` {group name: units}. A unit whose group has
    nothing placed keeps every site.
    """
    index = {str(k): n for n, k in enumerate(sites["site_id"])}
    out = [p for p in pools if p.group not in touring]
    for name, count in touring.items():
        mine = [p for p in pools if p.group == name]
        if not mine:
            continue
        value = np.zeros(len(sites))
        placed = sessions[sessions["unit_group"] == name]
        for site_id, worth in zip(placed["site_id"].astype(str), placed["exp_total"]):
            value[index[site_id]] += float(worth)
        taken = np.zeros(len(sites), dtype=bool)
        masks = []
        for _ in range(count):
            score = regions.astype(float) @ np.where(taken, 0.0, value) if len(regions) else np.zeros(0)
            if not len(score) or score.max() <= 0:
                masks.append(np.ones(len(sites), dtype=bool))
                continue
            masks.append(regions[int(np.argmax(score))])
            taken |= masks[-1]
        for pool in mine:
            left = pool.slots
            for k, mask in enumerate(masks):
                slots = min(pool.dates, left)
                left -= slots
                out.append(Pool(name, slots, pool.dates, np.where(mask, pool.capacity, 0.0), pool.dclass, tour=k,
                                day_cost=pool.day_cost, day_load=pool.day_load))
    return out


def idle_groups(scenario, pools: list[Pool], depot_times: dict) -> list[str]:
    """One sentence per session unit group that can hold a session nowhere, naming what to change."""
    out = []
    for g, group in enumerate(scenario.units):
        if not group.sessions or g not in depot_times:
            continue
        if any(p.group == group.name and (p.capacity > 0).any() for p in pools):
            continue
        nearest = float(np.min(depot_times[g][0])) if len(depot_times[g][0]) else math.inf
        far = f"the nearest site is {nearest:.0f} min away" if math.isfinite(nearest) else "no site is reachable"
        out.append(f"units[{g}] ({group.name}): no site where a unit can drive out from {group.depot.name}, record "
                   f"at least min_session_min = {scenario.placement.min_session_min} min and be back by "
                   f"{scenario.calendar.day_end} ({far}); check the depot, [calendar] day_start/day_end, "
                   "[placement] min_session_min and the sites")
    return out
