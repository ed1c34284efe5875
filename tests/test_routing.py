"""Weekly routes on the real Bandar Lampung scenario (kantor camat sites, real kelurahan), with an
independent re-check of every time window, duration, break, holiday and depot in the output.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner import network, pipeline, routing
from planner.plan import Plan, compute_kpis
from planner.reach import capacity_share
from planner.scenario import Depot, load

REPO = Path(__file__).resolve().parents[1]
WEDNESDAY = dt.date(2026, 11, 25)
FRIDAY = dt.date(2026, 11, 27)
SATURDAY = dt.date(2026, 11, 28)


def straight_line(points, vehicle):
    return network.travel_matrix(points, points, graph=None, vehicle=vehicle)


@pytest.fixture(scope="module", params=["ortools", "pyvrp"], autouse=True)
def engine(request):
    """Every test here runs once per engine: both must honour every rule the checker knows ('best'
    returns one of their solutions: test_best_keeps_the_week_with_most_recordings).
    """
    real = routing.route
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(routing, "route", lambda *a, **k: real(*a, **{"engine": request.param, **k}))
        yield request.param


@pytest.fixture(scope="module")
def city(engine):
    scenario = load(REPO / "scenarios" / "bandar-lampung.toml")
    areas = pipeline.scenario_areas(scenario)
    sites = pipeline.scenario_sites(scenario, areas)
    calendar = scenario.calendar.model_copy(update={"saturday": True, "holidays": [WEDNESDAY]})
    rng = np.random.default_rng(3)
    camat = sites[sites["kind"] == "kantor_camat"].sort_values("site_id")
    sessions = pd.DataFrame({"site_id": camat["site_id"], "name": camat["name"], "kind": camat["kind"],
                             "kode_kel": camat["kode_kel"], "kode_kec": camat["kode_kec"],
                             "session_days": rng.integers(1, 3, len(camat)), "exp_total": 90.0})
    kel = areas.kelurahan
    points = kel.representative_point()
    n = 100  # more than one motorbike team can visit Mon-Fri: Saturday is needed
    pick = rng.choice(len(kel), n)
    visits = pd.DataFrame({"visit_id": [f"hv{i:03d}" for i in range(n)], "kode_kel": kel["kode"].iloc[pick].to_numpy(),
                           "kode_kec": kel["kode_kec"].iloc[pick].to_numpy(),
                           "lon": points.x.iloc[pick].to_numpy() + rng.normal(0, 0.002, n),
                           "lat": points.y.iloc[pick].to_numpy() + rng.normal(0, 0.002, n)})
    routes = routing.route(sessions, sites, visits, scenario.units, calendar, straight_line, time_limit_s=60, seed=1)
    return scenario, calendar, sites, sessions, visits, routes


def _minutes(series: pd.Series) -> pd.Series:
    ts = pd.to_datetime(series, format="%Y-%m-%dT%H:%M")
    return ts.dt.hour * 60 + ts.dt.minute


def test_week_schedule_passes_the_independent_check(city):
    scenario, calendar, sites, sessions, visits, routes = city
    s = routes.schedule
    assert list(s.columns) == routing.SCHEDULE_COLUMNS
    assert list(routes.unscheduled.columns) == routing.UNSCHEDULED_COLUMNS
    assert routing.check_schedule(s, calendar, sites, units=scenario.units, matrix_fn=straight_line) == []
    # holiday: nobody works; Saturday: home visits only (kantor camat are closed on Saturday)
    assert WEDNESDAY.isoformat() not in set(s["date"])
    saturday = s[s["date"] == SATURDAY.isoformat()]
    assert len(saturday) and set(saturday["job_kind"]) == {"depot", "home_visit"}
    # every route leaves and comes back to its depot within the working day
    for (_, _), day in s.groupby(["unit", "date"]):
        assert day["job_kind"].iloc[0] == "depot" and day["job_kind"].iloc[-1] == "depot"
        assert _minutes(day["start"]).iloc[0] >= 8 * 60 and _minutes(day["arrival"]).iloc[-1] <= 16 * 60
    # Friday: nothing recorded during the prayer break; a full-day session pauses through it
    friday = s[(s["date"] == FRIDAY.isoformat()) & (s["job_kind"] != "depot")]
    overlap = (_minutes(friday["start"]) < 13 * 60) & (_minutes(friday["end"]) > 11 * 60 + 30)
    assert not overlap.any()
    paused = friday[friday["job_kind"] == "session"].groupby(["unit", "job_id"])
    assert (paused.size() == 2).any()
    # ... and expects fewer recordings than a full day: only its working minutes count
    per_day = sessions.set_index("site_id")["exp_total"] / sessions.set_index("site_id")["session_days"]
    for _, parts in paused:
        if len(parts) == 2:
            worked = (_minutes(parts["end"]) - _minutes(parts["start"])).sum()
            site = parts["site_id"].iloc[0]
            span = _minutes(parts["end"]).iloc[-1] - _minutes(parts["start"]).iloc[0]
            assert worked == span - 90  # the 11:30-13:00 break
            # the session ran from arrival to the last minute that gets the van home by 16:00
            day = s[(s["unit"] == parts["unit"].iloc[0]) & (s["date"] == FRIDAY.isoformat())]
            assert _minutes(parts["start"]).iloc[0] == _minutes(day["arrival"]).iloc[1]
            assert _minutes(parts["end"]).iloc[-1] + day["travel_min"].iloc[-1] == 16 * 60
            # what placement expected, up to what the van records in the minutes left once the break is out
            # (a Friday session-day's capacity already leaves the break out: it is not charged twice)
            van = next(g for g in scenario.units if g.sessions)
            hours = sites.set_index("site_id").loc[site, ["open_from", "open_to"]]
            room = van.capacity_per_day * capacity_share(calendar, hours["open_from"], hours["open_to"], worked)
            assert parts["expected_recordings"].sum() == pytest.approx(min(per_day[site], room), abs=0.02)


def test_every_job_is_scheduled_or_listed_with_a_reason(city):
    scenario, calendar, sites, sessions, visits, routes = city
    s, left = routes.schedule, routes.unscheduled
    done_sessions = s.loc[s["job_kind"] == "session", "job_id"].unique()
    assert len(done_sessions) + (left["job_kind"] == "session").sum() == sessions["session_days"].sum()
    done_visits = s.loc[s["job_kind"] == "home_visit", "job_id"].unique()
    assert len(done_visits) + (left["job_kind"] == "home_visit").sum() == len(visits)
    assert left["reason"].str.len().gt(0).all()
    # full-day sessions: at most one per unit-day, so vans x van-days bounds what fits
    van_days = sum(g.count for g in scenario.units if g.sessions) * (len(calendar.working_dates()) - 1)  # no Sat
    per_day = s[s["job_kind"] == "session"].groupby(["unit", "date"])["job_id"].nunique()
    assert per_day.max() == 1
    assert len(done_sessions) == min(van_days, sessions["session_days"].sum())
    # the motorbike team does the home visits, vans the sessions
    assert set(s.loc[s["job_kind"] == "home_visit", "vehicle"]) == {"motorbike"}
    assert set(s.loc[s["job_kind"] == "session", "vehicle"]) == {"van"}


def test_checker_catches_broken_schedules(city):
    scenario, calendar, sites, sessions, visits, routes = city
    good = routes.schedule

    def problems(frame):
        return routing.check_schedule(frame, calendar, sites, units=scenario.units)

    visit = good.index[good["job_kind"] == "home_visit"][0]
    short = good.copy()
    short.loc[visit, "end"] = short.loc[visit, "start"]
    assert any("home visit" in p for p in problems(short))
    late = good.copy()
    last = good.index[good["unit"] == good["unit"].iloc[0]][-1]
    late.loc[last, ["arrival", "start", "end"]] = late.loc[last, "date"] + "T17:30"
    assert any("after 16:00" in p for p in problems(late))
    holiday = good.copy()
    first_day = holiday["date"] == holiday["date"].min()
    for col in ("date", "arrival", "start", "end"):
        moved = holiday.loc[first_day, col].str.replace(holiday["date"].min(), WEDNESDAY.isoformat())
        holiday.loc[first_day, col] = moved
    assert any("non-working day" in p for p in problems(holiday))
    prayer = good.copy()
    fri = prayer.index[(prayer["date"] == FRIDAY.isoformat()) & (prayer["job_kind"] == "session")][0]
    prayer.loc[fri, "end"] = FRIDAY.isoformat() + "T12:00"
    assert any("Friday break" in p for p in problems(prayer))
    hop = good.copy()
    hop.loc[visit, "travel_min"] += 1
    assert any("the matrix says" in p for p in routing.check_schedule(hop, calendar, sites, matrix_fn=straight_line))


def test_half_day_sessions_unfittable_jobs_and_reasons(city):
    scenario, calendar, sites, sessions, visits, routes = city
    half = calendar.model_copy(update={"session": "half"})
    sites = sites.copy()
    first, second = sessions["site_id"].iloc[0], sessions["site_id"].iloc[1]
    sites.loc[sites["site_id"] == first, "open_days"] = "6"  # only Sunday: never a working day
    far = sites["site_id"] == second
    sites.loc[far, "geometry"] = sites.loc[far, "geometry"].translate(xoff=3.0)  # ~330 km east, at sea
    few = sessions.head(6).assign(session_days=1)
    odd_visits = pd.concat([visits.head(5), pd.DataFrame({"visit_id": ["nowhere"], "kode_kel": ["18.71.01.1001"],
                                                          "kode_kec": ["18.71.01"], "lon": [np.nan], "lat": [np.nan]})])
    r = routing.route(few, sites, odd_visits, scenario.units, half, straight_line, time_limit_s=5)
    assert routing.check_schedule(r.schedule, half, sites, units=scenario.units) == []
    reasons = dict(zip(r.unscheduled["job_id"], r.unscheduled["reason"]))
    assert "closed on every working day" in reasons[f"S-{first}-h1"]
    assert "does not fit" in reasons[f"S-{second}-h2"]
    assert "no coordinates" in reasons["V-nowhere"]
    ses = r.schedule[r.schedule["job_kind"] == "session"]
    length = routing.session_minutes(half, "08:00", "16:00")
    assert length == 180 and routing.session_minutes(calendar, "08:00", "16:00") == 420
    assert ((_minutes(ses["end"]) - _minutes(ses["start"])) == length).all()
    assert ses.groupby(["unit", "date"])["job_id"].nunique().max() == 2  # two half-day sites in one day
    assert len(ses) == 2 * 4  # 4 reachable open sites x 2 halves, well within capacity
    # the plan's headline counts 8 half-day sessions as 4 session-days
    kpis = compute_kpis(Plan(name="x", week_start=half.week_start, working_dates=half.working_dates(),
                             gaps=pd.DataFrame(), schedule=r.schedule, unscheduled=r.unscheduled))
    assert kpis["sessions_scheduled"] == 8 and kpis["session_days_scheduled"] == 4


def test_no_home_visit_unit_and_bad_inputs(city):
    scenario, calendar, sites, sessions, visits, routes = city
    vans = [g for g in scenario.units if not g.home_visits]
    r = routing.route(sessions.head(2), sites, visits.head(3), vans, calendar, straight_line, time_limit_s=5)
    assert r.unscheduled.loc[r.unscheduled["job_kind"] == "home_visit", "reason"].str.contains("no unit does").all()
    with pytest.raises(ValueError, match="not in sites"):
        routing.route(sessions.assign(site_id="nope"), sites, None, vans, calendar, straight_line)
    with pytest.raises(ValueError, match="must be"):
        routing.route(sessions.head(2), sites, None, vans, calendar,
                      lambda p, v: network.travel_matrix(p.head(1), p, graph=None, vehicle=v))
    with pytest.raises(ValueError, match="expected a time 'HH:MM'"):
        routing.route(sessions.head(2), sites.assign(open_to="4 pm"), None, vans, calendar, straight_line)
    with pytest.raises(ValueError, match="session_days"):
        routing.route(sessions.drop(columns="session_days"), sites, None, vans, calendar, straight_line)


def test_home_visits_keep_each_days_capacity(city):
    """A team with capacity_per_day = 12 does at most 12 visits a day (not 60 in a week, front-loaded)."""
    scenario, calendar, sites, sessions, visits, routes = city
    s = routes.schedule
    cap = {g.name: g.capacity_per_day for g in scenario.units if g.home_visits}
    per_day = s[s["job_kind"] == "home_visit"].groupby(["unit", "date"]).size()
    assert len(per_day) >= 5
    assert all(n <= cap[unit] for (unit, _), n in per_day.items())
    assert per_day.sum() == min(len(visits), sum(cap.values()) * len(calendar.working_dates()))


def test_same_inputs_same_plan(city):
    scenario, calendar, sites, sessions, visits, routes = city
    assert routes.stats["reproducible"]  # every search ended on its own, not by the budget
    again = routing.route(sessions, sites, visits, scenario.units, calendar, straight_line, time_limit_s=60, seed=1)
    pd.testing.assert_frame_equal(routes.schedule, again.schedule)
    pd.testing.assert_frame_equal(routes.unscheduled, again.unscheduled)


def test_a_cut_search_says_so_and_still_keeps_every_rule(city):
    """#14.9: a tiny budget gives a plan that may differ run to run: the stats (and plan.json) say so."""
    scenario, calendar, sites, sessions, visits, routes = city
    rushed = routing.route(sessions, sites, visits, scenario.units, calendar, straight_line, time_limit_s=0.2, seed=1)
    assert rushed.stats["cut"] and not rushed.stats["reproducible"]
    assert "time budget" in rushed.stats["reproducible_why"]
    assert routing.check_schedule(rushed.schedule, calendar, sites, units=scenario.units) == []


