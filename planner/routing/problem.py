"""The week's routing problem, built without any solver: who can do which job, when, from where.

Everything an engine needs and nothing engine-specific: the places (`Points`) with their travel
matrices per vehicle kind, one `Vehicle` per unit per working day (start and end place, shift
window, the unit group), and the `Job`s (session-days and home visits) with their allowed start
times in minutes after ``week_start`` 00:00, service minutes, the vehicles allowed, the drop
penalty from priority and the reason when a job cannot be done at all. The same problem goes to
every engine (OR-Tools, PyVRP) and to the renderer, so engines differ only in how they search.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from planner import tours
from planner.contracts import DEFAULT_WEIGHTS, is_hhmm, require_columns, session_job_id, visit_job_id
from planner.errors import InputError
from planner.i18n import en
from planner.reach import capacity_share, day_windows, friday_break, session_minutes, session_shape, session_work
from planner.scenario import CalendarConfig, UnitGroup, hhmm_to_minutes

__all__ = ["DAY", "Job", "Points", "Vehicle", "WeekProblem", "build_week", "friday_break", "session_minutes",
           "unit_names"]

DAY = 1440  # minutes; times inside the model are minutes after week_start 00:00
SESSION_PENALTY = 1_000_000  # dropping a session-day must cost more than any week of travel
VISIT_PENALTY = 200_000


@dataclass
class Job:
    """One session-day (or half-day) at a site, or one home visit."""

    job_id: str
    kind: str  # session | home_visit
    point: int  # row in the points table / matrices
    service: int  # minutes the unit is occupied (a Friday full session includes the break)
    windows: list  # allowed start times [(a, b)] in week minutes
    vehicles: list  # vehicles allowed
    penalty: int
    expected: float
    site_id: str | None
    name: str
    kode_kel: str | None
    kode_kec: str | None
    lon: float
    lat: float
    pausable: bool = False
    reason: str = ""
    open_from: str | None = None  # a session's site hours (a touring session runs as long as they and trips allow)
    open_to: str | None = None
    planned_work: int = 0  # minutes placement counted on for a touring session (recordings scale to the real ones)


@dataclass
class Night:
    """A touring vehicle's night: at one of `places` (its depot first) from `end` until `start` (week minutes)."""

    end: int
    start: int
    places: list


@dataclass
class Vehicle:
    """One unit on one working day: leaves `start` and returns to `end` inside [shift_start, shift_end]."""

    unit: str
    kind: str
    date: dt.date
    day: int  # days after week_start
    depot: int  # row in the points table where the day starts
    depot_name: str
    group: UnitGroup
    end: int = -1  # row where the day ends (-1: back at `depot`)
    shift_start: int = 0  # week minutes
    shift_end: int = 0
    dates: list = field(default_factory=list)  # the working dates it spans: one, or a tour's run of days
    nights: list = field(default_factory=list)  # a tour's `Night`s, between consecutive dates

    def __post_init__(self):
        if self.end < 0:
            self.end = self.depot
        if not self.dates:
            self.dates = [self.date]

    def day_bounds(self, date: dt.date) -> tuple[int, int]:
        """Week minutes the working day `date` of this vehicle starts and ends."""
        shift = (date - self.dates[0]).days * DAY
        last = (self.dates[-1] - self.dates[0]).days * DAY
        return self.shift_start + shift, self.shift_end - last + shift

    @property
    def tour(self) -> bool:
        """Whether this vehicle is a touring team's run of days (sleeping away between them)."""
        return bool(self.group.overnight)


@dataclass
class WeekProblem:
    """The whole week: places, matrices, vehicles, jobs (`active` are those an engine may schedule)."""

    calendar: CalendarConfig
    points: Points
    mats: dict
    vehicles: list[Vehicle]
    jobs: list[Job]
    fbreak: tuple[int, int] | None
    seed: int = 0
    stats: dict = field(default_factory=dict)
    places: dict = field(default_factory=dict)  # point row -> (site_id, name) of the sites a team may sleep at

    @property
    def active(self) -> list[Job]:
        """Jobs that some vehicle can do (no up-front reason against them)."""
        return [j for j in self.jobs if not j.reason]

    def paused_recordings(self, job: Job, group: UnitGroup) -> float:
        """What a full-day session that spans the Friday break records: its expected, up to what
        `group` records in the minutes left once the break is out.

        Placement already counted a Friday session-day at its after-break capacity, so the break
        costs only what a session planned for a longer day expects beyond that (never twice).
        """
        if self.fbreak is None or not job.pausable or job.service <= 0 or job.open_from is None \
                or job.open_to is None:
            return job.expected
        work = job.service - (self.fbreak[1] - self.fbreak[0])
        return min(job.expected, group.capacity_per_day * capacity_share(self.calendar, job.open_from,
                                                                         job.open_to, work))

    @property
    def horizon_days(self) -> int:
        """Days from week_start to the last working date (the time axis of the model)."""
        dates = self.calendar.working_dates()
        return (dates[-1] - self.calendar.week_start).days + 1 if dates else 1


