"""Forecasts on the real Bandar Lampung gaps: more units fewer weeks, never below the capacity bound."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from planner import forecast, pipeline
from planner.scenario import BlangkoConfig, BlangkoDelivery, load

from conftest import REPO

SCENARIO = REPO / "scenarios" / "bandar-lampung.toml"
UNTIL = dt.date(2029, 12, 31)


@pytest.fixture(scope="module")
def scenario():
    return load(SCENARIO).model_copy(update={"time_budget_s": 2})


@pytest.fixture(scope="module")
def vans_only(scenario):
    """The same city with its vans alone: the fleet what-ifs are about (20 posts would finish the city first)."""
    return scenario.model_copy(update={"posts": []})


@pytest.fixture(scope="module")
def gaps(scenario):
    return pipeline.scenario_gaps(scenario)[0]


def test_more_units_fewer_weeks_and_never_below_the_capacity_bound(vans_only, gaps, tmp_path):
    table, runs = forecast.what_if(vans_only, gaps, until=UNTIL, units=(2, 4, 6))
    weeks = table["weeks_to_target"].tolist()
    assert all(pd.notna(w) for w in weeks) and weeks[0] > weeks[1] > weeks[2]
    for f in runs:
        cap = f.capacity
        demand = f.start_total - f.allowed
        assert f.bound_weeks == math.ceil(demand / (cap.units * cap.days * cap.capacity_per_day
                                                    + cap.home_visits_per_week))
        assert f.target_week >= f.bound_weeks
        closed = f.weekly["recorded"] + f.weekly["not_found"]
        assert (closed <= cap.per_week).all()
        # conservation: what is left = start - everything closed so far
        assert (f.start_total - closed.cumsum() == f.weekly["remaining"]).all()
        assert f.weekly["remaining"].iloc[-1] <= f.allowed
        # the city is done when its last kelurahan is (target 100%)
        assert f.kelurahan["target_week"].max() == f.target_week
    png = tmp_path / "forecast.png"
    forecast.plot(runs, png)
    import matplotlib.image

    image = matplotlib.image.imread(png)
    assert image.shape[0] > 300 and image.shape[1] > 600 and image.std() > 0.05


def test_weeks_meet_the_bound_when_nothing_limits_but_capacity():
    # 10 kecamatan x 3 kelurahan, plenty of everyone: with everyone coming, only capacity limits
    codes = [f"18.99.{k:02d}" for k in range(1, 11)]
    gaps = pd.DataFrame({"kode_kel": [f"{c}.100{i}" for c in codes for i in range(3)],
                         "kode_kec": [c for c in codes for _ in range(3)],
                         "pemula": 100, "lansia": 200, "umum": 700, "home_visit": 0})
    cap = forecast.Capacity(units=4, days=5, capacity_per_day=50)
    f = forecast.simulate(gaps, cap, start=dt.date(2027, 1, 4), until=UNTIL, turnout=1.0)
    assert f.target_week == f.bound_weeks == math.ceil(30_000 / 1000)
    # pemula are served before lansia before umum
    first = f.weekly.iloc[0]
    assert first["recorded_pemula"] == 1000 and first["recorded_lansia"] == 0
    lower = forecast.simulate(gaps, cap, start=dt.date(2027, 1, 4), until=UNTIL, turnout=0.5)
    assert lower.target_week > f.target_week


def test_a_holiday_week_does_less_and_the_next_is_normal():
    """The scenario's holidays come off the week they fall in (a plan's week with a holiday records
    less, and the forecast's first week must agree with it), not off every week.
    """
    codes = [f"18.99.{k:02d}" for k in range(1, 11)]
    gaps = pd.DataFrame({"kode_kel": [f"{c}.1001" for c in codes], "kode_kec": codes,
                         "pemula": 0, "lansia": 0, "umum": 5000, "home_visit": 500})
    start = dt.date(2027, 1, 4)  # a Monday; Thursday is a holiday
    cap = forecast.Capacity(units=4, days=5, capacity_per_day=50, home_visits_per_week=40, weekdays=(0, 1, 2, 3, 4),
                            holidays=(start + dt.timedelta(days=3),))
    weekly = forecast.simulate(gaps, cap, start=start, until=start + dt.timedelta(days=14), turnout=1.0).weekly
    assert list(weekly["recorded"]) == [4 * 4 * 50 + 32, 4 * 5 * 50 + 40, 4 * 5 * 50 + 40]


def test_a_site_holds_at_most_max_days_per_site_over_every_class_of_dates():
    """Two classes of dates (Mon-Thu, Fri) each could send a session-day to the one site, but the site
    holds one a week (max_days_per_site = 1): the week records one day's capacity.
    """
    from planner.forecast_sites import _site_week

    left = np.array([[0, 0, 1000, 0]], dtype=np.int64)
    closed = np.zeros_like(left)
    site = (np.array([0]), np.array([1.0]), np.array([1.0]), 50.0, 4, 1.0, 0, 1)  # kel, rate, factor, cap, ...
    reach = [forecast.Reach("Van", 4, {}, {}, [site]), forecast.Reach("Van", 1, {}, {}, [site])]
    _site_week(reach, left, closed, np.array([3.0, 2.0, 1.0]), 1.0, np.array([0]))
    assert closed.sum() == 50 and left.sum() == 950


def test_lower_target_and_population_base(scenario, gaps):
    full = forecast.from_scenario(scenario, gaps, until=UNTIL, units=4)
    oki = forecast.from_scenario(scenario, gaps, until=UNTIL, units=4, target=0.95)
    assert oki.target_week < full.target_week
    assert oki.weekly["remaining"].iloc[-1] <= oki.allowed == math.floor(0.05 * oki.start_total + 1e-9)
    # measured against the wajib KTP population (Bandar Lampung 777,871), 99% leaves 7,778 unrecorded
    city = forecast.from_scenario(scenario, gaps, until=UNTIL, units=4, target=0.99, population=777_871)
    coverage = city.weekly["coverage"]
    assert city.target_week < oki.target_week and city.allowed == 7778
    assert coverage.iloc[-1] >= 0.99 > coverage.iloc[-2]
    with pytest.raises(ValueError, match="smaller than the gap"):
        forecast.from_scenario(scenario, gaps, until=UNTIL, population=100)
    with pytest.raises(ValueError, match="turnout"):
        forecast.from_scenario(scenario, gaps, until=UNTIL, turnout=0)
    with pytest.raises(ValueError, match="missing columns"):
        forecast.simulate(gaps.drop(columns="pemula"), forecast.Capacity(1, 5, 50), start=dt.date(2027, 1, 4),
                          until=UNTIL)


def test_blangko_stock_prints_first_time_voters_first(vans_only, gaps):
    election = dt.date(2027, 3, 1)
    stock = BlangkoConfig(stock=500, weekly_delivery=250, deliveries=[BlangkoDelivery(date=dt.date(2027, 1, 6),
                                                                                       count=500)])
    f = forecast.from_scenario(vans_only, gaps, until=dt.date(2027, 12, 31), units=4, blangko=stock,
                               election_date=election)
    w = f.weekly
    assert (w["stock_end"] >= 0).all()
    assert (w["printed"] <= w["stock_start"] + w["delivered"]).all()
    assert (w["stock_end"] == w["stock_start"] + w["delivered"] - w["printed"]).all()
    assert w.loc[w["week_start"] == dt.date(2027, 1, 4), "delivered"].item() == 750
    before = w[w["week_start"].map(lambda d: d < election)]
    # while first-time voters wait for a card, nobody else gets one
    waiting = before[before["awaiting_pemula"] > 0]
    assert len(waiting) and (waiting["printed"] == waiting["printed_pemula"]).all()
    e = f.election
    assert e["at_risk"] == e["pemula"] - e["not_found_before"] - e["printed_before"] > 0
    assert e["recorded_not_printed"] > 0
    plenty = forecast.from_scenario(vans_only, gaps, until=dt.date(2027, 12, 31), units=4,
                                    blangko=BlangkoConfig(stock=100_000), election_date=election)
    assert plenty.election["at_risk"] < e["at_risk"] and (plenty.weekly["shortfall"] == 0).all()
    late = forecast.from_scenario(vans_only, gaps, until=dt.date(2027, 12, 31), units=1, election_date=election)
    assert late.election["not_recorded"] > 0 and late.election["at_risk"] >= late.election["not_recorded"]


def test_approximation_matches_the_pipeline_on_one_week(scenario):
    from planner.pipeline import run

    result = run(scenario)
    table = forecast.compare_with_plan(result.plan, scenario).set_index("measure")
    total = table.loc["sessions total"]
    assert total["pipeline"] > 0 and abs(total["forecast"] - total["pipeline"]) <= 0.05 * total["pipeline"]
    assert abs(table.loc["home visits", "forecast"] - table.loc["home visits", "pipeline"]) <= 0.05 * max(
        table.loc["home visits", "pipeline"], 1)
    for klass in ("pemula", "lansia", "umum"):
        row = table.loc[f"sessions {klass}"]
        assert abs(row["forecast"] - row["pipeline"]) <= 0.1 * total["pipeline"]


def test_cli_forecast(tmp_path):
    from typer.testing import CliRunner

    from planner.cli import app

    res = CliRunner().invoke(app, ["forecast", str(SCENARIO), "--until", "2028-12-31", "--units", "2,4,6",
                                   "--target", "0.95", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "forecast-summary.csv")
    assert table["units"].tolist() == [2, 4, 6]
    # more units never take longer, and 6 finish sooner than 2; past some fleet size the residents'
    # turnout (each week only a share of those within reach come) and not the units sets the pace
    weeks = table["weeks_to_target"].to_numpy()
    assert np.all(np.diff(weeks) <= 0) and weeks[-1] < weeks[0]
    assert (table["weeks_to_target"] >= table["capacity_bound_weeks"]).all()
    kel = pd.read_csv(tmp_path / "forecast-kelurahan.csv", dtype={"kode_kel": str})
    assert len(kel) == 126 * 3 and not ({"nik", "nama"} & set(kel.columns))
    assert (tmp_path / "forecast.png").stat().st_size > 10_000
    bad = CliRunner().invoke(app, ["forecast", str(SCENARIO), "--until", "2026-01-01", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "sebelum awalnya" in bad.output


def test_pooled_blangko_for_several_forecasts(scenario, gaps):
    halves = [gaps.iloc[:60], gaps.iloc[60:]]
    runs = [forecast.simulate(part, forecast.Capacity(1, 5, 50, 30), start=dt.date(2026, 11, 23),
                              until=dt.date(2027, 12, 31), election_date=dt.date(2027, 3, 1)) for part in halves]
    weekly = pd.concat([f.weekly for f in runs])
    pooled = forecast.blangko_weeks(weekly, BlangkoConfig(stock=300, weekly_delivery=200), start=dt.date(2026, 11, 23),
                                    until=dt.date(2028, 12, 31), election_date=dt.date(2027, 3, 1))
    assert pooled["recorded"].sum() == weekly["recorded"].sum()
    assert pooled["printed"].sum() + pooled["awaiting_print"].iloc[-1] == weekly["recorded"].sum()
    assert (pooled["printed"] <= pooled["stock_start"] + pooled["delivered"]).all()
    risk = forecast.election_risk(int(gaps["pemula"].sum()), pooled, dt.date(2027, 3, 1))
    assert risk["at_risk"] == risk["not_recorded"] + risk["recorded_not_printed"] > 0


def test_election_outlook_for_the_plan(vans_only, gaps):
    import json

    assert forecast.election_outlook(vans_only.model_copy(update={"election_date": None}), gaps) is None
    far = forecast.election_outlook(vans_only, gaps)
    near = forecast.election_outlook(vans_only.model_copy(update={"election_date": dt.date(2027, 1, 15)}), gaps)
    assert far["at_risk"] == 0 and far["complete"]
    assert near["at_risk"] == near["not_recorded"] + near["recorded_not_printed"] > 0
    assert near["weeks_before"] == 7  # the weeks of 23 Nov ... 4 Jan end before 15 Jan 2027
    json.dumps(near)  # goes into plan.json meta
