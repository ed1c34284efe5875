"""Stationed units (posts): their week needs no search, only laying out.

A post's unit records at its own site on every date it is open, from opening to closing; its
jobs can go to no other unit. `split_stationed` cuts the week into the posts' part and the mobile
units' part (same places and matrices); `stationed_solution` gives each post job the first free
post-day, so the engine searches only what needs searching.
"""

from __future__ import annotations

import dataclasses

from planner.routing.problem import DAY, WeekProblem
from planner.routing.solution import Solution, VehicleRoute


def split_stationed(problem: WeekProblem) -> tuple[WeekProblem, WeekProblem]:
    """(posts' week, mobile units' week): jobs only stationed vehicles may do go to the first."""
    stationed = {v for v, veh in enumerate(problem.vehicles) if veh.group.stationed}
    if not stationed:
        return dataclasses.replace(problem, vehicles=[], jobs=[]), problem
    post_jobs = [j for j in problem.jobs if j.vehicles and set(j.vehicles) <= stationed]
    other_jobs = [j for j in problem.jobs if not (j.vehicles and set(j.vehicles) <= stationed)]
    return _subset(problem, sorted(stationed), post_jobs), \
        _subset(problem, [v for v in range(len(problem.vehicles)) if v not in stationed], other_jobs)


def _subset(problem: WeekProblem, keep: list[int], jobs: list) -> WeekProblem:
    """The same week with only these vehicles (renumbered) and jobs."""
    number = {v: n for n, v in enumerate(keep)}
    jobs = [dataclasses.replace(j, vehicles=[number[v] for v in j.vehicles if v in number]) for j in jobs]
    stats = dict(problem.stats, vehicles=len(keep), jobs=len(jobs), jobs_in_model=sum(1 for j in jobs if not j.reason))
    return dataclasses.replace(problem, vehicles=[problem.vehicles[v] for v in keep], jobs=jobs, stats=stats)


def stationed_solution(posts: WeekProblem) -> Solution:
    """Each post job on the first of its post-days with room left, at the first start its window allows
    once the post is free (two half-day sessions run back to back).
    """
    free: dict[int, int] = {}  # vehicle -> minute it is free again
    stops: dict[int, list] = {}
    for k, job in enumerate(posts.active):
        for v in sorted(job.vehicles, key=lambda v: posts.vehicles[v].day):
            veh = posts.vehicles[v]
            base = veh.day * DAY
            after = free.get(v, base)
            starts = [max(a, after) for a, b in job.windows
                      if base <= a < base + DAY and max(a, after) <= b and max(a, after) + job.service <= veh.shift_end]
            if not starts:
                continue
            free[v] = starts[0] + job.service
            stops.setdefault(v, []).append((k, starts[0]))
            break
    routes = [VehicleRoute(vehicle=v, depart=mine[0][1], stops=mine) for v, mine in sorted(stops.items())]
    return Solution(routes=routes, objective=0, status="STATIONED",
                    stats={"stationed_jobs": sum(len(m) for m in stops.values())})
