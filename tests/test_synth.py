"""The fictional city generator: codes, geometry, people, roads, sites, register, determinism."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from planner.areas import check_hierarchy, load_areas
from planner.sites import load_sites
from planner.synth import ROAD_CLASSES, SIZES, CitySize, make_city

SITE_COLUMNS = ["site_id", "name", "kind", "kode_kel", "kode_kec", "open_days", "open_from", "open_to",
                "max_days", "geometry"]


@pytest.fixture(scope="module")
def city():
    return make_city(seed=5, size="city")


@pytest.fixture(scope="module")
def toy():
    return make_city(seed=11, size="toy")


def metric(frame):
    return frame.to_crs("EPSG:32748")


# ---- codes and names ---------------------------------------------------------------------------
def test_codes_follow_the_kemendagri_hierarchy(city):
    kel, kec = city.areas.kelurahan, city.areas.kecamatan
    assert len(kel) == 120 and len(kec) == 20
    assert check_hierarchy(kel, kec) == []
    assert kel["kode"].str.fullmatch(r"99\.71\.\d{2}\.1\d{3}").all()  # all kelurahan in a kota
    assert (kel["kode"].str[:8] == kel["kode_kec"]).all()
    assert kel["kode"].is_unique and kec["kode"].is_unique
    assert set(kel["kode_kec"]) == set(kec["kode"])
    assert kel.index.equals(pd.RangeIndex(len(kel))) and kec.index.equals(pd.RangeIndex(len(kec)))
    names = dict(zip(kec["kode"], kec["nama"]))
    assert (kel["nama_kec"] == kel["kode_kec"].map(names)).all()


def test_names_are_realistic_including_duplicates(city):
    kel, kec = city.areas.kelurahan, city.areas.kecamatan
    assert kec["nama"].is_unique
    assert not kel.duplicated(["kode_kec", "nama"]).any(), "names repeat only across kecamatan"
    repeated = kel.groupby("nama")["kode_kec"].nunique()
    assert (repeated > 1).any(), "some kelurahan names must be shared by several kecamatan"
    assert (kec["nama"].str.split().str.len() >= 3).any(), "a multi-word kecamatan name to abbreviate"
    assert city.kabkota.to_dict("index") == {"99.71": {"nama": "Kota Contoh"}}
    assert kel["nama"].str.fullmatch(r"[A-Z][a-z]+( [A-Z][a-z]+)*").all()


# ---- geometry ----------------------------------------------------------------------------------
def test_polygons_tile_the_city_without_gaps_or_overlaps(city):
    kel, kec = city.areas.kelurahan, city.areas.kecamatan
    assert kel.crs == "EPSG:4326" and kec.crs == "EPSG:4326"
    assert kel.geometry.is_valid.all() and (kel.geom_type == "Polygon").all()
    assert shapely.coverage_is_valid(kel.geometry.values), "kelurahan overlap or have unmatched edges"
    outline = shapely.union_all(kel.geometry.values)
    assert outline.geom_type == "Polygon" and len(outline.interiors) == 0, "city has no holes"
    area = metric(kel).area
    assert area.sum() == pytest.approx(metric(gpd.GeoSeries([outline], crs=4326)).area[0], rel=1e-9)
    # A kecamatan is its kelurahan dissolved: one piece (contiguous), same area.
    assert (kec.geom_type == "Polygon").all()
    by_kec = area.groupby(kel["kode_kec"]).sum()
    assert np.allclose(metric(kec).area.to_numpy(), by_kec.loc[kec["kode"]].to_numpy(), rtol=1e-9)
    # About Bandar Lampung's 197 km2, in UTM zone 48S and far from any real place (open sea).
    assert 100 < area.sum() / 1e6 < 300
    lon, lat = outline.centroid.x, outline.centroid.y
    assert 102 < lon < 108 and lat < -6.5


def test_explicit_size_gives_exact_counts():
    small = make_city(seed=2, size=CitySize(kecamatan=5, kelurahan=17, residents=60), register=False)
    assert len(small.areas.kecamatan) == 5 and len(small.areas.kelurahan) == 17
    assert small.areas.kelurahan.groupby("kode_kec").size().min() >= 1
    assert small.population["unrecorded"].sum() == 60


@pytest.mark.parametrize("bad", [
    dict(kecamatan=0, kelurahan=3, residents=1),
    dict(kecamatan=5, kelurahan=3, residents=1),
    dict(kecamatan=3, kelurahan=9, residents=-1),
    dict(kecamatan=150, kelurahan=900, residents=10),  # > 99 kecamatan in one kota
    dict(kecamatan=3, kelurahan=9, residents=1000, population=500),
])
def test_bad_sizes_are_refused(bad):
    with pytest.raises(ValueError):
        CitySize(**bad)


def test_unknown_size_name_and_bad_centre_are_refused():
    with pytest.raises(ValueError, match="unknown city size"):
        make_city(size="huge")
    with pytest.raises(ValueError, match="UTM zone 48S"):
        make_city(size="toy", centre=(110.4, -7.0), register=False)


# ---- people ------------------------------------------------------------------------------------
def test_population_is_consistent_and_heavier_in_the_centre(city):
    pop, kel = city.population, city.areas.kelurahan
    assert list(pop.index) == sorted(kel["kode"])
    assert (pop["kode_kec"] == kel.set_index("kode").loc[pop.index, "kode_kec"]).all()
    assert pop["unrecorded"].sum() == SIZES["city"].residents
    assert pop["penduduk"].sum() == SIZES["city"].total_population
    assert ((pop["unrecorded"] <= pop["wajib_ktp"]) & (pop["wajib_ktp"] <= pop["penduduk"])).all()
    assert 0.65 < pop["wajib_ktp"].sum() / pop["penduduk"].sum() < 0.8
    # People per km2: the inner quarter of kelurahan (by distance to the depot) is denser than the outer.
    m = metric(kel).set_index("kode")
    depot = gpd.GeoSeries(gpd.points_from_xy([city.depot["lon"]], [city.depot["lat"]]), crs=4326)
    dist = m.representative_point().distance(metric(depot)[0])
    per_km2 = pop["penduduk"] / (m.area / 1e6).loc[pop.index]
    inner, outer = dist <= dist.quantile(0.25), dist >= dist.quantile(0.75)
    assert per_km2[inner.loc[pop.index]].median() > 2 * per_km2[outer.loc[pop.index]].median()


# ---- roads -------------------------------------------------------------------------------------
def endpoint_graph(roads: gpd.GeoDataFrame) -> nx.Graph:
    coords = shapely.get_coordinates(roads.geometry.values)
    assert len(coords) == 2 * len(roads), "every road line is one straight segment"
    ends = [tuple(p) for p in np.round(coords, 9)]
    graph = nx.Graph()
    graph.add_edges_from(zip(ends[0::2], ends[1::2]))
    return graph


def test_roads_form_one_connected_network_with_rbi_classes(city):
    roads = city.roads
    assert roads.crs == "EPSG:4326" and (roads.geom_type == "LineString").all()
    assert set(roads["REMARK"]) == set(ROAD_CLASSES)
    graph = endpoint_graph(roads)
    assert nx.number_connected_components(graph) == 1
    # Planar: lines touch only at shared endpoints, never cross in the middle.
    tree = shapely.STRtree(roads.geometry.values)
    left, right = tree.query(roads.geometry.values, predicate="crosses")
    assert len(left) == 0
    # Every site and the depot is a junction of the network (nothing to snap).
    nodes = np.array(list(graph.nodes))
    for point in list(city.sites.geometry) + [shapely.Point(city.depot["lon"], city.depot["lat"])]:
        assert np.hypot(*(nodes - [point.x, point.y]).T).min() < 1e-7
    # Arterials link every kecamatan office: they form one piece touching each kantor camat.
    arterial = endpoint_graph(roads[roads["REMARK"] == "Jalan Arteri"])
    assert nx.number_connected_components(arterial) == 1
    arterial_nodes = np.array(list(arterial.nodes))
    for point in city.sites.geometry[city.sites["kind"] == "kantor_camat"]:
        assert np.hypot(*(arterial_nodes - [point.x, point.y]).T).min() < 1e-7


# ---- sites -------------------------------------------------------------------------------------
def test_sites_follow_the_contract_and_lie_in_their_kelurahan(city):
    sites, kel = city.sites, city.areas.kelurahan
    assert list(sites.columns) == SITE_COLUMNS and sites.crs == "EPSG:4326"
    assert sites["site_id"].is_unique
    assert set(sites["kind"]) == {"kantor_camat", "kantor_lurah", "sekolah"}
    camat = sites[sites["kind"] == "kantor_camat"]
    assert sorted(camat["kode_kec"]) == sorted(city.areas.kecamatan["kode"])
    lurah = sites[sites["kind"] == "kantor_lurah"]
    assert lurah["kode_kel"].is_unique and 0.7 * len(kel) <= len(lurah) < len(kel)
    assert 2 <= (sites["kind"] == "sekolah").sum() <= len(kel) // 4
    joined = gpd.sjoin(sites, kel[["kode", "kode_kec", "geometry"]], predicate="within", how="left")
    assert joined.index.is_unique
    assert (joined["kode"] == joined["kode_kel"]).all()
    assert (joined["kode_kec_right"] == joined["kode_kec_left"]).all()
    assert sites["open_days"].str.fullmatch(r"[0-6]+").all()
    assert sites["open_from"].str.fullmatch(r"\d\d:\d\d").all() and (sites["open_from"] < sites["open_to"]).all()
    assert (sites["max_days"] >= 1).all()
    depot = shapely.Point(city.depot["lon"], city.depot["lat"])
    assert city.depot["name"] == "Disdukcapil Kota Contoh"
    assert kel.contains(depot).sum() == 1


# ---- determinism -------------------------------------------------------------------------------
def test_same_seed_same_city_other_seed_other_city(toy):
    again = make_city(seed=11, size="toy")
    assert_geodataframe_equal(toy.areas.kelurahan, again.areas.kelurahan)
    assert_geodataframe_equal(toy.areas.kecamatan, again.areas.kecamatan)
    assert_geodataframe_equal(toy.roads, again.roads)
    assert_geodataframe_equal(toy.sites, again.sites)
    pd.testing.assert_frame_equal(toy.population, again.population)
    assert toy.depot == again.depot
    pd.testing.assert_frame_equal(toy.register, again.register)
    other = make_city(seed=12, size="toy")
    assert not toy.areas.kelurahan.geometry.geom_equals(other.areas.kelurahan.geometry).any()
    assert list(toy.areas.kelurahan["nama"]) != list(other.areas.kelurahan["nama"])
    assert not toy.population["penduduk"].equals(other.population["penduduk"])


# ---- province ----------------------------------------------------------------------------------
def test_province_size_has_kabupaten_and_desa():
    prov = make_city(seed=3, size="province", register=False)
    kel, kec = prov.areas.kelurahan, prov.areas.kecamatan
    assert len(kel) == 2600 and len(kec) == 230
    assert check_hierarchy(kel, kec) == []
    kab = kel["kode"].str[:5]
    assert kab.nunique() == 15 and "99.71" in set(kab)
    assert sorted(prov.kabkota.index) == sorted(set(kab)) and prov.kabkota["nama"].is_unique
    assert prov.kabkota["nama"].drop("99.71").str.startswith("Kabupaten ").all()
    assert set(kab) - {"99.71"} == {f"99.{i:02d}" for i in range(1, 15)}
    fourth = kel["kode"].str[9]
    assert (fourth[kab == "99.71"] == "1").all(), "the kota has kelurahan"
    assert (fourth[kab != "99.71"] == "2").mean() > 0.9, "kabupaten are mostly desa"
    assert shapely.coverage_is_valid(kel.geometry.values)
    assert (kec.geom_type == "Polygon").all()
    assert prov.population["unrecorded"].sum() == 100_000
    assert nx.number_connected_components(endpoint_graph(prov.roads)) == 1


@pytest.mark.slow
def test_province_with_register_runs():
    prov = make_city(seed=4, size="province")
    assert len(prov.register) == 100_000
    nik = prov.register["nik"].astype(str)
    nik = nik[nik.str.fullmatch(r"\d{16}")]
    assert nik.str[:6].isin(set(prov.areas.kecamatan["kode"].str.replace(".", "", regex=False))).all()
    desa = prov.register["true_kode_kel"].str[9] == "2"
    assert desa.mean() > 0.5, "most unrecorded residents of a province live in desa"


# ---- register ----------------------------------------------------------------------------------
def test_register_rows_match_the_population(city):
    reg = city.register
    assert len(reg) == SIZES["city"].residents
    placed = reg[reg["true_kode_kel"] != ""]  # junk rows have no true place
    assert len(placed) > 0.9 * len(reg)
    counts = placed["true_kode_kel"].value_counts()
    truth = city.population["unrecorded"]
    assert set(counts.index) <= set(truth.index)
    assert (counts.reindex(truth.index, fill_value=0) <= truth).all()
    assert (placed["true_kode_kel"].str[:8] == placed["true_kode_kec"]).all()
    # Addresses name the fictional city, never a real one.
    assert reg["alamat"].str.contains("Contoh", case=False).mean() > 0.2
    assert not reg["alamat"].str.contains("Lampung", case=False).any()


def test_register_niks_are_well_formed(city):
    reg = city.register
    nik = reg["nik"].astype(str)
    ok = nik.str.fullmatch(r"\d{16}")
    assert ok.mean() > 0.9, "most NIKs are 16 digits (a few typos are part of the mess)"
    nik, reg = nik[ok], reg[ok]
    kec_codes = set(city.areas.kecamatan["kode"].str.replace(".", "", regex=False))
    assert nik.str[:6].isin(kec_codes).all(), "NIK digits 1-6 are a kecamatan code of the city"
    born = pd.to_datetime(reg["tgl_lahir"], errors="coerce", dayfirst=True)
    sex = reg["jenis_kelamin"].astype(str).str.upper().str[0]
    usable = born.notna() & sex.isin(["L", "P"])
    assert usable.mean() > 0.8
    day = nik.str[6:8].astype(int)
    expected_day = born.dt.day + np.where(sex == "P", 40, 0)
    agree = (day == expected_day) & (nik.str[8:10].astype(int) == born.dt.month) \
        & (nik.str[10:12].astype(int) == born.dt.year % 100)
    assert agree[usable].mean() > 0.9, "NIK digits 7-12 encode the birth date, +40 on the day for women"
    assert ((sex == "P") & usable).any() and ((sex == "L") & usable).any()


def test_register_dates_are_passed_through():
    as_of = dt.date(2027, 1, 4)
    a = make_city(seed=1, size="toy", as_of=as_of, election_date=dt.date(2029, 2, 14))
    assert a.as_of == as_of and len(a.register) == SIZES["toy"].residents


# ---- files -------------------------------------------------------------------------------------
def test_save_writes_files_a_scenario_can_read(toy, tmp_path):
    paths = toy.save(tmp_path)
    areas = load_areas(paths["kelurahan"], paths["kecamatan"])
    assert sorted(areas.kelurahan["kode"]) == sorted(toy.areas.kelurahan["kode"])
    roads = gpd.read_file(paths["roads"])
    assert len(roads) == len(toy.roads) and "REMARK" in roads
    sites = load_sites(paths["sites"])
    assert_geodataframe_equal(sites, toy.sites, check_dtype=False)
    register = pd.read_csv(paths["register"], dtype=str)
    assert len(register) == len(toy.register)
    assert not any(c.startswith("true_") for c in register.columns), "truth kept apart"
    truth = pd.read_csv(paths["register_truth"], dtype=str, keep_default_na=False)
    assert len(truth) == len(register)
    assert (truth["true_kode_kel"] == toy.register["true_kode_kel"].to_numpy()).all()
