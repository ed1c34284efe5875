"""Command line: `planner demo`, `planner plan`, `planner validate`, one command per stage.

Only wiring lives here: every command calls stage functions and prints with Rich. Errors a user can
fix (bad file, bad scenario) are printed as one clear message and exit code 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

app = typer.Typer(help="Plan e-KTP outreach: gaps, session sites, weekly routes, maps.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
network_app = typer.Typer(help="Road networks and travel-time matrices.", no_args_is_help=True)
app.add_typer(network_app, name="network")
console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


# ---- validate (scenario) -------------------------------------------------------------------
@app.command()
def validate(scenario: Path = typer.Argument(..., help="scenario TOML file")):
    """Check a scenario file and report every problem at once."""
    from rich.table import Table

    from planner.scenario import validate_file

    loaded, problems = validate_file(scenario)
    if not problems:
        console.print(f"[green]OK[/] {scenario}: '{loaded.name}', {loaded.unit_days} unit-days "
                      f"on {len(loaded.calendar.working_dates())} working days")
        return
    table = Table(title=f"{len(problems)} problem(s) in {scenario}")
    for column in ("file", "key", "problem"):
        table.add_column(column, overflow="fold")
    for p in problems:
        table.add_row(p.file, p.key, p.message)
    err_console.print(table)
    raise typer.Exit(1)


# ---- geocode (register.py, geocode.py, demand.py) ------------------------------------------
@app.command()
def geocode(
    register: Path = typer.Argument(..., help="register CSV or XLSX"),
    areas: Path = typer.Option(..., "--areas", help="kelurahan/desa polygons"),
    kecamatan: Optional[Path] = typer.Option(None, "--kecamatan", help="kecamatan polygons"),
    out: Path = typer.Option(..., "--out", help="output folder"),
):
    """Geocode a register onto kelurahan and kecamatan; every row ends in one bucket."""
    fail("not implemented yet")


# ---- network (network.py) -------------------------------------------------------------------
@network_app.command("build")
def network_build(
    out: Path = typer.Option(..., "--out", help="graph file (.graphml)"),
    roads: Optional[Path] = typer.Option(None, "--roads", help="road line layer (e.g. BIG RBI JALAN_LN_50K)"),
    osm: Optional[Path] = typer.Option(None, "--osm", help="local OSM XML file"),
    online: bool = typer.Option(False, "--online", help="download from OpenStreetMap"),
    areas: Optional[Path] = typer.Option(None, "--areas", help="polygons whose union bounds the network"),
):
    """Build a routable road graph and cache it to disk."""
    fail("not implemented yet")


@network_app.command("matrix")
def network_matrix(
    points: Path = typer.Argument(..., help="points file (GeoJSON/CSV with id, lat, lon)"),
    graph: Optional[Path] = typer.Option(None, "--graph", help="graph file; straight-line fallback without it"),
    vehicle: str = typer.Option("van", "--vehicle"),
    out: Path = typer.Option(..., "--out", help="CSV of minutes and metres, long format"),
):
    """Many-to-many travel-time and distance matrix."""
    fail("not implemented yet")


# ---- place (sites.py, placement.py) ---------------------------------------------------------
@app.command()
def place(scenario: Path = typer.Argument(...), out: Path = typer.Option(..., "--out")):
    """Choose session sites and session-days; writes sessions.csv, assignment.csv, unserved.csv."""
    fail("not implemented yet")


# ---- route (routing.py) ---------------------------------------------------------------------
@app.command()
def route(scenario: Path = typer.Argument(...), out: Path = typer.Option(..., "--out")):
    """Weekly routes for the units; writes schedule.csv/.xlsx and unscheduled.csv."""
    fail("not implemented yet")


# ---- map, sheets (maps.py, sheets.py) -------------------------------------------------------
@app.command("map")
def map_(
    plan: Path = typer.Argument(..., help="plan.json"),
    out: Path = typer.Option(..., "--out"),
    offline: bool = typer.Option(False, "--offline", help="inline Leaflet: one self-contained file"),
):
    """Render a saved plan as an interactive HTML map (aggregates only)."""
    fail("not implemented yet")


@app.command()
def sheets(
    plan: Path = typer.Argument(..., help="plan.json"),
    out: Path = typer.Option(..., "--out"),
    with_names: bool = typer.Option(False, "--with-names", help="put residents' names on day sheets"),
):
    """Write schedule.xlsx and printable day sheets."""
    fail("not implemented yet")


# ---- whole pipeline (pipeline.py) -----------------------------------------------------------
@app.command()
def plan(
    scenario: Path = typer.Argument(..., help="scenario TOML file"),
    out: Path = typer.Option(Path("out"), "--out", help="output folder"),
    offline: bool = typer.Option(False, "--offline", help="self-contained map.html (Leaflet inlined)"),
):
    """Run every stage for a scenario: map.html, schedule.xlsx/.csv, plan.json, plan.gpkg."""
    from planner.pipeline import run, write_outputs
    from planner.scenario import ScenarioError, load

    try:
        loaded = load(scenario)
    except ScenarioError as exc:
        fail(f"{scenario} cannot be used:\n{exc}")
    try:
        result = run(loaded, console=console)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    _finish(result, out, offline)


def _finish(result, out: Path, offline: bool) -> None:
    from rich.table import Table

    from planner.pipeline import write_outputs

    paths = write_outputs(result, out, offline=offline)
    table = Table(title=f"{result.plan.name}: week of {result.plan.week_start}")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    for key, value in result.plan.kpis.items():
        table.add_row(key.replace("_", " "), f"{value:,}" if isinstance(value, (int, float)) else str(value))
    console.print(table)
    for name, path in paths.items():
        console.print(f"  {name:14s} {path}")


@app.command()
def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", help="output folder"),
    seed: int = typer.Option(7, "--seed", help="random seed of the fictional city"),
    size: str = typer.Option("toy", "--size", help="toy, city or province"),
    offline: bool = typer.Option(False, "--offline"),
):
    """Generate the fictional 'Kota Contoh' and run every stage on it."""
    from planner.pipeline import run_demo

    console.print(f"[bold]Kota Contoh[/] (fictional), size {size}, seed {seed}")
    result = run_demo(out, seed=seed, size=size, console=console)
    _finish(result, out, offline)


if __name__ == "__main__":
    app()