def test_priority_decides_what_fits_and_empty_week_is_explained(city):
    scenario, calendar, sites, sessions, visits, routes = city
    one_day = calendar.model_copy(update={"days": 1, "saturday": False, "holidays": []})
    van = [scenario.units[0].model_copy(update={"count": 1})]
    three = sessions.head(3).assign(session_days=1, exp_total=[90.0, 90.0, 10.0])
    r = routing.route(three, sites, None, van, one_day, straight_line, time_limit_s=5)
    assert r.schedule.loc[r.schedule["job_kind"] == "session", "site_id"].tolist() != [three["site_id"].iloc[2]]
    urgent = three.assign(priority=[1, 1, 5])  # the small site is flagged urgent: it now wins the only day
    r = routing.route(urgent, sites, None, van, one_day, straight_line, time_limit_s=5)
    assert r.schedule.loc[r.schedule["job_kind"] == "session", "site_id"].tolist() == [three["site_id"].iloc[2]]
    assert len(r.unscheduled) == 2
    holiday = one_day.model_copy(update={"holidays": [one_day.week_start]})
    r = routing.route(three, sites, visits.head(2), scenario.units, holiday, straight_line)
    assert len(r.schedule) == 0 and r.unscheduled["reason"].str.startswith("no working day").all()


def test_first_time_voters_decide_which_session_fits(city):
    """One van, one day, two sites: the one whose residents are pemula (weight 3) beats a bigger umum one."""
    scenario, calendar, sites, sessions, visits, routes = city
    one_day = calendar.model_copy(update={"days": 1, "saturday": False, "holidays": []})
    van = [scenario.units[0].model_copy(update={"count": 1})]
    two = sessions.head(2).assign(session_days=1, exp_pemula=[0.0, 30.0], exp_lansia=0.0, exp_umum=[60.0, 0.0],
                                  exp_total=[60.0, 30.0])
    r = routing.route(two, sites, None, van, one_day, straight_line, time_limit_s=5)
    assert r.schedule.loc[r.schedule["job_kind"] == "session", "site_id"].tolist() == [two["site_id"].iloc[1]]
    assert r.unscheduled["site_id"].tolist() == [two["site_id"].iloc[0]]
    assert r.unscheduled["reason"].str.len().gt(0).all()


