"""Touring teams (menginap, #12): a week that sleeps away from the office, checked independently.

Sessions are spread over the real Kab. OKI desa (327 over ~17,000 km2, straight-line travel x the
rural detour), the tours are routed, and every schedule goes through the independent checker:
nights only at allowed lodgings, never more than max_nights in a row, each day inside the working
hours, the tour ends at the office. The checker itself is shown to catch broken tours.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from planner import routing
from planner.errors import ScenarioError
from planner.network import travel_matrix
from planner.scenario import CalendarConfig, UnitGroup, load
from planner.sites import add_fallback_sites
from planner.tours import blocks, day_span, tour_shape, tour_times
from tests.conftest import REPO

OKI = REPO.parent / "shared" / "geodata-sources" / "wilayah-boundaries-seeds" / "oki_keldesa.geojson"
KAYUAGUNG = {"name": "Disdukcapil Kab. OKI", "lat": -3.3958, "lon": 104.8267}
CALENDAR = CalendarConfig(week_start=dt.date(2017, 10, 2), saturday=True, day_start="07:30", day_end="16:30")


def rural(points, vehicle):
    return travel_matrix(points, points, graph=None, vehicle=vehicle, circuity=1.6)


@pytest.fixture(scope="module")
def oki_sites():
    desa = gpd.read_file(OKI)
    empty = gpd.GeoDataFrame(columns=["site_id", "name", "kind", "kode_kel", "kode_kec", "open_days", "open_from",
                                      "open_to", "max_days", "geometry"], geometry="geometry", crs=4326)
    return add_fallback_sites(empty, desa.rename(columns={"kode": "kode", "nama": "nama"}))


def _tour_group(**extra) -> UnitGroup:
    return UnitGroup.model_validate({"name": "Tim", "count": 2, "capacity_per_day": 60, "depot": KAYUAGUNG,
                                     "overnight": True, "max_nights": 5, "lodging": "session_site", **extra})


def _sessions(sites, rng, n):
    pick = sites.iloc[rng.choice(len(sites), n, replace=False)]
    return pd.DataFrame({"site_id": pick["site_id"].to_numpy(), "session_days": 1, "exp_total": 40.0,
                         "unit_group": "Tim"})


@pytest.mark.parametrize("seed", range(3))
def test_tours_respect_nights_lodgings_and_day_lengths(oki_sites, seed):
    rng = np.random.default_rng(seed)
    nights = int(rng.integers(1, 6))
    lodging = "session_site" if seed != 1 else list(oki_sites["site_id"].iloc[::7])
    group = _tour_group(max_nights=nights, lodging=lodging)
    sessions = _sessions(oki_sites, rng, 10)
    routes = routing.route(sessions, oki_sites, None, [group], CALENDAR, rural, time_limit_s=10, min_session_min=180)
    s = routes.schedule
    assert routing.check_schedule(s, CALENDAR, oki_sites, units=[group], min_session_min=180, matrix_fn=rural) == []
    assert (s["job_kind"] == "session").any()
    # every night away is at a lodging row, and no team is away more than max_nights in a row
    for _, g in s.groupby("unit"):
        ends = g.sort_values(["date", "stop"]).groupby("date").tail(1)
        away = run = 0
        for kind in ends["job_kind"]:
            run = run + 1 if kind == "lodging" else 0
            away = max(away, run)
        assert away <= nights
        assert ends["job_kind"].iloc[-1] == "depot"  # the tour ends at the office


def test_far_desa_are_reached_only_by_a_tour(oki_sites):
    """Desa more than a working day's round trip from Kayuagung: a day-trip van cannot, a touring one can."""
    depot = gpd.GeoDataFrame({"id": ["d"]}, geometry=gpd.points_from_xy([KAYUAGUNG["lon"]], [KAYUAGUNG["lat"]]),
                             crs=4326)
    targets = oki_sites.rename(columns={"site_id": "id"})[["id", "geometry"]]
    out = travel_matrix(depot, targets, graph=None, circuity=1.6).minutes[0]
    far = oki_sites[out > 300].head(6)
    assert len(far) == 6
    sessions = pd.DataFrame({"site_id": far["site_id"], "session_days": 1, "exp_total": 40.0})
    day_trip = UnitGroup.model_validate({"name": "Tim", "count": 1, "depot": KAYUAGUNG})
    left = routing.route(sessions, oki_sites, None, [day_trip], CALENDAR, rural, time_limit_s=5,
                         min_session_min=180)
    assert (left.schedule["job_kind"] == "session").sum() == 0
    assert left.unscheduled["reason"].str.contains("does not fit").all()
    tour = routing.route(sessions.assign(unit_group="Tim"), oki_sites, None, [_tour_group(count=1)], CALENDAR,
                         rural, time_limit_s=10, min_session_min=180)
    s = tour.schedule
    assert (s["job_kind"] == "session").sum() >= 4
    assert (s["job_kind"] == "lodging").any()
    assert routing.check_schedule(s, CALENDAR, oki_sites, units=[_tour_group(count=1)], min_session_min=180) == []


