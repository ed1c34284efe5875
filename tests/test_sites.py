"""Candidate sites: RBI government offices, user CSV, fallback balai sites."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pytest

from planner.sites import COLUMNS, KINDS, add_fallback_sites, load_sites, open_days_in
from tests.conftest import BL_KELURAHAN, GEO, GOV_OFFICES

BL_RBI_RAW = GEO / "big-rbi50k-lampung" / "Kota_Bandar_Lampung" / "PEMERINTAHAN_PT_50K.shp"


@pytest.fixture(scope="module")
def kelurahan():
    return gpd.read_file(BL_KELURAHAN)


@pytest.fixture(scope="module")
def bl_sites():
    return load_sites(GOV_OFFICES, within="18.71")


def test_rbi_layer_gives_one_kantor_camat_per_kecamatan(bl_sites, kelurahan):
    assert list(bl_sites.columns) == COLUMNS
    assert bl_sites.crs.to_epsg() == 4326
    camat = bl_sites[bl_sites.kind == "kantor_camat"]
    kecamatan = set(kelurahan["kode_kec"])
    assert set(camat["kode_kec"]) == kecamatan and len(camat) == len(kecamatan)
    assert (camat["site_id"] == camat["kode_kec"] + "-camat").all()
    assert camat["name"].str.startswith("Kantor Camat").all()
    # every kantor camat lies inside the kelurahan its code names
    joined = camat.merge(kelurahan[["kode", "geometry"]], left_on="kode_kel", right_on="kode")
    assert all(p.within(poly) for p, poly in zip(joined.geometry_x, joined.geometry_y))


def test_security_offices_are_left_out_and_counted(bl_sites):
    raw = gpd.read_file(GOV_OFFICES)
    raw = raw[raw["kode_kabkota"] == "18.71"]
    police = int((raw["REMARK"] == "Kantor Polisi").sum())
    assert police > 0
    assert bl_sites.attrs["excluded"]["Kantor Polisi"] == police
    assert not bl_sites["name"].str.contains("Polsek|Polres|Koramil|Kodim", case=False).any()
    assert len(bl_sites) + sum(bl_sites.attrs["excluded"].values()) == len(raw)


def test_kinds_filter_and_stable_ids(bl_sites):
    camat = load_sites(GOV_OFFICES, kinds=["kantor_camat"], within="18.71")
    assert set(camat["kind"]) == {"kantor_camat"}
    assert bl_sites["site_id"].is_unique
    again = load_sites(GOV_OFFICES, within="18.71")
    assert again["site_id"].tolist() == bl_sites["site_id"].tolist()
    with pytest.raises(ValueError, match="unknown site kind"):
        load_sites(GOV_OFFICES, kinds=["masjid"])


def test_raw_rbi_shapefile_gets_codes_from_kelurahan(kelurahan, bl_sites):
    raw = load_sites(BL_RBI_RAW, kinds=["kantor_camat"], kelurahan=kelurahan)
    assert raw["kode_kel"].notna().all()
    expected = bl_sites[bl_sites.kind == "kantor_camat"]
    assert sorted(raw["site_id"]) == sorted(expected["site_id"])


def test_fallback_balai_covers_every_kelurahan(kelurahan):
    camat = load_sites(GOV_OFFICES, kinds=["kantor_camat"], within="18.71")
    sites = add_fallback_sites(camat, kelurahan, max_days=3)
    assert set(kelurahan["kode"]) <= set(sites["kode_kel"])
    balai = sites[sites.kind == "balai"]
    assert len(balai) == len(set(kelurahan["kode"]) - set(camat["kode_kel"]))
    polygons = kelurahan.set_index("kode").geometry
    assert all(polygons[k].contains(p) for k, p in zip(balai["kode_kel"], balai.geometry))
    assert (balai["max_days"] == 3).all() and balai["site_id"].str.endswith("-balai").all()
    # only balai when there is no points file at all
    only = add_fallback_sites(camat.iloc[0:0], kelurahan)
    assert len(only) == len(kelurahan) and set(only["kind"]) == {"balai"}


def test_user_csv(tmp_path, kelurahan):
    path = tmp_path / "sites.csv"
    path.write_text(
        "name,kind,lat,lon,open_days,open_from,open_to\n"
        "SMAN 2 Bandar Lampung,school,-5.3925,105.2640,012345,07:30,14:00\n"
        "Balai Desa Contoh,balai desa,-5.4295736,105.2626452,,,\n"
        "Masjid Al Furqon,other,-5.41,105.25,5,08:00,12:00\n", encoding="utf-8")
    sites = load_sites(path, kelurahan=kelurahan)
    assert list(sites.columns) == COLUMNS
    assert set(sites["kind"]) <= set(KINDS)
    assert sites.set_index("name").loc["SMAN 2 Bandar Lampung", "kind"] == "sekolah"
    assert sites.set_index("name").loc["Balai Desa Contoh", "open_days"] == "01234"  # office default
    assert sites["kode_kel"].str.startswith("18.71.").all()  # codes from point-in-polygon
    assert sites["site_id"].is_unique


def test_user_csv_errors_name_the_problem(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,kind,lat,lon\nA,school,abc,105.2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="rows \\[2\\] have no valid lat/lon"):
        load_sites(bad)
    bad.write_text("name,kind,lat,lon\nA,masjid raya,-5.4,105.2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown site kind"):
        load_sites(bad)
    bad.write_text("name,lat,lon\nA,-5.4,105.2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing \\['kind'\\]"):
        load_sites(bad)
    bad.write_text("name,kind,lat,lon,open_from\nA,school,-5.4,105.2,8am\n", encoding="utf-8")
    with pytest.raises(ValueError, match="open_from must be HH:MM"):
        load_sites(bad)


def test_open_days_in():
    week = [dt.date(2026, 11, 23) + dt.timedelta(days=k) for k in range(6)]  # Mon..Sat
    assert open_days_in("01234", week) == 5
    assert open_days_in("5", week) == 1
    assert open_days_in("6", week) == 0
