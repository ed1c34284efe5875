"""Property tests (hypothesis) over what people hand planner: register files, area names, progress lists.

The properties (#14): never a traceback (an InputError with a message is an answer, anything else a
bug); every register row ends in exactly one bucket, so rows in = matched + ambiguous + unmatched +
invalid; names from data are never evaluated as templates; a progress list never invents or loses a
resident.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.areas import load_areas
from planner.contracts import GEOCODE_STATUSES
from planner.errors import InputError
from planner.geocode import Gazetteer, geocode
from planner.progress import apply, initial_state, read_list
from planner.register import clean_nik, read_register
from planner.synth_register import make_register
from tests.conftest import BL_KECAMATAN, BL_KELURAHAN, GAZETTEER

FUZZ = settings(max_examples=50, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
COLUMNS = ["nik", "nama", "alamat", "rt", "rw", "kelurahan", "kecamatan", "tgl_lahir", "home_visit"]
# characters that break naive readers and templates: separators, quotes, CR/LF, braces, formula starts
NASTY = st.sampled_from(list(",;\t\"'\r\n{}%#<>&=+-@|\\`$") + ["{{", "{%", "{#", "}}", "</script>", "’", "é", "𝔸"])
TEXT = st.lists(st.one_of(NASTY, st.text(max_size=6)), max_size=6).map("".join)
NIK_NOISE = st.sampled_from(["", "1,87101E+15", "1871 0101 0101 0001", "１８７１０１０１０１０１０００１", "18710",
                             "abc", "1.871.010.101.010.001", "=1+1", "0000000000000000"])


@pytest.fixture(scope="module")
def areas():
    return load_areas(BL_KELURAHAN, BL_KECAMATAN)


@pytest.fixture(scope="module")
def gazetteer(areas):
    return Gazetteer.from_areas(areas, GAZETTEER)


@pytest.fixture(scope="module")
def base(areas):
    """Generated residents of real Bandar Lampung kelurahan, the rows the fuzzer damages."""
    reg = make_register(areas.kelurahan, pd.Series(2, index=areas.kelurahan["kode"].iloc[:60]), seed=3,
                        as_of=dt.date(2026, 11, 23))
    return pd.DataFrame({c: reg[c].astype(str) if c in reg else "" for c in COLUMNS}).fillna("")


@st.composite
def register_files(draw, base: pd.DataFrame):
    """A register as bytes: some rows, damaged cells, a delimiter, an encoding, maybe a broken line."""
    rows = draw(st.lists(st.integers(0, len(base) - 1), min_size=1, max_size=25))
    frame = base.iloc[rows].reset_index(drop=True).copy()
    for _ in range(draw(st.integers(0, 12))):
        r = draw(st.integers(0, len(frame) - 1))
        column = draw(st.sampled_from(COLUMNS))
        frame.loc[r, column] = draw(NIK_NOISE if column == "nik" else TEXT)
    frame["nik"] = frame["nik"].where(frame["nik"].str.strip() != "", "tanpa NIK")  # a row is never blank
    sep = draw(st.sampled_from([",", ";", "\t"]))
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, sep=sep, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    text = buffer.getvalue()
    if draw(st.booleans()):  # one physical line loses a quote or gains stray fields
        lines = text.split("\r\n")
        k = draw(st.integers(1, max(1, len(lines) - 2)))
        lines[k] = draw(st.sampled_from(['"' + lines[k], lines[k] + sep + "x" + sep + "y", lines[k].replace('"', "")]))
        text = "\r\n".join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return text.encode(encoding, errors="replace"), len(frame)


@FUZZ
@given(data=st.data())
def test_register_rows_in_equal_rows_out_in_one_bucket(tmp_path, base, areas, gazetteer, data):
    raw, n = data.draw(register_files(base))
    path = tmp_path / "register.csv"
    path.write_bytes(raw)
    try:
        register = read_register(path)
    except InputError as exc:  # a message for the user is an answer
        assert str(exc).strip()
        return
    assert len(register) == n  # never merged, split or dropped
    coded = geocode(register, areas, gazetteer)
    assert len(coded) == n
    assert set(coded["status"]) <= set(GEOCODE_STATUSES)
    assert coded["status"].value_counts().sum() == n
    matched = coded["status"] == "matched"
    assert coded.loc[matched, "kode_kec"].str.startswith("18.71").all()


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(names=st.lists(TEXT, min_size=1, max_size=4), a=st.integers(101, 999), b=st.integers(101, 999))
def test_area_names_are_never_templates(areas, names, a, b):
    from planner.maps import plan_map, render_html
    from planner.synth_plan import fake_plan

    payload = [f"{n}{{{{ {a}*{b} }}}}" for n in names] + ["{% for x in range(3) %}x{% endfor %}", "{#"]
    kel_names = dict(zip(areas.kelurahan["kode"], payload))
    plan = fake_plan(areas, seed=1, kel_names=kel_names, unit_names=[payload[0], "Van 2", "Van 3"])
    html_text = render_html(plan_map(plan, areas, tiles=None))
    # folium names each element with a random 32-hex id, where a product's digits can turn up by chance
    html_text = re.sub(r"_[0-9a-f]{32}\b", "_id", html_text)
    assert str(a * b) not in html_text  # the expression was not evaluated
    assert f"{a}*{b}" in html_text  # ... and the name is still there
    assert "xxx" not in html_text


@FUZZ
@given(data=st.data())
def test_progress_lists_never_invent_or_lose_residents(tmp_path, base, areas, gazetteer, data):
    coded = geocode(base, areas, gazetteer)
    state = initial_state(coded)
    niks = list(base["nik"])
    valid = sorted({n for n in niks if re.fullmatch(r"\d{16}", n)})
    listed = data.draw(st.lists(st.one_of(st.sampled_from(valid), NIK_NOISE, TEXT), max_size=40))
    sep = data.draw(st.sampled_from([",", ";"]))
    header = data.draw(st.booleans())
    lines = (["nik" + sep + "alasan"] if header else []) + [
        f'"{v}"{sep}' + data.draw(st.sampled_from(["", "pindah", "meninggal", "?"])) for v in
        (x.replace('"', "") for x in listed)]
    path = tmp_path / "list.csv"
    path.write_text("\r\n".join(lines), encoding="utf-8")
    try:
        recorded = read_list(path)
    except InputError as exc:
        assert str(exc).strip()
        return
    result = apply(state, recorded, week=dt.date(2026, 11, 23))
    after = result.state
    assert len(after) == len(state)
    counts = after["state"].value_counts()
    assert counts.sum() == len(state)
    closed = set(after.loc[after["state"] == "recorded", "nik"])
    assert closed <= set(niks)  # only residents of the register are closed...
    assert closed <= {clean_nik(x) for x in listed}  # ...and only those on the list
    assert {x for x in listed if x in valid} <= closed  # everyone listed with a real NIK is closed