def unit_names(units: list[UnitGroup]) -> list[tuple[str, UnitGroup]]:
    """One name per unit ("Van 1", "Van 2", ...) with its group, in scenario order."""
    names = []
    for group in units:
        for i in range(group.count):
            names.append((group.name if group.count == 1 else f"{group.name} {i + 1}", group))
    seen = [n for n, _ in names]
    dup = sorted({n for n in seen if seen.count(n) > 1})
    if dup:
        raise InputError(f"unit names {dup} are not unique; give each [[units]] group its own 'name'")
    return names


def _session_sites(sessions, sites, points):
    """Check the sessions against the sites and register each session site's place; the sites by id."""
    require_columns(sessions, ["site_id", "session_days"], "sessions")
    require_columns(sites, ["site_id", "name", "open_days", "open_from", "open_to", "geometry"], "sites")
    by_id = sites.set_index(sites["site_id"].astype(str))
    unknown = sorted(set(sessions["site_id"].astype(str)) - set(by_id.index))
    if unknown:
        raise InputError(f"sessions refer to site_id(s) not in sites: {unknown[:5]}")
    for site_id in sessions["site_id"].astype(str):
        site = by_id.loc[site_id]
        for col in ("open_from", "open_to"):
            if not is_hhmm(site[col]):
                raise InputError(f"site {site_id}: {col} is {site[col]!r}; expected a time 'HH:MM'")
        points.index_of(f"site:{site_id}", site.geometry)
    return by_id


def _session_jobs(sessions, by_id, calendar, travel_reserve_min, min_session_min, fbreak, dates, vehicles,
                  points, mats):
    """One job per session-day (two per day for half sessions), for the unit group placement chose.

    The job's start and length come from `reach.session_shape` for that group's depot, and its
    dates from `reach.session_work`, the same rule placement offered the session-day by. A row
    with no ``unit_group`` (a hand-written sessions file) goes to the session group that can hold
    the longest session there.
    """
    jobs = []
    pausable = calendar.session == "full"
    by_group: dict = {}
    for v, veh in enumerate(vehicles):
        if veh.group.sessions:
            by_group.setdefault(veh.group.name, []).append(v)
    counter: dict = {}
    for _, row in sessions.iterrows():
        site_id = str(row["site_id"])
        site = by_id.loc[site_id]
        days = int(row["session_days"])
        if days <= 0:
            continue
        n_jobs = days if pausable else 2 * days
        point = points.index_of(f"site:{site_id}", site.geometry)
        wanted = _text(row.get("unit_group")) or ""
        group, shape, reason, planned = _session_group(wanted, by_group, vehicles, mats, point, site, calendar,
                                                       travel_reserve_min, min_session_min)
        windows, open_dates = [], set()
        for date in dates if shape is not None else []:
            if session_work(calendar, date, site["open_days"], planned or shape, min_session_min) <= 0:
                continue
            day = (date - calendar.week_start).days
            open_dates.add(date)
            windows += [(day * DAY + a, day * DAY + b)
                        for a, b in day_windows(date, shape.earliest, shape.latest, shape.minutes, pausable, fbreak)]
        if shape is not None and not open_dates:
            reason = (en("site closed on every working day (open_days '{days}')", days=str(site["open_days"]))
                      if not any(str(d.weekday()) in str(site["open_days"]) for d in dates) else
                      en("a session there would record less than min_session_min = {minutes} min ({group} travels "
                         "{trip})", minutes=min_session_min, group=group,
                         trip=_trip(mats, vehicles, by_group.get(group, []), point)))
        exp_total = float(row.get("exp_total", 0) or 0)
        worth = _weighted_expected(row, exp_total)
        allowed = [v for v in by_group.get(group, []) if open_dates.intersection(vehicles[v].dates)]
        for k in range(n_jobs):
            number = counter.get(site_id, 0)
            counter[site_id] = number + 1
            jobs.append(Job(
                job_id=session_job_id(site_id, number, half=not pausable), kind="session",
                point=point, service=shape.minutes if shape is not None else 0, windows=windows, vehicles=allowed,
                # earlier session-days of a site and sites worth more (first-time voters count triple) first
                penalty=(SESSION_PENALTY + int(100 * worth / n_jobs) + 1000 * (n_jobs - k)) * _priority(row),
                expected=exp_total / n_jobs, site_id=site_id, name=str(site["name"]),
                kode_kel=_text(site.get("kode_kel")), kode_kec=_text(site.get("kode_kec")),
                lon=float(site.geometry.x), lat=float(site.geometry.y), pausable=pausable, reason=reason,
                open_from=str(site["open_from"]), open_to=str(site["open_to"]),
                planned_work=planned.minutes if planned is not None else 0,
            ))
    return jobs


