"""Reading tables people give planner: no row lost, merged, split or shifted without a report."""

from __future__ import annotations

import csv
import datetime as dt

import openpyxl
import pandas as pd
import pytest

from planner import tables
from planner.areas import load_areas
from planner.errors import InputError
from planner.progress import apply, initial_state, read_list
from planner.register import RegisterError, read_register
from planner.synth_register import make_register

from conftest import BL_KECAMATAN, BL_KELURAHAN

COLUMNS = ["nik", "nama", "alamat", "kelurahan", "kecamatan", "tgl_lahir", "home_visit"]


@pytest.fixture(scope="module")
def residents():
    """400 generated residents of real Bandar Lampung kelurahan, as an office would export them."""
    areas = load_areas(BL_KELURAHAN, BL_KECAMATAN)
    counts = pd.Series(4, index=areas.kelurahan["kode"].iloc[:100])
    reg = make_register(areas.kelurahan, counts, seed=11, as_of=dt.date(2026, 11, 23))
    out = pd.DataFrame({c: reg[c].astype(str) if c in reg else "" for c in COLUMNS})
    out["home_visit"] = "tidak"
    out["alamat"] = out["alamat"].str.replace('"', "", regex=False)
    out["tgl_lahir"] = "01-02-1990"
    assert len(out) == 400
    return out


def _write(frame: pd.DataFrame, path, lines_hook=None, sep=","):
    """Write as CSV; `lines_hook(lines)` may corrupt physical lines (index 0 is the header)."""
    frame.to_csv(path, index=False, sep=sep, quoting=csv.QUOTE_MINIMAL)
    if lines_hook is not None:
        lines = path.read_text(encoding="utf-8").split("\n")
        lines_hook(lines)
        path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_unclosed_quote_does_not_swallow_the_next_resident(residents, tmp_path):
    def hook(lines):
        nik, rest = lines[10].split(",", 1)
        lines[10] = f'{nik},"{rest}'  # a stray opening quote, never closed
    reg = read_register(_write(residents, tmp_path / "r.csv", hook))
    assert len(reg) == 400
    assert reg.loc[9, "nik"] == residents.loc[9, "nik"] and reg.loc[10, "nik"] == residents.loc[10, "nik"]
    assert "line 11" in reg.loc[9, "row_problem"] and "quote" in reg.loc[9, "row_problem"]
    report = reg.attrs["read_report"]
    assert [line for line, _ in report.problems] == [11]


def test_extra_trailing_fields_do_not_shift_columns(residents, tmp_path):
    def hook(lines):
        lines[20] = lines[20] + ",ya,catatan"  # two extra fields after home_visit
    reg = read_register(_write(residents, tmp_path / "r.csv", hook))
    assert len(reg) == 400
    row = reg.loc[19]
    assert row["home_visit"] == False  # noqa: E712  (it said 'tidak'; the extra 'ya' must not become it)
    assert row["alamat"] == residents.loc[19, "alamat"] and row["kecamatan"] == residents.loc[19, "kecamatan"]
    assert "line 21" in row["row_problem"] and "not read" in row["row_problem"]


def test_unquoted_separator_in_an_address_is_joined_back(residents, tmp_path):
    frame = residents.copy()
    frame.loc[5, "alamat"] = "Jl. Kartini No. 3"

    def hook(lines):
        lines[6] = lines[6].replace("Jl. Kartini No. 3", "Jl. Kartini, No. 3")
    reg = read_register(_write(frame, tmp_path / "r.csv", hook))
    assert reg.loc[5, "alamat"] == "Jl. Kartini, No. 3" and reg.loc[5, "kecamatan"] == frame.loc[5, "kecamatan"]
    assert "joined back" in reg.loc[5, "row_problem"]


def test_bare_carriage_return_inside_a_field_does_not_split_the_row(residents, tmp_path):
    frame = residents.copy()
    frame.loc[30, "alamat"] = "Jl. Pagar Alam\rGg. Mawar"
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False, lineterminator="\r\n")
    reg = read_register(path)
    assert len(reg) == 400
    assert reg.loc[30, "alamat"] == "Jl. Pagar Alam Gg. Mawar"
    assert reg.loc[31, "nik"] == frame.loc[31, "nik"]


def test_one_cp1252_byte_in_a_utf8_file_garbles_only_its_line(residents, tmp_path):
    frame = residents.copy()
    frame.loc[3, "nama"] = "Siti Nur’aini"  # a UTF-8 apostrophe
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False, encoding="utf-8")
    raw = path.read_bytes().replace(frame.loc[50, "nama"].encode(), frame.loc[50, "nama"].encode() + b"\xe9")
    path.write_bytes(raw)
    reg = read_register(path)
    assert reg.loc[3, "nama"] == "Siti Nur’aini"
    assert reg.loc[50, "nama"] == frame.loc[50, "nama"] + "é"
    assert reg.attrs["read_report"].encoding == "utf-8 + cp1252"