def test_home_visit_time_windows_are_kept(city):
    scenario, calendar, sites, sessions, visits, routes = city
    motor = [g for g in scenario.units if g.home_visits]
    windowed = visits.head(8).assign(window_from=["13:30"] * 4 + [None] * 4, window_to=["14:30"] * 4 + [None] * 4)
    r = routing.route(None, sites, windowed, motor, calendar, straight_line, time_limit_s=10)
    assert routing.check_schedule(r.schedule, calendar, sites, units=motor) == []
    done = r.schedule.set_index("job_id")
    for visit_id in windowed["visit_id"].head(4):
        row = done.loc[f"V-{visit_id}"]
        assert 13 * 60 + 30 <= _minutes(pd.Series([row["start"]])).iloc[0]
        assert _minutes(pd.Series([row["end"]])).iloc[0] <= 14 * 60 + 30


def test_outlying_team_starts_and_ends_at_its_kecamatan_office(city):
    scenario, calendar, sites, sessions, visits, routes = city
    office = sites[sites["kind"] == "kantor_camat"].iloc[-1]
    outlying = scenario.units[0].model_copy(update={
        "name": "Van Kecamatan", "count": 1,
        "depot": Depot(name=office["name"], lat=office.geometry.y, lon=office.geometry.x)})
    units = [scenario.units[0].model_copy(update={"count": 1}), outlying]
    r = routing.route(sessions.head(6), sites, None, units, calendar, straight_line, time_limit_s=10)
    assert routing.check_schedule(r.schedule, calendar, sites, units=units, matrix_fn=straight_line) == []
    depots = r.schedule[(r.schedule["unit"] == "Van Kecamatan") & (r.schedule["job_kind"] == "depot")]
    assert len(depots) >= 2 and (depots["name"] == office["name"]).all()
    assert np.allclose(depots[["lon", "lat"]].to_numpy(), [office.geometry.x, office.geometry.y])


