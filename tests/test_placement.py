"""Session placement on real Bandar Lampung areas and sites, and the p-median special case."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from planner.network import travel_matrix
from planner.placement import CLASSES, place, place_from_scenario, turnout
from planner.sites import add_fallback_sites, load_sites
from tests.conftest import BENCH, BL_KELURAHAN, BL_POPULATION, GOV_OFFICES, REPO

from benchmarks.pmedian_model import solve_pmedian

SCENARIO = REPO / "scenarios" / "bandar-lampung.toml"
WEEK = [dt.date(2026, 11, 23) + dt.timedelta(days=k) for k in range(5)]


@pytest.fixture(scope="module")
def kelurahan():
    return gpd.read_file(BL_KELURAHAN)


@pytest.fixture(scope="module")
def sites(kelurahan):
    camat = load_sites(GOV_OFFICES, kinds=["kantor_camat"], within="18.71")
    return add_fallback_sites(camat, kelurahan)


@pytest.fixture(scope="module")
def matrix(kelurahan, sites):
    origins = gpd.GeoDataFrame({"id": kelurahan["kode"]}, geometry=kelurahan.representative_point(), crs=4326)
    return travel_matrix(origins, sites.rename(columns={"site_id": "id"})[["id", "geometry"]])


def make_gaps(kelurahan, total=16000, seed=0) -> pd.DataFrame:
    """Unrecorded residents spread by kecamatan population (Dukcapil 2022), 25% pemula, 15% lansia."""
    pop = pd.read_csv(BL_POPULATION, dtype={"kode_kec": str})
    pop = pop[pop["vintage"] == pop["vintage"].max()].set_index("kode_kec")["jumlah"]
    share = kelurahan["kode_kec"].map(pop) / kelurahan.groupby("kode_kec")["kode"].transform("size")
    residents = np.random.default_rng(seed).poisson(total * share / share.sum())
    gaps = pd.DataFrame({"kode_kel": kelurahan["kode"], "nama_kel": kelurahan["nama"],
                         "kode_kec": kelurahan["kode_kec"], "nama_kec": kelurahan["nama_kec"],
                         "pemula": np.rint(residents * 0.25).astype(int),
                         "lansia": np.rint(residents * 0.15).astype(int)})
    gaps["umum"] = residents - gaps["pemula"] - gaps["lansia"]
    gaps["home_visit"] = 2
    gaps["unrecorded"] = gaps[["pemula", "lansia", "umum", "home_visit"]].sum(axis=1)
    return gaps


@pytest.fixture(scope="module")
def gaps(kelurahan):
    return make_gaps(kelurahan)


def share(result, klass) -> float:
    return result.summary["assigned"][klass] / result.summary["demand"][klass]


def check_consistent(result, gaps, sites, unit_days, capacity, max_travel):
    """Invariants every placement must keep: capacity, budget, reach, and exact accounting."""
    s = result.sessions
    assert (s["exp_total"] <= s["session_days"] * capacity + 1e-6).all()
    assert (s["capacity"] == s["session_days"] * capacity).all()
    assert s["session_days"].sum() <= unit_days
    max_days = sites.set_index("site_id")["max_days"]
    assert (s["session_days"].to_numpy() <= max_days[s["site_id"]].to_numpy()).all()
    assert np.allclose(s[[f"exp_{c}" for c in CLASSES]].sum(axis=1), s["exp_total"], atol=0.05)
    a = result.assignment
    assert (a["travel_min"] <= max_travel).all()
    assert set(a["site_id"]) <= set(s["site_id"])  # nobody is sent to a site without sessions
    per_site = a.groupby("site_id")["exp_total"].sum()
    assert np.allclose(per_site[s["site_id"]].to_numpy(), s["exp_total"].to_numpy(), atol=0.05)
    # every resident of a session class is either assigned or listed as unserved, with a reason
    assigned = a.groupby("kode_kel")[list(CLASSES)].sum()
    unserved = result.unserved.pivot_table(index="kode_kel", columns="klass", values="residents",
                                           aggfunc="sum").reindex(columns=list(CLASSES))
    g = gaps.set_index("kode_kel")[list(CLASSES)]
    total = assigned.reindex(g.index).fillna(0) + unserved.reindex(g.index).fillna(0)
    assert (total.to_numpy() == g.to_numpy()).all()
    assert result.unserved["reason"].str.match(r"^(out_of_reach|no_open_site|over_capacity): .*\d").all()
    assert "home_visit" not in set(result.unserved["klass"])


def test_placement_keeps_capacity_budget_and_accounts_for_everyone(gaps, sites, matrix):
    result = place(gaps, sites, matrix, unit_days=60, capacity_per_day=50, working_dates=WEEK)
    assert result.status == "optimal"
    check_consistent(result, gaps, sites, 60, 50, 45)
    assert result.summary["session_days"] == 60  # demand far exceeds 60 x 50: the budget is spent
    assert result.unserved["reason"].str.startswith("over_capacity").all()
    assert "over_capacity" in result.explain()


def test_halving_the_budget_keeps_first_time_voters(gaps, sites, matrix):
    full = place(gaps, sites, matrix, unit_days=240, capacity_per_day=50, working_dates=WEEK)
    half = place(gaps, sites, matrix, unit_days=120, capacity_per_day=50, working_dates=WEEK)
    for result, days in ((full, 240), (half, 120)):
        check_consistent(result, gaps, sites, days, 50, 45)
    assert share(full, "pemula") > 0.97 and share(half, "pemula") > 0.97
    assert share(half, "pemula") >= share(full, "pemula") - 0.02  # pemula keep their share...
    assert share(half, "umum") < share(full, "umum") - 0.2  # ...while umum lose theirs
    assert share(half, "lansia") >= share(half, "umum")


def test_solver_without_a_plan_falls_back_to_a_greedy_fill(gaps, sites, matrix, monkeypatch):
    """#14.2: HiGHS stopping at its time limit before any incumbent gave a RuntimeError; now a
    greedy fill answers, keeps every invariant, stays close to the optimum and says it was cut.
    """
    from planner import placement

    best = place(gaps, sites, matrix, unit_days=60, capacity_per_day=50, working_dates=WEEK)
    monkeypatch.setattr(placement._Solver, "solve", lambda self, maximize: ("not_solved", np.nan, np.nan, 3.0))
    greedy = place(gaps, sites, matrix, unit_days=60, capacity_per_day=50, working_dates=WEEK, time_limit_s=3)
    assert greedy.status == "greedy" and greedy.summary["cut"]
    check_consistent(greedy, gaps, sites, 60, 50, 45)
    assert greedy.summary["session_days"] == 60
    assert greedy.objective >= 0.9 * best.objective
    assert share(greedy, "pemula") >= share(best, "pemula") - 0.05  # the priority still holds
    assert share(greedy, "pemula") > 3 * share(greedy, "umum")
    assert "greedy" in greedy.note() and "time_budget_s" in greedy.note()
    assert best.note() == "" and not best.summary["cut"]


def test_a_throughput_floor_keeps_the_units_recording(gaps, sites, matrix):
    """First-time voters worth 20 each live only where a session is short (a long drive: 10 recordings a
    day): the weighted optimum sends every van-day there; asked for 85% of the units' full-day capacity,
    placement keeps them recording and spends only what is left on the priority.
    """
    from planner.placement import Pool, capacity_bound

    kel_kec = gaps["kode_kec"].astype(str)
    far = kel_kec.isin(sorted(kel_kec.unique())[:3]).to_numpy()
    skewed = gaps.assign(pemula=np.where(far, gaps["pemula"], 0))
    minutes = pd.DataFrame(np.asarray(matrix.minutes), index=list(matrix.origins), columns=list(matrix.destinations))
    near_pemula = minutes.loc[gaps["kode_kel"][far]].min(axis=0).reindex(sites["site_id"]).to_numpy() <= 10
    pools = [Pool("Van", 15, 5, np.where(near_pemula, 10.0, 50.0))]  # where they can come, sessions are short
    weights = {"pemula": 20.0, "lansia": 1.0, "umum": 1.0}
    runs = {floor: place(skewed, sites, matrix, pools=pools, weights=weights, working_dates=WEEK, time_limit_s=30,
                         max_travel_min=10, throughput_floor=floor) for floor in (0.0, 0.85)}
    bound = capacity_bound(pools)
    expected = {floor: r.sessions["exp_total"].sum() for floor, r in runs.items()}
    assert bound == 750 and expected[0.0] < 0.5 * bound
    assert expected[0.85] >= 0.85 * bound - 1
    assert runs[0.85].sessions["session_days"].sum() == 15
    # the priority still spends what the floor leaves
    assert runs[0.85].summary["expected"]["pemula"] > 0


@pytest.mark.parametrize("solved", [True, False])
def test_a_tour_places_no_more_session_days_than_its_road_days_leave(gaps, sites, matrix, monkeypatch, solved):
    """A touring unit's six days (two date classes) where each session-day also costs half a day on the
    road (day_load 1.5) hold four session-days, in the model and in the greedy fill alike.
    """
    from planner import placement
    from planner.placement import Pool

    if not solved:
        monkeypatch.setattr(placement._Solver, "solve", lambda self, maximize: ("not_solved", np.nan, np.nan, 1.0))
    capacity = np.full(len(sites), 50.0)
    free = [Pool("Tim", 4, 4, capacity, 0, tour=0), Pool("Tim", 2, 2, capacity, 1, tour=0)]
    loaded = [Pool(p.group, p.slots, p.dates, p.capacity, p.dclass, tour=0, day_load=np.full(len(sites), 1.5))
              for p in free]
    days = {name: place(gaps, sites, matrix, pools=pools, working_dates=WEEK, time_limit_s=10
                        ).sessions["session_days"].sum() for name, pools in (("free", free), ("loaded", loaded))}
    assert days == {"free": 6, "loaded": 4}


def test_a_plan_cut_short_gives_way_to_a_better_greedy_fill(gaps, sites, matrix, monkeypatch):
    """A solver stopped at its limit with a poor incumbent: the greedy fill, which does better, plans."""
    from planner import placement

    monkeypatch.setattr(placement._Solver, "solve", lambda self, maximize: ("feasible", -1e9, 1e6, 1.0))
    result = place(gaps, sites, matrix, unit_days=60, capacity_per_day=50, working_dates=WEEK, time_limit_s=3)
    assert result.status == "greedy" and result.summary["solver"] == "greedy"
    assert result.summary["session_days"] == 60 and result.objective > 0


def test_highs_stopped_at_its_limit_hands_over_to_scip(gaps, sites, matrix, monkeypatch):
    """OR-Tools 9.15 returns no incumbent when HiGHS hits its time limit (status 'error'): SCIP, which
    keeps its best plan at the limit, plans instead of the greedy fill.
    """
    from planner import placement

    best = place(gaps, sites, matrix, unit_days=60, capacity_per_day=50, working_dates=WEEK)
    real = placement._Solver.solve
    monkeypatch.setattr(placement._Solver, "solve", lambda self, maximize: (
        ("error", np.nan, np.nan, 3.0) if self.name == "HIGHS" else real(self, maximize)))
    handed = place(gaps, sites, matrix, unit_days=60, capacity_per_day=50, working_dates=WEEK, time_limit_s=20)
    assert handed.status in ("optimal", "feasible") and handed.summary["solver"] == "SCIP"
    check_consistent(handed, gaps, sites, 60, 50, 45)
    assert handed.objective >= 0.99 * best.objective


def test_no_reachable_site_is_explained_not_a_crash(gaps, sites, matrix):
    """#14.2: max_travel_min = 1 left HiGHS with an empty model ("status error in 0.0 s")."""
    import dataclasses

    far = dataclasses.replace(matrix, minutes=np.asarray(matrix.minutes) + 5)  # nothing within 5 min
    result = place(gaps, sites, far, unit_days=60, capacity_per_day=50, working_dates=WEEK, max_travel_min=1)
    assert result.status == "no_reachable_site" and result.sessions.empty
    assert result.unserved["residents"].sum() == gaps[list(CLASSES)].to_numpy().sum()
    assert result.unserved["reason"].str.startswith("out_of_reach: nearest site is").all()
    assert "max_travel_min = 1 min" in result.note()
    none = place(gaps, sites, matrix, unit_days=0, capacity_per_day=50, working_dates=WEEK)
    assert none.status == "no_reachable_site" and "no working day" in none.note()


