"""p-median benchmark: benchmarks.pmedian_model.solve_pmedian on OR-Library pmed1-pmed40 vs PySAL spopt.

Run: ``python benchmarks/pmedian.py [--instances 1-40] [--limit-small 10] [--limit-large 30]``.
Instances already in the log are skipped; ``--rerun`` runs them again (with ``--no-spopt`` the
earlier spopt figures are kept, marked as such, beside the new ones for ours).
Needs ``spopt`` (``pip install spopt``; bench extra only). Each finished run is appended to a JSONL
log beside this file (``.pmedian-runs.jsonl``, not committed) and the "pmedian" section of
benchmarks/RESULTS.md is re-rendered after every run, so a partial run still leaves its figures.

Instance files list undirected edges ``i j cost``; some edges appear twice with different costs and
the published optima are only reproduced when the **last occurrence overwrites** earlier ones (see
../shared/bench/PROVENANCE.md). The cost matrix is the all-pairs shortest-path matrix (Dijkstra,
scipy). Both solvers get the same matrix, the same time limit and one thread; times are wall-clock
seconds including model building.

Also measured: the formulations (benders, radius, assignment) and the MIP backends of the radius
form (HiGHS, SCIP) on the small instances, and `place` on the real Bandar Lampung size with each
backend (HiGHS, SCIP, CP-SAT).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from planner.placement import place  # noqa: E402

from benchmarks._results import write_section  # noqa: E402
from benchmarks.pmedian_model import solve_pmedian  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
from benchmarks._data import SHARED  # noqa: E402

PMED = SHARED / "bench" / "orlib_pmed"
LOG = Path(__file__).with_name(".pmedian-runs.jsonl")


def load_pmed(number: int, folder: Path = PMED) -> tuple[np.ndarray, int]:
    """All-pairs shortest-path costs and p of OR-Library pmed<number> (duplicate edges: last wins)."""
    lines = (Path(folder) / "instances" / f"pmed{number}.txt").read_text().split("\n")
    n, m, p = map(int, lines[0].split())
    edges = {}
    for line in lines[1:m + 1]:
        i, j, c = map(int, line.split())
        edges[(min(i, j) - 1, max(i, j) - 1)] = c  # the last occurrence overwrites
    rows, cols = zip(*edges)
    graph = csr_matrix((list(edges.values()), (rows, cols)), shape=(n, n))
    return shortest_path(graph, method="D", directed=False), p


def optima(folder: Path = PMED) -> dict[str, int]:
    """Beasley's published optimal values, by instance name."""
    out = {}
    for line in (Path(folder) / "pmedopt.txt").read_text().splitlines()[1:]:
        if line.strip():
            name, value = line.split()
            out[name] = int(value)
    return out


def run_ours(cost, p, limit, solver="HIGHS", formulation="benders") -> dict:
    start = time.perf_counter()
    result = solve_pmedian(cost, p, limit, solver=solver, formulation=formulation)
    return {"status": result.status, "objective": result.objective, "bound": result.bound,
            "gap": result.gap, "wall_s": time.perf_counter() - start, "backend": result.solver,
            "load1": os.getloadavg()[0]}


def run_spopt(cost, p, limit, wall_cap: float) -> dict:
    """Spopt in a child process, killed after `wall_cap` seconds: PuLP builds n^2 assignment
    variables in Python, which on the largest instances takes minutes before CBC even starts.
    """
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    start = time.perf_counter()
    proc = ctx.Process(target=_spopt_child, args=(cost, p, limit, child))
    proc.start()
    result = parent.recv() if parent.poll(wall_cap) else None
    proc.join(5 if result is not None else 0)
    if proc.is_alive():  # the child leads its own process group: CBC goes with it
        os.killpg(proc.pid, signal.SIGKILL)
        proc.join()
    if result is None:
        return {"status": f"killed at {wall_cap:.0f} s", "objective": math.nan, "bound": math.nan,
                "gap": math.nan, "wall_s": time.perf_counter() - start}
    return result


def _spopt_child(cost, p, limit, conn) -> None:
    os.setsid()
    conn.send(_spopt(cost, p, limit))


