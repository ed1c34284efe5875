"""Output folders are never half old: atomic writes, owned folders replaced whole, progress never reset."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from planner import outputs
from planner.errors import InputError
from planner.pipeline import run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("demo"), seed=5, week_start=dt.date(2026, 11, 23))


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_a_failing_run_leaves_the_previous_folder_whole(demo, tmp_path, monkeypatch):
    out = tmp_path / "minggu-48"
    outputs.write_outputs(demo, out)
    before = {f: (out / f).read_bytes() for f in _files(out)}

    def broken(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while the map is being written

    monkeypatch.setattr("planner.maps.save_map", broken)
    with pytest.raises(KeyboardInterrupt):
        outputs.write_outputs(demo, out)
    assert {f: (out / f).read_bytes() for f in _files(out)} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".minggu-48")]  # no temporary folder left


def test_an_owned_folder_is_replaced_whole(demo, tmp_path):
    out = tmp_path / "out"
    outputs.write_outputs(demo, out, with_names=True)
    assert (out / "private" / "lembar-harian-nama" / "index.html").exists()
    (out / "lembar-harian" / "2026-11-16_van-1.html").write_text("an old week's sheet", encoding="utf-8")
    outputs.write_outputs(demo, out)
    assert not (out / "private" / "lembar-harian-nama").exists()  # names do not outlive the run that made them
    assert not (out / "lembar-harian" / "2026-11-16_van-1.html").exists()  # old weeks do not pile up
    pages = {p.name for p in (out / "lembar-harian").glob("*.html")} - {"index.html"}
    index = (out / "lembar-harian" / "index.html").read_text(encoding="utf-8")
    assert pages and all(name in index for name in pages)


def test_keep_private_keeps_what_the_user_asked_for(demo, tmp_path):
    out = tmp_path / "out"
    outputs.write_outputs(demo, out, with_names=True)
    outputs.write_outputs(demo, out, keep_private=True)
    assert (out / "private" / "lembar-harian-nama" / "index.html").exists()


def test_out_that_is_a_file_or_a_foreign_folder_is_refused(tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        outputs.check_target(tmp_path / "a-file")
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "laporan.docx").write_text("x")
    with pytest.raises(InputError, match="other files"):
        outputs.check_target(tmp_path / "documents")
    assert outputs.check_target(tmp_path / "new-folder") == tmp_path / "new-folder"


def test_a_plan_never_resets_a_state_that_progress_advanced(demo, tmp_path):
    from planner.progress import apply, read_state, save_private

    out = tmp_path / "minggu-48"
    outputs.write_outputs(demo, out)
    state = read_state(out / "private" / "register-state.csv")
    recorded = state["nik"][state["nik"].str.len() == 16].head(67)
    save_private(apply(state, recorded, week=dt.date(2026, 11, 23)).state, out)  # `planner progress --out` here
    with pytest.raises(InputError, match="--state"):
        outputs.write_outputs(demo, out)
    kept = read_state(out / "private" / "register-state.csv")
    assert (kept["state"] == "recorded").sum() == 67


def test_cli_plan_refuses_before_running_and_names_the_folder(tmp_path):
    from typer.testing import CliRunner

    from planner.cli import app

    (tmp_path / "plan.txt").write_text("x")
    result = CliRunner().invoke(app, ["plan", "scenarios/bandar-lampung.toml", "--out", str(tmp_path / "plan.txt")])
    assert result.exit_code == 2 and "adalah berkas, bukan folder" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_named_sheets_follow_the_register_state_over_two_weeks(tmp_path):
    """Week 2 is planned from week 1's progress: every named stop is the right, still-open resident."""
    from typer.testing import CliRunner

    from planner.cli import app
    from planner.progress import read_state

    runner = CliRunner()
    week1 = tmp_path / "minggu-1"
    result = runner.invoke(app, ["demo", "--out", str(week1), "--seed", "9"])
    assert result.exit_code == 0, result.output
    state = read_state(week1 / "private" / "register-state.csv")
    visits = state[state["home_visit"] & (state["status"] == "matched")]
    closed = visits.head(len(visits) // 3)  # a third of the home-visit residents were recorded in week 1
    pd.DataFrame({"nik": closed["nik"]}).to_csv(tmp_path / "terekam.csv", index=False)
    result = runner.invoke(app, ["progress", str(week1 / "plan.json"), "--recorded", str(tmp_path / "terekam.csv"),
                                 "--out", str(tmp_path / "progres-1")])
    assert result.exit_code == 0, result.output
    # week 2 from the advanced state, with the same (generated) city: plan through the API
    from planner.outputs import write_outputs
    from planner.pipeline import run_demo

    advanced = read_state(tmp_path / "progres-1" / "private" / "register-state.csv")
    demo2 = run_demo(tmp_path / "w2", seed=9)
    from planner.pipeline import run

    week2 = run(demo2.scenario, areas=demo2.areas, sites=demo2.sites, state=advanced,
                state_source=tmp_path / "progres-1" / "private" / "register-state.csv",
                areas_ref={"kelurahan": "areas/kelurahan.geojson", "kecamatan": "areas/kecamatan.geojson"},
                roads=None)
    week2.embedded_areas = True
    write_outputs(week2, tmp_path / "minggu-2")
    result = runner.invoke(app, ["sheets", str(tmp_path / "minggu-2" / "plan.json"), "--out", str(tmp_path / "s2"),
                                 "--with-names"])
    assert result.exit_code == 0, result.output
    stops = week2.plan.schedule[week2.plan.schedule["job_kind"] == "home_visit"]
    assert len(stops)
    by_row = advanced.set_index("row")
    named = tmp_path / "s2" / "private" / "lembar-harian-nama"
    text = "".join(p.read_text(encoding="utf-8") for p in named.glob("*.html"))
    for job, kel in zip(stops["job_id"], stops["kode_kel"]):
        person = by_row.loc[int(job[4:])]
        assert person["state"] == "unrecorded" and person["kode_kel"] == kel
        assert f"<b>{person['nama']}</b>" in text
    for name in closed["nama"]:
        assert f"<b>{name}</b>" not in text
    # a register that is not the plan's is refused
    other = advanced.assign(nik=advanced["nik"].iloc[::-1].to_numpy())
    other.to_csv(tmp_path / "other.csv", index=False)
    result = runner.invoke(app, ["sheets", str(tmp_path / "minggu-2" / "plan.json"), "--out", str(tmp_path / "s3"),
                                 "--with-names", "--register", str(tmp_path / "other.csv")])
    assert result.exit_code == 2 and "bukan daftar warga tempat rencana ini dibuat" in " ".join(result.output.split())
    meta = json.loads((tmp_path / "minggu-2" / "plan.json").read_text(encoding="utf-8"))["meta"]
    assert meta["register"]["from_state"] is True


HOSTILE = ["=HYPERLINK(\"http://x\",\"klik\")", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "+1+1", "\t=1"]


def test_no_written_cell_is_a_live_formula(demo, tmp_path):
    """#14.5: names from input data beginning like a formula are text in every CSV and XLSX written."""
    import copy
    import csv

    import openpyxl

    from planner.tables import looks_like_formula

    hostile = copy.copy(demo)
    plan = hostile.plan = copy.deepcopy(demo.plan)
    for k, name in enumerate(HOSTILE):
        plan.gaps.loc[k, "nama_kel"] = name
        if k < len(plan.sessions):
            plan.sessions.loc[k, "name"] = name
    plan.schedule["name"] = plan.schedule["name"].where(plan.schedule.index % 2 == 0, HOSTILE[1])
    plan.schedule["unit"] = plan.schedule["unit"].replace({plan.schedule["unit"].iloc[0]: "=1+1"})
    out = tmp_path / "out"
    outputs.write_outputs(hostile, out)
    risky = ("=", "+", "-", "@", "\t", "\r")
    found = set()
    for path in out.rglob("*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    assert not (cell.startswith(risky) and looks_like_formula(cell.lstrip())), (path.name, cell)
                    found |= {h for h in HOSTILE if cell == "'" + h}
    for path in out.rglob("*.xlsx"):
        book = openpyxl.load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, sheet.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        assert not (cell.value.startswith(risky) and looks_like_formula(cell.value.lstrip()))
                        found |= {h for h in HOSTILE if cell.value == "'" + h}
    assert {HOSTILE[0], HOSTILE[1]} <= found  # the names are there, guarded, not dropped
