"""#14.7 and #14.9: damaged or wrong input files give one clear message through the PlannerError tree.

Each case reproduces a fault that used to end in a traceback (pyogrio DataSourceError, XML ParseError,
AttributeError, KeyError, IsADirectoryError) or went unnoticed (a stale road cache, overlapping
kelurahan).
"""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from typer.testing import CliRunner

from planner.areas import load_areas, overlap_warnings
from planner.cli import app
from planner.errors import AreaError, NetworkError, PlannerError
from planner.inputs import scenario_graph
from planner.scenario import load
from tests.conftest import BL_KELURAHAN, BL_ROADS, REPO


@pytest.fixture(autouse=True)
def english(monkeypatch):
    """The messages are asserted in English here; tests/test_language.py checks their Bahasa."""
    monkeypatch.setenv("PLANNER_LANG", "en")

SCENARIO = REPO / "scenarios" / "bandar-lampung.toml"


@pytest.fixture(scope="module")
def areas():
    return load_areas(BL_KELURAHAN)


@pytest.fixture(scope="module")
def small_roads(tmp_path_factory):
    """The real RBI roads of one corner of Bandar Lampung: a graph builds in a second."""
    roads = gpd.read_file(BL_ROADS, bbox=(105.24, -5.44, 105.28, -5.40))
    path = tmp_path_factory.mktemp("roads") / "roads.gpkg"
    roads.to_file(path)
    return path


def with_roads(tmp_path, **roads):
    scenario = load(SCENARIO)
    return scenario.model_copy(update={"roads": scenario.roads.model_copy(update=roads),
                                       "base_dir": tmp_path})