def _session_group(wanted, by_group, vehicles, mats, point, site, calendar, travel_reserve_min, min_session_min):
    """(group, session shape, reason, shape placement counted on) for a session row: the named group, or the best.

    A day-trip group's session is shaped by the trip from its depot (`reach.session_shape`); a
    touring group's by `tours.tour_shape`, offered where `tours.reach_shape` says the team can get
    there from its office or a lodging.
    """
    if not by_group:
        return None, None, "no unit holds sessions (every [[units]] group has sessions = false)", None
    if wanted and wanted not in by_group:
        return wanted, None, f"unit group '{wanted}' holds no sessions in this scenario", None
    best = (None, None, None)
    for name in ([wanted] if wanted else list(by_group)):
        veh = vehicles[by_group[name][0]]
        m = mats[veh.kind].minutes
        if veh.tour:
            places = _tour_places(vehicles, by_group[name])
            out = min((m[p, point] for p in places if p != point), default=np.inf)
            planned = tours.reach_shape(calendar, site["open_from"], site["open_to"], out,
                                        min(m[point, p] for p in places), min_session_min)
            shape = tours.tour_shape(calendar, site["open_from"], site["open_to"], min_session_min) \
                if planned is not None else None
        else:
            shape = session_shape(calendar, site["open_from"], site["open_to"], m[veh.depot, point],
                                  m[point, veh.end], travel_reserve_min)
            planned = None
        if shape is not None and (best[1] is None or shape.minutes > best[1].minutes):
            best = (name, shape, planned)
    if best[1] is None:
        name = wanted or next(iter(by_group))
        return name, None, en("does not fit in any unit's working day ({group} travels {trip}; working day "
                              "{start}-{end}, site hours {opens}-{closes})", group=name,
                              trip=_trip(mats, vehicles, by_group[name], point), start=calendar.day_start,
                              end=calendar.day_end, opens=site["open_from"], closes=site["open_to"]), None
    return best[0], best[1], "", best[2]


def _tour_places(vehicles, indices) -> list[int]:
    """Where a touring group's day may start or end: its depot, then its lodgings."""
    for v in indices:
        if vehicles[v].nights:
            return list(vehicles[v].nights[0].places)
    return [vehicles[indices[0]].depot]


def _trip(mats, vehicles, indices, point) -> str:
    if not indices:
        return "-"
    veh = vehicles[indices[0]]
    m = mats[veh.kind].minutes
    return en("{out} min out and {back} min back", out=int(m[veh.depot, point]), back=int(m[point, veh.end]))


def _visit_jobs(home_visits, calendar, fbreak, dates, vehicles, points):
    jobs = []
    if home_visits is None or len(home_visits) == 0:
        return jobs
    require_columns(home_visits, ["visit_id", "kode_kel", "lon", "lat"], "home_visits")
    visit_vehicles = [v for v, veh in enumerate(vehicles) if veh.group.home_visits]
    duration = calendar.home_visit_minutes
    for _, row in home_visits.iterrows():
        lo, hi = hhmm_to_minutes(calendar.day_start), hhmm_to_minutes(calendar.day_end)
        if "window_from" in row and isinstance(row["window_from"], str):
            lo = max(lo, hhmm_to_minutes(row["window_from"]))
        if "window_to" in row and isinstance(row["window_to"], str):
            hi = min(hi, hhmm_to_minutes(row["window_to"]))
        windows = []
        for date in dates:
            day = (date - calendar.week_start).days
            windows += [(day * DAY + a, day * DAY + b)
                        for a, b in day_windows(date, lo, hi - duration, duration, False, fbreak)]
        has_xy = pd.notna(row["lon"]) and pd.notna(row["lat"])
        job = Job(
            job_id=visit_job_id(row["visit_id"]), kind="home_visit",
            point=points.index_of(f"visit:{row['visit_id']}", Point(row["lon"], row["lat"])) if has_xy else -1,
            service=duration, windows=windows, vehicles=visit_vehicles, penalty=VISIT_PENALTY * _priority(row),
            expected=1.0, site_id=None, name="Kunjungan rumah", kode_kel=_text(row["kode_kel"]),
            kode_kec=_text(row.get("kode_kec")), lon=float(row["lon"]) if has_xy else np.nan,
            lat=float(row["lat"]) if has_xy else np.nan,
        )
        if not has_xy:
            job.reason = en("home visit has no coordinates")
        elif not visit_vehicles:
            job.reason = en("no unit does home visits (set home_visits = true on a [[units]] group)")
        elif not windows:
            job.reason = en("its time window leaves no room for a visit on any working day")
        jobs.append(job)
    return jobs


