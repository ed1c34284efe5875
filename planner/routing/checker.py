"""An independent re-check of a schedule: every rule, re-derived from the calendar and sites.

No solver is involved, so tests (and users) need not trust any engine: the same checker validates
the OR-Tools and the PyVRP schedules.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.contracts import FRAME_KINDS, SCHEDULE_COLUMNS
from planner.reach import friday_break, session_minutes
from planner.routing.problem import unit_names
from planner.scenario import CalendarConfig, UnitGroup, hhmm_to_minutes


def check_schedule(schedule: pd.DataFrame, calendar: CalendarConfig, sites: pd.DataFrame | None = None, *,
                   units: list[UnitGroup] | None = None, travel_reserve_min: int = 60,
                   min_session_min: int = 0, matrix_fn=None) -> list[str]:
    """Every rule a schedule breaks, re-derived from the calendar and sites without the solver.

    Checks: stops only on working dates (no holiday, Saturday only when on); each unit-day starts and
    ends at its depot inside the working hours; times run forward with the travel time between stops;
    sessions inside their site's opening days and hours; a full-day session starts on arrival (or at
    opening), records at least `min_session_min` and ends when the unit must leave to be back by
    day_end (or at closing), pausing for the whole Friday break if it spans it; a half-day session
    lasts exactly its fixed length; home visits exactly
    `home_visit_minutes` long; no session or home visit overlapping the Friday break; each job once.
    With `matrix_fn` (as for `route`), every hop's `travel_min` is recomputed from the coordinates.
    """
    if schedule is None or len(schedule) == 0:
        return []
    missing = [c for c in SCHEDULE_COLUMNS if c not in schedule.columns]
    if missing:
        return [f"schedule lacks columns {missing}"]
    s = schedule.copy()
    for col in ("arrival", "start", "end"):
        s[col] = pd.to_datetime(s[col], format="%Y-%m-%dT%H:%M")
    s["day"] = pd.to_datetime(s["date"]).dt.date
    rules = _Rules(calendar, sites, units, travel_reserve_min, min_session_min)
    for (unit, day), g in s.sort_values("stop").groupby(["unit", "day"], sort=True):
        rules.unit_day(str(unit), day, g)
    rules.note_sessions(s)
    for unit, g in s.sort_values(["day", "stop"]).groupby("unit", sort=True):
        rules.tour(str(unit), g)
    problems = rules.problems
    if matrix_fn is not None:
        problems += _check_travel(s, matrix_fn)
    jobs = s[~s["job_kind"].isin(FRAME_KINDS)].groupby("job_id")[["unit", "day"]].nunique()
    twice = jobs[(jobs["unit"] > 1) | (jobs["day"] > 1)].index.tolist()
    if twice:
        problems.append(f"jobs scheduled more than once: {twice[:5]}")
    return problems


def _minute(ts) -> int:
    return ts.hour * 60 + ts.minute


class _Rules:
    """The calendar, depots and sites a schedule is checked against; problems collect here."""

    def __init__(self, calendar: CalendarConfig, sites, units, travel_reserve_min: int, min_session_min: int = 0):
        self.calendar = calendar
        self.working = set(calendar.working_dates())
        self.day_start, self.day_end = hhmm_to_minutes(calendar.day_start), hhmm_to_minutes(calendar.day_end)
        self.fbreak = friday_break(calendar)
        self.depots = {name: (g.depot.lon, g.depot.lat) for name, g in unit_names(units)} if units else {}
        self.groups = dict(unit_names(units)) if units else {}
        self.sites = None if sites is None else sites.set_index(sites["site_id"].astype(str))
        self.travel_reserve_min = travel_reserve_min
        self.min_session_min = min_session_min
        self.problems: list[str] = []

    def site(self, site_id):
        """The site's row, or None when unknown."""
        site_id = str(site_id)
        return self.sites.loc[site_id] if site_id in self.sites.index else None

    def unit_day(self, unit: str, day, g: pd.DataFrame) -> None:
        """One unit's day: date, depot frame, forward times, each stop, session lengths."""
        where = f"{unit} {day}"
        if day not in self.working:
            self.problems.append(f"{where}: stops on a non-working day (holiday, weekend or outside the horizon)")
        if (g["start"].dt.date != day).any() or (g["end"].dt.date != day).any():
            self.problems.append(f"{where}: times on another date than the row's date")
        self.depot_frame(where, unit, g)
        prev = None
        for _, row in g.iterrows():
            if row["start"] < row["arrival"] or row["end"] < row["start"]:
                self.problems.append(f"{where} stop {row['stop']}: arrival <= start <= end violated")
            if prev is not None and row["arrival"] < prev["end"] + pd.Timedelta(minutes=float(row["travel_min"])):
                self.problems.append(f"{where} stop {row['stop']}: arrives before the previous stop ends plus travel")
            prev = row
            if row["job_kind"] not in FRAME_KINDS:
                self.stop(f"{where} stop {row['stop']}", day, row)
        if self.sites is not None:
            for job_id, rows in g[g["job_kind"] == "session"].groupby("job_id"):
                self.session_length(f"{where} {job_id}", rows, g)

    def touring(self, unit: str) -> bool:
        group = self.groups.get(unit)
        return bool(group is not None and group.overnight)

    def depot_frame(self, where: str, unit: str, g: pd.DataFrame) -> None:
        """The day starts and ends at the unit's depot (a touring team: or a lodging), inside the working hours."""
        first, last = g.iloc[0], g.iloc[-1]
        lodging = "lodging" in (first["job_kind"], last["job_kind"])
        if first["job_kind"] not in FRAME_KINDS or last["job_kind"] not in FRAME_KINDS or (len(g) < 3 and not lodging):
            self.problems.append(f"{where}: route must start and end with a depot row around at least one job")
        elif lodging and not self.touring(unit):
            self.problems.append(f"{where}: sleeps away from its depot but its group is not overnight")
        elif not lodging and (first["lon"], first["lat"]) != (last["lon"], last["lat"]):
            self.problems.append(f"{where}: starts and ends at different depots")
        for row in (first, last):
            if row["job_kind"] == "depot" and unit in self.depots and not np.allclose((row["lon"], row["lat"]),
                                                                                       self.depots[unit]):
                self.problems.append(f"{where}: depot {row['lon']},{row['lat']} is not the unit's depot "
                                     f"{self.depots[unit]}")
        if _minute(first["start"]) < self.day_start:
            self.problems.append(f"{where}: leaves the depot at {first['start']:%H:%M} before "
                                 f"{self.calendar.day_start}")
        if _minute(last["arrival"]) > self.day_end:
            self.problems.append(f"{where}: back at the depot at {last['arrival']:%H:%M} after "
                                 f"{self.calendar.day_end}")

    def stop(self, where: str, day, row) -> None:
        """A session or home visit: the Friday break, a visit's length, the site's days and hours."""
        fbreak = self.fbreak
        if fbreak is not None and day.weekday() == 4:
            if _minute(row["start"]) < fbreak[1] and _minute(row["end"]) > fbreak[0]:
                self.problems.append(f"{where}: {row['job_kind']} overlaps the Friday break")
        if row["job_kind"] == "home_visit":
            if (row["end"] - row["start"]) != pd.Timedelta(minutes=self.calendar.home_visit_minutes):
                self.problems.append(f"{where}: home visit is not {self.calendar.home_visit_minutes} min")
            return
        if row["job_kind"] != "session" or self.sites is None:
            return
        site = self.site(row["site_id"])
        if site is None:
            self.problems.append(f"{where}: unknown site {row['site_id']}")
            return
        if str(day.weekday()) not in str(site["open_days"]):
            self.problems.append(f"{where}: site {row['site_id']} closed on that weekday")
        if (_minute(row["start"]) < hhmm_to_minutes(site["open_from"])
                or _minute(row["end"]) > hhmm_to_minutes(site["open_to"])):
            self.problems.append(f"{where}: session outside the site's hours {site['open_from']}-{site['open_to']}")

    def session_length(self, where: str, rows: pd.DataFrame, day: pd.DataFrame) -> None:
        """A session works its length, in one part or two around the Friday break.

        Full day: from arrival (or opening) to the last minute that still gets the unit to its
        next stop by day_end (or closing), at least `min_session_min`; half day: exactly
        `session_minutes`.
        """
        site = self.site(rows["site_id"].iloc[0])
        if site is None:
            return
        fbreak = self.fbreak
        full = self.calendar.session == "full"
        work = int(((rows["end"] - rows["start"]).dt.total_seconds() // 60).sum())
        if len(rows) == 2 and fbreak is not None and full:
            a, b = rows.iloc[0], rows.iloc[1]
            if _minute(a["end"]) != fbreak[0] or _minute(b["start"]) != fbreak[1] or b["stop"] != a["stop"] + 1:
                self.problems.append(f"{where}: a session in two parts must pause exactly for the break")
        elif len(rows) != 1:
            self.problems.append(f"{where}: session in {len(rows)} parts")
        if not full:
            length = session_minutes(self.calendar, site["open_from"], site["open_to"], self.travel_reserve_min)
            if work != length:
                self.problems.append(f"{where}: session works {work} min, expected {length}")
            return
        first, last = rows.iloc[0], rows.iloc[-1]
        after = day[day["stop"] > last["stop"]]
        back = int(after["travel_min"].iloc[0]) if len(after) else 0
        start = max(_minute(first["arrival"]), hhmm_to_minutes(site["open_from"]))
        leave_by = self.day_end
        if self.touring(str(first["unit"])):
            # a touring session runs until the team must leave for its next stop, whatever that is
            if len(after) and after.iloc[0]["job_kind"] not in FRAME_KINDS:
                leave_by = _minute(after.iloc[0]["start"])
            if fbreak is not None and first["start"].weekday() == 4 and fbreak[0] <= start < fbreak[1]:
                start = fbreak[1]
        end = min(hhmm_to_minutes(site["open_to"]), leave_by - back)
        if self.touring(str(first["unit"])) and fbreak is not None and first["start"].weekday() == 4 \
                and fbreak[0] < end <= fbreak[1]:
            end = fbreak[0]
        if _minute(first["start"]) != start or _minute(last["end"]) != end:
            self.problems.append(f"{where}: session {first['start']:%H:%M}-{last['end']:%H:%M}, expected "
                                 f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d} (from arrival "
                                 "or opening until the unit must leave)")
        if work < self.min_session_min:
            self.problems.append(f"{where}: session records {work} min, less than min_session_min "
                                 f"{self.min_session_min}")


    def note_sessions(self, s: pd.DataFrame) -> None:
        """The sites each group holds sessions at this week (where a 'session_site' team may sleep)."""
        self.group_sites: dict = {}
        for unit, site_id in zip(s.loc[s["job_kind"] == "session", "unit"], s.loc[s["job_kind"] == "session",
                                                                                   "site_id"]):
            group = self.groups.get(str(unit))
            if group is not None:
                self.group_sites.setdefault(group.name, set()).add(str(site_id))

    def tour(self, unit: str, g: pd.DataFrame) -> None:
        """A unit's nights: a day ending at a lodging is followed by the next day starting there, no
        more than max_nights in a row, at lodgings its group allows; the tour ends at the depot.
        """
        days = [(day, rows) for day, rows in g.groupby("day", sort=True)]
        group = self.groups.get(unit)
        away = 0
        for n, (day, rows) in enumerate(days):
            last = rows.iloc[-1]
            nxt = days[n + 1] if n + 1 < len(days) else None
            if rows.iloc[0]["job_kind"] == "lodging":
                prev = days[n - 1] if n else None
                if prev is None or (day - prev[0]).days != 1 or prev[1].iloc[-1]["job_kind"] != "lodging" or \
                        str(prev[1].iloc[-1]["site_id"]) != str(rows.iloc[0]["site_id"]):
                    self.problems.append(f"{unit} {day}: starts at a lodging it did not sleep at the night before")
            if last["job_kind"] != "lodging":
                away = 0
                continue
            away += 1
            if nxt is None or (nxt[0] - day).days != 1 or nxt[1].iloc[0]["job_kind"] != "lodging":
                self.problems.append(f"{unit} {day}: sleeps away but the next day does not start there (a tour "
                                     "must end at the depot)")
            if group is not None and group.max_nights is not None and away > group.max_nights:
                self.problems.append(f"{unit} {day}: {away} nights in a row away, more than max_nights "
                                     f"{group.max_nights}")
            if group is not None:
                self.lodging(f"{unit} {day}", group, last)

    def lodging(self, where: str, group: UnitGroup, row) -> None:
        """The site a touring team sleeps at is one its `lodging` rule allows."""
        site_id = str(row["site_id"])
        rule = group.lodging
        if isinstance(rule, list):
            ok = site_id in {str(s) for s in rule}
        elif rule == "kantor_camat":
            site = self.site(site_id) if self.sites is not None else None
            ok = site is None or site["kind"] == "kantor_camat"
        else:
            ok = site_id in self.group_sites.get(group.name, set())
        if not ok:
            self.problems.append(f"{where}: sleeps at {site_id}, not a lodging its group allows ({rule})")


def _check_travel(s: pd.DataFrame, matrix_fn) -> list[str]:
    """Recompute each hop's travel minutes from the stops' coordinates with a fresh matrix."""
    problems = []
    keys = s["lon"].round(7).astype(str) + "," + s["lat"].round(7).astype(str)
    s = s.assign(_key=keys)
    first = s.drop_duplicates("_key")
    points = gpd.GeoDataFrame({"id": first["_key"].to_numpy()},
                              geometry=gpd.points_from_xy(first["lon"], first["lat"]), crs="EPSG:4326")
    where = {k: i for i, k in enumerate(points["id"])}
    for kind, part in s.groupby("vehicle"):
        minutes = matrix_fn(points, kind).minutes
        for (unit, day), g in part.sort_values("stop").groupby(["unit", "day"]):
            prev = None
            for _, row in g.iterrows():
                if prev is not None:
                    pause = row["job_id"] == prev["job_id"] and row["job_kind"] == "session"
                    expected = 0 if pause else int(minutes[where[prev["_key"]], where[row["_key"]]])
                    if int(row["travel_min"]) != expected:
                        problems.append(f"{unit} {day} stop {row['stop']}: travel {row['travel_min']} min, "
                                        f"the matrix says {expected}")
                prev = row
    return problems

