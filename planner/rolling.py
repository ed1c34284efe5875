"""A rolling re-plan: plan a week, record what it expects, plan the next, for several weeks.

The check behind the forecast (#12: forecast = plan). `planner.forecast` simulates weeks with the
plan's reach rule instead of solving each one; this module runs the real pipeline week after week
(placement and routing each time, the register state carried over as a coordinator's weekly lists
would) so the two can be compared on the shipped scenarios.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from planner import pipeline, progress


def rolling(scenario, weeks: int = 4, *, seed: int = 0) -> tuple[pd.DataFrame, pipeline.Run]:
    """Weeks of plans, each recording what the one before expected; the table and the first run.

    Returns ``[week, week_start, gap, recorded, sessions, home_visits]`` (gap = unrecorded at the
    week's start; recorded = the week's
    scheduled expected recordings, sessions and posts plus home visits) and the first week's run,
    the start a forecast of the same weeks is built from (`forecast.from_scenario(travel=run)`).
    """
    state, first, rows = None, None, []
    for week in range(weeks):
        start = scenario.calendar.week_start + dt.timedelta(days=7 * week)
        r = pipeline.run(progress.scenario_for_week(scenario, start), state=state)
        first = first or r
        s = r.routes.schedule
        sessions = float(s.loc[s["job_kind"] == "session", "expected_recordings"].sum()) if len(s) else 0.0
        visits = int((s["job_kind"] == "home_visit").sum()) if len(s) else 0
        gap = int(r.gaps[["pemula", "lansia", "umum", "home_visit"]].to_numpy().sum())
        rows.append({"week": week + 1, "week_start": start, "gap": gap, "recorded": sessions + visits,
                     "sessions": sessions, "home_visits": visits})
        planned = float(r.placement.sessions["exp_total"].sum()) or 1.0
        recorded, _ = progress.simulate_lists(r.state, r.plan, share=min(1.0, sessions / planned), seed=seed + week)
        state = progress.apply(r.state, recorded, week=start).state
    return pd.DataFrame(rows), first
