"""The province plan: scenarios/lampung-2024.toml (15 kab/kota offices) on a local Dask cluster.

Wall time and peak memory of `planner plan` for the whole province (the kab/kota plans run as Dask
tasks, one worker per core), and each office's own figures from provinsi.json. Usage:
`python benchmarks/province.py [--workers 2]`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._results import write_section  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="province-bench-")) / "out"
    started = time.perf_counter()
    code = ("import sys; from planner.scenario import load; from planner.province import plan_province; "
            f"plan_province(load(sys.argv[1]), sys.argv[2], workers={args.workers})")
    subprocess.run([sys.executable, "-c", code, str(REPO / "scenarios" / "lampung-2024.toml"), str(out)],
                   check=True, cwd=REPO)
    wall = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summary = json.loads((out / "provinsi.json").read_text())
    load1 = os.getloadavg()[0]
    lines = ["| kab/kota | units | unrecorded | sessions | recordings planned | pemula at risk | error |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for o in summary["offices"]:
        lines.append(f"| {o['name']} | {o.get('units') or '-'} | {o.get('unrecorded') or 0:,} | "
                     f"{o.get('sessions') or 0} | {o.get('recordings_planned') or 0:,.0f} | "
                     f"{o.get('pemula_at_risk')} | {o.get('error') or ''} |")
    lent = "; ".join(f"{r['unit']} -> {r['office_name']} ({r['why']})" for r in summary["lending"])
    body = (f"`planner.province.plan_province` on scenarios/lampung-2024.toml: {len(summary['offices'])} kab/kota, "
            f"{args.workers} Dask worker(s) on a LocalCluster. Wall clock {wall:.0f} s (gaps, lending, 15 plans "
            f"with outputs); peak resident memory of the largest process {peak_mib:.0f} MiB. Load average (1 min) "
            f"at the end: {load1:.1f}.\n\nLent: {lent}.\n\n" + "\n".join(lines))
    write_section("province", "Province plan: 15 kab/kota on Dask (benchmarks/province.py)", body)
    print(body)


if __name__ == "__main__":
    main()
