"""Scenario loader: real scenario loads, planted mistakes are all reported, calendar rules hold."""

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.checks import check_scenario
from planner.cli import app
from planner.i18n import text
from planner.scenario import ScenarioError, load, validate_file
from tests.conftest import SHARED

REPO = Path(__file__).resolve().parents[1]
BL = REPO / "scenarios" / "bandar-lampung.toml"
BROKEN = Path(__file__).parent / "data" / "broken.toml"


def test_bandar_lampung_scenario_loads_with_paths_relative_to_file():
    scenario = load(BL)
    assert scenario.resolve(scenario.areas.kelurahan).exists()
    assert scenario.resolve(scenario.roads.path).exists()
    assert scenario.unit_days == 3 * 5  # three vans hold sessions, the motorbike team does home visits
    assert scenario.calendar.working_dates()[0] == dt.date(2026, 11, 23)


def test_three_planted_mistakes_are_all_reported():
    scenario, problems = validate_file(BROKEN)
    assert scenario is None
    keys = {p.key for p in problems}
    assert keys == {"units.0.count", "calendar.day_end", "areas.kelurahan"}
    assert all(p.file == str(BROKEN) for p in problems)


def test_validate_cli_exits_non_zero_and_names_every_key():
    result = CliRunner().invoke(app, ["validate", str(BROKEN)])
    assert result.exit_code == 1
    for key in ("units.0.count", "calendar.day_end", "areas.kelurahan"):
        assert key in result.output


def test_load_raises_with_every_problem():
    with pytest.raises(ScenarioError) as info:
        load(BROKEN)
    assert len(info.value.problems) == 3


def write(tmp_path, text):
    path = tmp_path / "s.toml"
    base = BL.read_text().replace("${shared}", str(SHARED))
    path.write_text(base + text)
    return path


def test_unknown_key_and_bad_toml(tmp_path):
    path = write(tmp_path, "\n[extra]\nfoo = 1\n")
    _, problems = validate_file(path)
    assert [p.key for p in problems] == ["extra"]
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    _, problems = validate_file(bad)
    assert "not valid TOML" in problems[0].message


def test_calendar_saturday_and_holiday(tmp_path):
    scenario = load(BL)
    cal = scenario.calendar.model_copy(update={"saturday": True, "holidays": [dt.date(2026, 11, 25)]})
    dates = cal.working_dates()
    assert dt.date(2026, 11, 25) not in dates
    assert dt.date(2026, 11, 28) in dates  # Saturday after the week
    assert all(d.weekday() != 6 for d in dates)
    assert len(dates) == 5  # Mon, Tue, Thu, Fri, Sat


def test_friday_break_must_end_after_start(tmp_path):
    text = BL.read_text().replace('friday_break = ["11:30", "13:00"]', 'friday_break = ["13:00", "11:30"]')
    text = text.replace("${shared}", str(SHARED))
    path = tmp_path / "s.toml"
    path.write_text(text)
    _, problems = validate_file(path)
    assert [p.key for p in problems] == ["calendar.friday_break"]


def test_shared_token_follows_planner_shared(tmp_path, monkeypatch):
    """`${shared}` in a path reaches $PLANNER_SHARED, else a shared/ folder beside a parent."""
    from planner.scenario import shared_folder

    copy = tmp_path / "elsewhere" / "shared"
    (copy / "geodata-sources").mkdir(parents=True)
    monkeypatch.setenv("PLANNER_SHARED", str(copy))
    with pytest.raises(ScenarioError, match=f"file not found: {copy}/geodata-sources/wilayah"):
        load(BL)  # the scenario's ${shared} now names the (empty) copy
    monkeypatch.delenv("PLANNER_SHARED")
    nested = tmp_path / "elsewhere" / "project" / "scenarios"
    nested.mkdir(parents=True)
    assert shared_folder(nested) == copy  # ../../shared beside a parent folder
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError, match="PLANNER_SHARED"):
        shared_folder(tmp_path)


def test_routing_engine_setting_is_optional_and_checked(tmp_path):
    """Old scenario files (no [routing]) keep working; a known engine is accepted, a typo named."""
    assert load(BL).routing.engine == "best"
    scenario, problems = validate_file(write(tmp_path, '\n[routing]\nengine = "pyvrp"\n'))
    assert problems == [] and scenario.routing.engine == "pyvrp"
    _, problems = validate_file(write(tmp_path, '\n[routing]\nengine = "vroom"\n'))
    assert [p.key for p in problems] == ["routing.engine"]


BROKEN_SET = sorted((Path(__file__).parent / "data").glob("*.toml"))


@pytest.mark.parametrize("path", BROKEN_SET, ids=lambda p: p.stem)
def test_validate_rejects_whatever_plan_rejects(path, tmp_path):
    """Each scenario in tests/data plants one kind of mistake (its first line says which): `plan`
    stops with a clear message (no traceback) and `validate` says so first, naming the same problem,
    in Bahasa by default.
    """
    out = tmp_path / "out"
    planned = CliRunner().invoke(app, ["plan", str(path), "--out", str(out)])
    validated = CliRunner().invoke(app, ["validate", str(path)], env={"COLUMNS": "400"})
    assert planned.exit_code != 0, planned.output
    assert not isinstance(planned.exception, Exception) or isinstance(planned.exception, SystemExit)
    if planned.exit_code == 2:  # refused: nothing written (1: a province plan whose failing kab/kota is named)
        assert not out.exists() or not any(out.iterdir())
    assert validated.exit_code == 1, validated.output
    assert "masalah" in validated.output
    # what stopped plan is one of the problems validate reports
    said = " ".join(planned.output.split())
    _, problems = check_scenario(path)
    assert any(" ".join(text(p.message).split())[:50] in said for p in problems), (said, problems)
    untranslated = [p.message for p in problems if text(p.message) == p.message]
    assert not untranslated, "add these to planner/locale/id/LC_MESSAGES/planner.po"
