"""Map size, build time and render time in headless Chromium: the city, and the province's kab/kota maps.

City: a plan from `planner/synth_plan.py` (no solver run) on the real Bandar Lampung kelurahan with
the real RBI roads as its offline basemap, so the figures measure maps.py and basemap.py alone.
Province: the shipped `scenarios/lampung-2024.toml` planned for real (15 kab/kota on Dask), every
office's map.html and the index measured. Render = the page's load event (Leaflet, layers, panel,
label thinning) in headless Chromium with no network, from `--dump-dom`.
Usage: `python benchmarks/map.py [--no-province]`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import geopandas as gpd  # noqa: E402

from planner import maps  # noqa: E402
from planner.areas import load_areas  # noqa: E402
from planner.basemap import road_lines  # noqa: E402
from planner.network import graph_from_lines  # noqa: E402
from planner.synth_plan import fake_plan  # noqa: E402

from benchmarks._data import BL_KECAMATAN, BL_KELURAHAN, BL_ROADS  # noqa: E402
from benchmarks._results import write_section  # noqa: E402

PROBE = ("<script>window.addEventListener('load', function () { setTimeout(function () {"
         " var n = performance.getEntriesByType('navigation')[0];"
         " document.title = 'RENDER ' + JSON.stringify([n.loadEventEnd, document.querySelectorAll('path').length]);"
         " }, 0); });</script>")


def render_ms(html: Path, runs: int = 3) -> float:
    """Median load-event time (ms) of the map in headless Chromium, network cut."""
    chromium = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    if chromium is None:
        return float("nan")
    probe = html.with_name(html.stem + "_probe.html")
    probe.write_text(html.read_text(encoding="utf-8").replace("</html>", PROBE + "</html>"), encoding="utf-8")
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as profile:
            out = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                                  "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
                                  "--window-size=400,800", "--dump-dom",
                                  probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
        found = re.search(r"RENDER (\[[^\]]*\])", out)
        if found:
            times.append(json.loads(found.group(1))[0])
    return sorted(times)[len(times) // 2] if times else float("nan")


def city(out: Path) -> dict:
    areas = load_areas(BL_KELURAHAN, BL_KECAMATAN)
    plan = fake_plan(areas, seed=0, units=3, name="Kota Bandar Lampung")
    t0 = time.perf_counter()
    plan.basemap = road_lines(graph_from_lines(gpd.read_file(BL_ROADS)))
    t1 = time.perf_counter()
    path = maps.save_map(maps.plan_map(plan, areas), out / "bandar-lampung.html", offline=True)
    t2 = time.perf_counter()
    return {"basemap_s": t1 - t0, "map_s": t2 - t1, "mb": path.stat().st_size / 2**20,
            "roads": len(plan.basemap), "road_chars": int(plan.basemap["path"].str.len().sum()),
            "render_ms": render_ms(path)}


def province(out: Path) -> list[dict]:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "planner.cli", "plan", str(REPO / "scenarios" / "lampung-2024.toml"),
                    "--out", str(out / "lampung")], check=True, capture_output=True,
                   env={**os.environ, "PLANNER_LANG": "en", "PYTHONPATH": str(REPO)}, cwd=REPO)
    seconds = time.perf_counter() - started
    rows = []
    for path in sorted((out / "lampung").glob("*/map.html")) + [out / "lampung" / "index.html"]:
        rows.append({"map": str(path.relative_to(out / "lampung")), "mb": path.stat().st_size / 2**20,
                     "render_ms": render_ms(path, runs=1), "plan_s": seconds})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-province", action="store_true", help="skip the 15-office province plan")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        c = city(Path(tmp))
        print(c, flush=True)
        offices = [] if args.no_province else province(Path(tmp))
    lines = ["| map | size | build | render in headless Chromium (400x800, offline) |", "|---|---:|---:|---:|",
             f"| Kota Bandar Lampung, road basemap ({c['roads']:,} road lines, {c['road_chars'] / 1e3:,.0f} kB "
             f"encoded) | {c['mb']:.2f} MB | {c['basemap_s'] + c['map_s']:.1f} s (basemap {c['basemap_s']:.1f} s) | "
             f"{c['render_ms'] / 1000:.2f} s |"]
    for r in offices:
        lines.append(f"| Lampung 2024: {r['map']} | {r['mb']:.2f} MB | (in the {r['plan_s']:.0f} s province plan) | "
                     f"{r['render_ms'] / 1000:.2f} s |")
    biggest = max((r["mb"] for r in offices), default=float("nan"))
    body = ("Every map is the default self-contained file (Leaflet inlined, no request leaves the phone). "
            "The city plan comes from `planner/synth_plan.py` on the real kelurahan with the real RBI roads "
            "as the offline basemap; the province rows are the shipped `scenarios/lampung-2024.toml` planned "
            "for real, one map per kab/kota (the RBI road layer exists for 6 of the 15; the others have "
            "kelurahan outlines and names as their basemap) and the index map linking them. Render is the "
            "page's load event (median of 3 for the city) with the network cut. Goals: city <= 1.5 MB and "
            f"render <= 2 s; each kab/kota map <= 3 MB (largest here: {biggest:.2f} MB).\n\n" + "\n".join(lines))
    write_section("map", "Map size, build and render time (benchmarks/map.py)", body)


if __name__ == "__main__":
    main()
