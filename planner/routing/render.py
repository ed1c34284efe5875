"""Turn an engine's solution into the schedule people read: one row per unit-day-stop, and the rest.

Times come from the solution's start times and the problem's travel matrices, so every engine's
schedule is rendered (and then checked) the same way. A full-day Friday session that spans the
prayer break is written as two rows around it, expecting recordings for its working minutes only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from planner.contracts import SCHEDULE_COLUMNS, UNSCHEDULED_COLUMNS, hhmm_to_minutes
from planner.i18n import en
from planner.reach import capacity_share
from planner.routing.problem import DAY, WeekProblem
from planner.routing.solution import Solution

#: Reason for a job an engine left out although some vehicle could have done it alone.
FULL_WEEK = en("no room left in the week: every unit-day that could take it is full")


@dataclass
class Routes:
    """Each unit's itinerary (`schedule`, one row per unit-day-stop) and the jobs left out, with why."""

    schedule: pd.DataFrame
    unscheduled: pd.DataFrame
    status: str = ""
    objective: int = 0
    stats: dict = field(default_factory=dict)


def iso_minute(week_start: dt.date, minutes: int) -> str:
    """Week minutes -> '2026-11-23T08:00'."""
    stamp = dt.datetime.combine(week_start, dt.time()) + dt.timedelta(minutes=int(minutes))
    return stamp.strftime("%Y-%m-%dT%H:%M")


def render(problem: WeekProblem, solution: Solution | None) -> Routes:
    """The schedule and unscheduled tables (contract columns) of a solution to `problem`."""
    active = problem.active
    week_start = problem.calendar.week_start
    rows, done = [], set()
    for route in (solution.routes if solution is not None else []):
        if not route.stops:
            continue
        veh = problem.vehicles[route.vehicle]
        out = _tour_rows(problem, route, active) if veh.tour else _vehicle_rows(problem, route, active)
        done.update(active[k].job_id for k, _ in route.stops)
        numbers: dict = {}
        for row in out:  # stops count from 0 on each date (a tour spans several)
            row["stop"] = numbers[row["date"]] = numbers.get(row["date"], -1) + 1
            for key in ("arrival", "start", "end"):
                row[key] = iso_minute(week_start, row[key])
        rows += out
    schedule = pd.DataFrame(rows, columns=SCHEDULE_COLUMNS)
    if len(schedule):
        schedule["expected_recordings"] = schedule["expected_recordings"].astype(float).round(2)
    left = [{"job_id": j.job_id, "job_kind": j.kind, "site_id": j.site_id, "kode_kel": j.kode_kel,
             "reason": j.reason or FULL_WEEK} for j in problem.jobs if j.job_id not in done]
    stats = dict(problem.stats, **(solution.stats if solution is not None else {}), scheduled_jobs=len(done))
    return Routes(schedule, pd.DataFrame(left, columns=UNSCHEDULED_COLUMNS),
                  solution.status if solution is not None else "NO_JOBS",
                  solution.objective if solution is not None else 0, stats)


