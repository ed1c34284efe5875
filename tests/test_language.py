"""#15: one language layer. Bahasa Indonesia by default, English with --lang en / PLANNER_LANG=en.

The city's real plan is made once through the CLI; its workbook is read cell by cell in both languages.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from planner import fmt, i18n, register, sheets
from planner.cli import app

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "scenarios" / "bandar-lampung.toml"
FIELD = re.compile(r"\{(\w+)\}")
#: Words that only an English sentence would have (Bahasa cells may hold place names, codes, numbers).
ENGLISH = re.compile(r"\b(the|does not|doesn't|over this|session-days?|working day|capacity|residents|within|"
                     r"could not|first-time|unrecorded|scheduled|travel|home visit)\b", re.I)


def _msgids_in_code() -> dict[str, str]:
    """Every literal first argument of t() / en() in planner/, with the file it is in."""
    found = {}
    for path in (ROOT / "planner").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("t", "en") and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value, path.name)
    return found


def _labels() -> list[str]:
    """Msgids kept in tables rather than written at the call."""
    return [*sheets.ACTIVITY.values(), *sheets.VEHICLE.values(), *sheets.KPI_LABELS.values(),
            *sheets.BLANGKO_LABELS.values(), *sheets.SHEETS, *sheets.DAY_HEADERS, *register.VALUE_KINDS.values()]


def test_every_message_in_the_code_has_its_bahasa_with_the_same_fields():
    id_ = i18n.catalogue("id")
    wanted = {**_msgids_in_code(), **{label: "sheets.py" for label in _labels()}}
    assert len(wanted) > 100  # the scan finds the calls
    missing = sorted(f"{where}: {msgid!r}" for msgid, where in wanted.items() if msgid not in id_)
    assert not missing, "\n".join(missing)
    for msgid, translated in id_.items():
        assert set(FIELD.findall(msgid)) == set(FIELD.findall(translated)), msgid


def test_stored_english_is_translated_back_for_every_template():
    """en() keeps data in English; text() must find every template again, values carried over."""
    with i18n.using("id"):
        for msgid in i18n.catalogue("id"):
            fields = sorted(set(FIELD.findall(msgid)))
            values = {name: f"Nilai{i}" for i, name in enumerate(fields)}
            stored = i18n.en(msgid, **values)
            assert i18n.text(stored) == i18n.t(msgid, **values), msgid
    with i18n.using("en"):
        assert i18n.text(i18n.en("home visit has no coordinates")) == "home visit has no coordinates"


def test_numbers_and_dates_follow_the_language():
    day = dt.date(2026, 11, 27)
    with i18n.using("id"):
        assert fmt.hari_tanggal(day) == "Jumat, 27 November 2026" and fmt.number(1234567) == "1.234.567"
        assert i18n.t("{n} row(s): {problem}", n=1234.5, problem="x") == "1.234,5 baris: x"
    with i18n.using("en"):
        assert fmt.hari_tanggal(day) == "Friday, 27 November 2026" and fmt.minutes_text(95) == "1 h 35 min"
        assert fmt.number(1234567) == "1,234,567"


def test_language_from_environment_and_a_wrong_one_is_named(monkeypatch):
    broken = ROOT / "tests" / "data" / "broken.toml"
    bahasa = CliRunner().invoke(app, ["validate", str(broken)])
    english = CliRunner().invoke(app, ["validate", str(broken)], env={"PLANNER_LANG": "en_US.UTF-8"})
    assert "masalah di" in bahasa.output and "problem(s) in" in english.output
    wrong = CliRunner().invoke(app, ["--lang", "fr", "validate", str(broken)])
    assert wrong.exit_code == 2 and "--lang" in wrong.output and "id, en" in wrong.output
    i18n.set_language(None)


def _cells(path: Path) -> list[tuple[str, str]]:
    book = openpyxl.load_workbook(path)
    return [(ws.title, v) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
            for v in row if isinstance(v, str)] + [("sheet name", ws.title) for ws in book.worksheets]


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    out = tmp_path_factory.mktemp("city") / "out"
    result = CliRunner().invoke(app, ["plan", str(CITY), "--out", str(out)])
    assert result.exit_code == 0, result.output
    english = out.parent / "en"
    result = CliRunner().invoke(app, ["--lang", "en", "sheets", str(out / "plan.json"), "--out", str(english)])
    assert result.exit_code == 0, result.output
    i18n.set_language(None)
    return out, english


def test_the_city_workbook_has_no_english_in_bahasa(city):
    out, _ = city
    cells = _cells(out / "schedule.xlsx")
    unscheduled = pd.read_csv(out / "unscheduled.csv")
    assert len(unscheduled) and unscheduled["reason"].str.contains("capacity|does not fit|no room").any()
    english = [(sheet, v) for sheet, v in cells if ENGLISH.search(v)]
    assert not english, english[:10]
    translated = {m for m, s in i18n.catalogue("id").items() if s != m and len(m) > 3 and not FIELD.search(m)}
    assert not [(sheet, v) for sheet, v in cells if v in translated and v not in {"Blangko"}]
    assert not [v for _, v in cells if re.fullmatch(r"[a-z]+(_[a-z]+)+", v)]  # no snake_case KPI keys
    book = pd.read_excel(out / "schedule.xlsx", sheet_name=None)
    assert {"Ringkasan", "Kesenjangan", "Tidak terjadwal", "Tidak terlayani", "Pos perekaman"} <= set(book)
    reasons = book["Tidak terjadwal"]["Alasan"]
    with i18n.using("id"):
        assert list(reasons) == [i18n.text(r) for r in unscheduled["reason"]]
    assert not set(reasons) & set(unscheduled["reason"])  # every reason read in Bahasa
    served = book["Tidak terlayani"]["Alasan"]
    assert served.str.startswith(("kapasitas penuh", "di luar jangkauan", "tidak terjangkau unit",
                                  "tidak ada lokasi buka")).all()


def test_the_same_plan_in_english(city):
    out, english = city
    book = pd.read_excel(english / "schedule.xlsx", sheet_name=None)
    assert {"Summary", "Gaps", "Not scheduled", "Not served", "Recording posts"} <= set(book)
    assert "Ringkasan" not in book
    assert "Expected recordings (scheduled)" in set(book["Summary"]["Measure"])
    unscheduled = pd.read_csv(out / "unscheduled.csv")
    assert list(book["Not scheduled"]["Reason"]) == list(unscheduled["reason"])
    vehicles = set(book["Recording posts"]["Vehicle"]) | {v for name, f in book.items() if "Vehicle" in f
                                                          for v in f["Vehicle"]}
    assert vehicles <= {"Van", "Motorbike", "Stationed post", "Car", "On foot"}
    day = next((english / "day-sheets").glob("2*.html")).read_text(encoding="utf-8")
    assert "Daily work sheet" in day and 'lang="en"' in day and "Lembar" not in day
