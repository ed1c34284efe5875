"""Fixed service posts: an operator stationed at every site of a kind (e.g. all 20 kantor camat).

A post needs no travel: it records on every working date its site is open, from opening to
closing (the post's own hours when the scenario gives them). Placement counts a post's
recordings as fixed capacity at its site (residents nearby are asked there, and no van holds a
session at a post's site); routing gets one "unit" per post whose depot is the site itself, so
the schedule, day sheets and the independent checker treat posts like every other unit.
"""

from __future__ import annotations

import pandas as pd

from planner.errors import InputError
from planner.reach import capacity_share, session_shape, session_work
from planner.scenario import Depot, Scenario, UnitGroup


def post_sites(scenario: Scenario, sites: pd.DataFrame) -> list[tuple[int, pd.DataFrame]]:
    """Each [[posts]] block with its sites; a block whose kind has no site is an error naming it."""
    out = []
    for k, post in enumerate(scenario.posts):
        mine = sites[sites["kind"] == post.kind].sort_values("site_id")
        if not len(mine):
            raise InputError(f"posts[{k}] ({post.name}): no site of kind '{post.kind}' in the sites; check "
                             f"[sites] path and that the layer has {post.kind} points")
        out.append((k, mine))
    return out


def with_post_hours(scenario: Scenario, sites: pd.DataFrame) -> pd.DataFrame:
    """The sites with each post's own opening hours written onto its sites (others unchanged)."""
    sites = sites.copy()
    for post in scenario.posts:
        if post.hours is not None:
            at = sites["kind"] == post.kind
            sites.loc[at, "open_from"], sites.loc[at, "open_to"] = post.hours
    return sites


def post_units(scenario: Scenario, sites: pd.DataFrame) -> list[UnitGroup]:
    """One routing unit per post: named after its site, its depot is the site, it holds sessions only."""
    return [unit for unit, _ in _stationed(scenario, sites)]


def post_sessions(scenario: Scenario, sites: pd.DataFrame) -> pd.DataFrame:
    """Session-days and recordings every post holds in the horizon ``[site_id, unit_group, session_days, capacity]``."""
    calendar = scenario.calendar
    rows = []
    for unit, site in _stationed(scenario, sites):
        shape = session_shape(calendar, site["open_from"], site["open_to"], 0, 0)
        days, recordings = 0, 0.0
        for date in calendar.working_dates():
            work = session_work(calendar, date, site["open_days"], shape)
            if work > 0:
                days += 1
                recordings += unit.capacity_per_day * capacity_share(calendar, site["open_from"], site["open_to"],
                                                                     work)
        if days:
            rows.append((str(site["site_id"]), unit.name, days, round(recordings, 1)))
    return pd.DataFrame(rows, columns=["site_id", "unit_group", "session_days", "capacity"])


def _stationed(scenario: Scenario, sites: pd.DataFrame):
    """(stationed unit, its site row) for every post site, names unique among all units."""
    seen = {u.name for u in scenario.units}
    for k, mine in post_sites(scenario, sites):
        post = scenario.posts[k]
        for _, site in mine.iterrows():
            name = f"{post.name} {site['name']}"
            if name in seen:
                name = f"{name} ({site['site_id']})"
            seen.add(name)
            yield UnitGroup(name=name, count=1, capacity_per_day=post.capacity_per_day, vehicle="van",
                            sessions=True, home_visits=False, stationed=True,
                            depot=Depot(name=str(site["name"]), **_lat_lon(site))), site


def _lat_lon(site) -> dict:
    """A site's point, from its geometry or (a plan's sites table) its lon/lat columns."""
    geometry = site.get("geometry")
    if geometry is not None and hasattr(geometry, "x"):
        return {"lat": float(geometry.y), "lon": float(geometry.x)}
    return {"lat": float(site["lat"]), "lon": float(site["lon"])}