def _vehicle_rows(problem: WeekProblem, route, active) -> list[dict]:
    """Rows of one vehicle's day: start place, each job (a paused Friday session in two), end place."""
    veh = problem.vehicles[route.vehicle]
    m = problem.mats[veh.kind]
    common = {"unit": veh.unit, "vehicle": veh.kind, "date": veh.date.isoformat()}
    depot_row = {"job_id": "depot", "job_kind": "depot", "site_id": None, "name": veh.depot_name,
                 "kode_kel": None, "kode_kec": None, "lon": veh.group.depot.lon, "lat": veh.group.depot.lat,
                 "expected_recordings": 0.0}
    out = [{**common, **depot_row, "arrival": route.depart, "start": route.depart, "end": route.depart,
            "travel_min": 0, "travel_km": 0.0}]
    bs = be = None
    if problem.fbreak is not None and veh.date.weekday() == 4:
        bs, be = veh.day * DAY + problem.fbreak[0], veh.day * DAY + problem.fbreak[1]
    prev_point, prev_end = veh.depot, route.depart
    for k, start in route.stops:
        job = active[k]
        travel = int(m.minutes[prev_point, job.point])
        km = round(float(m.metres[prev_point, job.point]) / 1000, 2)
        arrival = prev_end + travel
        end = start + job.service
        base = {**common, "job_id": job.job_id, "job_kind": job.kind, "site_id": job.site_id, "name": job.name,
                "kode_kel": job.kode_kel, "kode_kec": job.kode_kec, "lon": job.lon, "lat": job.lat}
        if job.pausable and bs is not None and start < bs and end > be:
            # The team records only outside the break: at most what the minutes left hold.
            per_minute = problem.paused_recordings(job, veh.group) / (job.service - (be - bs))
            out.append({**base, "arrival": arrival, "start": start, "end": bs, "travel_min": travel, "travel_km": km,
                        "expected_recordings": per_minute * (bs - start)})
            out.append({**base, "arrival": be, "start": be, "end": end, "travel_min": 0, "travel_km": 0.0,
                        "expected_recordings": per_minute * (end - be)})
        else:
            out.append({**base, "arrival": arrival, "start": start, "end": end, "travel_min": travel, "travel_km": km,
                        "expected_recordings": job.expected})
        prev_point, prev_end = job.point, end
    travel = int(m.minutes[prev_point, veh.end])
    arrival = prev_end + travel
    out.append({**common, **depot_row, "arrival": arrival, "start": arrival, "end": arrival, "travel_min": travel,
                "travel_km": round(float(m.metres[prev_point, veh.end]) / 1000, 2)})
    return out


