"""A first week for touring vehicles, built day by day, for the engine to improve.

A tour is hard for a local search to find from scratch: moving a session to another day also
means sleeping somewhere else, two changes at once. So the OR-Tools engine also starts from this
construction: each touring vehicle, day by day, goes to the nearest session it can still hold
(first-time-voter sites first among equally near ones; the day before it goes home, the one
nearest the way home), sleeps there or at the nearest lodging (on a day with none in reach, it
drives to the lodging nearest the sessions left), and is home when its nights run out or the
tour ends. Engine-neutral: it reads only the problem.
"""

from __future__ import annotations

from planner.routing.problem import DAY, WeekProblem


def tour_seed(problem: WeekProblem, taken: set[int]) -> dict[int, list[tuple]]:
    """Per touring vehicle, its stops in order: ``("job", k, start)`` and ``("night", n, point)``.

    `taken`: indices (into `problem.active`) that other vehicles already do.
    """
    jobs = problem.active
    used = set(taken)
    plans = {}
    for v, veh in enumerate(problem.vehicles):
        if not veh.tour:
            continue
        minutes = problem.mats[veh.kind].minutes
        mine = [k for k, job in enumerate(jobs) if v in job.vehicles]
        lodgings = veh.nights[0].places if veh.nights else [veh.depot]
        here, away, stops = veh.depot, 0, []
        for i, date in enumerate(veh.dates):
            lo, hi = veh.day_bounds(date)
            last = i == len(veh.dates) - 1
            must_home = last or away >= int(veh.group.max_nights or 0)
            # the day before the team goes home, end the day near home: tomorrow can still hold a session
            homeward = not must_home and (i == len(veh.dates) - 2 or away + 1 >= int(veh.group.max_nights or 0))
            homes = [veh.depot] if must_home else lodgings
            best = None
            for k in mine:
                if k in used:
                    continue
                job = jobs[k]
                start = _start(job.windows, lo, lo + int(minutes[here, job.point]))
                if start is None:
                    continue
                end = start + job.service
                sleep = min(homes, key=lambda p: (int(minutes[job.point, p]), p != job.point))
                if end + int(minutes[job.point, sleep]) > hi:
                    continue
                toward = int(minutes[job.point, veh.depot]) if homeward else 0
                key = (int(minutes[here, job.point]) + toward, -job.penalty, k)
                if best is None or key < best[0]:
                    best = (key, k, start, sleep)
            if best is not None:
                _, k, start, sleep = best
                used.add(k)
                stops.append(("job", k, start))
            elif must_home:
                sleep = veh.depot
            else:  # no session fits today: drive to the lodging nearest the sessions still to hold
                sleep = _toward(minutes, here, lodgings, [jobs[k].point for k in mine if k not in used], hi - lo)
            if not last:
                stops.append(("night", i, sleep))
                away = 0 if sleep == veh.depot else away + 1
            here = sleep
        plans[v] = stops
    return plans


def _toward(minutes, here: int, lodgings: list[int], targets: list[int], drive: int) -> int:
    """The lodging within a day's drive that is nearest the remaining sessions (or stay where we are)."""
    if not targets:
        return here

    def gap(p):
        return min(int(minutes[p, t]) for t in targets)

    reachable = [p for p in lodgings if int(minutes[here, p]) <= drive]
    best = min(reachable, key=lambda p: (gap(p), p), default=here)
    return best if gap(best) < gap(here) else here


def _start(windows, day_lo: int, earliest: int) -> int | None:
    """The first allowed start at or after `earliest` within the day that begins at `day_lo`."""
    base = day_lo - day_lo % DAY
    for a, b in windows:
        if base <= a < base + DAY and earliest <= b:
            return max(a, earliest)
    return None
