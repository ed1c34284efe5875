"""VRPTW search settings and the side-by-side portfolio, for benchmarks/vrptw.py (not used by planning).

The weekly planner uses greedy descents (planner.routing.ortools_engine); these guided-local-search
settings were chosen on the Solomon / Gehring-Homberger VRPTW instances and are kept here with the
benchmark that measures them.
"""

from __future__ import annotations

from planner.routing.ortools_engine import _NO_PATH_LNS, SEARCH_CONFIGS, SearchConfig

# Chosen by measurement (benchmarks/vrptw.py; full tables in benchmarks/RESULTS.md, section vrptw).
# First round, 7 hard Solomon instances at 10 s: PARALLEL_CHEAPEST_INSERTION + GLS 4.5% mean gap;
# SAVINGS + GLS 5.5%; LOCAL_CHEAPEST_INSERTION + GLS 7.3%; GLS lambda 0.3 6.4%; neighbour lists 23.6%.
# The default (PATH_CHEAPEST_ARC) finds no solution within the fleet on R101, RC101, RC105.
# Second round, 10 hard instances (R105 R108 R110 R205 R211 RC103 RC107 RC204 RC208 C104), 10 s on an
# idle core: PCI + GLS 5.6%; the same without path LNS 3.6%; SAVINGS without path LNS 2.7%; LCI
# without path LNS 4.3%; multi-armed-bandit operator order 4.6%; GLS lambda 0.05/0.2 6.5%/5.3%;
# penalty reset 7.3%. Single runs vary by several % per instance, which a portfolio turns into gain:
# the best of (tuned, tuned_savings) was 2.3% on the same ten. OR-Tools 9.15's iterated local search
# (ruin and recreate) did not engage from Python here (the search ends at the first local optimum).
VRPTW_CONFIGS = {
    "default": SearchConfig(),
    "tuned": SearchConfig(first_solution="PARALLEL_CHEAPEST_INSERTION", extra=_NO_PATH_LNS),
    "tuned_savings": SearchConfig(first_solution="SAVINGS", extra=_NO_PATH_LNS),
    "pci_gls": SearchConfig(first_solution="PARALLEL_CHEAPEST_INSERTION"),
    **SEARCH_CONFIGS,  # the weekly planner's greedy descents
}
# Independent searches run side by side (one process each), best kept: for a plain VRPTW with a
# fixed wall-clock budget on a multi-core machine. See `run_portfolio`.
VRPTW_PORTFOLIO = ("tuned", "tuned_savings")



def run_portfolio(solve, configs, time_limit_s: float, score, *, pool=None, workers: int | None = None):
    """Run ``solve(config, seconds)`` for every config in its own process; return (best config, results).

    Why: single OR-Tools searches from different first solutions end several % apart on one instance
    (benchmarks/vrptw.py), and on a machine with k cores k independent searches cost no extra wall
    clock. With fewer cores than configs each search gets a share of the budget, so the whole call
    stays within ``time_limit_s`` (plus model building). ``solve`` must be picklable (a module-level
    function or a functools.partial of one); ``score(result)`` is lower-is-better (inf: no solution).
    Pass a ``pool`` (a ProcessPoolExecutor of ``workers`` processes) to reuse warm workers across calls.
    """
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    configs = list(configs)
    own = pool is None
    if own:
        workers = workers or min(len(configs), os.cpu_count() or 1)
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    elif workers is None:
        raise ValueError("run_portfolio: give `workers` (the pool's size) along with `pool`")
    seconds = time_limit_s * min(1.0, workers / len(configs))
    try:
        results = [f.result() for f in [pool.submit(solve, c, seconds) for c in configs]]
    finally:
        if own:
            pool.shutdown()
    best = min(range(len(configs)), key=lambda k: score(results[k]))
    return configs[best], results