def test_cli_route_writes_schedule_and_unscheduled(tmp_path):
    from typer.testing import CliRunner

    from planner.cli import app

    result = CliRunner().invoke(app, ["route", str(REPO / "scenarios" / "bandar-lampung.toml"),
                                      "--out", str(tmp_path), "--time-limit", "5"])
    assert result.exit_code == 0, result.output
    schedule = pd.read_csv(tmp_path / "schedule.csv")
    assert list(schedule.columns) == routing.SCHEDULE_COLUMNS
    assert {"session", "depot"} <= set(schedule["job_kind"])
    unscheduled = pd.read_csv(tmp_path / "unscheduled.csv")
    assert list(unscheduled.columns) == routing.UNSCHEDULED_COLUMNS
    assert (tmp_path / "schedule.xlsx").stat().st_size > 0


def test_best_keeps_the_week_with_most_recordings(city, engine):
    """The default engine runs both and keeps the schedule people gain most from (ties: less driving)."""
    if engine != "ortools":
        pytest.skip("one comparison is enough")
    scenario, calendar, sites, sessions, visits, _ = city
    run = {name: routing.route(sessions, sites, visits, scenario.units, calendar, straight_line, time_limit_s=30,
                               seed=1, engine=name) for name in ("best", "ortools", "pyvrp")}
    got = {name: (round(r.schedule["expected_recordings"].sum(), 2), -int(r.schedule["travel_min"].sum()))
           for name, r in run.items()}
    assert got["best"] == max(got["ortools"], got["pyvrp"])
    chosen = run["best"].stats["chosen"]
    assert got[chosen] == got["best"] and set(run["best"].stats["candidates"]) == {"ortools", "pyvrp"}
    assert routing.check_schedule(run["best"].schedule, calendar, sites, units=scenario.units,
                                  matrix_fn=straight_line) == []
