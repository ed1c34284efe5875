"""geocode.py on real Bandar Lampung and Lampung province areas: labelled messy registers and edge cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from planner import geocode as geocoding
from planner.areas import load_areas
from planner.geocode import Gazetteer, geocode, name_key, reduce_address
from planner.synth_register import STYLES, make_register

from conftest import BL_KELURAHAN, GAZETTEER, GEO, LAMPUNG_KECAMATAN, LAMPUNG_KELDESA

TRUTH = ["true_kode_kel", "true_kode_kec", "style", "true_names_kel", "true_names_kec"]
AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(scope="session")
def bl():
    return load_areas(BL_KELURAHAN)


@pytest.fixture(scope="session")
def province():
    return load_areas(LAMPUNG_KELDESA, LAMPUNG_KECAMATAN, repair=True)


@pytest.fixture(scope="session")
def bl_gaz(bl):
    return Gazetteer.from_areas(bl, GAZETTEER)


@pytest.fixture(scope="session")
def prov_gaz(province):
    return Gazetteer.from_areas(province, GAZETTEER)


def labelled(areas, n, seed, dup_share=0.0):
    """A register over all kelurahan; `dup_share` of the rows live in desa whose name repeats elsewhere."""
    kel = areas.kelurahan
    rng = np.random.default_rng(seed)
    weights = np.ones(len(kel))
    if dup_share:
        dup = kel["nama"].str.lower().duplicated(keep=False).to_numpy()
        weights = np.where(dup, dup_share / dup.sum(), (1 - dup_share) / (~dup).sum())
    residents = pd.Series(rng.multinomial(n, weights / weights.sum()), index=kel["kode"].to_numpy())
    return make_register(kel, residents, seed=seed, as_of=AS_OF, election_date=dt.date(2027, 2, 14))


def score(out: pd.DataFrame) -> dict:
    matched = out["status"] == "matched"
    kel_ok = out["kode_kel"] == out["true_kode_kel"]
    kec_ok = out["kode_kec"] == out["true_kode_kec"]
    right = np.where(out["level"] == "kelurahan", kel_ok, kec_ok)
    return {
        "kel_acc": kel_ok[out["true_names_kel"]].mean(),
        "kec_acc": kec_ok[out["true_names_kec"]].mean(),
        "wrong_matched": (matched & ~right).sum() / max(matched.sum(), 1),
        "junk_matched": int((matched & (out["style"] == "junk")).sum()),
    }


@pytest.fixture(scope="session")
def labelled_results(bl, province, bl_gaz, prov_gaz):
    """>= 2,000 labelled rows over Bandar Lampung and >= 3,000 over the province (half in duplicated names)."""
    reg_bl = labelled(bl, 4000, seed=11)
    reg_prov = labelled(province, 4000, seed=12, dup_share=0.5)
    out_bl = geocode(reg_bl.drop(columns=TRUTH), bl, gazetteer=bl_gaz)
    out_prov = geocode(reg_prov.drop(columns=TRUTH), province, gazetteer=prov_gaz)
    return (pd.concat([out_bl, reg_bl[TRUTH]], axis=1), pd.concat([out_prov, reg_prov[TRUTH]], axis=1))


def test_labelled_set_covers_every_style(labelled_results, province):
    for out in labelled_results:
        counts = out["style"].value_counts()
        assert set(counts.index) == set(STYLES)
        assert (counts >= 30).all(), counts.to_dict()
    assert len(labelled_results[0]) >= 2000 and len(labelled_results[1]) >= 2000
    names = province.kelurahan.set_index("kode")["nama"].str.lower()
    dup_codes = set(names[names.duplicated(keep=False)].index)
    prov = labelled_results[1]
    assert prov["true_kode_kel"].isin(dup_codes).mean() > 0.4  # many rows live in a repeated village name


@pytest.mark.parametrize("which", [0, 1], ids=["bandar_lampung", "province"])
def test_accuracy_thresholds_on_labelled_registers(labelled_results, which):
    out = labelled_results[which]
    s = score(out)
    assert s["kel_acc"] >= 0.98, s
    assert s["kec_acc"] >= 0.99, s
    assert s["wrong_matched"] <= 0.005, s
    assert s["junk_matched"] == 0, s


@pytest.mark.parametrize("which", [0, 1], ids=["bandar_lampung", "province"])
def test_every_row_in_exactly_one_bucket_in_input_order(labelled_results, which):
    out = labelled_results[which]
    assert list(out["row"]) == list(range(1, len(out) + 1))
    assert set(out["status"]) <= {"matched", "ambiguous", "unmatched", "invalid"}
    matched = out["status"] == "matched"
    assert set(out.loc[matched, "level"]) <= {"kelurahan", "kecamatan"}
    assert (out.loc[~matched, "level"] == "").all() and (out["reason"] != "").all()
    assert (out.loc[out["level"] == "kelurahan", "kode_kel"].str[:8]
            == out.loc[out["level"] == "kelurahan", "kode_kec"]).all()
    # moved residents (NIK from another kecamatan) are matched on their address and flagged
    assert out.loc[out["nik_kec_mismatch"], "status"].eq("matched").all()


def test_styles_behave_as_designed(labelled_results):
    out = labelled_results[0]
    by = out.groupby("style")
    assert by.get_group("swapped")["method"].eq("coordinates_swapped").mean() > 0.97
    assert by.get_group("coords")["method"].eq("coordinates").mean() > 0.97
    nik_only = by.get_group("nik_only")
    assert nik_only["method"].eq("nik").all() and nik_only["level"].eq("kecamatan").all()
    assert by.get_group("kec_only")["level"].eq("kecamatan").mean() > 0.97
    trap = by.get_group("street_trap")
    assert (trap["kode_kel"] == trap["true_kode_kel"]).mean() > 0.99


def test_geocoder_never_reads_truth_columns(bl, bl_gaz):
    reg = labelled(bl, 400, seed=5)
    with_truth = geocode(reg, bl, gazetteer=bl_gaz)
    scrambled = reg.copy()
    scrambled[TRUTH] = scrambled[TRUTH].sample(frac=1, random_state=1).to_numpy()
    again = geocode(scrambled, bl, gazetteer=bl_gaz)
    columns = ["status", "level", "kode_kel", "kode_kec", "method", "score"]
    pd.testing.assert_frame_equal(with_truth[columns], again[columns])


def test_name_keys_unify_spellings():
    assert name_key("Tanjungkarang Pusat") == name_key("Tanjung Karang Pusat") == name_key("TANJUNG  KARANG-PUSAT")
    assert name_key("Sukarame II") == name_key("Sukarame 2")
    assert name_key("Sumberrejo Sejahtera") == name_key("Sumber Rejo Sejahtera")
    assert name_key("Jagabaya I") != name_key("Jagabaya II")


def test_reduce_address_drops_streets_numbers_and_rt_rw():
    segs = reduce_address("Jl. Sukarame No. 5 RT 003 RW 002 Kel. Way Halim Permai Kec. Way Halim 35132")
    words = [w for s in segs for w in s]
    assert "sukarame" not in words and "003" not in words
    assert words == ["kel", "way", "halim", "permai", "kec", "way", "halim"]


def one(areas, gaz, **columns):
    frame = pd.DataFrame({k: [v] for k, v in columns.items()})
    return geocode(frame, areas, gazetteer=gaz).iloc[0]


@pytest.mark.parametrize("address, expected", [
    ("Jl. Sukarame No. 5, Way Halim Permai, Way Halim", "18.71.15.1002"),          # street-name trap, no markers
    ("JL KEDATON 12 RT 01/02 KEL. SUKARAME BARU KEC. SUKARAME", "18.71.02.1006"),   # trap with markers
    ("Gg. Mawar, Kel. Kota Baru, Kec. Tj. Karang Timur", "18.71.05.1002"),          # name starting with 'Kota'
    ("kel.rajabasa raya kec.rajabasa bandar lampung", "18.71.10.1008"),
    ("Rajabsa Raya, Rajabasa", "18.71.10.1008"),                                    # typo
    ("Jagabaya 2, Way Halim", "18.71.15.1005"),                                     # roman numeral as digit
    ("Perum Bukit Kemiling Permai Blok C No 12 Kemiling Raya Kemiling", "18.71.13.1009"),
])
def test_address_examples(bl, bl_gaz, address, expected):
    row = one(bl, bl_gaz, alamat=address)
    assert row["status"] == "matched" and row["kode_kel"] == expected, row[["reason", "kode_kel"]].to_dict()


def test_spelling_variants_of_a_kecamatan_agree(bl, bl_gaz):
    codes = {one(bl, bl_gaz, kecamatan=name)["kode_kec"] for name in
             ("Tanjungkarang Pusat", "Tanjung Karang Pusat", "Kec. Tj. Karang Pusat", "TANJUNGKARANG PUSAT", "TKP")}
    assert codes == {"18.71.06"}


def test_duplicate_names_need_their_kecamatan(province, prov_gaz):
    kel = province.kelurahan
    sidodadi = kel[kel["nama"] == "Sidodadi"]
    assert len(sidodadi) > 5
    alone = one(province, prov_gaz, alamat="Desa Sidodadi")
    assert alone["status"] == "ambiguous" and alone["candidates"].count("Sidodadi") == len(sidodadi)
    for _, desa in sidodadi.head(4).iterrows():
        row = one(province, prov_gaz, kelurahan="Sidodadi", kecamatan=desa["nama_kec"])
        unique = (kel[kel["nama_kec"] == desa["nama_kec"]]["nama"] == "Sidodadi").sum() == 1
        expected_kel = desa["kode"] if unique else ""
        if expected_kel:
            assert row["kode_kel"] == expected_kel, row["reason"]
    # a kelurahan named with a kecamatan it is not in is not matched to that kelurahan
    wrong = one(province, prov_gaz, alamat="Kel. Sukarame Baru, Kec. Kedaton")
    assert wrong["kode_kel"] != "18.71.02.1006"


def test_coordinates_swapped_and_outside(bl, bl_gaz):
    kel = bl.kelurahan.iloc[10]
    p = kel.geometry.representative_point()
    inside = one(bl, bl_gaz, lat=p.y, lon=p.x)
    swapped = one(bl, bl_gaz, lat=p.x, lon=p.y)
    assert inside["kode_kel"] == kel["kode"] and inside["method"] == "coordinates"
    assert swapped["kode_kel"] == kel["kode"] and swapped["method"] == "coordinates_swapped"
    outside = one(bl, bl_gaz, lat=-6.2, lon=106.8, alamat="Kel. Kedaton, Kec. Kedaton")
    assert outside["method"] == "address" and "outside the area set" in outside["reason"]


def test_nik_only_and_junk_rows(bl, bl_gaz):
    frame = pd.DataFrame({"nik": ["1871014508990003", "", "12345", "1871014508990003", "9999014508990003"],
                          "alamat": ["", "", "-", "xxx tidak diketahui", ""]})
    out = geocode(frame, bl, gazetteer=bl_gaz)
    assert list(out["status"]) == ["matched", "invalid", "invalid", "matched", "unmatched"]
    assert out.loc[0, "kode_kec"] == "18.71.01" and out.loc[0, "method"] == "nik"
    assert "not in the area set" in out.loc[4, "reason"]


def test_address_names_another_kecamatan_than_nik(bl, bl_gaz):
    row = one(bl, bl_gaz, nik="1871014508990003", alamat="Kel. Way Halim Permai, Kec. Way Halim")
    assert row["kode_kec"] == "18.71.15" and row["nik_kec_mismatch"]


def test_cli_writes_three_files_that_add_up(tmp_path, bl):
    from planner.cli import app

    reg = labelled(bl, 600, seed=9).drop(columns=TRUTH).rename(columns={"alamat": "Alamat Lengkap"})
    reg.loc[3, "Alamat Lengkap"] = '=HYPERLINK("http://x")'
    path = tmp_path / "reg.csv"
    reg.to_csv(path, index=False, sep=";", encoding="cp1252")
    result = CliRunner().invoke(app, ["geocode", str(path), "--areas", str(BL_KELURAHAN), "--gazetteer", str(GAZETTEER),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    coded = pd.read_csv(tmp_path / "out" / "private" / "geocoded.csv", dtype=str, keep_default_na=False)
    review = pd.read_csv(tmp_path / "out" / "private" / "review.csv", dtype=str, keep_default_na=False)
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    # names, NIKs and addresses only under private/ (with its README); the summary is counts only
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["private", "summary.csv"]
    assert (tmp_path / "out" / "private" / "README.txt").exists()
    assert not {"nik", "alamat", "rt", "rw", "tgl_lahir"} & set(summary.columns)
    assert list(coded["row"].astype(int)) == list(range(1, len(reg) + 1))
    assert len(review) == (coded["status"] != "matched").sum()
    assert set(review["status"]) <= {"ambiguous", "unmatched", "invalid"}
    kec = summary[summary["level"] == "kecamatan"]
    assert kec["matched"].sum() == (coded["status"] == "matched").sum()
    kel = summary[summary["level"] == "kelurahan"]
    assert kel["matched_kelurahan"].sum() == (coded["level"] == "kelurahan").sum()
    assert str(len(reg)) in result.output and "tidak sah" in result.output  # the invalid bucket, in Bahasa
    # a formula is flagged, not geocoded, and never written back as a live formula
    assert coded.loc[3, "Alamat Lengkap"].startswith("'=") and "formula" in coded.loc[3, "row_problem"]
    assert not coded.apply(lambda col: col.str.startswith("=")).any().any()


def test_cli_bad_register_is_one_clear_error(tmp_path):
    from planner.cli import app

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = CliRunner().invoke(app, ["geocode", str(empty), "--areas", str(BL_KELURAHAN), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "kosong" in result.output and "Traceback" not in result.output


def fictional_areas():
    """Kota Contoh-like areas: 2 kecamatan x 3 kelurahan squares, one name used in both kecamatan."""
    import geopandas as gpd
    from shapely.geometry import box

    from planner.areas import AreaSet

    names = {"99.71.01": ["Sukamaju", "Tanjung Mulya", "Way Contoh"],
             "99.71.02": ["Sukamaju", "Bumi Asri II", "Kotabaru Indah"]}
    kec_names = {"99.71.01": "Contoh Utara", "99.71.02": "Teluk Contoh"}
    rows = []
    for k, (kec, kels) in enumerate(names.items()):
        for j, name in enumerate(kels):
            rows.append({"kode": f"{kec}.{1001 + j}", "nama": name, "kode_kec": kec, "nama_kec": kec_names[kec],
                         "geometry": box(105 + j * 0.01, -5.4 + k * 0.01, 105.01 + j * 0.01, -5.39 + k * 0.01)})
    kel = gpd.GeoDataFrame(rows, crs="EPSG:4326")
    kec = kel.dissolve("kode_kec").reset_index()[["kode_kec", "geometry"]].rename(columns={"kode_kec": "kode"})
    kec["nama"] = kec["kode"].map(kec_names)
    return AreaSet(kelurahan=kel, kecamatan=kec[["kode", "nama", "geometry"]])


def test_fictional_areas_without_gazetteer():
    areas = fictional_areas()
    residents = pd.Series(400, index=areas.kelurahan["kode"])
    reg = make_register(areas.kelurahan, residents, seed=3, as_of=AS_OF)
    assert len(reg) == 2400 and reg["nik"].str.len().eq(16).mean() > 0.95
    out = pd.concat([geocode(reg.drop(columns=TRUTH), areas), reg[TRUTH]], axis=1)
    s = score(out)
    assert s["kel_acc"] >= 0.98 and s["wrong_matched"] <= 0.005 and s["junk_matched"] == 0, s
    # the same seed gives the same register
    again = make_register(areas.kelurahan, residents, seed=3, as_of=AS_OF)
    pd.testing.assert_frame_equal(reg, again)


def test_columns_swapped_codes_and_markers(province, prov_gaz):
    kel = province.kelurahan
    # a kecamatan that has a desa of its own name: swapped columns must not pick that desa
    same = kel[kel["nama"] == kel["nama_kec"]].iloc[0]
    other = kel[(kel["kode_kec"] == same["kode_kec"]) & (kel["kode"] != same["kode"])].iloc[0]
    frame = pd.DataFrame({
        "kelurahan": [other["nama_kec"], "Kel. " + other["nama"], other["kode"], "", other["nama"].upper()],
        "kecamatan": [other["nama"], "Kec. " + other["nama_kec"], "", other["kode_kec"], other["nama_kec"].lower()],
    })
    out = geocode(frame, province, gazetteer=prov_gaz)
    assert list(out["kode_kel"]) == [other["kode"], other["kode"], other["kode"], "", other["kode"]]
    assert out.loc[3, "level"] == "kecamatan" and out.loc[3, "kode_kec"] == other["kode_kec"]
    assert out.loc[2, "method"] == "columns_code"


@pytest.mark.parametrize("address, kode_kec", [
    ("Surya 65, Kedaton", "18.71.01"),                       # 'Surya' is not a misspelt Surabaya
    ("Sultan Agung 7, Bumi Waras", "18.71.20"),              # nor 'Agung' Kangkung
    ("Dekat Masjid Al Ikhlas, Kec. Kedaton", "18.71.01"),
    ("Jl. Sukarame Baru", ""),                              # a street alone names no area
])
def test_unmarked_words_do_not_become_kelurahan(bl, bl_gaz, address, kode_kec):
    row = one(bl, bl_gaz, alamat=address)
    assert row["kode_kel"] == "" and row["kode_kec"] == kode_kec, row[["reason", "kode_kel"]].to_dict()


# ---- a register from another city (issue #15) -------------------------------------------------------
SEEDS = GEO / "wilayah-boundaries-seeds"


@pytest.fixture(scope="module")
def bengkulu_register():
    """A generated Kota Bengkulu register (NIKs 17.71...), as if sent to the Bandar Lampung plan."""
    bk = load_areas(SEEDS / "kota_bengkulu_kelurahan.geojson", SEEDS / "kota_bengkulu_kecamatan_from_kelurahan.geojson")
    reg = make_register(bk.kelurahan, pd.Series(10, index=bk.kelurahan["kode"]), seed=1, as_of=AS_OF)
    truth = reg["true_kode_kel"]
    return reg.drop(columns=[c for c in TRUTH if c in reg]), truth, bk


def test_a_register_from_another_city_is_warned_with_the_share(bengkulu_register, bl, bl_gaz):
    reg, _, _ = bengkulu_register
    coded = geocoding.geocode(reg, bl, gazetteer=bl_gaz)
    warnings = " ".join(coded.attrs["warnings"])
    assert "PERINGATAN" in warnings and "17.71" in warnings
    unplaced = (coded["status"] != "matched").mean()
    assert f"{unplaced:.0%}" in warnings
    assert geocoding.buckets(coded).sum() == len(reg)


def test_same_named_kelurahan_of_another_city_are_not_score_100_matches(bengkulu_register, bl, bl_gaz):
    """Beringin Raya, Surabaya and Tanjung Agung exist in both cities: a Bengkulu NIK + Bengkulu address."""
    reg, truth, bk = bengkulu_register
    names = dict(zip(bk.kelurahan["kode"], bk.kelurahan["nama"]))
    shared = truth.map(names).isin(["Beringin Raya", "Surabaya", "Tanjung Agung"])
    assert shared.sum() >= 20
    coded = geocoding.geocode(reg, bl, gazetteer=bl_gaz)
    hits = coded[shared]
    assert not ((hits["status"] == "matched") & (hits["score"] >= 100)).any()
    assert hits["reason"].str.contains("17.71").sum() >= len(hits[hits["status"] == "ambiguous"])


def test_a_resident_who_moved_in_still_matches(bl, bl_gaz):
    """A Bengkulu NIK in an otherwise local register is a mover: matched, flagged as such."""
    reg = labelled(bl, 300, seed=4).drop(columns=TRUTH)
    reg.loc[0, "nik"] = "1771036605450933"
    reg.loc[0, "alamat"] = "Jl. Kartini 5, Kel. Kedaton, Kec. Kedaton"
    coded = geocoding.geocode(reg, bl, gazetteer=bl_gaz)
    assert coded.loc[0, "status"] == "matched" and coded.loc[0, "nik_kec_mismatch"]
    assert coded.attrs["warnings"] == []