def test_the_checker_catches_a_broken_tour(oki_sites):
    rng = np.random.default_rng(5)
    group = _tour_group(count=1)
    routes = routing.route(_sessions(oki_sites, rng, 8), oki_sites, None, [group], CALENDAR, rural, time_limit_s=10,
                           min_session_min=180)
    s = routes.schedule
    lodging = s.index[s["job_kind"] == "lodging"]
    assert len(lodging) >= 2
    # fewer nights allowed than the tour took
    tight = _tour_group(count=1, max_nights=1)
    assert any("max_nights" in p for p in routing.check_schedule(s, CALENDAR, oki_sites, units=[tight]))
    # a morning at a lodging the team never slept at
    moved = s.copy()
    morning = moved.index[(moved["job_kind"] == "lodging") & (moved["stop"] == 0)][0]
    moved.loc[morning, "site_id"] = "elsewhere"
    assert any("did not sleep" in p for p in routing.check_schedule(moved, CALENDAR, oki_sites, units=[group]))
    # a day-trip group may not sleep away
    plain = UnitGroup.model_validate({"name": "Tim", "count": 1, "depot": KAYUAGUNG})
    assert any("not overnight" in p for p in routing.check_schedule(s, CALENDAR, oki_sites, units=[plain]))
    # a lodging its rule does not allow
    listed = _tour_group(count=1, lodging=["nowhere"])
    assert any("not a lodging" in p for p in routing.check_schedule(s, CALENDAR, oki_sites, units=[listed]))


def test_tour_rules():
    d = [dt.date(2017, 10, 2) + dt.timedelta(days=k) for k in (0, 1, 2, 4, 5, 7)]
    assert [len(b) for b in blocks(d)] == [3, 2, 1]
    # at least min_session_min + the Friday break (a Friday session spans it) and more than half the day
    shape = tour_shape(CALENDAR, "08:00", "16:00", 180)
    assert shape.minutes == 180 + 90 and shape.earliest == 480 and shape.latest == 960 - 270
    no_break = CALENDAR.model_copy(update={"friday_break": None})
    assert tour_shape(no_break, "08:00", "16:00", 180).minutes == 241
    out, back = tour_times(np.array([400.0, 30.0]), np.array([400.0, 30.0]), np.array([300.0, 600.0]),
                           np.array([[20.0, 5.0], [1.0, 1.0]]), np.array([[20.0, 1.0], [5.0, 1.0]]), 540,
                           same=np.array([[True, False], [False, True]]))
    # site 0: from lodging 0 (a day's drive away) is itself, so the nearest way in is the depot (400);
    # lodging 1 is too far from the office to count
    assert out.tolist() == [400.0, 5.0] and back.tolist() == [20.0, 5.0]


@pytest.mark.parametrize("extra, words", [
    ({"overnight": True}, "max_nights >= 1"),
    ({"overnight": True, "max_nights": 0}, "zero nights"),
    ({"overnight": True, "max_nights": 2, "home_visits": True}, "sessions only"),
    ({"overnight": True, "max_nights": 2, "lodging": []}, "empty list"),
])
def test_bad_tours_are_named(tmp_path, extra, words):
    text = (REPO / "scenarios" / "oki-2017.toml").read_text()
    start = text.index("[[units]]")
    end = text.index("[[units]]", start + 1)
    block = '[[units]]\nname = "Tim"\ndepot = { name = "Kayuagung", lat = -3.3958, lon = 104.8267 }\n' + "".join(
        f"{k} = {str(v).lower() if isinstance(v, bool) else v}\n" for k, v in extra.items())
    path = tmp_path / "tour.toml"
    path.write_text((text[:start] + block + "\n" + text[end:]).replace('"${shared}', f'"{REPO.parent / "shared"}'))
    with pytest.raises(ScenarioError) as err:
        load(path)
    assert words in str(err.value) and "Tim" in str(err.value)


@pytest.mark.parametrize("engine", ["ortools", "pyvrp"])
def test_both_engines_route_a_tour_the_checker_accepts(oki_sites, engine):
    """PyVRP has no choice of lodging: it routes each day between the lodgings the day-by-day tour chose."""
    rng = np.random.default_rng(11)
    group = _tour_group(max_nights=3)
    day_trip = UnitGroup.model_validate({"name": "Van", "count": 1, "depot": KAYUAGUNG})
    sessions = _sessions(oki_sites, rng, 12)
    sessions.loc[sessions.index[8:], "unit_group"] = "Van"  # four sites for the day-trip van
    routes = routing.route(sessions, oki_sites, None, [group, day_trip], CALENDAR, rural, time_limit_s=10,
                           min_session_min=180, engine=engine)
    s = routes.schedule
    assert routing.check_schedule(s, CALENDAR, oki_sites, units=[group, day_trip], min_session_min=180,
                                  matrix_fn=rural) == []
    assert (s["job_kind"] == "session").sum() >= 6
    # each session went to a unit of the group placement named (one load dimension per group in PyVRP)
    owner = dict(zip(sessions["site_id"], sessions["unit_group"]))
    done = s[s["job_kind"] == "session"]
    assert all(unit.startswith(owner[site]) for unit, site in zip(done["unit"], done["site_id"]))


