"""Both routing engines on the same weekly problems, same budget: what each schedules and drives.

Cases: the three shipped scenarios (Bandar Lampung: RBI roads, posts; Kota Bengkulu: partial RDTR
roads; Kab. OKI: touring vans, straight-line travel; placement's first round, before a tour's road
days are given back) and the generated 'Kota Contoh' (toy and city sizes, straight-line travel).
Placement runs once per case; the same sessions and home visits then go to each engine, and every
schedule is re-checked with `routing.check_schedule`. Usage: `python benchmarks/weekly_engines.py [--budget 20]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from planner import network, pipeline, routing  # noqa: E402
from planner.scenario import load  # noqa: E402

from benchmarks._results import write_section  # noqa: E402


def _cases():
    yield "Kota Bandar Lampung (RBI roads)", pipeline.run(load(REPO / "scenarios" / "bandar-lampung.toml"),
                                                           until="placement")
    yield "Kota Bengkulu (RDTR roads, partial)", pipeline.run(load(REPO / "scenarios" / "kota-bengkulu.toml"),
                                                               until="placement")
    yield "Kab. OKI 2017 (touring vans)", pipeline.run(load(REPO / "scenarios" / "oki-2017.toml"), until="placement")
    from planner.geocode import Gazetteer
    from planner.synth import make_city

    for size in ("toy", "city"):
        start = dt.date(2026, 11, 23)
        city = make_city(seed=7, size=size, as_of=start)
        scenario = pipeline.demo_scenario(city, Path("/tmp/weekly-engines"), 7, start)
        register = city.register.drop(columns=[c for c in city.register.columns
                                               if c.startswith("true_") or c == "style"])
        yield f"Kota Contoh ({size})", pipeline.run(scenario, until="placement", areas=city.areas, register=register,
                                                    roads=city.roads, sites=city.sites,
                                                    gazetteer=Gazetteer.from_areas(city))


def measure(run, engine: str, budget: float) -> dict:
    sc, graph = run.scenario, run.graph

    def matrix_fn(points, vehicle):
        return network.travel_matrix(points, points, graph=graph, vehicle=vehicle, circuity=sc.roads.detour)

    week, _ = routing.weeks_home_visits(run.home_visits, sc.units, sc.calendar)
    started = time.perf_counter()
    routes = routing.route(run.placement.sessions, run.sites, week, pipeline.routing_units(sc, run.sites), sc.calendar,
                           matrix_fn, time_limit_s=budget, seed=sc.seed, engine=engine,
                           min_session_min=sc.placement.min_session_min)
    seconds = time.perf_counter() - started
    s = routes.schedule
    jobs = s[~s["job_kind"].isin(["depot", "lodging"])]
    return {"engine": engine, "seconds": seconds, "jobs": len(week) + int(run.placement.sessions["session_days"].sum()),
            "sessions": int(jobs.loc[jobs.job_kind == "session", "job_id"].nunique()),
            "visits": int((jobs.job_kind == "home_visit").sum()),
            "recordings": float(s["expected_recordings"].sum()), "travel_min": int(s["travel_min"].sum()),
            "travel_km": float(s["travel_km"].sum()), "unscheduled": len(routes.unscheduled),
            "reproducible": routes.stats.get("reproducible"),
            "check": len(routing.check_schedule(s, sc.calendar, run.sites, units=pipeline.routing_units(sc, run.sites),
                                                min_session_min=sc.placement.min_session_min))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per engine run")
    args = parser.parse_args()
    lines = ["| case | engine | jobs | sessions | home visits | expected recordings | travel | unscheduled | "
             "check | reproducible | seconds |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for label, run in _cases():
        for engine in sorted(routing.ENGINES):
            r = measure(run, engine, args.budget)
            print(label, r, flush=True)
            lines.append(f"| {label} | {engine} | {r['jobs']} | {r['sessions']} | {r['visits']} | "
                         f"{r['recordings']:,.1f} | {r['travel_min']:,} min, {r['travel_km']:,.1f} km | "
                         f"{r['unscheduled']} | {'ok' if r['check'] == 0 else str(r['check']) + ' problems'} | "
                         f"{r['reproducible']} | {r['seconds']:.1f} |")
    load_avg = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    body = (f"Budget {args.budget:g} s per engine run; load average before the last run {load_avg}. Placement "
            "runs once per case, then the same session-days and home visits go to each engine; 'check' is "
            "`routing.check_schedule` on the result. Home-visit teams are held to `capacity_per_day` visits on "
            "each day in both engines.\n\n" + "\n".join(lines))
    write_section("weekly_engines", "Weekly routing: OR-Tools vs PyVRP (benchmarks/weekly_engines.py)", body)


if __name__ == "__main__":
    main()