def test_equal_weights_share_the_cut(gaps, sites, matrix):
    """Without priority, pemula are not protected: the weights are what protects them."""
    flat = {c: 1.0 for c in CLASSES}
    half = place(gaps, sites, matrix, unit_days=120, capacity_per_day=50, working_dates=WEEK, weights=flat)
    assert share(half, "pemula") < 0.9


def test_unserved_reasons_with_numbers():
    """Out of reach of every site, and reachable only by a site closed all week."""
    gaps = pd.DataFrame({"kode_kel": ["K1", "K2", "K3"], "kode_kec": ["A", "A", "B"],
                         "pemula": [10, 5, 4], "lansia": [0, 3, 0], "umum": [20, 0, 1]})
    sites = pd.DataFrame({"site_id": ["S1", "S2"], "name": ["Kantor Camat A", "Balai B"],
                          "kind": ["kantor_camat", "balai"], "kode_kel": ["K1", "K3"], "kode_kec": ["A", "B"],
                          "open_days": ["01234", "6"], "max_days": [5, 5]})

    @dataclass
    class Matrix:
        minutes: np.ndarray
        origins: list
        destinations: list

    m = Matrix(np.array([[0, 80], [70, 90], [90, 5]], dtype=np.int32), ["K1", "K2", "K3"], ["S1", "S2"])
    result = place(gaps, sites, m, unit_days=5, capacity_per_day=50, max_travel_min=45, working_dates=WEEK)
    reasons = result.unserved.set_index(["kode_kel", "klass"])["reason"]
    assert reasons["K2", "pemula"] == "out_of_reach: nearest site is 70 min away, limit 45 min"
    assert reasons["K3", "pemula"].startswith("no_open_site: 1 site(s) within 45 min")
    assert result.assignment["kode_kel"].tolist() == ["K1"]
    assert result.sessions["site_id"].tolist() == ["S1"] and result.sessions["session_days"].item() == 1
    assert result.summary["unserved_by_reason"] == {"no_open_site": 5, "out_of_reach": 8}