def test_validate_names_a_lodging_rule_with_no_site(tmp_path):
    """OKI has no kantor camat points: lodging = 'kantor_camat' is caught by validate, before any solving."""
    from planner.checks import check_scenario

    text = (REPO / "scenarios" / "oki-2017.toml").read_text().replace('lodging = "session_site"',
                                                                       'lodging = "kantor_camat"')
    path = tmp_path / "lodging.toml"
    path.write_text(text.replace('"${shared}', f'"{REPO.parent / "shared"}'))
    scenario, problems = check_scenario(path)
    assert scenario is None
    assert any(p.key == "sites" and "Tim Keliling" in p.message and "kantor_camat" in p.message for p in problems)


def test_regions_keep_a_week_where_the_team_can_move_between_desa(oki_sites):
    """Every desa lies in some region, and two desa of one region are never farther apart than the
    morning drive that still leaves a touring session (half of what the day leaves beside it).
    """
    from planner.tours import regions

    minutes = np.asarray(rural(oki_sites.rename(columns={"site_id": "id"})[["id", "geometry"]], "van").minutes)
    cover = regions(minutes, CALENDAR, 180)
    assert cover.any(axis=0).all() and 5 < len(cover) < len(oki_sites) / 3
    slack = day_span(CALENDAR) - tour_shape(CALENDAR, CALENDAR.day_start, CALENDAR.day_end, 180).minutes
    near = np.minimum(minutes, minutes.T)
    for region in cover:
        at = np.flatnonzero(region)
        assert near[np.ix_(at, at)].max() <= slack / 2 + 1e-6


def test_each_touring_unit_gets_its_own_region_and_a_far_tour_pays_its_drive(oki_sites):
    """Two clusters of placed work, two units: each unit's pools are offered only in one cluster's
    region; and a touring session-day records less the farther its desa lies from the office.
    """
    from planner.placement import Pool
    from planner.scenario import Scenario
    from planner.supply import tour_regions, unit_pools
    from planner.tours import regions

    points = oki_sites.rename(columns={"site_id": "id"})[["id", "geometry"]]
    minutes = np.asarray(rural(points, "van").minutes)
    cover = regions(minutes, CALENDAR, 180)
    a, b = 0, int(np.argmax(minutes[0]))  # two desa far apart
    placed = pd.DataFrame({"site_id": oki_sites["site_id"].iloc[[a, b]].to_numpy(), "exp_total": [300.0, 200.0],
                           "unit_group": "Tim"})
    pools = [Pool("Tim", 12, 6, np.full(len(oki_sites), 60.0))]
    split = tour_regions(pools, placed, oki_sites, cover, {"Tim": 2})
    assert [p.tour for p in split] == [0, 1] and [p.slots for p in split] == [6, 6]
    first, second = (p.capacity > 0 for p in split)
    assert first[a] and not first[b] and second[b] and not second[a]
    assert (minutes[a][first] <= minutes[a][b]).all()

    group = _tour_group()
    scenario = Scenario.model_validate({"name": "t", "areas": {"kelurahan": str(OKI)}, "units": [group.model_dump()],
                                        "calendar": CALENDAR.model_dump()})
    depot = gpd.GeoDataFrame({"id": ["depot"]}, geometry=gpd.points_from_xy([KAYUAGUNG["lon"]], [KAYUAGUNG["lat"]]),
                             crs=4326)
    out = np.asarray(travel_matrix(depot, points, graph=None, vehicle="van", circuity=1.6).minutes)[0]
    lodging = np.full(len(oki_sites), 30.0)  # every desa 30 min from some lodging: only the office drive differs
    plain = unit_pools(scenario, oki_sites, {0: (lodging, lodging)})
    charged = unit_pools(scenario, oki_sites, {0: (lodging, lodging)}, {0: (out, out)})
    near, far = int(np.argmin(out)), int(np.argmax(out))
    room = day_span(CALENDAR) - tour_shape(CALENDAR, CALENDAR.day_start, CALENDAR.day_end, 180).minutes
    mid = int(np.argmax(np.where(out <= room, out, -1)))  # the farthest desa whose drive still leaves a session
    assert out[far] > room >= out[mid] > out[near]
    # what a session-day records is the same; what it costs the tour on the road is not
    assert plain[0].day_cost is not None and not plain[0].day_cost.any() and plain[0].day_load is None
    assert (charged[0].capacity == plain[0].capacity).all() and charged[0].capacity[far] > 0
    # a drive that still leaves room for a session shortens it (recordings); one that does not takes
    # the whole day out of the tour: a Mon-Sat tour to the far desa holds 4 session-days, each 1.5 days
    assert charged[0].day_cost[mid] > charged[0].day_cost[near] >= 0 and charged[0].day_cost[far] == 0
    assert charged[0].day_load[near] == charged[0].day_load[mid] == 1.0
    assert charged[0].day_load[far] == pytest.approx(6 / 4)