def _spopt(cost, p, limit) -> dict:
    import pulp
    from spopt.locate import PMedian

    start = time.perf_counter()
    model = PMedian.from_cost_matrix(cost, np.ones(len(cost)), p_facilities=p)
    try:
        model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=limit, threads=1), results=False)
        status = {1: "optimal", 2: "feasible"}.get(model.problem.sol_status, "no_solution")
        objective = pulp.value(model.problem.objective)
    except RuntimeError:  # spopt raises when CBC returns no solution in time
        status, objective = "no_solution", math.nan
    return {"status": status, "objective": objective if objective is not None else math.nan,
            "bound": objective if status == "optimal" else math.nan,
            "gap": 0.0 if status == "optimal" else math.nan, "wall_s": time.perf_counter() - start}


def record(entry: dict) -> None:
    with LOG.open("a") as fh:
        fh.write(json.dumps(entry) + "\n")
    print(json.dumps(entry), flush=True)


def previous(kind: str, key: list) -> dict | None:
    """The last logged entry of this kind and key, if any."""
    if not LOG.exists():
        return None
    found = None
    for e in map(json.loads, LOG.read_text().splitlines()):
        if e["kind"] == kind and e["key"] == key:
            found = e
    return found


def done(kind: str) -> set:
    if not LOG.exists():
        return set()
    return {tuple(e["key"]) for e in map(json.loads, LOG.read_text().splitlines()) if e["kind"] == kind}


# ---- placement on the real size ---------------------------------------------------------------
def placement_runs(limit: float) -> None:
    import geopandas as gpd
    import pandas as pd

    from planner.network import travel_matrix
    from planner.sites import add_fallback_sites, load_sites

    geo = SHARED / "geodata-sources"
    kel = gpd.read_file(geo / "wilayah-boundaries-lampung/bandar_lampung/bandar_lampung_kelurahan.geojson")
    sites = load_sites(geo / "big-rbi50k-lampung/derived/lampung_pemerintahan_pt_50k_with_kode.geojson",
                       within="18.71")
    sites = add_fallback_sites(sites, kel)
    origins = gpd.GeoDataFrame({"id": kel["kode"]}, geometry=kel.representative_point(), crs=kel.crs)
    matrix = travel_matrix(origins, sites.rename(columns={"site_id": "id"})[["id", "geometry"]])
    pop = pd.read_csv(geo / "penduduk-kecamatan-bandar-lampung/bandar_lampung_penduduk_kecamatan_2019_2021_2022.csv",
                      dtype={"kode_kec": str})
    pop = pop[pop["vintage"] == pop["vintage"].max()].set_index("kode_kec")["jumlah"]
    rng = np.random.default_rng(0)
    share = kel["kode_kec"].map(pop) / kel.groupby("kode_kec")["kode"].transform("size")
    total = rng.poisson(16000 * share / share.sum())
    gaps = pd.DataFrame({"kode_kel": kel["kode"], "kode_kec": kel["kode_kec"],
                         "pemula": np.rint(total * 0.25).astype(int), "lansia": np.rint(total * 0.15).astype(int)})
    gaps["umum"] = total - gaps["pemula"] - gaps["lansia"]
    seen = done("place")
    for budget in (15, 60, 150):
        for solver in ("HIGHS", "SCIP", "CP_SAT"):
            key = [budget, solver]
            if tuple(key) in seen:
                continue
            start = time.perf_counter()
            result = place(gaps, sites, matrix, unit_days=budget, capacity_per_day=50, time_limit_s=limit,
                           solver=solver)
            record({"kind": "place", "key": key, "status": result.status, "objective": result.objective,
                    "gap": result.summary["gap"], "wall_s": time.perf_counter() - start,
                    "kelurahan": len(gaps), "sites": len(sites),
                    "served_pemula": result.summary["assigned"]["pemula"] / max(1, result.summary["demand"]["pemula"])})


# ---- rendering --------------------------------------------------------------------------------
def fmt(value, digits=1):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:,.{digits}f}" if isinstance(value, float) else str(value)