def _tour_rows(problem: WeekProblem, route, active) -> list[dict]:
    """Rows of a touring vehicle's run of days: each day from where it slept to where it sleeps.

    A day starts at the depot (the first) or last night's lodging and ends at tonight's lodging (or
    the depot, the last). Each session runs from arrival (or opening, or the end of the Friday
    break) until the team must leave for its next stop (or the site closes); its expected
    recordings scale with that length against what placement counted on.
    """
    veh = problem.vehicles[route.vehicle]
    m = problem.mats[veh.kind]
    by_day: dict = {}
    for k, start in route.stops:
        by_day.setdefault(start // DAY, []).append((k, start))
    rows = []
    for i, date in enumerate(veh.dates):
        lo, hi = veh.day_bounds(date)
        begin = veh.depot if i == 0 else route.nights[i - 1]
        finish = route.nights[i] if i < len(route.nights) else veh.end
        stops = sorted(by_day.get(lo // DAY, []), key=lambda s: s[1])
        if not stops and begin == finish == veh.depot:
            continue  # a day at the office: nothing to show
        common = {"unit": veh.unit, "vehicle": veh.kind, "date": date.isoformat()}
        rows.append({**common, **_frame(problem, veh, begin), "arrival": lo, "start": lo, "end": lo,
                     "travel_min": 0, "travel_km": 0.0})
        bs, be = _break(problem, date, lo)
        prev, prev_end = begin, lo
        for n, (k, model_start) in enumerate(stops):
            job = active[k]
            travel = int(m.minutes[prev, job.point])
            arrival = prev_end + travel
            nxt_point, nxt_limit = (active[stops[n + 1][0]].point, stops[n + 1][1]) if n + 1 < len(stops) else (finish,
                                                                                                                 hi)
            start, end = _stretch(job, lo - lo % DAY, arrival, nxt_limit - int(m.minutes[job.point, nxt_point]),
                                  bs, be, model_start)
            base = {**common, "job_id": job.job_id, "job_kind": job.kind, "site_id": job.site_id, "name": job.name,
                    "kode_kel": job.kode_kel, "kode_kec": job.kode_kec, "lon": job.lon, "lat": job.lat}
            km = round(float(m.metres[prev, job.point]) / 1000, 2)
            work = end - start - (be - bs if bs is not None and start < bs and end > be else 0)
            expected = job.expected * _scale(problem, job, work)
            if bs is not None and start < bs and end > be:
                per_minute = expected / work
                rows.append({**base, "arrival": arrival, "start": start, "end": bs, "travel_min": travel,
                             "travel_km": km, "expected_recordings": per_minute * (bs - start)})
                rows.append({**base, "arrival": be, "start": be, "end": end, "travel_min": 0, "travel_km": 0.0,
                             "expected_recordings": per_minute * (end - be)})
            else:
                rows.append({**base, "arrival": arrival, "start": start, "end": end, "travel_min": travel,
                             "travel_km": km, "expected_recordings": expected})
            prev, prev_end = job.point, end
        travel = int(m.minutes[prev, finish])
        rows.append({**common, **_frame(problem, veh, finish), "arrival": prev_end + travel,
                     "start": prev_end + travel, "end": prev_end + travel, "travel_min": travel,
                     "travel_km": round(float(m.metres[prev, finish]) / 1000, 2)})
    return rows


def _frame(problem: WeekProblem, veh, point: int) -> dict:
    """A depot row at the unit's office, or a lodging row at the site where a touring team sleeps."""
    if point in (veh.depot, veh.end):
        return {"job_id": "depot", "job_kind": "depot", "site_id": None, "name": veh.depot_name, "kode_kel": None,
                "kode_kec": None, "lon": veh.group.depot.lon, "lat": veh.group.depot.lat, "expected_recordings": 0.0}
    site_id, name = problem.places[point]
    geom = problem.points.geoms[point]
    return {"job_id": "lodging", "job_kind": "lodging", "site_id": site_id, "name": name, "kode_kel": None,
            "kode_kec": None, "lon": float(geom.x), "lat": float(geom.y), "expected_recordings": 0.0}


def _break(problem: WeekProblem, date: dt.date, lo: int) -> tuple[int | None, int | None]:
    if problem.fbreak is None or date.weekday() != 4:
        return None, None
    base = lo - lo % DAY
    return base + problem.fbreak[0], base + problem.fbreak[1]


def _stretch(job, base: int, arrival: int, leave_by: int, bs, be, model_start: int) -> tuple[int, int]:
    """A touring session's (start, end): arrival or opening to the last moment that still reaches the next stop.

    Never shorter than the model's own start and length; a home visit keeps its fixed length.
    """
    if job.kind != "session" or not job.pausable or job.open_from is None:
        return model_start, model_start + job.service
    opens, closes = base + hhmm_to_minutes(job.open_from), base + hhmm_to_minutes(job.open_to)
    start = max(arrival, opens)
    if bs is not None and bs <= start < be:
        start = be
    end = min(closes, leave_by)
    if bs is not None and bs < end <= be:
        end = bs
    start, end = min(start, model_start), max(end, model_start + job.service)
    return start, end


def _scale(problem: WeekProblem, job, work: int) -> float:
    """A touring session's recordings for `work` minutes, against the length placement counted on."""
    if not job.planned_work or job.open_from is None:
        return 1.0
    cal = problem.calendar
    planned = capacity_share(cal, job.open_from, job.open_to, job.planned_work)
    return min(1.0, capacity_share(cal, job.open_from, job.open_to, work) / planned) if planned > 0 else 1.0


def merge_routes(first: Routes, second: Routes) -> Routes:
    """One Routes from two parts of the same week (posts and mobile units); the second's search stats."""
    schedule = pd.concat([t for t in (first.schedule, second.schedule) if len(t)] or [first.schedule],
                         ignore_index=True)
    unscheduled = pd.concat([t for t in (first.unscheduled, second.unscheduled) if len(t)] or [first.unscheduled],
                            ignore_index=True)
    stats = dict(second.stats)
    for key in ("vehicles", "jobs", "jobs_in_model", "scheduled_jobs"):
        stats[key] = int(first.stats.get(key, 0)) + int(second.stats.get(key, 0))
    return Routes(schedule, unscheduled, second.status, second.objective, stats)