def test_bad_inputs_are_explained(gaps, sites, matrix):
    with pytest.raises(ValueError, match="missing origins"):
        place(gaps.assign(kode_kel=gaps["kode_kel"].str.replace("18.71", "18.72")), sites, matrix,
              unit_days=5, capacity_per_day=50)
    with pytest.raises(ValueError, match="weights need a value"):
        place(gaps, sites, matrix, unit_days=5, capacity_per_day=50, weights={"pemula": 3})
    with pytest.raises(ValueError, match="missing columns"):
        place(gaps.drop(columns="lansia"), sites, matrix, unit_days=5, capacity_per_day=50)


def test_same_inputs_same_plan(gaps, sites, matrix):
    a = place(gaps, sites, matrix, unit_days=30, capacity_per_day=50, working_dates=WEEK, seed=3)
    b = place(gaps, sites, matrix, unit_days=30, capacity_per_day=50, working_dates=WEEK, seed=3)
    pd.testing.assert_frame_equal(a.sessions, b.sessions)
    pd.testing.assert_frame_equal(a.assignment, b.assignment)


def test_scenario_sessions_at_kantor_camat(kelurahan, gaps):
    from planner.pipeline import scenario_areas, scenario_sites
    from planner.scenario import load

    scenario = load(SCENARIO)
    areas = scenario_areas(scenario)
    sites = scenario_sites(scenario, areas)
    origins = areas.representative_points().rename(columns={"kode": "id"})[["id", "geometry"]]
    matrix = travel_matrix(origins, sites.rename(columns={"site_id": "id"})[["id", "geometry"]])
    result = place_from_scenario(scenario, gaps, sites, matrix)
    check_consistent(result, gaps, sites, scenario.unit_days, scenario.capacity_per_day,
                     scenario.placement.max_travel_min)
    camat = result.sessions[result.sessions["kind"] == "kantor_camat"]
    assert len(camat) > 0 and camat["name"].str.startswith("Kantor Camat").all()
    real = load_sites(GOV_OFFICES, kinds=["kantor_camat"], within="18.71")
    assert set(camat["site_id"]) <= set(real["site_id"])
    # known venues win over fallback balai points when they serve as well
    assert camat["session_days"].sum() >= 0.5 * result.sessions["session_days"].sum()
    assert result.summary["session_days"] == scenario.unit_days