def test_xlsx_register_over_two_sheets_after_an_instructions_sheet(residents, tmp_path):
    path = tmp_path / "r.xlsx"
    book = openpyxl.Workbook()
    intro = book.active
    intro.title = "Petunjuk"
    intro["A1"] = "Isi daftar penduduk belum rekam di sheet berikutnya."
    book.create_sheet("Kosong")
    for name, part in (("Data 1", residents.iloc[:200]), ("Data 2", residents.iloc[200:])):
        sheet = book.create_sheet(name)
        sheet.append(COLUMNS)
        for row in part.itertuples(index=False):
            sheet.append(list(row))
    book.save(path)
    reg = read_register(path)
    assert len(reg) == 400 and list(reg["nik"]) == list(residents["nik"])
    report = reg.attrs["read_report"]
    assert report.sheets == ["Data 1", "Data 2"] and "Petunjuk" in report.skipped_sheets


def test_xlsx_without_a_register_sheet_names_the_sheets(tmp_path):
    path = tmp_path / "r.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Petunjuk"
    book.active["A1"] = "Belum ada data"
    book.save(path)
    with pytest.raises(RegisterError, match="Petunjuk"):
        read_register(path)


def test_a_folder_as_table_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="folder"):
        tables.read_table(tmp_path, what="register")


def test_formula_guard_covers_every_risky_start_and_round_trips(tmp_path):
    risky = ["=1+1", "+SUM(A1)", "-2+3+cmd|' /C calc'!A0", "@SUM(1)", "\t=1", "\r=1", " =1", "=HYPERLINK(\"x\")"]
    plain = ["-5.43", "105.26", "+62", "Jl. A", "", "- ", "RT 01"]
    frame = pd.DataFrame({"text": risky + plain})
    path = tables.write_csv(frame, tmp_path / "out.csv")
    written = pd.read_csv(path, dtype=str, keep_default_na=False)["text"].tolist()
    for value, cell in zip(risky, written):
        assert cell.startswith("'"), value
    assert written[len(risky):len(risky) + 3] == ["-5.43", "105.26", "+62"]
    assert tables.read_own_csv(path)["text"].tolist() == risky + plain
    assert tables.looks_like_formula("-2+3+cmd|' /C calc'!A0") and not tables.looks_like_formula("-5.43")


def test_xlsx_cells_are_strings_not_formulas(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["=1+1", "Kedaton"])
    tables.xlsx_text_cells(sheet)
    book.save(tmp_path / "x.xlsx")
    back = openpyxl.load_workbook(tmp_path / "x.xlsx").active
    assert back["A1"].data_type == "s" and back["A1"].value == "'=1+1"


def test_semicolon_not_found_list_with_reason(tmp_path):
    path = tmp_path / "tidak-ditemukan.csv"
    path.write_text("nik;reason\n1871014508990003;pindah\n1871020101050001;meninggal\n", encoding="utf-8")
    listed = read_list(path, with_reason=True)
    assert listed["nik"].tolist() == ["1871014508990003", "1871020101050001"]
    assert listed["reason"].tolist() == ["pindah", "meninggal"]


def test_blank_and_mangled_niks_on_a_recorded_list_are_reported(residents, tmp_path):
    from planner.geocode import geocode

    areas = load_areas(BL_KELURAHAN, BL_KECAMATAN)
    reg = read_register(_write(residents, tmp_path / "r.csv"))
    state = initial_state(geocode(reg, areas))
    niks = reg["nik"].iloc[:5].tolist() + ["", " ", "1,87101E+15", "187101450899000"]
    path = tmp_path / "terekam.csv"
    pd.DataFrame({"nik": niks}).to_csv(path, index=False)
    done = apply(state, read_list(path), week=dt.date(2026, 11, 23))
    reasons = done.issues["reason"].tolist()
    assert sum("blank NIK" in r for r in reasons) == 2
    assert any("scientific notation" in r and "as text" in r for r in reasons)
    assert any("15 digits" in r for r in reasons)
    assert done.after["recorded"] == 5
    assert len(done.issues) + done.after["recorded"] - done.before["recorded"] == len(niks)


def test_a_nik_closing_several_rows_says_so(residents, tmp_path):
    from planner.geocode import geocode

    areas = load_areas(BL_KELURAHAN, BL_KECAMATAN)
    frame = residents.copy()
    frame.loc[:80, "nik"] = frame.loc[0, "nik"]  # one NIK on 81 rows
    reg = read_register(_write(frame, tmp_path / "r.csv"))
    state = initial_state(geocode(reg, areas))
    done = apply(state, [frame.loc[0, "nik"]], week=dt.date(2026, 11, 23))
    assert any("closes 81 register rows" in r for r in done.issues["reason"])
