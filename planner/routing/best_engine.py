"""The default engine: OR-Tools and PyVRP on the same week, the better schedule kept.

Measured (benchmarks/RESULTS.md, weekly_engines and vrptw): neither engine wins everywhere. OR-Tools'
descents drive less on the city weeks; PyVRP wins on the published VRPTW instances and finds a
nearer Friday site for a touring team in OKI. Both are deterministic for a seed and budget and
both schedules are rendered the same way, so the choice is made on what people get: the most
expected recordings, then the least driving, then OR-Tools (the engine order). It costs one
extra search (up to twice the budget); each engine still uses the machine's cores as it does alone.
"""

from __future__ import annotations

from planner.routing import ortools_engine, pyvrp_engine
from planner.routing.problem import WeekProblem
from planner.routing.render import render
from planner.routing.solution import Solution

#: Tried in this order; on a tie the first is kept.
CANDIDATES = {"ortools": ortools_engine.solve, "pyvrp": pyvrp_engine.solve}


def score(problem: WeekProblem, solution: Solution) -> tuple[float, int]:
    """(expected recordings, -travel minutes) of a solution, as its schedule will show them."""
    schedule = render(problem, solution).schedule
    return round(float(schedule["expected_recordings"].sum()), 2), -int(schedule["travel_min"].sum())


def solve(problem: WeekProblem, time_limit_s: float = 10, *, config=None, workers: int | None = None,
          progress: bool = False) -> Solution:
    """Both engines' best week; the one with more expected recordings (then less travel) is returned."""
    tried = []
    for name, engine in CANDIDATES.items():
        kwargs = {"config": config} if config is not None and name == "ortools" else {}
        solution = engine(problem, time_limit_s, workers=workers, progress=progress, **kwargs)
        tried.append((score(problem, solution), -len(tried), name, solution))
    (recordings, travel), _, chosen, best = max(tried, key=lambda t: (t[0], t[1]))
    stats = dict(best.stats, engine="best", chosen=chosen,
                 candidates={name: {"recordings": s[0], "travel_min": -s[1], "seconds": sol.stats.get("seconds"),
                                    "reproducible": sol.stats.get("reproducible")}
                             for s, _, name, sol in tried},
                 reproducible=all(sol.stats.get("reproducible", True) for *_, sol in tried),
                 cut=any(sol.stats.get("cut", False) for *_, sol in tried),
                 seconds=round(sum(float(sol.stats.get("seconds") or 0) for *_, sol in tried), 2))
    if not stats["reproducible"]:
        stats["reproducible_why"] = next(sol.stats.get("reproducible_why") for *_, sol in tried
                                         if not sol.stats.get("reproducible", True))
    return Solution(best.routes, best.objective, best.status, stats)
