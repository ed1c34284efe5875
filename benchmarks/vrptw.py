"""VRPTW benchmark: OR-Tools defaults vs the search settings planner.routing uses.

Solomon (100 customers) and Gehring-Homberger (200 customers) instances from ../shared/bench, in the
DIMACS / CVRPLIB distance-only convention (see ../shared/bench/PROVENANCE.md): every arc length and travel
time is truncated to one decimal, the objective is total distance only, the fleet is free up to the file's
vehicle count. Each solution is re-checked by `check_solution` (written without OR-Tools) before it is
reported, written in CVRPLIB `.sol` format under benchmarks/solutions/<limit>/<config>/, and summarised in
the `vrptw` section of benchmarks/RESULTS.md.

    python benchmarks/vrptw.py --set solomon --limits 10 --configs default,portfolio
    python benchmarks/vrptw.py --set gh200 --limits 30 --instances C1_2_1,R1_2_1,RC1_2_1

`portfolio` runs benchmarks.vrptw_portfolio.VRPTW_PORTFOLIO side by side (one process per search, best kept,
`run_portfolio`); single configs of several instances run `--jobs` at a time, one process each. Run
nothing else meanwhile: the limit is wall clock.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import multiprocessing
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from ortools.constraint_solver import pywrapcp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from planner.routing import search_parameters  # noqa: E402

from benchmarks._data import BENCH  # noqa: E402
from benchmarks._results import write_section  # noqa: E402
from benchmarks.vrptw_portfolio import VRPTW_CONFIGS as SEARCH_CONFIGS  # noqa: E402
from benchmarks.vrptw_portfolio import VRPTW_PORTFOLIO, run_portfolio  # noqa: E402

RAW = HERE / "solutions" / "raw.jsonl"
SCALE = 10  # tenths: the DIMACS convention truncates every arc to one decimal


@dataclass
class Instance:
    """A Solomon/Gehring-Homberger VRPTW instance as arrays (depot at index 0)."""

    name: str
    n_vehicles: int
    capacity: int
    xy: np.ndarray  # (n+1, 2), row 0 is the depot
    demand: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray

    def arc_tenths(self) -> np.ndarray:
        """Arc lengths in tenths, truncated: floor(10 * euclidean)."""
        diff = self.xy[:, None, :] - self.xy[None, :, :]
        # The tiny epsilon keeps exact decimals (e.g. 10*d == 53.0 computed as 52.999999) from dropping a tenth.
        return np.floor(np.sqrt((diff**2).sum(-1)) * SCALE + 1e-9).astype(np.int64)


def read_instance(path: Path) -> Instance:
    """Read a Solomon / Gehring-Homberger text file (CRLF or LF, any case)."""
    lines = [line.split() for line in path.read_text().splitlines()]
    name = path.stem.upper()
    for i, parts in enumerate(lines):
        if parts[:1] == ["NUMBER"]:
            n_vehicles, capacity = map(int, lines[i + 1])
            break
    else:
        raise ValueError(f"{path}: no 'NUMBER CAPACITY' header found; expected a Solomon-format file")
    rows = [list(map(float, p)) for p in lines if len(p) == 7 and all(_is_number(x) for x in p)]
    data = np.array(rows)
    if data[0, 0] != 0:
        raise ValueError(f"{path}: first customer row should be the depot (number 0)")
    return Instance(name, n_vehicles, capacity, data[:, 1:3], data[:, 3].astype(int), data[:, 4].astype(int),
                    data[:, 5].astype(int), data[:, 6].astype(int))


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def solve(inst: Instance, config: str, time_limit_s: float) -> tuple[list[list[int]] | None, float, float]:
    """Solve with OR-Tools under `config`: routes of customer numbers (None if nothing feasible), wall and CPU s.

    The limit is wall-clock (OR-Tools' own); the CPU seconds show how much of it the process really got
    on a shared machine.
    """
    dist = inst.arc_tenths()
    n = len(inst.demand)
    manager = pywrapcp.RoutingIndexManager(n, inst.n_vehicles, 0)
    model = pywrapcp.RoutingModel(manager)
    # Matrices registered on the C++ side: no Python call per arc evaluation (several times faster).
    dist_cb = model.RegisterTransitMatrix(dist.tolist())
    model.SetArcCostEvaluatorOfAllVehicles(dist_cb)
    demand_cb = model.RegisterUnaryTransitVector(inst.demand.tolist())
    time_cb = model.RegisterTransitMatrix((dist + inst.service[:, None] * SCALE).tolist())
    model.AddDimensionWithVehicleCapacity(demand_cb, 0, [inst.capacity] * inst.n_vehicles, True, "Load")
    horizon = int(inst.due[0]) * SCALE
    model.AddDimension(time_cb, horizon, horizon, False, "Time")
    time_dim = model.GetDimensionOrDie("Time")
    for node in range(1, n):
        time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(int(inst.ready[node]) * SCALE, int(inst.due[node]) * SCALE)
    for v in range(inst.n_vehicles):
        time_dim.CumulVar(model.Start(v)).SetRange(int(inst.ready[0]) * SCALE, horizon)
        time_dim.CumulVar(model.End(v)).SetRange(int(inst.ready[0]) * SCALE, horizon)
    params = search_parameters(SEARCH_CONFIGS[config] if isinstance(config, str) else config, time_limit_s)
    t0, c0 = time.perf_counter(), time.process_time()
    solution = model.SolveWithParameters(params)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if solution is None:
        return None, seconds, cpu
    routes = []
    for v in range(inst.n_vehicles):
        index, route = solution.Value(model.NextVar(model.Start(v))), []
        while not model.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(model.NextVar(index))
        if route:
            routes.append(route)
    return routes, seconds, cpu


PYVRP_SEEDS = ("pyvrp-seed1", "pyvrp-seed2")  # `pyvrp`: two seeds side by side, best kept


def solve_pyvrp(inst: Instance, config: str, time_limit_s: float) -> tuple[list[list[int]] | None, float, float]:
    """Solve with PyVRP (the engine planner.routing.pyvrp_engine uses) from the seed in `config`'s name.

    Same convention as `solve`: arcs in truncated tenths, service and windows scaled to tenths, the
    file's fleet as the limit, distance only; wall-clock limit.
    """
    import pyvrp
    from pyvrp.stop import MaxRuntime

    dist = inst.arc_tenths()
    locations = [pyvrp.Location(x=float(x), y=float(y)) for x, y in inst.xy]
    depot = pyvrp.Depot(location=0, tw_early=int(inst.ready[0]) * SCALE, tw_late=int(inst.due[0]) * SCALE)
    clients = [pyvrp.Client(location=i, delivery=[int(inst.demand[i])], service_duration=int(inst.service[i]) * SCALE,
                            tw_early=int(inst.ready[i]) * SCALE, tw_late=int(inst.due[i]) * SCALE)
               for i in range(1, len(inst.demand))]
    fleet = pyvrp.VehicleType(num_available=inst.n_vehicles, capacity=[inst.capacity],
                              tw_early=int(inst.ready[0]) * SCALE, tw_late=int(inst.due[0]) * SCALE)
    data = pyvrp.ProblemData(locations, clients, [depot], [fleet], [dist], [dist])
    t0, c0 = time.perf_counter(), time.process_time()
    result = pyvrp.solve(data, stop=MaxRuntime(time_limit_s), seed=int(config.rsplit("seed", 1)[-1]),
                         display=False, collect_stats=False)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if not result.best.is_feasible():
        return None, seconds, cpu
    routes = [[a.idx + 1 for a in route.schedule() if a.is_client()] for route in result.best.routes()]
    return [r for r in routes if r], seconds, cpu


def check_solution(inst: Instance, routes: list[list[int]]) -> tuple[float, list[str]]:
    """Independent re-check (no OR-Tools): total truncated distance and every violated rule."""
    problems, total = [], 0.0
    seen = [c for r in routes for c in r]
    n = len(inst.demand) - 1
    if sorted(seen) != list(range(1, n + 1)):
        missing = set(range(1, n + 1)) - set(seen)
        problems.append(f"customers missing {sorted(missing)[:5]} or visited twice")
    if len(routes) > inst.n_vehicles:
        problems.append(f"{len(routes)} routes > fleet {inst.n_vehicles}")

    def arc(a, b):
        return math.floor(math.dist(inst.xy[a], inst.xy[b]) * 10 + 1e-9) / 10

    for k, route in enumerate(routes, 1):
        if inst.demand[route].sum() > inst.capacity:
            problems.append(f"route {k}: load {inst.demand[route].sum()} > capacity {inst.capacity}")
        t, prev = float(inst.ready[0]), 0
        for c in route + [0]:
            t += (inst.service[prev] if prev else 0) + arc(prev, c)
            total += arc(prev, c)
            if t > inst.due[c] + 1e-6:
                problems.append(f"route {k}: customer {c} reached at {t:.1f} after due {inst.due[c]}")
            t = max(t, float(inst.ready[c]))
            prev = c
    return round(total, 1), problems


def write_sol(path: Path, routes: list[list[int]], cost: float) -> None:
    """CVRPLIB .sol format: 'Route #k: c1 c2 ...' lines and a 'Cost' line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"Route #{k}: {' '.join(map(str, r))}" for k, r in enumerate(routes, 1)]
    path.write_text("\n".join(lines + [f"Cost {cost:.1f}"]) + "\n")