def test_turnout_curve():
    assert turnout(0, 30) == 1.0
    assert turnout(30, 30) == pytest.approx(0.5)
    assert turnout(60, 30) == pytest.approx(0.25)
    values = turnout(np.arange(0, 120, 5), 20)
    assert (np.diff(values) < 0).all()
    with pytest.raises(ValueError, match="half time"):
        turnout(10, 0)


def brute_force_pmedian(cost, p):
    return min(cost[:, list(c)].min(axis=1).sum() for c in itertools.combinations(range(cost.shape[1]), p))


@pytest.mark.parametrize("formulation", ["benders", "radius", "assignment"])
def test_pmedian_matches_brute_force(formulation):
    rng = np.random.default_rng(5)
    points = rng.uniform(0, 100, size=(25, 2))
    cost = np.rint(np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1)))
    result = solve_pmedian(cost, 3, time_limit_s=20, formulation=formulation)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(brute_force_pmedian(cost, 3))
    assert len(result.open) == 3
    assert result.objective == pytest.approx(cost[np.arange(25), result.assign].sum())


def test_pmedian_orlib_pmed1_optimum():
    from benchmarks.pmedian import load_pmed, optima

    cost, p = load_pmed(1, BENCH / "orlib_pmed")
    result = solve_pmedian(cost, p, time_limit_s=30)
    assert result.status == "optimal" and result.gap == 0
    assert result.objective == optima(BENCH / "orlib_pmed")["pmed1"]


