"""What a unit can do at a site on a date: the one rule placement and routing share.

A unit holds a session at a site only if it can drive out from its depot, record for a useful
while and drive back inside the working day (DESIGN.md, "Offices, units, posts and tours").
Placement offers a session-day to a unit group only where `session_shape` says it fits and on
the dates `session_work` allows; routing builds the very same job (start, length, allowed
dates) from the same two functions, so whatever placement plans, routing can schedule.

A full-day session runs from the moment the unit arrives (or the site opens) until it must leave
to be back by the end of the working day (or the site closes): the session length comes from the
real travel, not a fixed reserve. A stationed operator (a post: no travel) works opening to
closing. Half-day sessions keep their fixed length (two per day, `session_minutes`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from planner.contracts import hhmm_to_minutes
from planner.scenario import CalendarConfig

#: Minutes of the working day the old fixed-reserve rule kept for travel: a full session of the whole
#: day less this counts as a full day's capacity (a compact city's trips take about this long).
REFERENCE_RESERVE_MIN = 60


@dataclass(frozen=True)
class SessionShape:
    """Allowed start minutes ``[earliest, latest]`` of the day and the session's length in minutes."""

    earliest: int
    latest: int
    minutes: int


def friday_break(calendar: CalendarConfig) -> tuple[int, int] | None:
    """Friday prayer break as (start, end) minutes of the day, or None."""
    if calendar.friday_break is None:
        return None
    return hhmm_to_minutes(calendar.friday_break[0]), hhmm_to_minutes(calendar.friday_break[1])


def session_minutes(calendar: CalendarConfig, open_from: str = "00:00", open_to: str = "23:59",
                    travel_reserve_min: int = REFERENCE_RESERVE_MIN) -> int:
    """Length of a session with a fixed travel reserve: the site's hours within the working day, less it.

    The reference a full day's capacity is measured against, and the fixed length of a half-day
    session (half of what is left after two reserves: there is a trip between the two sites).
    """
    lo = max(hhmm_to_minutes(calendar.day_start), hhmm_to_minutes(open_from))
    hi = min(hhmm_to_minutes(calendar.day_end), hhmm_to_minutes(open_to))
    if calendar.session == "full":
        return hi - lo - travel_reserve_min
    return (hi - lo - 2 * travel_reserve_min) // 2


def session_shape(calendar: CalendarConfig, open_from: str, open_to: str, out_min: float, back_min: float,
                  travel_reserve_min: int = REFERENCE_RESERVE_MIN) -> SessionShape | None:
    """When a unit `out_min` from the site (and `back_min` back) can hold a session there, or None.

    Full day: from arrival (or opening) to the last moment that still gets the unit home by
    ``day_end`` (or closing), so the start is fixed and the length is what the travel leaves.
    Half day: the fixed half length, anywhere in the site's hours the trips allow, offered only
    where the trips leave room for both halves of the session-day.
    """
    if not (math.isfinite(out_min) and math.isfinite(back_min)):
        return None  # no road there (or back)
    day_start, day_end = hhmm_to_minutes(calendar.day_start), hhmm_to_minutes(calendar.day_end)
    opens, closes = hhmm_to_minutes(open_from), hhmm_to_minutes(open_to)
    lo = max(day_start + int(out_min), opens)
    hi = min(day_end - int(back_min), closes)
    if calendar.session == "full":
        return SessionShape(lo, lo, hi - lo) if hi > lo else None
    length = session_minutes(calendar, open_from, open_to, travel_reserve_min)
    if length <= 0 or lo + 2 * length > hi:
        return None  # a session-day is both halves: placement counts it whole, so both must fit the trip
    return SessionShape(lo, hi - length, length)


def day_windows(date: dt.date, lo: int, hi: int, duration: int, pausable: bool,
                fbreak: tuple[int, int] | None) -> list[tuple[int, int]]:
    """Allowed start minutes (of that day) for a job of `duration` starting in [lo, hi], around the Friday break.

    A job may not overlap the break; a pausable one (a full-day session) may instead contain it whole:
    work stops for prayers and resumes after, so the unit stays at the site.
    """
    if hi < lo:
        return []
    if fbreak is None or date.weekday() != 4:
        return [(lo, hi)]
    bs, be = fbreak
    bad = [(bs - duration + 1, be - 1)]  # would overlap the break
    if pausable:
        # starting in the break, or ending inside it, is not allowed; spanning it whole is
        bad = [(bs, be - 1), (bs - duration + 1, be - duration)]
    allowed = [(lo, hi)]
    for a, b in bad:
        nxt = []
        for x, y in allowed:
            if b < x or a > y:
                nxt.append((x, y))
                continue
            if x <= a - 1:
                nxt.append((x, a - 1))
            if b + 1 <= y:
                nxt.append((b + 1, y))
        allowed = nxt
    return allowed


def session_work(calendar: CalendarConfig, date: dt.date, open_days: str, shape: SessionShape | None,
                 min_session_min: int = 0) -> int:
    """Minutes a session of this shape records on `date` (0: site closed, no room, or too short).

    A full session that spans the Friday break records the day less the break; one that would
    record less than `min_session_min` is not worth the trip and is not offered at all.
    """
    if shape is None or str(date.weekday()) not in str(open_days):
        return 0
    fbreak = friday_break(calendar)
    pausable = calendar.session == "full"
    if not day_windows(date, shape.earliest, shape.latest, shape.minutes, pausable, fbreak):
        return 0
    work = shape.minutes
    if pausable and fbreak is not None and date.weekday() == 4 and shape.earliest < fbreak[0] \
            and shape.earliest + shape.minutes > fbreak[1]:
        work -= fbreak[1] - fbreak[0]
    if calendar.session == "full" and work < min_session_min:
        return 0
    return work


def capacity_share(calendar: CalendarConfig, open_from: str, open_to: str, work_min: int) -> float:
    """Share of a full day's recordings a session of `work_min` minutes takes (at most 1).

    A full day is the site's hours less the reference travel reserve, so sessions in a compact city
    count as whole days and a session cut short by a long drive counts for what it records.
    """
    if work_min <= 0:
        return 0.0
    if calendar.session != "full":
        return 1.0
    reference = session_minutes(calendar, open_from, open_to, REFERENCE_RESERVE_MIN)
    return min(1.0, work_min / max(reference, 1))