def load_bks() -> dict[str, float]:
    """Distance-only (DIMACS, truncated) best-known values: all Solomon, 3 of the GH-200 instances."""
    bks = {}
    with open(BENCH / "solomon" / "bks_distance_only_cvrplib.csv") as f:
        for row in csv.DictReader(f):
            bks[row["instance"].upper()] = float(row["distance_dimacs_trunc1"])
    with open(BENCH / "gehring_homberger" / "bks_distance_only_dimacs.csv") as f:
        for row in csv.DictReader(f):
            bks[row["instance"].upper()] = float(row["distance_dimacs_trunc1"])
    return bks


def load_sintef() -> dict[str, str]:
    """Hierarchical (vehicles first) SINTEF values, shown for context only: a different convention."""
    out = {}
    with open(BENCH / "solomon" / "bks_hierarchical_sintef.csv") as f:
        for row in csv.DictReader(f):
            out[row["instance"].upper()] = f"{row['vehicles']}/{float(row['distance_double_2dp']):.2f}"
    with open(BENCH / "gehring_homberger" / "sintef_bks" / "tables.csv") as f:
        for row in csv.DictReader(f):
            if row["benchmark"] != "LiLim" and row["clients"] == "200":
                out[row["instance"].upper()] = f"{row['routes']}/{float(row['distance']):.2f}"
    return out


