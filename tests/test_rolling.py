"""Forecast = plan (#12): four weeks of real plans (placement and routing each week, the register
state carried over) against the forecast of the same four weeks, on the shipped programmes.
"""

from __future__ import annotations

import datetime as dt

import pytest

from planner import forecast
from planner.rolling import rolling
from planner.scenario import load
from tests.conftest import REPO


@pytest.mark.parametrize("name", ["bandar-lampung", "kota-bengkulu", "oki-2017"])
def test_four_weeks_of_plans_match_the_forecast(name):
    scenario = load(REPO / "scenarios" / f"{name}.toml")
    table, first = rolling(scenario, weeks=4)
    assert len(table) == 4 and (table["recorded"] > 0).all()
    f = forecast.from_scenario(scenario, first.gaps, until=scenario.calendar.week_start + dt.timedelta(days=21),
                               travel=first, turnout=1.0, not_found_share=0.0)
    assert len(f.weekly) == 4
    planned, forecast_total = float(table["recorded"].sum()), float(f.weekly["recorded"].sum())
    assert abs(forecast_total - planned) <= 0.10 * planned, (table["recorded"].tolist(), f.weekly["recorded"].tolist())
    # each week's lists close what the plan expected: the next week starts from a smaller gap
    assert table["gap"].is_monotonic_decreasing and table["gap"].iloc[-1] < table["gap"].iloc[0]
