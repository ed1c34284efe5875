"""Touring teams (menginap): a unit group that sleeps away from its office between working days.

How rural kabupaten reach far desa (Kab. OKI: 327 desa over 17,000 km2): the team leaves the
office, holds sessions for several days, sleeps at a kantor camat (or the village hall where it
works) and drives home when the tour ends. A group with ``overnight = true`` tours over each run of
consecutive working dates (a Mon-Sat week is one tour; a holiday or the weekend sends the team
home), at most ``max_nights`` nights in a row away.

The rules placement and routing share:
- a touring team can reach a site from its office or from any lodging it can drive to in a day
  (`tour_times`), so placement offers far sites to it, each session-day charged its share of the
  drive out and home (`road_legs` over `mean_tour_days`, `supply.unit_pools`): a day spent wholly
  on the road takes a unit-day from the tour (`day_load`), a shorter drive shortens a session;
- one touring unit's week stays in one region (`regions`): desa close enough to one another that
  the team moves between them in a morning, so the week placement plans is one routing can lay out;
- a touring session is at least half the site's day (`tour_shape`): one session a day, whatever
  the drive from last night's lodging, and a long morning drive still leaves room for it. The
  session then runs from arrival (or opening) until the team must leave for its next stop
  (routing stretches it, the checker re-derives it).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from planner.contracts import hhmm_to_minutes
from planner.errors import InputError
from planner.reach import SessionShape, friday_break, session_shape
from planner.scenario import CalendarConfig, UnitGroup


def lodging_sites(group: UnitGroup, sites: pd.DataFrame, session_site_ids=None) -> pd.DataFrame:
    """The sites where `group` may sleep (``lodging``); `session_site_ids` narrows 'session_site'."""
    rule = group.lodging
    if isinstance(rule, list):
        wanted = [str(s) for s in rule]
        unknown = sorted(set(wanted) - set(sites["site_id"].astype(str)))
        if unknown:
            raise InputError(f"units '{group.name}': lodging names site_id(s) that are not sites: {unknown[:5]}; "
                             "see sites.csv of a plan for the ids")
        return sites[sites["site_id"].astype(str).isin(wanted)]
    if rule == "kantor_camat":
        found = sites[sites["kind"] == "kantor_camat"]
        if not len(found):
            raise InputError(f"units '{group.name}': lodging = 'kantor_camat' but the sites have no kantor_camat; "
                             "use lodging = 'session_site' or a list of site_id")
        return found
    if session_site_ids is None:
        return sites
    return sites[sites["site_id"].astype(str).isin({str(s) for s in session_site_ids})]


def blocks(dates: list[dt.date]) -> list[list[dt.date]]:
    """Runs of working dates a tour may span: consecutive days (Saturday included when worked)."""
    out: list[list[dt.date]] = []
    for date in sorted(dates):
        if out and (date - out[-1][-1]).days == 1:
            out[-1].append(date)
        else:
            out.append([date])
    return out


def mean_tour_days(dates: list[dt.date], max_nights: int) -> float:
    """Working days per tour on average: each run of dates (`blocks`) split into tours of max_nights + 1 days."""
    lengths = []
    for run in blocks(dates):
        whole, rest = divmod(len(run), max(int(max_nights), 0) + 1)
        lengths += [max(int(max_nights), 0) + 1] * whole + ([rest] if rest else [])
    return float(np.mean(lengths)) if lengths else 1.0


def road_legs(drive: tuple[np.ndarray, np.ndarray], calendar: CalendarConfig,
              min_session_min: int) -> tuple[np.ndarray, np.ndarray]:
    """Per site: what a tour to it loses on the road out on its first day and home on its last, as
    (minutes of days that still hold a session, whole days that cannot).

    A drive that leaves no room for a touring session that day (`tour_shape`) costs the whole day;
    a shorter one shortens that day's session.
    """
    span = day_span(calendar)
    shape = tour_shape(calendar, calendar.day_start, calendar.day_end, min_session_min)
    room = span - (shape.minutes if shape is not None else 0)
    minutes, days = np.zeros(len(drive[0])), np.zeros(len(drive[0]))
    for leg in drive:
        leg = np.nan_to_num(np.asarray(leg, dtype=float), posinf=span)
        minutes += np.where(leg <= room, leg, 0.0)
        days += leg > room
    return minutes, days


def day_load(whole_days: np.ndarray, tour_days: float) -> np.ndarray:
    """Unit-days one session-day at each site takes, its share of the tour's whole road days included:
    a tour of `tour_days` working days to a site `whole_days` away holds tour_days - whole_days
    session-days there (inf: the tour is too short to hold any).
    """
    held = tour_days - np.asarray(whole_days, dtype=float)
    return np.where(held > 1e-9, tour_days / np.maximum(held, 1e-9), np.inf)


def day_span(calendar: CalendarConfig) -> int:
    """Minutes of the working day: the longest drive a team makes between two nights."""
    return hhmm_to_minutes(calendar.day_end) - hhmm_to_minutes(calendar.day_start)


def tour_times(out_depot: np.ndarray, back_depot: np.ndarray, depot_to_lodging: np.ndarray,
               lodging_to_site: np.ndarray, site_to_lodging: np.ndarray, span: int,
               same: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per site: minutes to get there and away on a tour (from the office or the nearest lodging).

    Only lodgings the team can drive to within one working day count. `same[l, j]` marks a lodging
    that is the site itself: the team may sleep where it works (0 minutes away) but cannot have
    slept there before its first session there.
    """
    usable = np.asarray(depot_to_lodging, dtype=float) <= span
    inbound = np.where(usable[:, None], np.asarray(lodging_to_site, dtype=float), np.inf)
    if same is not None:
        inbound = np.where(same, np.inf, inbound)
    outbound = np.where(usable[None, :], np.asarray(site_to_lodging, dtype=float), np.inf)
    out = np.minimum(np.asarray(out_depot, dtype=float), inbound.min(axis=0, initial=np.inf))
    back = np.minimum(np.asarray(back_depot, dtype=float), outbound.min(axis=1, initial=np.inf))
    return out, back