SETS = {"solomon": BENCH / "solomon" / "instances", "gh200": BENCH / "gehring_homberger" / "200",
        "gh400": BENCH / "gehring_homberger" / "400"}


def instance_paths(which: str, names: list[str] | None) -> list[Path]:
    """The instance files of a named set, or of any folder of Solomon-format .txt files."""
    folder = SETS.get(which, Path(which))
    paths = sorted(folder.glob("*.[tT][xX][tT]"), key=_natural) if folder.is_dir() else []
    if not paths:
        raise SystemExit(f"no instances for set '{which}': give one of {sorted(SETS)} or a folder of "
                         "Solomon-format .txt files")
    if names:
        wanted = {n.upper() for n in names}
        paths = [p for p in paths if p.stem.upper() in wanted]
        if len(paths) != len(wanted):
            raise SystemExit(f"unknown instance(s) in {sorted(wanted)} for set '{which}'")
    return paths


def _family(name: str) -> str:
    """C1, C2, R1, R2, RC1, RC2: tight (1) or wide (2) time windows, clustered/random customers."""
    import re

    return re.match(r"^(RC|R|C)(\d)", name).group(0)


def _natural(path: Path):
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.stem.upper())]


def run(args) -> None:
    bks = load_bks()
    RAW.parent.mkdir(parents=True, exist_ok=True)
    spawn, size = multiprocessing.get_context("spawn"), len(VRPTW_PORTFOLIO)
    # `portfolio`: its searches side by side in warm workers (the wall clock includes handing them the
    # instance); single configs: one process per instance, `--jobs` at a time, each timing itself.
    with (ProcessPoolExecutor(size, mp_context=spawn) as warm,
          ProcessPoolExecutor(args.jobs, mp_context=spawn) as single):
        if {"portfolio", "pyvrp"} & set(args.configs):
            list(warm.map(_warm_up, range(size)))  # start the workers before any clock runs
        for limit in args.limits:
            insts = [read_instance(path) for path in instance_paths(args.set, args.instances)]
            for config in args.configs:
                if config in ("portfolio", "pyvrp"):
                    searches, fn = (VRPTW_PORTFOLIO, solve) if config == "portfolio" else (PYVRP_SEEDS, solve_pyvrp)
                    for inst in insts:
                        t0 = time.perf_counter()
                        best, results = run_portfolio(partial(fn, inst), searches, limit,
                                                      partial(_score, inst), pool=warm, workers=size)
                        routes = results[searches.index(best)][0]
                        cpu = float(np.mean([r[2] for r in results]))
                        _record(args, bks, inst, config, limit, routes, time.perf_counter() - t0, cpu,
                                winner=best, processes=size)
                else:
                    futures = [single.submit(solve, inst, config, limit) for inst in insts]
                    for inst, future in zip(insts, futures):
                        routes, seconds, cpu = future.result()
                        _record(args, bks, inst, config, limit, routes, seconds, cpu)
    if not args.no_report:
        report()


