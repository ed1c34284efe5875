"""How long the synthetic city takes to generate, from the toy to the province size.

Run: ``python -m benchmarks.synth`` (writes its section of benchmarks/RESULTS.md).
"""

from __future__ import annotations

import importlib.util
import os
import time

import numpy as np

from planner.synth import SIZES, make_city

from benchmarks._results import write_section

REPEATS = {"toy": 5, "city": 3, "province": 2}


def run() -> str:
    with_register = importlib.util.find_spec("planner.synth_register") is not None
    rows = ["| size | kab/kota | kecamatan | kel/desa | residents | road lines | road km | sites "
            "| seconds, city only | seconds, with register |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, spec in SIZES.items():
        timings = {False: [], True: []}
        for register in ([False, True] if with_register else [False]):
            for seed in range(REPEATS[name]):
                start = time.perf_counter()
                city = make_city(seed=seed, size=name, register=register, progress=False)
                timings[register].append(time.perf_counter() - start)
        km = city.roads.to_crs("EPSG:32748").length.sum() / 1000
        full = f"{np.median(timings[True]):.2f}" if timings[True] else "n/a"
        rows.append(f"| {name} | {spec.kabupaten} | {len(city.areas.kecamatan)} | {len(city.areas.kelurahan)} "
                    f"| {spec.residents:,} | {len(city.roads):,} | {km:,.0f} | {len(city.sites):,} "
                    f"| {np.median(timings[False]):.2f} | {full} |")
        print(rows[-1], flush=True)
    note = ("Median wall time of `make_city(seed, size)` over "
            + ", ".join(f"{n}: {r} seeds" for n, r in REPEATS.items())
            + "; the register column includes `planner.synth_register.make_register`"
            + ("." if with_register else " (not available when measured).")
            + f" Load average at the end: {os.getloadavg()[0]:.1f} (the machine is shared; figures are upper bounds).")
    return note + "\n\n" + "\n".join(rows)


if __name__ == "__main__":
    body = run()
    write_section("synth", "Synthetic city generation (planner.synth)", body)
    print(body)