def regions(site_minutes: np.ndarray, calendar: CalendarConfig, min_session_min: int) -> np.ndarray:
    """(centres, sites) bool: the sites within R minutes of each region centre, R a quarter of the
    drive a working day leaves beside the shortest touring session (`tour_shape`).

    Any two sites of one region are then at most half that drive apart, so a team sleeping at one
    can drive to any other in the morning and still hold most of a day's session. Centres are
    picked so that every site lies within R/2 of one (farthest-first), which keeps the regions
    few (placement's model stays small) and overlapping (no site is only at a region's edge).
    Placement keeps each touring unit's week in one region.
    """
    shape = tour_shape(calendar, calendar.day_start, calendar.day_end, min_session_min)
    radius = (day_span(calendar) - (shape.minutes if shape is not None else 0)) / 4
    minutes = np.asarray(site_minutes, dtype=float)
    near = np.minimum(minutes, minutes.T)
    if not len(near):
        return np.zeros((0, 0), dtype=bool)
    centres, nearest = [], np.full(len(near), np.inf)
    while True:
        far = int(np.argmax(nearest))
        if centres and nearest[far] <= radius / 2:
            break
        centres.append(far)
        nearest = np.minimum(nearest, near[far])
    return near[centres] <= radius


def tour_shape(calendar: CalendarConfig, open_from: str, open_to: str, min_session_min: int) -> SessionShape | None:
    """The session a touring team holds at a site: start window and the least it records.

    Full day: more than half of the site's working hours (so one a day) and at least
    min_session_min (plus the Friday break, which it may span), starting anywhere that leaves it
    room; the schedule then stretches it from arrival to departure. Half day: the usual fixed halves.
    """
    if calendar.session != "full":
        return session_shape(calendar, open_from, open_to, 0, 0)
    lo = max(hhmm_to_minutes(calendar.day_start), hhmm_to_minutes(open_from))
    hi = min(hhmm_to_minutes(calendar.day_end), hhmm_to_minutes(open_to))
    # a session spanning the Friday break must still record min_session_min: the length is one for every day
    fbreak = friday_break(calendar)
    pause = fbreak[1] - fbreak[0] if fbreak is not None and lo < fbreak[0] and fbreak[1] < hi else 0
    least = max(int(min_session_min) + pause, (hi - lo) // 2 + 1, 1)
    if lo + least > hi:
        return None
    return SessionShape(lo, hi - least, least)


def reach_shape(calendar: CalendarConfig, open_from: str, open_to: str, out_min: float, back_min: float,
                min_session_min: int) -> SessionShape | None:
    """The session a touring team can hold at a site `out_min` from its nearest lodging, or None.

    The session from arrival until the team must leave for the nearest lodging, offered only when
    it is at least the touring session's least length (`tour_shape`): what placement counts is then
    what routing can lay out.
    """
    shape = session_shape(calendar, open_from, open_to, out_min, back_min)
    least = tour_shape(calendar, open_from, open_to, min_session_min)
    if shape is None or least is None or shape.minutes < least.minutes:
        return None
    return shape