def _warm_up(_):
    return os.getpid()


def _score(inst: Instance, result) -> float:
    """Checked distance of a `solve` result, inf when there is none or it breaks a rule."""
    routes = result[0]
    if routes is None:
        return math.inf
    cost, problems = check_solution(inst, routes)
    return math.inf if problems else cost


def _record(args, bks, inst, config, limit, routes, seconds, cpu, **extra) -> None:
    """Check a solution, write its .sol file and append one raw record."""
    record = {"instance": inst.name, "set": args.set, "config": config, "limit": limit,
              "seconds": round(seconds, 1), "cpu_s": round(cpu, 1), "feasible": False,
              "distance": None, "vehicles": None, "load1": round(os.getloadavg()[0], 2),
              "date": time.strftime("%Y-%m-%d"), **extra}
    if routes is not None:
        cost, problems = check_solution(inst, routes)
        record.update(feasible=not problems, distance=cost, vehicles=len(routes), problems=problems[:3])
        if not problems:
            write_sol(HERE / "solutions" / str(limit) / config / f"{inst.name}.sol", routes, cost)
    gap = (100 * (record["distance"] / bks[inst.name] - 1)) if record["feasible"] and inst.name in bks else None
    record["gap"] = None if gap is None else round(gap, 2)
    with open(RAW, "a") as f:
        f.write(json.dumps(record) + "\n")
    print(f"{inst.name:8s} {config:10s} {limit:>4}s  {record['distance']}  veh={record['vehicles']}  "
          f"gap={record['gap']}  feasible={record['feasible']}  {extra.get('winner', '')}", flush=True)


