"""Province mode (#18): one plan per kab/kota office on Dask, the lending pool, the overview.

Two real Lampung kab/kota (Kota Metro with its RBI roads, Kab. Pringsewu) and a broken third office
are planned on a LocalCluster, then again on a `dask scheduler` + `dask worker` started on
127.0.0.1: the schedules must be identical.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pandas as pd
import pytest

from planner import province
from planner.pipeline import run
from planner.scenario import load
from tests.conftest import REPO

SHARED = REPO.parent / "shared" / "geodata-sources"
TOML = f"""
name = "Uji provinsi"
seed = 5
time_budget_s = 5
election_date = 2024-02-14
[areas]
kelurahan = "{SHARED}/wilayah-boundaries-lampung/lampung_keldesa.geojson"
kecamatan = "{SHARED}/wilayah-boundaries-lampung/lampung_kecamatan_from_keldesa.geojson"
gazetteer = "{SHARED}/wilayah-kemendagri-2025/lampung_wilayah_2025.csv"
[register.synthetic]
residents = {{residents}}
population = "{SHARED}/wilayah-kemendagri-2025/lampung_kabkota_penduduk_luas.csv"
[sites]
path = "{SHARED}/big-rbi50k-lampung/derived/lampung_pemerintahan_pt_50k_with_kode.geojson"
kinds = ["kantor_camat", "kantor_lurah"]
[calendar]
week_start = 2024-01-08
[forecast]
target = 0.9                   # no home-visit team here: the flagged residents wait
[[offices]]
name = "Kota Metro"
code = "18.72"
roads = {{{{ source = "lines", path = "{SHARED}/big-rbi50k-lampung/Kota_Metro/JALAN_LN_50K.shp" }}}}
[[offices.units]]
name = "Van Metro"
depot = {{{{ name = "Kantor Wali Kota Metro", lat = -5.11405, lon = 105.30679 }}}}
[[offices]]
name = "Kabupaten Pringsewu"
code = "18.10"
[[offices.units]]
name = "Van Pringsewu"
depot = {{{{ name = "Kantor Bupati Pringsewu", lat = -5.34473, lon = 105.00641 }}}}
{{extra}}
[[lending.units]]
name = "Van Provinsi"
count = {{pool}}
depot = {{{{ name = "Provinsi", lat = -5.4296, lon = 105.2626 }}}}
"""
BROKEN = """
[[offices]]
name = "Kabupaten Tidak Ada"
code = "18.99"
[[offices.units]]
name = "Van X"
depot = { name = "X", lat = -5.1, lon = 105.3 }
"""


def _scenario(tmp_path, residents=3000, pool=2, extra=""):
    path = tmp_path / f"prov-{residents}-{pool}.toml"
    text = TOML.format(residents=residents, pool=pool, extra=extra)
    path.write_text(text if pool else text[:text.index("[[lending.units]]")])
    return load(path)


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("province")
    scenario = _scenario(tmp, extra=BROKEN)
    return scenario, province.plan_province(scenario, tmp / "out", workers=2), tmp / "out"


def test_each_office_plans_alone_and_the_province_folder_is_complete(local):
    scenario, result, out = local
    ok = [o for o in result.offices if not o.get("error")]
    assert {o["code"] for o in ok} == {"18.72", "18.10"}
    for o in ok:
        folder = out / o["folder"]
        assert (folder / "plan.json").exists() and (folder / "map.html").exists()
        s = o["schedule"]
        sessions = s[s["job_kind"] == "session"]
        assert len(sessions) > 0
        # no van crosses into another kab/kota (every session site lies in the office's own areas)
        assert sessions["kode_kel"].astype(str).str.startswith(o["code"]).all()
    # the broken office fails alone, with a message naming its code
    (bad,) = result.failed
    assert bad["code"] == "18.99" and "18.99" in bad["error"]
    book = pd.read_excel(out / "provinsi.xlsx", sheet_name=None)
    assert {"Ringkasan provinsi", "Pinjaman unit", "Aturan"} <= set(book)
    assert len(book["Ringkasan provinsi"]) == 3 and "Galat" in book["Ringkasan provinsi"]
    assert all(1 <= o["weeks_to_target"] <= 10 for o in ok)  # a few hundred residents, one to three vans
    index = (out / "index.html").read_text()
    assert all(f"{o['folder']}/map.html" in index for o in ok)
    assert "<script src=\"http" not in index and "$(" not in index  # self-contained: Leaflet inlined, no jQuery


def test_lent_units_work_in_the_receiving_office_and_the_workbook_says_why(local):
    scenario, result, out = local
    assert len(result.lending) == 2
    lent = pd.read_excel(out / "provinsi.xlsx", sheet_name="Pinjaman unit")
    assert lent["Alasan"].str.len().gt(10).all()
    for row in result.lending:
        office = next(o for o in result.offices if o["code"] == row["office"])
        units = set(office["schedule"]["unit"])
        assert any("pinjaman provinsi" in u for u in units)


def test_first_time_voters_at_risk_fall_as_the_pool_grows(tmp_path):
    """The lending rule on a large gap (one van each, five weeks to the election), pools of 0, 3 and 8."""
    from planner import forecast
    from planner.inputs import scenario_areas

    base = _scenario(tmp_path, residents=120_000, pool=0)
    areas = scenario_areas(base)
    shares = province.residents_per_office(base, areas)
    gaps = {o.code: run(province.office_scenario(base, o, residents=shares[o.code]), until="gaps").gaps
            for o in base.offices}
    totals = []
    for pool in (0, 3, 8):
        scenario = _scenario(tmp_path, residents=120_000, pool=pool)
        scenarios = {o.code: province.office_scenario(scenario, o, residents=shares[o.code])
                     for o in scenario.offices}
        lent = province._lent_units(province.lend(scenario, gaps, scenarios), scenario, scenarios)
        after = {o.code: province.office_scenario(scenario, o, residents=shares[o.code], lent=lent.get(o.code))
                 for o in scenario.offices}
        totals.append(sum(forecast.from_scenario(sc, gaps[c], until=scenario.election_date).election["at_risk"]
                          for c, sc in after.items()))
    assert totals[0] > 0 and totals[0] >= totals[1] >= totals[2] and totals[2] < totals[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_existing_scheduler_gives_identical_schedules(local, tmp_path):
    scenario, first, _ = local
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--dashboard-address", ":0"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        time.sleep(2)
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "1",
                                   "--nthreads", "1", "--no-nanny", "--dashboard-address", ":0"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3)
        second = province.plan_province(scenario, tmp_path / "out", scheduler=address)
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=20)
    by_code = {o["code"]: o for o in second.offices}
    for o in first.offices:
        if o.get("error"):
            assert by_code[o["code"]].get("error")
            continue
        pd.testing.assert_frame_equal(o["schedule"].reset_index(drop=True),
                                      by_code[o["code"]]["schedule"].reset_index(drop=True))
    assert first.lending == second.lending
