"""register.py: reading messy register files, column recognition, NIK parsing, per-row flags."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from planner import i18n
from planner.errors import MissingFileError
from planner.register import RegisterError, parse_nik, read_register, standardise

HEADER = "NIK;Nama Lengkap;ALAMAT;RT;RW;Kel_Desa;Kecamatan;Tanggal Lahir;JK;Latitude;Lng\n"
ROWS = [
    "1871014508990003;Siti Aisyah;Jl. Teuku Umar No. 5;003;002;Kedaton;Kedaton;05-08-1999;P;-5,3801;105,2571\n",
    "1871020101050001;Budi Gunawan;Gg. Mawar 2, Kel. Sukarame;1;1;;;01/01/2005;Laki-laki;;\n",
    "1871xx;Dewi Ñoño Café;=HYPERLINK(\"http://evil\");;;;;;P;;\n",
]


def write(path, text: str, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_parse_nik_decodes_region_birth_date_and_sex():
    woman = parse_nik("1871014508990003")
    assert woman.kode_kec == "18.71.01" and woman.kode_kab == "18.71" and woman.kode_prov == "18"
    assert woman.tgl_lahir == dt.date(1999, 8, 5) and woman.jenis_kelamin == "P" and woman.serial == "0003"
    man = parse_nik(" 1871020101050001 ")
    assert man.jenis_kelamin == "L" and man.tgl_lahir == dt.date(2005, 1, 1)
    for bad in ("1871", "18710145089900031", "1871013213990001", "187101450899000x", "", None, "1871014513990001"):
        assert parse_nik(bad) is None, bad


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
def test_reads_csv_in_common_encodings_with_semicolons(tmp_path, encoding):
    path = write(tmp_path / "reg.csv", HEADER + "".join(ROWS), encoding)
    reg = read_register(path)
    assert list(reg["row"]) == [1, 2, 3]
    assert reg.loc[2, "nama"] == "Dewi Ñoño Café"
    assert reg.loc[0, "kelurahan"] == "Kedaton" and reg.loc[0, "rt"] == "003"
    assert reg.loc[0, "lat"] == pytest.approx(-5.3801) and reg.loc[0, "lon"] == pytest.approx(105.2571)
    assert list(reg["jenis_kelamin"]) == ["P", "L", "P"]
    assert reg.loc[1, "tgl_lahir"] == pd.Timestamp("2005-01-01")
    # the original columns stay untouched next to the canonical ones
    assert "Nama Lengkap" in reg.columns and reg.loc[0, "Kel_Desa"] == "Kedaton"


def test_flags_bad_nik_and_formula_cells_without_dropping_rows(tmp_path):
    reg = read_register(write(tmp_path / "reg.csv", HEADER + "".join(ROWS)))
    assert len(reg) == 3
    assert list(reg["nik_valid"]) == [True, True, False]
    assert reg.loc[2, "nik_problem"] == "NIK is not 16 digits"
    assert "formula" in reg.loc[2, "row_problem"] and reg.loc[2, "alamat"] == ""
    assert reg.loc[0, "nik_kode_kec"] == "18.71.01"


def test_flags_nik_that_disagrees_with_birth_date_or_sex():
    frame = pd.DataFrame({
        "nik": ["1871014508990003", "1871014508990003", "1871014508990003"],
        "tgl_lahir": ["1999-08-05", "1999-08-06", "1999-08-05"],
        "jenis_kelamin": ["P", "P", "L"],
        "alamat": ["a", "b", "c"],
    })
    reg = standardise(frame)
    assert list(reg["nik_dob_mismatch"]) == [False, True, False]
    assert list(reg["nik_sex_mismatch"]) == [False, False, True]
    assert reg.loc[0, "nik_problem"] == "" and "birth date" in reg.loc[1, "nik_problem"]
    assert "sex" in reg.loc[2, "nik_problem"] and list(reg["nik_valid"]) == [True, True, True]


def test_reads_xlsx_with_numbers_and_dates(tmp_path):
    path = tmp_path / "reg.xlsx"
    pd.DataFrame({"No NIK": [1871014508990003, 1871020101050001], "Alamat Lengkap": ["Kel. Kedaton", "Sukarame"],
                  "Tgl_Lahir": [dt.datetime(1999, 8, 5), dt.datetime(2005, 1, 1)],
                  "Jenis Kelamin": ["PEREMPUAN", "L"]}).to_excel(path, index=False)
    reg = read_register(path)
    assert list(reg["nik_valid"]) == [True, True] and list(reg["nik"]) == ["1871014508990003", "1871020101050001"]
    assert reg.loc[0, "tgl_lahir"] == pd.Timestamp("1999-08-05") and list(reg["jenis_kelamin"]) == ["P", "L"]
    assert not reg["nik_dob_mismatch"].any()


def test_explicit_mapping_in_either_direction(tmp_path):
    path = write(tmp_path / "reg.csv", "Nomor,Alamat KTP,Wilayah\n1871014508990003,Jl. A,Kedaton\n")
    for mapping in ({"nik": "Nomor", "alamat": "Alamat KTP", "kelurahan": "Wilayah"},
                    {"Nomor": "nik", "Alamat KTP": "alamat", "Wilayah": "kelurahan"}):
        reg = read_register(path, mapping=mapping)
        assert reg.loc[0, "nik_valid"] and reg.loc[0, "alamat"] == "Jl. A" and reg.loc[0, "kelurahan"] == "Kedaton"
    with pytest.raises(RegisterError, match="the file has no column 'No Such Column'; its columns are Nomor, "):
        read_register(path, mapping={"alamat": "No Such Column"})
    with pytest.raises(RegisterError, match="canonical name = file column"):
        read_register(path, mapping={"adress": "Alamat KTP"})


def test_unusable_files_raise_clear_errors(tmp_path):
    cases = {
        "empty.csv": b"",
        "blank.csv": b"\n\n  \n",
        "header_only.csv": b"nik,nama,alamat\n",
        "no_location.csv": b"foo,bar\n1,2\n",
        "binary.csv": b"\x00\x01\x02garbage\x00" * 50,
        "only_lat.csv": b"nama,lat\nA,-5.4\n",
    }
    messages = {"empty.csv": "empty", "blank.csv": "no content", "header_only.csv": "no data rows",
                "no_location.csv": "no column to locate", "binary.csv": "NUL",
                "only_lat.csv": "both lat and lon"}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(RegisterError, match=messages[name]):
            read_register(path)
    with pytest.raises(MissingFileError, match="not found"):
        read_register(tmp_path / "missing.csv")
    with pytest.raises(RegisterError, match="folder"):
        read_register(tmp_path)
    (tmp_path / "fake.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(RegisterError, match="XLSX"):
        read_register(tmp_path / "fake.xlsx")


def test_very_long_line_is_refused_while_streaming(tmp_path):
    """A 64 MB line (stand-in for the 1 GB case: the check streams 16 MiB chunks, memory does not grow
    with the line) is refused with the line number, before pandas tries to hold it.
    """
    path = tmp_path / "long.csv"
    with open(path, "wb") as handle:
        handle.write(b"nik,alamat\n1871014508990003,Jl. A\n1871014508990003,")
        chunk = b"x" * (1 << 20)
        for _ in range(64):
            handle.write(chunk)
        handle.write(b"\n")
    with pytest.raises(RegisterError, match="line 3 is longer than"):
        read_register(path)


def test_utf16_with_bom_is_read(tmp_path):
    path = write(tmp_path / "reg.csv", "nik\talamat\n1871014508990003\tKel. Kedaton\n", "utf-16")
    reg = read_register(path)
    assert reg.loc[0, "alamat"] == "Kel. Kedaton" and reg.loc[0, "nik_valid"]


def test_blank_rows_inside_the_file_are_kept(tmp_path):
    reg = read_register(write(tmp_path / "reg.csv", "nik,alamat\n1871014508990003,A\n,\n1871014508990003,B\n\n\n"))
    assert list(reg["row"]) == [1, 2, 3] and list(reg["alamat"]) == ["A", "", "B"]


def test_title_rows_above_the_header_are_skipped(tmp_path):
    text = "DAFTAR PENDUDUK BELUM REKAM KTP-EL;;\nKecamatan Kedaton, Desember 2025;;\nNIK;Nama;Alamat\n" \
           "1871014508990003;Siti;Kel. Kedaton\n1871020101050001;Budi;Sukarame\n"
    reg = read_register(write(tmp_path / "reg.csv", text))
    assert list(reg["row"]) == [1, 2] and list(reg["alamat"]) == ["Kel. Kedaton", "Sukarame"]
    assert reg["nik_valid"].all()


def test_nik_stored_as_float_by_excel_is_recovered():
    reg = standardise(pd.DataFrame({"nik": ["1.871014508990003e+15", "1.87101E+15"], "alamat": ["a", "b"]}))
    assert list(reg["nik_valid"]) == [True, False] and reg.loc[0, "nik"] == "1871014508990003"


def test_unquoted_separators_in_addresses_are_joined_back_and_flagged(tmp_path):
    text = ("REGISTER 2025\nnik,alamat,kecamatan\n1871014508990003,Jl. A No. 1, Kel. Kedaton,Kedaton\n"
            "1871020101050001,Sukarame,Sukarame\n1871020101050001,Sukarame\n")
    reg = read_register(write(tmp_path / "reg.csv", text))
    assert list(reg["row"]) == [1, 2, 3]
    assert reg.loc[0, "alamat"] == "Jl. A No. 1, Kel. Kedaton" and reg.loc[0, "kecamatan"] == "Kedaton"
    assert "extra ','" in reg.loc[0, "row_problem"] and reg.loc[1, "row_problem"] == ""
    assert "only 2 of 3 fields" in reg.loc[2, "row_problem"] and reg.loc[2, "kecamatan"] == ""


# ---- no silent loss (issues #14, #15) ------------------------------------------------------------
def _register(tmp_path, frame: pd.DataFrame, name="reg.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return read_register(path)


def test_a_recognisable_column_is_mapped_or_named_with_its_scenario_line(tmp_path):
    n = 23
    frame = pd.DataFrame({"NIK": [f"18710145089900{i:02d}" for i in range(1, n + 1)], "Alamat": "Jl. Kartini",
                          "Kelurahan": "Kedaton", "Perlu Dikunjungi": ["ya"] * n, "Tgl": ["12-03-2001"] * n,
                          "Keterangan": "-"})
    reg = _register(tmp_path, frame)
    assert reg["home_visit"].sum() == n  # today all 23 home visits vanish silently
    report = reg.attrs["import_report"]
    text = "\n".join(report.messages())
    assert "column 'Perlu Dikunjungi' read as home_visit" in text
    assert "kolom 'Perlu Dikunjungi' dibaca sebagai home_visit" in i18n.text(text)  # what the office reads
    assert '[register.columns] tgl_lahir = "Tgl"' in text
    assert "Keterangan" in report.unused


def test_a_column_that_only_looks_like_a_field_is_suggested_not_mapped(tmp_path):
    frame = pd.DataFrame({"nik": ["1871014508990003", "1871020101050001", "1871020101050002"],
                          "alamat": "Jl. A", "Status": ["ya", "tidak", "ya"]})
    reg = _register(tmp_path, frame)
    assert not reg["home_visit"].any()
    assert ("Status", "home_visit", "ya/tidak values") in reg.attrs["import_report"].suggestions


def test_niks_mangled_by_spreadsheets_get_the_exact_explanation(tmp_path):
    frame = pd.DataFrame({"nik": ["1,87101E+15", "187101450899000", "1871014508990000", "1,871,014,508,990,003",
                                  "１８７１０１４５０８９９０００３"], "alamat": "Jl. A"})
    reg = _register(tmp_path, frame)
    problems = reg["nik_problem"].tolist()
    assert "scientific notation" in problems[0] and "as text" in problems[0]
    assert "15 digits" in problems[1]
    assert "rounded" in problems[2]
    assert reg["nik_valid"].tolist()[3:] == [True, True]  # separators and full-width digits repaired
    assert reg["nik"].tolist()[3:] == ["1871014508990003", "1871014508990003"]
    assert reg.attrs["import_report"].duplicate_niks == 1


def test_birth_dates_english_month_first_and_impossible_ones(tmp_path):
    frame = pd.DataFrame({"alamat": "Jl. A", "tgl_lahir": ["Mar 12, 2001", "12 Maret 2001", "2090-01-01",
                                                           "1850-05-05"]})
    reg = _register(tmp_path, frame)
    assert reg["tgl_lahir"].iloc[0] == pd.Timestamp("2001-03-12") == reg["tgl_lahir"].iloc[1]
    assert reg["tgl_lahir"].iloc[2:].isna().all()
    assert "future" in reg["row_problem"].iloc[2] and "120 years" in reg["row_problem"].iloc[3]


def test_coordinates_with_hemisphere_letters(tmp_path):
    frame = pd.DataFrame({"alamat": "Jl. A", "lat": ["5.43 LS", "-5,43", "5°25'48\" LS"],
                          "lon": ["105.26 BT", "105,26", "105.26 E"]})
    reg = _register(tmp_path, frame)
    assert reg["lat"].round(4).tolist() == [-5.43, -5.43, -5.43]
    assert reg["lon"].tolist() == [105.26, 105.26, 105.26]
