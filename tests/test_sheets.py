"""schedule.xlsx/.csv and day sheets for a plan on the real Bandar Lampung kelurahan."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from planner import fmt, sheets
from planner.areas import load_areas
from planner.contracts import SCHEDULE_COLUMNS
from planner.plan import Plan
from planner.synth_plan import fake_plan

from conftest import BL_KECAMATAN, BL_KELURAHAN


@pytest.fixture(scope="module")
def areas():
    return load_areas(BL_KELURAHAN, BL_KECAMATAN)


@pytest.fixture(scope="module")
def plan(areas):
    return fake_plan(areas, seed=4, unit_names=["Van 1", "Van/2: Timur"])


@pytest.fixture(scope="module")
def register(plan, areas):
    """Home-visit residents with known names, one per scheduled visit, plus others who are not visited."""
    visits = plan.schedule[plan.schedule["job_kind"] == "home_visit"]
    rows = []
    for i, kode in enumerate(visits["kode_kel"]):
        rows.append({"nik": f"18710{i:011d}", "nama": f"Warga Kunjungan {i:03d}", "alamat": f"Jl. Rahasia {i}",
                     "rt": f"{i % 9 + 1:03d}", "rw": "002", "kode_kel": kode, "home_visit": True})
    for i in range(20):
        rows.append({"nik": f"18719{i:011d}", "nama": f"Warga Biasa {i:03d}", "alamat": f"Jl. Lain {i}",
                     "rt": "001", "rw": "001", "kode_kel": areas.kelurahan["kode"].iloc[i], "home_visit": False})
    return pd.DataFrame(rows)


def test_schedule_xlsx(plan, tmp_path):
    path = sheets.write_schedule_xlsx(plan, tmp_path / "schedule.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Ringkasan", "Van 1", "Van-2- Timur", "Kesenjangan", "Tidak terjadwal",
                               "Tidak terlayani"]
    ws = book["Van 1"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[:4] == ["Kendaraan", "Tanggal", "Hari", "Urutan"]
    tanggal = header.index("Tanggal") + 1
    mulai = header.index("Mulai") + 1
    first = ws.cell(row=2, column=tanggal).value
    assert isinstance(first, dt.datetime) and first.date() == dt.date(2026, 11, 23)
    assert isinstance(ws.cell(row=2, column=mulai).value, dt.time)
    assert ws.column_dimensions["F"].width > 10  # Lokasi: sized to content, not the default
    rows = plan.schedule[plan.schedule["unit"] == "Van 1"]
    assert ws.max_row - 1 == len(rows)
    gaps = pd.read_excel(path, sheet_name="Kesenjangan")
    assert len(gaps) == len(plan.gaps)
    assert gaps["Belum rekam"].sum() == plan.gaps["unrecorded"].sum()
    assert gaps["Belum rekam"].is_monotonic_decreasing
    unscheduled = pd.read_excel(path, sheet_name="Tidak terjadwal")
    assert len(unscheduled) == len(plan.unscheduled)
    assert list(unscheduled.columns)[:3] == ["Kode tugas", "Jenis", "Kode lokasi"]
    assert "Kelurahan/desa" in unscheduled.columns and "Alasan" in unscheduled.columns


def test_workbook_reads_in_bahasa_and_prints(plan, tmp_path):
    """#15: the Ringkasan names every KPI in Bahasa; every sheet prints landscape, one page wide,
    with its header row repeated.
    """
    import re

    path = sheets.write_schedule_xlsx(plan, tmp_path / "schedule.xlsx")
    summary = pd.read_excel(path, sheet_name="Ringkasan")
    labels = summary["Ukuran"].astype(str).tolist()
    assert "Minggu mulai" in labels and "Hari sesi direncanakan" in labels
    assert not [label for label in labels if re.fullmatch(r"[a-z]+(_[a-z]+)+", label)]  # no snake_case keys left
    assert len(summary) >= len(plan.kpis) + 4
    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.print_title_rows == "$1:$1", ws.title


def test_schedule_csv_round_trip(plan, tmp_path):
    path = sheets.write_schedule_csv(plan, tmp_path / "schedule.csv")
    back = pd.read_csv(path, dtype={"kode_kel": str, "kode_kec": str})
    assert list(back.columns) == SCHEDULE_COLUMNS
    assert len(back) == len(plan.schedule)
    assert back["date"].iloc[0] == "2026-11-23"
    assert back["start"].str.fullmatch(r"\d\d:\d\d").all()
    assert back["expected_recordings"].sum() == pytest.approx(plan.schedule["expected_recordings"].sum())


def test_day_sheets_without_names(plan, register, tmp_path):
    pages = sheets.write_day_sheets(plan, tmp_path)
    unit_days = plan.schedule[["unit", "date"]].drop_duplicates()
    assert len(pages) == len(unit_days) + 1
    page = (tmp_path / "2026-11-23_van-1.html").read_text(encoding="utf-8")
    assert "Senin, 23 November 2026" in page and "Lembar Kerja Harian" in page and "@media print" in page
    first_day = plan.schedule[(plan.schedule["unit"] == "Van 1") & (plan.schedule["date"] == "2026-11-23")]
    for name in first_day.loc[first_day["job_kind"] == "session", "name"]:
        assert name in page
    text = "".join(p.read_text(encoding="utf-8") for p in pages)
    for value in register["nama"].tolist() + register["nik"].tolist() + register["alamat"].tolist():
        assert value not in text


def test_day_sheets_with_names_only_for_visited(plan, register, tmp_path):
    pages = sheets.write_day_sheets(plan, tmp_path, register=register)
    text = "".join(p.read_text(encoding="utf-8") for p in pages)
    visited = register[register["home_visit"]]
    assert visited["nama"].map(lambda n: n in text).all()
    assert "RT 001/RW 002" in text or "RT 002/RW 002" in text
    assert not register.loc[~register["home_visit"], "nama"].map(lambda n: n in text).any()
    # the visiting team needs the address (issue #15); nobody else's, and never a NIK
    assert visited["alamat"].map(lambda a: a in text).all()
    assert not register.loc[~register["home_visit"], "alamat"].map(lambda a: f"{a}," in text).any()
    for value in register["nik"].tolist():
        assert value not in text
    assert "RAHASIA" in text


def test_day_sheets_escape_names(plan, register, tmp_path):
    bad = register.copy()
    bad.loc[bad.index[0], "nama"] = "<script>alert(1)</script>"
    text = "".join(p.read_text(encoding="utf-8") for p in sheets.write_day_sheets(plan, tmp_path, register=bad))
    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_incomplete_schedule_is_refused(plan, tmp_path):
    broken = Plan(name="x", week_start=plan.week_start, working_dates=plan.working_dates, gaps=plan.gaps,
                  schedule=plan.schedule.drop(columns=["start"]))
    with pytest.raises(ValueError, match="missing columns"):
        sheets.write_schedule_xlsx(broken, tmp_path / "s.xlsx")


def test_indonesian_dates():
    assert fmt.hari_tanggal(dt.date(2026, 11, 27)) == "Jumat, 27 November 2026"
    assert fmt.hari_tanggal("2026-08-17T08:00", short=True) == "Sen 17 Agu"
    assert fmt.minutes_text(95) == "1 j 35 mnt"


def test_named_sheets_find_each_visit_by_its_register_row(plan, tmp_path):
    """Visit V-HV00007 is the resident on register row 7, whatever other rows the register holds."""
    schedule = plan.schedule.copy()
    visits = schedule.index[schedule["job_kind"] == "home_visit"]
    schedule.loc[visits, "job_id"] = [f"V-HV{2 * i:05d}" for i in range(1, len(visits) + 1)]
    numbered = Plan(name=plan.name, week_start=plan.week_start, working_dates=plan.working_dates, gaps=plan.gaps,
                    schedule=schedule)
    rows = []
    for i, kode in enumerate(schedule.loc[visits, "kode_kel"], start=1):
        rows.append({"row": 2 * i - 1, "nama": f"Tak Dikunjungi {i:03d}", "rt": "001", "rw": "", "kode_kel": None,
                     "alamat": "", "home_visit": True, "status": "unmatched"})
        rows.append({"row": 2 * i, "nama": f"Ibu Terdaftar {i:03d}", "rt": "004", "rw": "001", "kode_kel": kode,
                     "alamat": f"Jl. Mawar {i}", "home_visit": True, "status": "matched"})
    register = pd.DataFrame(rows).sample(frac=1, random_state=3)  # order does not matter, the row does
    sheets.write_day_sheets(numbered, tmp_path, register=register)
    for i, (unit, date) in enumerate(zip(schedule.loc[visits, "unit"], schedule.loc[visits, "date"]), start=1):
        page = (tmp_path / f"{date}_{sheets._slug(unit)}.html").read_text(encoding="utf-8")
        assert f"<b>Ibu Terdaftar {i:03d}</b>, Jl. Mawar {i}, RT 004/RW 001" in page
        assert "Tak Dikunjungi" not in page


def test_named_lines_leave_out_what_the_register_lacks():
    line = sheets._resident_line({"nama": "Nanda", "alamat": "", "rt": "", "rw": None, "no_hp": "0812 1",
                                  "home_visit_reason": "disabilitas"})
    assert line == "<b>Nanda</b>, telp. 0812 1, alasan: disabilitas"
    assert "RT" not in sheets._resident_line({"nama": "Ani", "rt": float("nan")})


def test_cli_map_and_sheets(plan, register, tmp_path):
    from typer.testing import CliRunner

    from planner.cli import app

    plan.areas_ref = {"kelurahan": str(BL_KELURAHAN), "kecamatan": str(BL_KECAMATAN)}
    saved = plan.save(tmp_path / "plan.json")
    runner = CliRunner()
    result = runner.invoke(app, ["map", str(saved), "--out", str(tmp_path / "map.html"), "--offline",
                                 "--gpkg", str(tmp_path / "plan.gpkg")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "map.html").stat().st_size > 100_000 and (tmp_path / "plan.gpkg").exists()
    result = runner.invoke(app, ["sheets", str(saved), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "schedule.xlsx").exists() and (tmp_path / "out" / "day-sheets" / "index.html").exists()
    result = runner.invoke(app, ["sheets", str(saved), "--out", str(tmp_path / "named"), "--with-names"])
    assert result.exit_code == 2 and "--register" in result.output
    register.to_csv(tmp_path / "register.csv", index=False)
    result = runner.invoke(app, ["sheets", str(saved), "--out", str(tmp_path / "named"), "--with-names",
                                 "--register", str(tmp_path / "register.csv")])
    assert result.exit_code == 0, result.output
    named = "".join(p.read_text(encoding="utf-8")
                    for p in (tmp_path / "named" / "private" / "lembar-harian-nama").glob("*.html"))
    assert "Warga Kunjungan 000" in named