def _weighted_expected(row, exp_total: float) -> float:
    """Expected recordings weighted by class priority (`DEFAULT_WEIGHTS`), as placement values them.

    Without the per-class columns (a hand-written sessions file) the plain total counts.
    """
    columns = [f"exp_{c}" for c in DEFAULT_WEIGHTS]
    if not all(c in row.index for c in columns):
        return exp_total
    return float(sum(DEFAULT_WEIGHTS[c] * float(row[f"exp_{c}"] or 0) for c in DEFAULT_WEIGHTS))


def _priority(row) -> int:
    """Optional `priority` column (1 = normal, 2 = twice as costly to leave out, ...)."""
    value = row.get("priority", 1)
    if pd.isna(value):
        return 1
    if int(value) < 1:
        raise InputError(f"priority must be a whole number >= 1, got {value!r}")
    return int(value)


def _text(value) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


class Points:
    """Every place the model knows (depots, sites, homes), each once, in matrix order."""

    def __init__(self):
        self.ids: list[str] = []
        self.geoms: list = []
        self._index: dict[str, int] = {}

    def index_of(self, key: str, geom) -> int:
        """Matrix index of a place, added on first use."""
        if key not in self._index:
            self._index[key] = len(self.ids)
            self.ids.append(key)
            self.geoms.append(geom)
        return self._index[key]

    def frame(self) -> gpd.GeoDataFrame:
        """The places in index order, as travel_matrix points."""
        return gpd.GeoDataFrame({"id": self.ids}, geometry=self.geoms, crs="EPSG:4326")


def _first_start(windows, t: int) -> int | None:
    for a, b in windows:
        if t <= b:
            return max(a, t)
    return None


def _fits_alone(job: Job, veh: Vehicle, minutes: np.ndarray) -> bool:
    """Whether `veh` can do this job as its only stop (start -> job -> end inside its shift).

    A touring vehicle: on one of its dates, from and back to its depot or a lodging.
    """
    if veh.tour:
        places = veh.nights[0].places if veh.nights else [veh.depot]
        out, back = min(int(minutes[p, job.point]) for p in places), min(int(minutes[job.point, p]) for p in places)
        for date in veh.dates:
            lo, hi = veh.day_bounds(date)
            base = lo - lo % DAY
            start = _first_start([(a, b) for a, b in job.windows if base <= a < base + DAY], lo + out)
            if start is not None and start + job.service + back <= hi:
                return True
        return False
    base = veh.day * DAY
    out, back = int(minutes[veh.depot, job.point]), int(minutes[job.point, veh.end])
    start = _first_start([(a, b) for a, b in job.windows if base <= a < base + DAY], veh.shift_start + out)
    return start is not None and start + job.service + back <= veh.shift_end