def render() -> None:
    entries = [json.loads(line) for line in LOG.read_text().splitlines()] if LOG.exists() else []
    last = {}
    for e in entries:
        last[(e["kind"], tuple(e["key"]))] = e
    opt = optima()
    main = [e for (kind, _), e in last.items() if kind == "main"]
    main.sort(key=lambda e: e["key"][0])
    loads = [e["ours"]["load1"] for e in main if "load1" in e["ours"]]
    load_text = (f"1-minute load average {min(loads):.1f}-{max(loads):.1f} at the end of our runs; on these 2 "
                 "cores a load near 2 means the other core was busy with another job" if loads else "load not recorded")
    body = ["OR-Library pmed instances, all-pairs shortest paths (duplicate edges: last occurrence wins), "
            "one thread each, wall time incl. model building. ours = `solve_pmedian` (branch-and-cut on the "
            "Benders master: LPs on GLOP re-solved warm, in-out stabilised cuts at the root, cuts at every node, "
            "best-first branching on the most fractional site, reduced-cost fixing, swap search); spopt = "
            "`spopt.locate.PMedian` 0.7 + PuLP CBC (classic assignment formulation). Gap = (objective - proven "
            f"bound) / objective. Single-threaded runs ({load_text}); spopt figures marked * come from an earlier "
            "run while the 2 cores were shared with other jobs (load average 5-6), so those times are "
            "pessimistic.", "",
            "| instance | n | p | optimum | limit s | ours obj | ours gap % | ours s | spopt obj | spopt status | spopt s |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    proven_small, faster, both = 0, 0, 0
    for e in main:
        number, n, p, limit = e["key"][0], e["n"], e["p"], e["limit"]
        ours, sp = e["ours"], e.get("spopt") or {}
        star = "*" if sp and "load1" not in sp else ""
        body.append(f"| pmed{number} | {n} | {p} | {opt[f'pmed{number}']} | {limit:g} | {fmt(ours['objective'], 0)} | "
                    f"{fmt(100 * ours['gap'], 2)} | {fmt(ours['wall_s'], 2)} | {fmt(sp.get('objective'), 0)} | "
                    f"{sp.get('status', 'not run')}{star} | {fmt(sp.get('wall_s'), 2)} |")
        if number <= 20 and ours["status"] == "optimal" and ours["wall_s"] <= 10:
            proven_small += 1
        if sp.get("status") == "optimal" and ours["status"] == "optimal":
            both += 1
            faster += ours["wall_s"] < sp["wall_s"]
    small = [e for e in main if e["key"][0] <= 20]
    large = [e for e in main if e["key"][0] > 20]
    large_proven = sum(e["ours"]["status"] == "optimal" for e in large)
    spopt_any = sum((e.get("spopt") or {}).get("status") in ("optimal", "feasible") for e in main)
    slowest = max(small, key=lambda e: e["ours"]["wall_s"], default=None)
    open_ones = [e for e in main if e["ours"]["status"] != "optimal"]
    body += ["", f"Optimum proven within 10 s on {proven_small} of {len(small)} instances pmed1-20 run"
             + (f" (slowest: pmed{slowest['key'][0]}, {slowest['ours']['wall_s']:.2f} s)" if slowest else "")
             + f"; faster than spopt on {faster} of {both} instances both solve to optimality. "
             f"On pmed21-40 ours proves {large_proven} of {len(large)} within the limit; spopt returns a solution "
             f"on {spopt_any} of {len(main)} instances in all. \"no_solution\" = CBC stopped at the limit without "
             "an integer solution; \"killed\" = still building its n^2-variable PuLP model (or in CBC) after "
             "limit + 90 s. Hardest for ours: small p (5, 10), where the root LP bound is 0.5-1 % below the "
             "optimum and the tree needs tens of nodes"
             + (" (still open at the limit: " + ", ".join(f"pmed{e['key'][0]} (p={e['p']}, gap "
                                                        f"{100 * e['ours']['gap']:.2f} %)" for e in open_ones) + ")."
                if open_ones else ".")]
    wrong = [e for e in main if e["ours"]["status"] == "optimal"
             and abs(e["ours"]["objective"] - opt[f"pmed{e['key'][0]}"]) > 0.5]
    if wrong:
        names = ", ".join(f"pmed{e['key'][0]}" for e in wrong)
        body.append(f"**Mismatch with published optima:** {names}")

    # benders rows run on SCIP/CP-SAT are from the retired cut loop (a MIP master); the branch-and-cut
    # records its LP engine (GLOP) as "backend".
    comp = sorted((e for (kind, _), e in last.items() if kind == "compare"
                   and (e["key"][2] != "benders" or e.get("backend") == "GLOP")),
                  key=lambda e: (e["key"][0], e["key"][2], e["key"][1]))
    if comp:
        body += ["", "### Backends and formulations (pmed, same limit)", "",
                 "| instance | backend | formulation | status | objective | gap % | s |", "|---|---|---|---|---|---|---|"]
        for e in comp:
            body.append(f"| pmed{e['key'][0]} | {e.get('backend', e['key'][1])} | {e['key'][2]} | {e['status']} | {fmt(e['objective'], 0)} | "
                        f"{fmt(100 * e['gap'], 2) if isinstance(e['gap'], float) else '-'} | {fmt(e['wall_s'], 2)} |")
    plc = sorted((e for (kind, _), e in last.items() if kind == "place"), key=lambda e: (e["key"][0], e["key"][1]))
    if plc:
        body += ["", "### `place` on the real Bandar Lampung size", "",
                 f"{plc[0]['kelurahan']} kelurahan x {plc[0]['sites']} sites (20 kantor camat, other RBI government "
                 "offices, balai fallbacks), straight-line matrix, 16,000 generated unrecorded residents spread by "
                 "kecamatan population (2022), capacity 50/day, max 45 min, nearest 12 sites per kelurahan.", "",
                 "| unit-days | backend | status | objective | gap % | s | pemula assigned |", "|---|---|---|---|---|---|---|"]
        for e in plc:
            body.append(f"| {e['key'][0]} | {e['key'][1]} | {e['status']} | {fmt(e['objective'], 1)} | "
                        f"{fmt(100 * e['gap'], 3)} | {fmt(e['wall_s'], 2)} | {100 * e['served_pemula']:.1f}% |")
    write_section("pmedian", "p-median (OR-Library pmed1-40) and placement solvers", "\n".join(body))


def parse_range(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", default="1-40")
    parser.add_argument("--limit-small", type=float, default=10.0, help="seconds for n <= 400 (pmed1-20)")
    parser.add_argument("--limit-large", type=float, default=30.0, help="seconds for n > 400")
    parser.add_argument("--no-spopt", action="store_true")
    parser.add_argument("--rerun", action="store_true",
                        help="run instances already in the log again (without --no-spopt, spopt too)")
    parser.add_argument("--spopt-build-s", type=float, default=90.0,
                        help="extra wall seconds spopt may spend building its model before it is killed")
    parser.add_argument("--compare", default="1-10", help="instances for the backend/formulation table")
    parser.add_argument("--place", action="store_true", help="also time `place` on the Bandar Lampung size")
    parser.add_argument("--render-only", action="store_true")
    args = parser.parse_args()
    if args.render_only:
        render()
        return
    instances = parse_range(args.instances)
    seen = set() if args.rerun else done("main")
    for number in [i for i in instances if i <= 20]:
        _main_run(number, args, seen)
    if args.place:
        placement_runs(args.limit_small)
        render()
    seen_cmp = set() if args.rerun else done("compare")
    for number in parse_range(args.compare) if args.compare else []:
        cost, p = load_pmed(number)
        runs = [("HIGHS", "benders"), ("HIGHS", "radius"), ("SCIP", "radius")]
        if number <= 5:
            runs.append(("HIGHS", "assignment"))
        for solver, formulation in runs:
            key = [number, solver, formulation]
            if tuple(key) in seen_cmp:
                continue
            record({"kind": "compare", "key": key, **run_ours(cost, p, args.limit_small, solver, formulation)})
        render()
    for number in [i for i in instances if i > 20]:
        _main_run(number, args, seen)


def _main_run(number: int, args, seen: set) -> None:
    if (number,) in seen:
        return
    cost, p = load_pmed(number)
    limit = args.limit_small if len(cost) <= 400 else args.limit_large
    entry = {"kind": "main", "key": [number], "n": len(cost), "p": p, "limit": limit,
             "ours": run_ours(cost, p, limit)}
    if not args.no_spopt:
        try:
            entry["spopt"] = run_spopt(cost, p, limit, wall_cap=limit + args.spopt_build_s)
            entry["spopt"]["load1"] = os.getloadavg()[0]
        except ImportError:
            entry["spopt"] = {"status": "spopt not installed"}
    elif (earlier := previous("main", [number])) and earlier.get("spopt"):
        entry["spopt"] = {**earlier["spopt"], "carried_over": True}
    record(entry)
    render()


if __name__ == "__main__":
    main()