def one_line_error(result) -> str:
    """The CLI failed with exit 2 and a message, never a traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "REPORT" not in result.output
    return " ".join(result.output.split())


@pytest.mark.parametrize("content, name, expected", [
    ("garbage, not a shapefile", "JALAN.shp", "cannot read it as a line layer"),
    ('{"type": "FeatureCollection", "features": []}', "jalan.geojson", "no road lines"),
    ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
     '"geometry": {"type": "Point", "coordinates": [105.2, -5.4]}}]}', "jalan.geojson", "expected road lines"),
])
def test_unusable_roads_file_is_explained(tmp_path, areas, content, name, expected):
    (tmp_path / name).write_text(content)
    with pytest.raises(NetworkError, match=expected):
        scenario_graph(with_roads(tmp_path, source="lines", path=tmp_path / name, cache=None), areas)


@pytest.mark.parametrize("kind", ["osm", "graphml"])
def test_garbage_osm_or_graph_file_is_explained(tmp_path, areas, kind):
    path = tmp_path / ("roads.osm" if kind == "osm" else "roads.graphml")
    path.write_text("<osm><way id='1'><nd ref= broken")
    with pytest.raises(NetworkError, match=f"roads.path {path}: cannot read it as"):
        scenario_graph(with_roads(tmp_path, source=kind, path=path, cache=None), areas)


def test_corrupt_or_stale_road_cache_is_rebuilt_with_a_note(tmp_path, areas, small_roads):
    roads = tmp_path / "roads.gpkg"
    roads.write_bytes(small_roads.read_bytes())
    scenario = with_roads(tmp_path, source="lines", path=roads, cache=tmp_path / "cache" / "roads.graphml")
    first = scenario_graph(scenario, areas)
    cache = tmp_path / "cache" / "roads.graphml"
    assert cache.exists() and json.loads((cache.parent / "roads.graphml.source.json").read_text())["size"] > 0

    notes: list[str] = []
    again = scenario_graph(scenario, areas, notes=notes)
    assert notes == [] and again.number_of_edges() == first.number_of_edges()  # read from the cache

    cache.write_text("<graphml><broken")  # damaged cache: rebuilt, never a ParseError
    notes = []
    rebuilt = scenario_graph(scenario, areas, notes=notes)
    assert rebuilt.number_of_edges() == first.number_of_edges()
    assert len(notes) == 1 and "could not be read" in notes[0]

    smaller = gpd.read_file(roads).iloc[: len(gpd.read_file(roads)) // 2]  # the roads file changed
    smaller.to_file(roads)
    notes = []
    fresh = scenario_graph(scenario, areas, notes=notes)
    assert "another version of the roads file" in notes[0]
    assert fresh.number_of_edges() < first.number_of_edges()


def test_areas_given_as_a_table_is_explained(tmp_path):
    table = tmp_path / "areas.csv"
    table.write_text("kode,nama\n18.71.01.1001,Kupang Kota\n")
    with pytest.raises(AreaError, match="holds no geometry"):
        load_areas(table)
    register = tmp_path / "register.csv"
    register.write_text("nik,nama,alamat\n1871010101010001,Ani,Kupang Kota\n")
    result = CliRunner().invoke(app, ["geocode", str(register), "--areas", str(table), "--out", str(tmp_path / "o")])
    assert "holds no geometry" in one_line_error(result)


def test_folder_as_register_and_file_as_output_are_explained(tmp_path):
    folder = tmp_path / "registers"
    folder.mkdir()
    result = CliRunner().invoke(app, ["geocode", str(folder), "--areas", str(BL_KELURAHAN),
                                      "--out", str(tmp_path / "o")])
    assert "is a folder, not a file" in one_line_error(result)
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    result = CliRunner().invoke(app, ["plan", str(SCENARIO), "--out", str(taken)])
    assert "is a file, not a folder" in one_line_error(result)
    assert taken.read_text() == "not a folder"


@pytest.mark.parametrize("text", ["{}", '{"name": "x", "week_start": "2026-11-23"}', "not json", "[1, 2]",
                                  '{"format": "planner-plan", "name": "x"}',
                                  '{"format": "planner-plan", "name": "x", "week_start": "soon"}'])
def test_plan_file_that_is_not_a_plan_is_explained(tmp_path, text):
    plan = tmp_path / "plan.json"
    plan.write_text(text)
    result = CliRunner().invoke(app, ["map", str(plan), "--out", str(tmp_path / "o")])
    message = one_line_error(result)
    assert "not a plan file" in message or "damaged plan file" in message


def test_overlapping_kelurahan_are_warned(areas):
    assert overlap_warnings(areas.kelurahan) == []  # the real city's boundaries only touch
    kel = areas.kelurahan.copy()
    neighbour = kel.geometry.iloc[1]
    kel.loc[0, "geometry"] = shapely.union(kel.geometry.iloc[0], neighbour.buffer(-0.002))  # swallows most of it
    warning = overlap_warnings(kel)
    assert len(warning) == 1 and "1 pair(s) of kelurahan overlap" in warning[0]
    assert f"{kel['kode'].iloc[0]} & {kel['kode'].iloc[1]}" in warning[0]


def test_every_planner_error_is_an_input_or_solver_error():
    """The CLI catches exactly this tree; anything else is a bug and shows its traceback."""
    from planner import errors

    for name in dir(errors):
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, PlannerError) and cls is not PlannerError:
            assert issubclass(cls, (errors.InputError, errors.SolverError)), name


def test_a_list_of_empty_cells_is_explained(tmp_path):
    """Found by tests/test_fuzz.py: a list whose every cell is empty gave an IndexError."""
    from planner.errors import InputError
    from planner.progress import read_list

    path = tmp_path / "list.csv"
    path.write_text('"";\r\n"";\r\n', encoding="utf-8")
    with pytest.raises(InputError, match="every line is empty"):
        read_list(path)


def test_a_depot_far_from_every_area_is_refused(tmp_path):
    """#14.9: a depot 100+ km off (lat without its minus sign) planned nothing and said 'unserved 0'."""
    from tests.conftest import SHARED

    text = SCENARIO.read_text().replace("${shared}", str(SHARED)).replace("lat = -5.4295736", "lat = 5.4295736")
    path = tmp_path / "s.toml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code != 0 and "2 problem(s)" in result.output  # both units share the depot
    assert "units.0.depot" in result.output and "units.1.depot" in result.output
    result = CliRunner().invoke(app, ["plan", str(path), "--out", str(tmp_path / "out")])
    assert "km from the nearest kelurahan" in one_line_error(result)
    assert not (tmp_path / "out").exists()
