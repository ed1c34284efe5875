"""Geocoding throughput and peak memory on 1,000,000 generated register rows.

Goal (issue 3): <= 60 s and <= 3 GB on a 2-core machine. Each measured run happens in a fresh child
process so its peak RSS is its own: (a) `geocode()` on a register already in memory (what the
pipeline does), (b) `read_register()` of a 1M-row semicolon CSV in cp1252 + `geocode()` (what
`planner geocode` does). Accuracy on the same rows is reported from the TRUTH columns.

Usage: `python benchmarks/geocode.py [--rows 1000000] [--areas bl|province]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TRUTH = ["true_kode_kel", "true_kode_kec", "style", "true_names_kel", "true_names_kec"]


def _areas(which: str):
    from planner.areas import load_areas

    from benchmarks._data import BL_KELURAHAN, LAMPUNG_KECAMATAN, LAMPUNG_KELDESA

    return load_areas(BL_KELURAHAN) if which == "bl" else load_areas(LAMPUNG_KELDESA, LAMPUNG_KECAMATAN, repair=True)


def child(mode: str, which: str, path: str, out: str) -> None:
    """Run one measured geocode in this (fresh) process and write the figures as JSON."""
    import pandas as pd

    from planner.geocode import Gazetteer, geocode
    from planner.register import read_register

    from benchmarks._data import GAZETTEER

    areas = _areas(which)
    gaz = Gazetteer.from_areas(areas, GAZETTEER)
    start = time.perf_counter()
    if mode == "frame":
        with open(path, "rb") as handle:
            register = pickle.load(handle)
        start = time.perf_counter()  # loading the pickle is not part of geocoding
    else:
        register = read_register(path)
    read_s = time.perf_counter() - start
    coded = geocode(register, areas, gazetteer=gaz)
    total_s = time.perf_counter() - start
    status = coded["status"].value_counts().to_dict()
    result = {"rows": len(coded), "read_s": read_s, "total_s": total_s,
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "status": status}
    if mode == "frame":
        truth = register[TRUTH]
        matched = coded["status"] == "matched"
        kel_ok = coded["kode_kel"] == truth["true_kode_kel"]
        kec_ok = coded["kode_kec"] == truth["true_kode_kec"]
        right = (coded["level"] == "kelurahan") & kel_ok | (coded["level"] == "kecamatan") & kec_ok
        result.update(kel_acc=float(kel_ok[truth["true_names_kel"]].mean()),
                      kec_acc=float(kec_ok[truth["true_names_kec"]].mean()),
                      wrong_matched=float((matched & ~right).sum() / max(matched.sum(), 1)))
    Path(out).write_text(json.dumps(result, default=int))
    del pd


def measure(mode: str, which: str, path: Path, tmp: Path) -> dict:
    out = tmp / f"{mode}.json"
    subprocess.run([sys.executable, __file__, "--child", mode, "--areas", which, "--path", str(path),
                    "--result", str(out)], check=True)
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--areas", choices=["bl", "province"], default="bl")
    parser.add_argument("--child")
    parser.add_argument("--path")
    parser.add_argument("--result")
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.areas, args.path, args.result)
        return

    import numpy as np
    import pandas as pd
    from _results import write_section

    from planner.synth_register import make_register

    load = os.getloadavg()[0]
    areas = _areas(args.areas)
    codes = areas.kelurahan["kode"].to_numpy()
    residents = pd.Series(np.random.default_rng(0).multinomial(args.rows, np.ones(len(codes)) / len(codes)),
                          index=codes)
    start = time.perf_counter()
    register = make_register(areas.kelurahan, residents, seed=0, as_of=dt.date(2026, 11, 23),
                             election_date=dt.date(2027, 2, 14))
    gen_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with open(tmp / "register.pkl", "wb") as handle:
            pickle.dump(register, handle, protocol=pickle.HIGHEST_PROTOCOL)
        register.drop(columns=TRUTH).to_csv(tmp / "register.csv", sep=";", index=False, encoding="cp1252")
        csv_mb = (tmp / "register.csv").stat().st_size / 2**20
        del register
        frame = measure("frame", args.areas, tmp / "register.pkl", tmp)
        csv = measure("csv", args.areas, tmp / "register.csv", tmp)

    name = "Bandar Lampung (126 kelurahan)" if args.areas == "bl" else "Lampung province (2,640 kel/desa)"
    buckets = ", ".join(f"{k} {v:,}" for k, v in sorted(frame["status"].items()))
    body = f"""
{args.rows:,} generated register rows (`synth_register.make_register`, all styles, seed 0) over {name}.
Generating them took {gen_s:.1f} s (not counted). Each run below is a fresh process; peak memory is its
maximum RSS (register, geocoded copy and everything else). 1-minute load average when the run started:
{load:.1f} (the 2 cores are shared; times grow with the load).

| run | rows/s | time | peak memory |
|---|---:|---:|---:|
| `geocode()` on the register in memory | {frame['rows'] / frame['total_s']:,.0f} | {frame['total_s']:.1f} s | {frame['peak_rss_mb'] / 1024:.2f} GB |
| `read_register()` of a {csv_mb:.0f} MB cp1252 `;` CSV + `geocode()` | {csv['rows'] / csv['total_s']:,.0f} | {csv['total_s']:.1f} s (read {csv['read_s']:.1f} s) | {csv['peak_rss_mb'] / 1024:.2f} GB |

Goal: <= 60 s and <= 3 GB. Buckets: {buckets}.
Accuracy on these rows: kelurahan {frame['kel_acc']:.2%} (rows naming their kelurahan or with coordinates),
kecamatan {frame['kec_acc']:.2%} (rows naming or encoding it), wrong among matched {frame['wrong_matched']:.3%}.
"""
    print(body)
    if not args.no_write:
        write_section(f"geocode_{args.areas}", f"Geocoding throughput: {name}", body)


if __name__ == "__main__":
    main()