def report() -> None:
    """Rebuild the RESULTS.md section from every record in solutions/raw.jsonl (latest run wins)."""
    bks, sintef = load_bks(), load_sintef()
    records = {}
    for line in RAW.read_text().splitlines():
        r = json.loads(line)
        records[(r["set"], r["instance"], r["limit"], r["config"])] = r
    order = {"default": 0, "portfolio": 1, "tuned": 2, "tuned_savings": 3}
    body = [
        "Distance-only DIMACS convention (arcs truncated to 0.1, fleet up to the file's count, no vehicle cost); "
        "gap to the distance-only BKS. `default` = OR-Tools PATH_CHEAPEST_ARC + GUIDED_LOCAL_SEARCH; "
        f"`tuned` = {SEARCH_CONFIGS['tuned'].describe()}; `tuned_savings` = {SEARCH_CONFIGS['tuned_savings'].describe()}; "
        f"`portfolio` = benchmarks.vrptw_portfolio.VRPTW_PORTFOLIO ({', '.join(VRPTW_PORTFOLIO)}) run side by side, one process "
        "each on its own core, best kept (`run_portfolio`); `pci_gls` = the previous session's setting "
        f"({SEARCH_CONFIGS['pci_gls'].describe()}), measured on a shared machine (load average up to ~6). "
        "Every solution re-checked by an independent checker; 'infeasible' = no solution within the fleet. "
        "SINTEF column (vehicles/distance, hierarchical convention, not comparable) for context only. "
        "The limit is wall clock (model building excluded); single runs, noisy by a few % per instance.",
        "",
    ]
    for (set_name, limit) in sorted({(k[0], k[2]) for k in records}):
        keys = sorted({k[1] for k in records if k[0] == set_name and k[2] == limit},
                      key=lambda s: _natural(Path(s)))
        mine = [r for k, r in records.items() if k[0] == set_name and k[2] == limit]
        configs = sorted({r["config"] for r in mine}, key=lambda c: (order.get(c, 9), c))
        cpu = [r["cpu_s"] / r["limit"] for r in mine if "cpu_s" in r and "load1" in r]
        loads = [r["load1"] for r in mine if "load1" in r]
        dates = sorted({r["date"] for r in mine if "date" in r})
        share = (f"; runs of {', '.join(dates)}: each search process got a median {100 * np.median(cpu):.0f}% of a core, "
                 f"load average (1 min) median {np.median(loads):.1f}, max {max(loads):.1f}" if loads else "")
        body.append(f"### {set_name}, {limit} s wall clock per instance ({len(keys)} instances{share})\n")
        head = "| instance | BKS | " + " | ".join(f"{c} dist | {c} veh | {c} gap %" for c in configs) + " | SINTEF |"
        body += [head, "|" + "---|" * (2 + 3 * len(configs) + 1)]
        summary = {c: [] for c in configs}
        feasible = {c: 0 for c in configs}
        for name in keys:
            cells = [name, f"{bks[name]:.1f}" if name in bks else "-"]
            for c in configs:
                r = records.get((set_name, name, limit, c))
                if r is None:
                    cells += ["not run", "", ""]
                elif not r["feasible"]:
                    cells += ["infeasible", "-", "-"]
                else:
                    feasible[c] += 1
                    cells += [f"{r['distance']:.1f}", str(r["vehicles"]), "-" if r["gap"] is None else f"{r['gap']:+.2f}"]
                    if r["gap"] is not None:
                        summary[c].append(r["gap"])
            cells.append(sintef.get(name, "-"))
            body.append("| " + " | ".join(cells) + " |")
        body.append("")
        both = [name for name in keys if name in bks and all(
            (r := records.get((set_name, name, limit, c))) is not None and r["feasible"] for c in configs)]
        for c in configs:
            gaps = summary[c]
            mean = f"{np.mean(gaps):.2f}%" if gaps else "-"
            common = [records[(set_name, name, limit, c)]["gap"] for name in both]
            mean_common = f"{np.mean(common):.2f}%" if common else "-"
            ran = sum((set_name, name, limit, c) in records for name in keys)
            body.append(f"- `{c}`: feasible {feasible[c]}/{ran} run (of {len(keys)}); mean gap {mean} over its {len(gaps)} "
                        f"feasible instances with a distance-only BKS; {mean_common} over the {len(both)} "
                        "instances every config solved")
            winners = Counter(r["winner"] for k, r in records.items()
                              if k[0] == set_name and k[2] == limit and k[3] == c and "winner" in r)
            if winners:
                body.append("  - best search of the portfolio: " + ", ".join(f"{w} {n}" for w, n in winners.most_common()))
            if c != "default" and "default" in configs:
                # Every instance counts here, with or without a best-known value.
                pairs = [(records[(set_name, name, limit, c)]["distance"], records[(set_name, name, limit, "default")]["distance"])
                         for name in keys if all((r := records.get((set_name, name, limit, x))) is not None and r["feasible"]
                                                 for x in (c, "default"))]
                if pairs:
                    diff = np.mean([100 * (a / b - 1) for a, b in pairs])
                    body.append(f"  - distance vs `default` on the {len(pairs)} instances both solved: {diff:+.2f}% on average")
            by_class: dict[str, list[float]] = {}
            for name in keys:
                r = records.get((set_name, name, limit, c))
                if r is not None and r["feasible"] and r["gap"] is not None:
                    by_class.setdefault(_family(name), []).append(r["gap"])
            if len(by_class) > 1:
                body.append("  - by family: " + ", ".join(f"{k} {np.mean(v):.2f}% ({len(v)})" for k, v in by_class.items()))
        body.append("")
    body += _goals(records)
    write_section("vrptw", "VRPTW (Solomon, Gehring-Homberger 200) with OR-Tools", "\n".join(body))


