"""demand.py: gaps per kelurahan by class, kecamatan-level spreading, home-visit points."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import shapely

from planner import demand
from planner.areas import load_areas
from planner.geocode import geocode
from planner.synth_register import make_register

from conftest import BL_KELURAHAN

AS_OF = dt.date(2026, 11, 23)
ELECTION = dt.date(2027, 2, 14)


@pytest.fixture(scope="session")
def bl():
    return load_areas(BL_KELURAHAN)


@pytest.fixture(scope="session")
def coded(bl):
    codes = bl.kelurahan["kode"].to_numpy()
    residents = pd.Series(np.random.default_rng(4).multinomial(3000, np.ones(len(codes)) / len(codes)), index=codes)
    reg = make_register(bl.kelurahan, residents, seed=4, as_of=AS_OF, election_date=ELECTION)
    return geocode(reg, bl)


def frame(bl, rows):
    """A hand-made geocoded register: (level, kode_kel, kode_kec, born, home_visit)."""
    return pd.DataFrame({
        "status": "matched",
        "level": [r[0] for r in rows],
        "kode_kel": [r[1] for r in rows],
        "kode_kec": [r[2] for r in rows],
        "tgl_lahir": pd.to_datetime([r[3] for r in rows]),
        "home_visit": [r[4] for r in rows],
    })


def test_classes_follow_precedence_and_dates(bl):
    kel = "18.71.01.1003"
    rows = [
        ("kelurahan", kel, "18.71.01", "2010-01-30", False),  # turns 17 on 2027-01-30, before the election: pemula
        ("kelurahan", kel, "18.71.01", "2010-03-01", False),  # turns 17 after the election: not yet wajib -> umum
        ("kelurahan", kel, "18.71.01", "2009-06-01", False),  # just turned 17: pemula
        ("kelurahan", kel, "18.71.01", "1950-01-01", False),  # 76: lansia
        ("kelurahan", kel, "18.71.01", "1950-01-01", True),   # flagged: home_visit beats lansia
        ("kelurahan", kel, "18.71.01", "2010-01-30", True),   # flagged: home_visit beats pemula
        ("kelurahan", kel, "18.71.01", "1990-01-01", False),  # umum
    ]
    klass = demand.classify(frame(bl, rows), AS_OF, ELECTION)
    assert list(klass) == ["pemula", "umum", "pemula", "lansia", "home_visit", "home_visit", "umum"]
    without_election = demand.classify(frame(bl, rows), AS_OF, None)
    assert without_election.iloc[0] == "umum" and without_election.iloc[2] == "pemula"


def test_birth_date_falls_back_to_nik():
    geo = pd.DataFrame({"status": ["matched"], "level": ["kelurahan"], "kode_kel": ["18.71.01.1003"],
                        "kode_kec": ["18.71.01"], "tgl_lahir": [pd.NaT],
                        "nik_tgl_lahir": [pd.Timestamp("1950-05-05")], "home_visit": [False]})
    assert demand.classify(geo, AS_OF, ELECTION).iloc[0] == "lansia"


def test_kecamatan_level_rows_spread_in_proportion(bl):
    kec = "18.71.01"
    members = bl.kelurahan.loc[bl.kelurahan["kode_kec"] == kec, "kode"].tolist()
    rows = [("kelurahan", members[0], kec, "1990-01-01", False)] * 3 + \
           [("kelurahan", members[1], kec, "1990-01-01", False)] * 1 + \
           [("kecamatan", "", kec, "1990-01-01", False)] * 8 + \
           [("kecamatan", "", kec, "1950-01-01", False)] * 5  # no kelurahan-level lansia: spread like all rows
    g = demand.gaps(frame(bl, rows), bl, AS_OF, ELECTION).set_index("kode_kel")
    assert g["unrecorded"].sum() == len(rows)
    assert g.loc[members[0], "umum"] == 3 + 6 and g.loc[members[1], "umum"] == 1 + 2
    assert g.loc[members, "lansia"].sum() == 5 and g.loc[members[2:], "umum"].sum() == 0
    assert g.loc[members[0], "lansia"] >= g.loc[members[1], "lansia"]
    # a kecamatan with no kelurahan-level matches: spread equally
    other = bl.kelurahan.loc[bl.kelurahan["kode_kec"] == "18.71.02", "kode"].tolist()
    g2 = demand.gaps(frame(bl, [("kecamatan", "", "18.71.02", "1990-01-01", False)] * (2 * len(other))),
                     bl, AS_OF, ELECTION).set_index("kode_kel")
    assert (g2.loc[other, "umum"] == 2).all()


def test_gaps_cover_every_kelurahan_and_add_up(bl, coded):
    g = demand.gaps(coded, bl, AS_OF, ELECTION)
    assert list(g.columns) == ["kode_kel", "nama_kel", "kode_kec", "nama_kec", "pemula", "lansia", "umum",
                               "home_visit", "unrecorded"]
    assert len(g) == len(bl.kelurahan) and g["kode_kel"].is_unique
    assert (g["unrecorded"] == g[demand.CLASSES].sum(axis=1)).all()
    assert g["unrecorded"].sum() == (coded["status"] == "matched").sum()
    assert g["home_visit"].sum() == (coded["home_visit"] & (coded["status"] == "matched")).sum()
    assert g["pemula"].sum() > 0 and g["lansia"].sum() > 0
    by_kec = demand.gaps_by_kecamatan(g)
    assert len(by_kec) == bl.kelurahan["kode_kec"].nunique() and by_kec["kelurahan"].sum() == len(g)
    assert by_kec["unrecorded"].sum() == g["unrecorded"].sum()
    matched = coded[coded["status"] == "matched"]
    assert (by_kec.set_index("kode_kec")["unrecorded"] == matched.groupby("kode_kec").size()
            .reindex(by_kec["kode_kec"], fill_value=0)).all()


def test_home_visits_are_points_inside_the_area_and_deterministic(bl, coded):
    visits = demand.home_visits(coded, bl, seed=3)
    flagged = coded[(coded["status"] == "matched") & coded["home_visit"]]
    assert len(visits) == len(flagged) > 0
    assert list(visits.columns) == ["visit_id", "kode_kel", "kode_kec", "lon", "lat"]
    assert visits["visit_id"].is_unique
    polygons = dict(zip(bl.kelurahan["kode"], bl.kelurahan.geometry))
    for _, v in visits.iterrows():
        assert polygons[v["kode_kel"]].buffer(1e-6).contains(shapely.Point(v["lon"], v["lat"]))
    pd.testing.assert_frame_equal(visits, demand.home_visits(coded, bl, seed=3))
    # never the resident's own coordinates
    own = flagged[flagged["lat"].notna()]
    if len(own):
        assert not set(zip(own["lon"].round(6), own["lat"].round(6))) & set(zip(visits["lon"], visits["lat"]))


def test_gaps_reject_an_ungeocoded_register(bl):
    with pytest.raises(ValueError, match="geocoded register"):
        demand.gaps(pd.DataFrame({"nik": ["1"]}), bl, AS_OF, ELECTION)
