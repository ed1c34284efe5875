"""A simulated nation: how long 514 independent kab/kota plans take on N Dask workers.

Indonesia has 514 kab/kota, 7,277 kecamatan and 83,763 desa/kelurahan (Kemendagri 2025). This draws
a sample of kab/kota sizes around those averages (kecamatan per kab/kota and desa per kecamatan
lognormal, as skewed as the real lists; unrecorded residents 1-2% of wajib KTP, ~0.72 of the
population), generates each one with `planner.synth` (rural for kabupaten, urban for kota), and
plans them as Dask tasks on a LocalCluster, each plan in its own process so its peak memory is its
own. The measured times are then bootstrapped to 514 kab/kota and scheduled longest-first on N
workers: the projected national wall clock is reported as a distribution, not a single mean.
Usage: `python benchmarks/national.py [--sample 8] [--workers 2]`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._results import write_section  # noqa: E402

KABKOTA, KECAMATAN, DESA = 514, 7_277, 83_763
PEOPLE = 281_600_000  # residents, Dec 2024 (Dukcapil), for the unrecorded share
CHILD = """
import datetime as dt, json, resource, sys, tempfile, time
from pathlib import Path
from planner import pipeline
from planner.synth import CitySize, make_city
kec, kel, residents, rural, seed = json.loads(sys.argv[1])
t = time.perf_counter()
start = dt.date(2026, 1, 5)
city = make_city(seed=seed, size=CitySize(kecamatan=kec, kelurahan=kel, residents=residents, rural=rural),
                 as_of=start, progress=False)
made = time.perf_counter() - t
out = Path(tempfile.mkdtemp())
scenario = pipeline.demo_scenario(city, out, seed, start)
register = city.register.drop(columns=[c for c in city.register.columns if c.startswith("true_") or c == "style"])
from planner.geocode import Gazetteer
r = pipeline.run(scenario, areas=city.areas, register=register, roads=city.roads, sites=city.sites,
                 gazetteer=Gazetteer.from_areas(city))
print(json.dumps({"generate_s": made, "plan_s": time.perf_counter() - t - made,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "sessions": int((r.routes.schedule["job_kind"] == "session").sum())}))
"""


def sample_sizes(n: int, seed: int = 0) -> list[tuple[int, int, int, bool]]:
    """(kecamatan, desa, unrecorded, rural) for `n` kab/kota around the national averages."""
    rng = np.random.default_rng(seed)
    kec_mean, desa_per_kec = KECAMATAN / KABKOTA, DESA / KECAMATAN
    out = []
    for _ in range(n):
        kec = int(np.clip(round(rng.lognormal(np.log(kec_mean) - 0.18, 0.6)), 2, 60))
        desa = int(np.clip(round(kec * rng.lognormal(np.log(desa_per_kec) - 0.12, 0.5)), kec, kec * 40))
        people = PEOPLE / DESA * desa
        unrecorded = int(people * 0.72 * rng.uniform(0.01, 0.02))
        out.append((kec, desa, max(unrecorded, 100), bool(rng.random() < 0.81)))  # 416 of 514 are kabupaten
    return out


def plan_one(args: list) -> dict:
    """Dask task: one kab/kota planned in a fresh process (its own time and peak memory)."""
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], capture_output=True, text=True,
                          cwd=str(REPO))
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def makespans(times: np.ndarray, workers: int, draws: int = 200, seed: int = 1) -> np.ndarray:
    """Projected national wall clock: 514 times bootstrapped from `times`, longest first on `workers`."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(draws):
        jobs = np.sort(rng.choice(times, KABKOTA, replace=True))[::-1]
        load = np.zeros(workers)
        for t in jobs:
            load[np.argmin(load)] += t
        out.append(load.max())
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=8, help="kab/kota to generate and plan")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    sizes = sample_sizes(args.sample)
    started = time.perf_counter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        futures = [client.submit(plan_one, [kec, desa, unrec, rural, 100 + k], pure=False)
                   for k, (kec, desa, unrec, rural) in enumerate(sizes)]
        results = [f.result() for f in futures]
    wall = time.perf_counter() - started
    ok = [(s, r) for s, r in zip(sizes, results) if "error" not in r]
    times = np.array([r["plan_s"] for _, r in ok])
    lines = ["| kecamatan | desa | unrecorded | rural | generate s | plan s | peak MiB | sessions |",
             "|---:|---:|---:|---|---:|---:|---:|---:|"]
    for (kec, desa, unrec, rural), r in ok:
        lines.append(f"| {kec} | {desa} | {unrec:,} | {'yes' if rural else 'no'} | {r['generate_s']:.1f} | "
                     f"{r['plan_s']:.1f} | {r['peak_mib']:.0f} | {r['sessions']} |")
    failed = [r["error"] for r in results if "error" in r]
    proj = ["| workers | median | p10 | p90 |", "|---:|---:|---:|---:|"]
    for n in (2, 8, 32, 128, 514):
        span = makespans(times, n) / 60 if len(times) else np.array([np.nan])
        proj.append(f"| {n} | {np.median(span):.1f} min | {np.percentile(span, 10):.1f} min | "
                    f"{np.percentile(span, 90):.1f} min |")
    body = (f"{len(ok)} of {args.sample} sampled kab/kota planned on a {args.workers}-worker LocalCluster in "
            f"{wall:.0f} s (generation excluded from 'plan s'). Per-kab/kota plan time: median "
            f"{np.median(times):.1f} s, max {times.max():.1f} s. Load average (1 min) at the end: "
            f"{os.getloadavg()[0]:.1f}."
            + (f" Failed: {failed}." if failed else "") + "\n\n" + "\n".join(lines)
            + f"\n\nProjected national wall clock ({KABKOTA} kab/kota bootstrapped from these times, longest "
            "first; the real distribution is more skewed, so read p90):\n\n" + "\n".join(proj))
    write_section("national", "A simulated nation: 514 kab/kota on Dask (benchmarks/national.py)", body)
    print(body)


if __name__ == "__main__":
    main()