def _goals(records: dict) -> list[str]:
    """The issues' targets, checked against what was measured (and what was not run)."""
    out = ["### Goals against these runs", ""]
    goals = (("solomon", 10, 2.0, 56, "portfolio", "issue 6"), ("gh200", 30, 4.0, 60, "portfolio", "issue 6"),
             ("solomon", 10, 0.5, 56, "pyvrp", "issue 17"), ("gh200", 30, 1.5, 60, "pyvrp", "issue 17"))
    for set_name, limit, target, total, config, issue in goals:
        rows = [r for k, r in records.items() if k[0] == set_name and k[2] == limit and k[3] == config]
        feasible = sum(r["feasible"] for r in rows)
        gaps = [r["gap"] for r in rows if r["feasible"] and r["gap"] is not None]
        mean = np.mean(gaps) if gaps else float("nan")
        verdict = "met" if gaps and mean <= target and feasible == total else "NOT met"
        out.append(f"- ({issue}) {set_name} at {limit} s, `{config}`: feasible {feasible}/{len(rows)} run ({total} in "
                   f"the set, {total - len(rows)} not run); mean gap {mean:.2f}% over the {len(gaps)} of them with a "
                   f"distance-only BKS: goal <= {target:g}% {verdict}"
                   + (" (only C1_2_1, R1_2_1, RC1_2_1 have such a BKS here: weak evidence)" if set_name == "gh200" else ""))
    out += _not_worse(records, "gh200", 30, "pyvrp", "portfolio")
    return out


def _not_worse(records: dict, set_name: str, limit: int, better: str, than: str) -> list[str]:
    """Issue 17: `better` no longer than `than` on every instance both ran."""
    names = sorted({k[1] for k in records if k[0] == set_name and k[2] == limit})
    pairs = [(records.get((set_name, n, limit, better)), records.get((set_name, n, limit, than))) for n in names]
    both = [(a, b) for a, b in pairs if a and b and a["feasible"] and b["feasible"]]
    if not both:
        return [f"- (issue 17) {set_name} at {limit} s: `{better}` vs `{than}` not run"]
    worse = [a["instance"] for a, b in both if a["distance"] > b["distance"] + 1e-6]
    return [f"- (issue 17) {set_name} at {limit} s: `{better}` no longer than `{than}` on {len(both) - len(worse)} of "
            f"{len(both)} instances both solved" + (f"; longer on {', '.join(worse)}" if worse else "")]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", default="solomon", help="solomon, gh200, gh400 or a folder of Solomon-format files")
    ap.add_argument("--limits", type=lambda s: [int(x) for x in s.split(",")], default=[10])
    ap.add_argument("--instances", type=lambda s: s.split(","), default=None)
    ap.add_argument("--configs", type=lambda s: s.split(","), default=["default", "portfolio"])
    ap.add_argument("--jobs", type=int, default=1, help="instances solved at once for single configs")
    ap.add_argument("--no-report", action="store_true", help="only append raw records")
    ap.add_argument("--report-only", action="store_true", help="rebuild RESULTS.md from raw records")
    args = ap.parse_args(argv)
    for c in args.configs:
        if c not in SEARCH_CONFIGS and c not in ("portfolio", "pyvrp"):
            raise SystemExit(f"unknown config '{c}'; expected one of {sorted(SEARCH_CONFIGS)}")
    if args.report_only:
        report()
    else:
        run(args)


if __name__ == "__main__":
    main()