def test_pmedian_benders_branches_and_matches_brute_force(monkeypatch):
    """Random clustered instances (non-square, weighted, p = 1-4): the branch-and-cut proves the
    brute-force optimum, and some of them need the tree (a node with a fixed site).
    """
    from benchmarks import pmedian_model as pmedian

    branched = []
    set_fixed = pmedian._BendersMaster.set_fixed

    def spy(self, fixed):
        branched.append(bool((fixed >= 0).any()))
        return set_fixed(self, fixed)

    monkeypatch.setattr(pmedian._BendersMaster, "set_fixed", spy)
    rng = np.random.default_rng(11)
    for trial in range(12):
        centres = rng.uniform(0, 100, size=(4, 2))
        points = centres[rng.integers(0, 4, 30)] + rng.normal(0, 12, size=(30, 2))
        sites = points[rng.choice(30, 14, replace=False)] + rng.normal(0, 3, size=(14, 2))
        cost = np.rint(np.hypot(*(points[:, None, :] - sites[None, :, :]).transpose(2, 0, 1)))
        weights = rng.integers(1, 5, 30) if trial % 2 else rng.uniform(0.5, 3.0, 30)
        p = 1 + trial % 4
        result = solve_pmedian(cost, p, time_limit_s=20, weights=weights)
        best = min((weights * cost[:, list(c)].min(axis=1)).sum() for c in itertools.combinations(range(14), p))
        assert result.status == "optimal" and result.solver == "GLOP"
        assert result.objective == pytest.approx(best) and result.bound == pytest.approx(best)
        assert result.objective == pytest.approx((weights * cost[np.arange(30), result.assign]).sum())
    assert any(branched)


def test_pmedian_benders_time_limit_gives_valid_bound():
    from benchmarks.pmedian import load_pmed, optima

    cost, p = load_pmed(16, BENCH / "orlib_pmed")
    result = solve_pmedian(cost, p, time_limit_s=0.05)
    optimum = optima(BENCH / "orlib_pmed")["pmed16"]
    assert result.status in ("feasible", "optimal", "not_solved")
    if result.status != "not_solved":
        assert result.bound <= optimum <= result.objective
        assert len(result.open) == p


def test_pmedian_rejects_bad_input():
    with pytest.raises(ValueError, match="p must be between"):
        solve_pmedian(np.zeros((3, 3)), 5)
    with pytest.raises(ValueError, match="formulation"):
        solve_pmedian(np.ones((3, 3)), 1, formulation="magic")
    with pytest.raises(ValueError, match="unknown solver"):
        solve_pmedian(np.ones((3, 3)), 1, solver="gurobi")


def test_cli_place_writes_three_csv(tmp_path):
    from typer.testing import CliRunner

    from planner.cli import app

    result = CliRunner().invoke(app, ["place", str(SCENARIO), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    sessions = pd.read_csv(tmp_path / "sessions.csv", dtype={"kode_kel": str, "kode_kec": str})
    assignment = pd.read_csv(tmp_path / "assignment.csv", dtype={"kode_kel": str})
    unserved = pd.read_csv(tmp_path / "unserved.csv", dtype={"kode_kel": str})
    assert (sessions["exp_total"] <= sessions["capacity"] + 1e-6).all()
    assert "kantor_camat" in set(sessions["kind"])
    assert set(assignment["site_id"]) <= set(sessions["site_id"])
    assert unserved["reason"].notna().all() and len(unserved) > 0
    assert not {"nik", "nama", "alamat"} & (set(assignment.columns) | set(unserved.columns))
