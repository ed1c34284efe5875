"""The VRPTW benchmark harness: the independent checker and the parallel portfolio it reports on."""

from __future__ import annotations

import math
from functools import partial

import pytest

from tests.conftest import BENCH

from benchmarks import vrptw
from benchmarks.vrptw_portfolio import VRPTW_PORTFOLIO, run_portfolio

R101 = BENCH / "solomon" / "instances" / "R101.txt"


@pytest.fixture(scope="module")
def r101():
    return vrptw.read_instance(R101)


def test_checker_agrees_with_the_published_best_solution(r101):
    """The CVRPLIB solution of R101 must pass the checker at exactly its published distance."""
    sol = (BENCH / "solomon" / "cvrplib_sol" / "R101.sol").read_text().splitlines()
    routes = [list(map(int, line.split(":")[1].split())) for line in sol if line.startswith("Route")]
    published = float(next(line.split()[1] for line in sol if line.startswith("Cost")))
    cost, problems = vrptw.check_solution(r101, routes)
    assert problems == []
    assert cost == pytest.approx(published, abs=0.05)
    # Reversing a route breaks its time windows; dropping one loses a customer: both are caught.
    broken = [routes[0][::-1]] + routes[1:]
    assert any("after due" in p for p in vrptw.check_solution(r101, broken)[1])
    assert any("missing" in p for p in vrptw.check_solution(r101, routes[1:])[1])


def test_portfolio_keeps_the_best_checked_solution(r101):
    """Both searches run (in worker processes) and the kept one is the shorter feasible one."""
    best, results = run_portfolio(partial(vrptw.solve, r101), VRPTW_PORTFOLIO, 2.0, partial(vrptw._score, r101),
                                  workers=2)
    assert len(results) == len(VRPTW_PORTFOLIO)
    scores = [vrptw._score(r101, r) for r in results]
    assert best == VRPTW_PORTFOLIO[scores.index(min(scores))]
    assert math.isfinite(min(scores))  # R101 is where OR-Tools' defaults find nothing within the fleet
    routes = results[VRPTW_PORTFOLIO.index(best)][0]
    assert len(routes) <= r101.n_vehicles
    # Within 5 % of the distance-only best known value even on a 2 s budget.
    assert min(scores) <= 1.05 * vrptw.load_bks()["R101"]