def build_week(sessions: pd.DataFrame, sites: gpd.GeoDataFrame, home_visits: pd.DataFrame | None,
               units: list[UnitGroup], calendar: CalendarConfig, matrix_fn=None, *, matrices: dict | None = None,
               travel_reserve_min: int = 60, min_session_min: int = 0, seed: int = 0) -> WeekProblem:
    """The week's problem from placement's sessions, the home visits, the units and the calendar.

    Jobs that no vehicle can do get their reason here (no unit of that kind, site closed, no room in
    any working day), so an engine only sees jobs it may schedule and the reasons are the same
    whichever engine runs.
    """
    fbreak = friday_break(calendar)
    dates = calendar.working_dates()
    day_start, day_end = hhmm_to_minutes(calendar.day_start), hhmm_to_minutes(calendar.day_end)
    points = Points()
    vehicles = []
    has_sessions = sessions is not None and len(sessions) > 0
    places: dict = {}
    for unit, group in unit_names(units):
        depot = points.index_of(f"depot:{group.depot.name}:{group.depot.lat}:{group.depot.lon}",
                                Point(group.depot.lon, group.depot.lat))
        if group.overnight:
            lodging = _lodging_points(group, sites, sessions if has_sessions else None, points, places)
            for block in tours.blocks(dates):
                first, last = ((d - calendar.week_start).days for d in (block[0], block[-1]))
                nights = [Night(end=(a - calendar.week_start).days * DAY + day_end,
                                start=(b - calendar.week_start).days * DAY + day_start, places=[depot, *lodging])
                          for a, b in zip(block, block[1:])]
                vehicles.append(Vehicle(unit, group.vehicle, block[0], first, depot, group.depot.name, group,
                                        shift_start=first * DAY + day_start, shift_end=last * DAY + day_end,
                                        dates=list(block), nights=nights))
            continue
        for date in dates:
            day = (date - calendar.week_start).days
            vehicles.append(Vehicle(unit, group.vehicle, date, day, depot, group.depot.name, group,
                                    shift_start=day * DAY + day_start, shift_end=day * DAY + day_end))
    by_id = _session_sites(sessions, sites, points) if has_sessions else None
    visits = _visit_jobs(home_visits, calendar, fbreak, dates, vehicles, points)
    kinds = sorted({v.kind for v in vehicles})
    mats = _matrices(points, kinds, matrix_fn, matrices)
    _near_lodgings(vehicles, mats, day_end - day_start)
    jobs = (_session_jobs(sessions, by_id, calendar, travel_reserve_min, min_session_min, fbreak, dates, vehicles,
                          points, mats) if has_sessions else []) + visits
    if not dates:
        for job in jobs:
            job.reason = en("no working day in the horizon (holidays and weekends only)")
    for job in jobs:
        if job.reason:
            continue
        job.vehicles = [v for v in job.vehicles if _fits_alone(job, vehicles[v], mats[vehicles[v].kind].minutes)]
        if not job.vehicles:
            job.reason = en("does not fit in any unit's working day (travel from the depot and back + duration)")
    problem = WeekProblem(calendar, points, mats, vehicles, jobs, fbreak, seed, places=places)
    problem.stats = {"vehicles": len(vehicles), "jobs": len(jobs), "jobs_in_model": len(problem.active), "seed": seed}
    return problem


def _near_lodgings(vehicles, mats, span: int) -> None:
    """Keep only lodgings a touring team can drive to from its depot, and home from, within one working day."""
    for veh in vehicles:
        m = mats[veh.kind].minutes
        for night in veh.nights:
            night.places = [p for p in night.places if p == veh.depot or (m[veh.depot, p] <= span
                                                                           and m[p, veh.end] <= span)]


def _lodging_points(group: UnitGroup, sites, sessions, points: Points, places: dict) -> list[int]:
    """Point rows where a touring group may sleep (tours.lodging_sites; 'session_site': this week's
    sites of the group's sessions), each named in `places`.
    """
    ids: list = []
    if sessions is not None and "site_id" in sessions:
        mine = sessions
        if "unit_group" in sessions:
            named = sessions["unit_group"].fillna("").astype(str)
            mine = sessions[(named == group.name) | (named == "")]
        ids = mine["site_id"].astype(str).tolist()
    rows = []
    for _, site in tours.lodging_sites(group, sites, ids if group.lodging == "session_site" else None).iterrows():
        row = points.index_of(f"site:{site['site_id']}", site.geometry)
        places[row] = (str(site["site_id"]), str(site["name"]))
        rows.append(row)
    return sorted(set(rows))


def _matrices(points: Points, kinds: list[str], matrix_fn, matrices: dict | None) -> dict:
    frame = points.frame()
    out = {}
    for kind in kinds:
        if matrices is not None and kind in matrices:
            m = matrices[kind]
        elif matrix_fn is not None:
            m = matrix_fn(frame, kind)
        else:
            raise InputError(f"no travel matrix for vehicle '{kind}': pass matrix_fn or matrices={{'{kind}': ...}}")
        n = len(points.ids)
        if np.shape(m.minutes) != (n, n) or list(m.origins) != points.ids or list(m.destinations) != points.ids:
            raise InputError(f"travel matrix for '{kind}' must be {n}x{n} over the points' ids in order "
                             f"(got shape {np.shape(m.minutes)})")
        out[kind] = m
    return out

