"""`planner validate`: every check `planner plan` would make, without solving anything.

The scenario file is checked first (TOML, keys, values, files that must exist), then each file it
names is loaded with the very loaders the pipeline uses (`planner.inputs`), so whatever `plan`
would reject, `validate` reports, all at once, each against the setting to fix.
"""

from __future__ import annotations

import math
from pathlib import Path

from planner.errors import PlannerError
from planner.scenario import Problem, Scenario, validate_file

#: A depot this far from every kelurahan is a typo (lat/lon swapped, a minus sign lost), not a plan.
DEPOT_LIMIT_KM = 100.0


def check_scenario(path: str | Path) -> tuple[Scenario | None, list[Problem]]:
    """The scenario (None if unusable) and every problem found in it and in the files it names."""
    scenario, problems = validate_file(path)
    if scenario is None:
        return None, problems
    name = str(path)
    found: list[Problem] = []

    def attempt(key: str, load):
        try:
            return load()
        except PlannerError as exc:
            found.append(Problem(file=name, key=key, message=str(exc)))
        except OSError as exc:
            found.append(Problem(file=name, key=key, message=f"{exc.strerror or exc} ({exc.filename})"))
        return None

    from planner import inputs

    areas = attempt("areas", lambda: inputs.scenario_areas(scenario))
    if areas is not None:
        attempt("register", lambda: _register_ok(scenario, areas))
        attempt("sites", lambda: inputs.scenario_sites(scenario, areas))
        found += _depots(scenario, areas, name)
        found += _offices(scenario, areas, name)
    attempt("roads", lambda: _roads_ok(scenario))
    for k, office in enumerate(scenario.offices):
        if office.roads is not None:
            from planner.province import office_scenario

            attempt(f"offices.{k}.roads", lambda o=office: _roads_ok(office_scenario(scenario, o)))
    return (scenario if not found else None), found


def _register_ok(scenario: Scenario, areas) -> None:
    """Read the register (or size the generated one), as the pipeline's register stage does."""
    from planner import inputs

    inputs.scenario_register(scenario, areas) if scenario.register.path is not None else \
        _population_ok(scenario, areas)


def _population_ok(scenario: Scenario, areas) -> None:
    from planner.synth_register import residents_by_population

    synthetic = scenario.register.synthetic
    residents_by_population(areas, synthetic.residents, scenario.resolve(synthetic.population),
                            synthetic.population_vintage, scenario.seed)


def _roads_ok(scenario: Scenario) -> None:
    """The road source can be read (a line layer is opened, an online source needs the internet)."""
    from planner import inputs

    cfg = scenario.roads
    if cfg.source == "lines":
        inputs._read_lines(scenario.resolve(cfg.path))
    elif cfg.source == "online":
        inputs.require_internet('roads.source = "online"')


def _depots(scenario: Scenario, areas, name: str) -> list[Problem]:
    """Depots far from every area: the coordinates are almost certainly wrong."""
    points = areas.representative_points().geometry
    out = []
    for k, group in enumerate(scenario.units):
        lat, lon = group.depot.lat, group.depot.lon
        nearest = min(_km(lat, lon, p.y, p.x) for p in points)
        if nearest > DEPOT_LIMIT_KM:
            out.append(Problem(file=name, key=f"units.{k}.depot", message=(
                f"depot {group.depot.name!r} at lat {lat}, lon {lon} is {nearest:,.0f} km from the nearest kelurahan; "
                "check the coordinates (lat is negative south of the equator, e.g. -5.43; lon ~105 in Lampung)")))
    return out


def _offices(scenario: Scenario, areas, name: str) -> list[Problem]:
    """Each office's code has areas, and its depots lie near them."""
    codes = areas.kelurahan["kode"].astype(str).str[:5]
    out = []
    for k, office in enumerate(scenario.offices):
        mine = areas.kelurahan[codes == office.code]
        if not len(mine):
            out.append(Problem(file=name, key=f"offices.{k}.code", message=(
                f"no kelurahan/desa with code {office.code} in [areas] ({office.name}); check the kab/kota code")))
            continue
        points = mine.representative_point()
        for g, group in enumerate(office.units):
            nearest = min(_km(group.depot.lat, group.depot.lon, p.y, p.x) for p in points)
            if nearest > DEPOT_LIMIT_KM:
                out.append(Problem(file=name, key=f"offices.{k}.units.{g}.depot", message=(
                    f"depot {group.depot.name!r} is {nearest:,.0f} km from {office.name}; check the coordinates")))
    return out


def _km(lat1, lon1, lat2, lon2) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((phi2 - phi1) / 2) ** 2
         + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, a)))
