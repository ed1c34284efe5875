"""End to end: the demo on the fictional city and the real Bandar Lampung scenario, through the CLI."""

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from planner.areas import load_areas
from planner.cli import app
from planner.plan import Plan
from tests.conftest import BL_KELURAHAN

REPO = Path(__file__).resolve().parents[1]
WEEK = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--seed", "7"])
    assert result.exit_code == 0, result.output
    return out


def test_demo_writes_the_four_outputs(demo_out):
    for name in ("map.html", "schedule.xlsx", "schedule.csv", "plan.json"):
        assert (demo_out / name).stat().st_size > 0, name
    for name in ("sessions.csv", "unserved.csv", "unscheduled.csv"):
        assert (demo_out / name).exists(), name
    plan = Plan.load(demo_out / "plan.json")
    schedule = pd.read_csv(demo_out / "schedule.csv")
    assert len(schedule) > 0
    # OR-Tools really placed and routed: sessions were chosen and appear in the schedule
    assert plan.kpis["session_days_planned"] > 0
    assert plan.kpis["session_days_scheduled"] > 0
    assert set(plan.schedule.loc[plan.schedule.job_kind == "session", "site_id"]) <= set(plan.sessions.site_id)
    # every register row ended in exactly one bucket
    assert set(plan.meta["geocode"]) <= {"matched", "ambiguous", "unmatched", "invalid"}
    assert sum(plan.meta["geocode"].values()) == plan.kpis["register_rows"] > 0
    # the plan reloads with its areas, which are the fictional city's
    areas = plan.load_areas()
    assert areas.kelurahan["kode"].str.startswith("99.").all()


def test_demo_is_deterministic(demo_out, tmp_path):
    again = tmp_path / "again"
    result = CliRunner().invoke(app, ["demo", "--out", str(again), "--seed", "7"])
    assert result.exit_code == 0, result.output
    first = json.loads((demo_out / "plan.json").read_text())
    second = json.loads((again / "plan.json").read_text())
    for table in ("gaps", "sessions", "assignment", "schedule", "unscheduled"):
        assert first["tables"][table] == second["tables"][table], table


@pytest.mark.browser
def test_demo_map_opens_without_javascript_errors(demo_out, artifacts):
    from test_maps import _cdn, _real_errors

    from browser import Browser

    with Browser(serve=_cdn()) as b:
        b.open((demo_out / "map.html").resolve().as_uri())
        assert b.js("typeof L") == "object"
        assert _real_errors(b) == []
        b.screenshot(artifacts / "demo_map.png")


@pytest.mark.slow
def test_bandar_lampung_plan_on_real_boundaries(tmp_path):
    out = tmp_path / "bl"
    result = CliRunner().invoke(app, ["plan", str(REPO / "scenarios" / "bandar-lampung.toml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    plan = Plan.load(out / "plan.json")
    real = set(load_areas(BL_KELURAHAN).kelurahan["kode"])
    stops = plan.schedule[plan.schedule.job_kind != "depot"]
    assert len(stops) > 0
    assert set(stops["kode_kel"].dropna()) <= real
    assert stops["kode_kel"].str.startswith("18.71.").all()
    assert plan.kpis["unrecorded"] > 15000
    kinds = set(plan.sessions["kind"])
    assert "kantor_camat" in kinds
    for name in ("map.html", "schedule.xlsx", "schedule.csv", "plan.json"):
        assert (out / name).exists()

    # #13: each leg follows the roads the plan was computed on, stored in the plan (no graph needed to draw it)
    _legs_follow_the_graph(plan)

    # #16: the CLI is no second orchestrator: the public API writes the same plan.json, byte for byte
    import planner

    api = tmp_path / "api"
    planner.write_outputs(planner.run(planner.load_scenario(REPO / "scenarios" / "bandar-lampung.toml")), api)

    def without_timings(path):
        data = json.loads(path.read_text(encoding="utf-8"))
        data["meta"].pop("timings")
        return json.dumps(data, sort_keys=True, ensure_ascii=False)

    assert plan.meta["routing"]["reproducible"]  # else the two searches could differ legitimately
    assert without_timings(out / "plan.json") == without_timings(api / "plan.json")


def test_home_visits_beyond_the_weeks_capacity_wait_with_a_reason():
    from planner.routing import weeks_home_visits
    from planner.scenario import load

    scenario = load(REPO / "scenarios" / "bandar-lampung.toml")
    limit = sum(g.count * g.capacity_per_day for g in scenario.units if g.home_visits) * 5
    visits = pd.DataFrame({"visit_id": [f"HV{i:05d}" for i in range(limit + 7)],
                           "kode_kel": ["18.71.01.1003"] * 10 + ["18.71.02.1001"] * (limit - 3),
                           "kode_kec": "18.71.01", "lon": 105.26, "lat": -5.39})
    chosen, later = weeks_home_visits(visits, scenario.units, scenario.calendar)
    assert len(chosen) == limit and len(later) == 7
    assert set(chosen["visit_id"]).isdisjoint(set(later["job_id"].str[2:]))
    assert (chosen["kode_kel"] == "18.71.02.1001").sum() == limit - 3  # the bigger cluster goes first
    assert later["reason"].str.contains("home-visit capacity").all()
    small, none_later = weeks_home_visits(visits.head(5), scenario.units, scenario.calendar)
    assert len(small) == 5 and none_later.empty


def test_register_kpis_account_for_every_row(demo_out):
    plan = Plan.load(demo_out / "plan.json")
    k = plan.kpis
    assert k["placed_in_kelurahan"] + k["placed_in_kecamatan_only"] + k["not_placed"] == k["register_rows"]


def _legs_follow_the_graph(plan):
    import osmnx as ox
    import shapely

    from planner.inputs import scenario_graph
    from planner.legs import decode
    from planner.scenario import load

    legs = plan.legs
    assert len(legs) and (legs["method"] == "network").mean() > 0.9
    lines = [decode(p) for p in legs["path"]]
    stops = int((plan.schedule["job_kind"] != "depot").sum())
    assert sum(len(c) for c in lines) > 10 * stops  # the road's vertices, not just the stops
    scenario = load(REPO / "scenarios" / "bandar-lampung.toml")
    graph = scenario_graph(scenario, plan.load_areas())
    edges = ox.graph_to_gdfs(graph, nodes=False).to_crs(32748)
    tree = shapely.STRtree(edges.geometry.values)
    to_utm = gpd.GeoSeries.from_xy([0], [0], crs=4326).to_crs(32748).crs
    for method, coords in zip(legs["method"], lines):
        chord = gpd.GeoSeries([shapely.LineString([coords[0], coords[-1]])], crs=4326).to_crs(to_utm).length[0]
        path = gpd.GeoSeries([shapely.LineString(coords)], crs=4326).to_crs(to_utm)
        assert path.length[0] >= chord - 0.5
        if method == "network" and len(coords) > 2:
            inner = gpd.GeoSeries(gpd.points_from_xy(*zip(*coords[1:-1])), crs=4326).to_crs(to_utm)
            _, distance = tree.query_nearest(inner.values, return_distance=True)
            assert distance.max() < 1.0  # every bend is on a road of the graph
