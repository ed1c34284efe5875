"""Area loading and hierarchy checks on the real Lampung boundaries and on broken copies."""

import geopandas as gpd
import pytest
from shapely.geometry import Polygon

from planner.areas import AreaError, load_areas, normalise_code
from tests.conftest import BL_KECAMATAN, BL_KELURAHAN, GEO


def test_bandar_lampung_real_hierarchy():
    areas = load_areas(BL_KELURAHAN, BL_KECAMATAN)
    assert len(areas.kelurahan) == 126 and len(areas.kecamatan) == 20
    assert (areas.kelurahan["kode"].str[:8] == areas.kelurahan["kode_kec"]).all()
    assert areas.kelurahan["kode"].str.startswith("18.71.").all()
    assert str(areas.metric_crs) == "EPSG:32748"
    assert areas.kelurahan["nama_kec"].notna().all()


def test_kecamatan_derived_when_not_given_matches_official_layer():
    derived = load_areas(BL_KELURAHAN).kecamatan.set_index("kode")
    given = gpd.read_file(BL_KECAMATAN).set_index("kode")
    assert sorted(derived.index) == sorted(given.index)
    metric = derived.to_crs(32748).area
    official = given.to_crs(32748).area
    assert ((metric - official.loc[metric.index]).abs() / official.loc[metric.index]).max() < 0.01


def test_geopackage_layer_and_within_filter():
    areas = load_areas(GEO / "wilayah-boundaries-lampung" / "lampung_admin.gpkg", layer="keldesa", within="18.72")
    assert len(areas.kelurahan) == 22  # Kota Metro
    assert set(areas.kecamatan["kode"].str[:5]) == {"18.72"}


def test_shapefile_with_undotted_codes(tmp_path):
    frame = gpd.read_file(BL_KELURAHAN).head(10)
    frame["kode"] = frame["kode_nodot"]
    frame[["kode", "nama", "geometry"]].to_file(tmp_path / "kel.shp")
    areas = load_areas(tmp_path / "kel.shp")
    assert areas.kelurahan["kode"].iloc[0].count(".") == 3


def test_broken_inputs_report_every_problem(tmp_path):
    frame = gpd.read_file(BL_KELURAHAN)[["kode", "nama", "kode_kec", "geometry"]].head(12).copy()
    frame.loc[1, "kode"] = frame.loc[0, "kode"]                       # duplicate
    frame.loc[2, "kode_kec"] = "18.71.99"                             # wrong parent
    frame.loc[3, "kode"] = "18.71.1"                                  # malformed
    frame.loc[4, "geometry"] = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])  # bow-tie: invalid
    path = tmp_path / "broken.geojson"
    frame.to_file(path)
    with pytest.raises(AreaError) as info:
        load_areas(path)
    text = str(info.value)
    assert "more than once" in text
    assert "do not start with their kecamatan code" in text
    assert "not of the form" in text
    assert "invalid polygon" in text and frame.loc[4, "kode"] in text
    repaired = None
    frame = frame.drop(index=[1, 2, 3])
    frame.to_file(path)
    repaired = load_areas(path, repair=True)
    assert repaired.kelurahan.is_valid.all()


def test_missing_columns_and_files_are_clear(tmp_path):
    with pytest.raises(AreaError, match="file not found"):
        load_areas(tmp_path / "nope.geojson")
    with pytest.raises(AreaError, match=r"column\(s\) \['kode_desa'\]"):
        load_areas(BL_KELURAHAN, code_column="kode_desa")


@pytest.mark.parametrize("raw, expected", [
    ("1871011003", "18.71.01.1003"), (1871011003, "18.71.01.1003"), (" 18.71.01 ", "18.71.01"),
    ("187101", "18.71.01"), (None, None), ("1871011003.0", "18.71.01.1003"),
])
def test_normalise_code(raw, expected):
    assert normalise_code(raw) == expected
