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
    gazetteer: Optional[Path] = typer.Option(None, "--gazetteer", help="official names CSV (kode, nama, level)"),
    within: Optional[str] = typer.Option(None, "--within", help="keep only areas whose code starts with this"),
    column: list[str] = typer.Option([], "--column", help="map a column: canonical=Header, e.g. alamat='Alamat KTP'"),
):
    """Geocode a register onto kelurahan and kecamatan; every row ends in one bucket."""
    from rich.table import Table

    from planner import geocode as geocode_mod
    from planner.areas import AreaError, load_areas
    from planner.register import RegisterError, read_register

    mapping = {}
    for item in column:
        if "=" not in item:
            fail(f"--column {item!r}: expected canonical=Header, e.g. alamat=Alamat Lengkap")
        key, value = item.split("=", 1)
        mapping[key.strip()] = value.strip()
    try:
        area_set = load_areas(areas, kecamatan, within=within)
        table = read_register(register, mapping=mapping or None)
        names = geocode_mod.Gazetteer.from_areas(area_set, gazetteer)
    except (AreaError, RegisterError, OSError, ValueError) as exc:
        fail(str(exc))
    coded = geocode_mod.geocode(table, area_set, gazetteer=names, progress=True)
    paths = geocode_mod.write_outputs(coded, area_set, out)
    counts = geocode_mod.buckets(coded)
    report = Table(title=f"{len(coded):,} register rows")
    report.add_column("bucket")
    report.add_column("rows", justify="right")
    report.add_column("share", justify="right")
    for name, count in counts.items():
        report.add_row(name, f"{count:,}", f"{count / max(len(coded), 1):.1%}")
    report.add_row("[bold]total[/]", f"[bold]{int(counts.sum()):,}[/]", "")
    console.print(report)
    moved = int(coded["nik_kec_mismatch"].sum())
    if moved:
        console.print(f"{moved:,} matched rows have a NIK from another kecamatan (likely moved)")
    console.print("wrote " + ", ".join(str(p) for p in paths.values()))


# ---- network (network.py) -------------------------------------------------------------------
@network_app.command("build")
def network_build(
    out: Path = typer.Option(..., "--out", help="graph file (.graphml)"),
    roads: Optional[Path] = typer.Option(None, "--roads", help="road line layer (e.g. BIG RBI JALAN_LN_50K)"),
    osm: Optional[Path] = typer.Option(None, "--osm", help="local OSM XML file"),
    online: bool = typer.Option(False, "--online", help="download from OpenStreetMap"),
    areas: Optional[Path] = typer.Option(None, "--areas", help="polygons whose union bounds the network"),
    class_column: str = typer.Option("REMARK", "--class-column", help="road class column of --roads"),
):
    """Build a routable road graph and cache it to disk."""
    import geopandas as gpd

    from planner import network

    if (roads is not None) + (osm is not None) + online != 1:
        fail("give exactly one source: --roads FILE, --osm FILE or --online")
    for path in (roads, osm, areas):
        if path is not None and not path.exists():
            fail(f"file not found: {path}")
    boundary = None
    if areas is not None:
        shapes = gpd.read_file(areas)
        utm = shapes.estimate_utm_crs()
        # 500 m margin, as osmnx does, so roads just outside the border still join the network
        boundary = gpd.GeoSeries([shapes.to_crs(utm).union_all().buffer(500)], crs=utm).to_crs(4326).iloc[0]
    try:
        with console.status("building the road graph"):
            if roads is not None:
                lines = gpd.read_file(roads)
                if boundary is not None:
                    lines = lines[lines.to_crs(4326).intersects(boundary)]
                G = network.graph_from_lines(lines, class_column)
            elif osm is not None:
                pbf = osm.name.lower().endswith(".pbf")
                G = network.graph_from_osm_pbf(osm) if pbf else network.graph_from_osm_xml(osm)
            else:
                if boundary is None:
                    fail("--online needs --areas (the polygons to download roads for)")
                G = network.graph_from_polygon(boundary)
            network.save_graph(G, out)
    except ValueError as exc:
        fail(str(exc))
    km = sum(d["length"] for _, _, d in G.edges(data=True)) / 1000
    console.print(f"[green]OK[/] {out}: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} directed edges, "
                  f"{km:,.1f} km of directed edges")
    for key, value in G.graph.get("report", {}).items():
        console.print(f"  {key}: {value}")


@network_app.command("matrix")
def network_matrix(
    points: Path = typer.Argument(..., help="points file (GeoJSON/CSV with id, lat, lon)"),
    graph: Optional[Path] = typer.Option(None, "--graph", help="graph file; straight-line fallback without it"),
    vehicle: str = typer.Option("van", "--vehicle"),
    out: Path = typer.Option(..., "--out", help="CSV of minutes and metres, long format"),
    max_snap_m: float = typer.Option(1000.0, "--max-snap-m", help="flag points farther than this from a road"),
):
    """Many-to-many travel-time and distance matrix."""
    from planner import network

    try:
        pts = network.read_points(points)
        G = network.load_graph(graph) if graph is not None else None
        tm = network.travel_matrix(pts, pts, G, vehicle, max_snap_m=max_snap_m, progress=True)
    except ValueError as exc:
        fail(str(exc))
    out.parent.mkdir(parents=True, exist_ok=True)
    tm.to_long().to_csv(out, index=False)
    if tm.method == "straight_line":
        console.print("[yellow]no --graph: straight-line estimate[/] (haversine x circuity / speed), "
                      "marked method=straight_line in the CSV")
    console.print(f"[green]OK[/] {out}: {len(pts)} x {len(pts)} pairs, {vehicle}, method={tm.method}")
    if tm.origin_far is not None and tm.origin_far.any():
        far = [i for i, f in zip(tm.origins, tm.origin_far) if f]
        err_console.print(f"[yellow]warning:[/] {len(far)} point(s) farther than {max_snap_m:.0f} m from a road: "
                          f"{far[:10]}")
    if not tm.reachable.all():
        err_console.print(f"[yellow]warning:[/] {int((~tm.reachable).sum())} pair(s) unreachable "
                          f"(minutes={network.UNREACHABLE_MIN}, reachable=False)")


# ---- place (sites.py, placement.py) ---------------------------------------------------------
@app.command()
def place(
    scenario: Path = typer.Argument(...),
    out: Path = typer.Option(..., "--out"),
    solver: str = typer.Option("HIGHS", "--solver", help="HIGHS, SCIP or CP_SAT"),
):
    """Choose session sites and session-days; writes sessions.csv, assignment.csv, unserved.csv."""
    from planner.pipeline import place_stage
    from planner.scenario import ScenarioError, load

    try:
        loaded = load(scenario)
    except ScenarioError as exc:
        fail(f"{scenario} cannot be used:\n{exc}")
    try:
        stage = place_stage(loaded, console=console, solver=solver)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    placed, matrix = stage.placement, stage.matrix
    out.mkdir(parents=True, exist_ok=True)
    placed.sessions.to_csv(out / "sessions.csv", index=False)
    placed.assignment.to_csv(out / "assignment.csv", index=False)
    placed.unserved.to_csv(out / "unserved.csv", index=False)
    console.print(placed.explain())
    console.print(f"[green]✓[/] {len(placed.sessions)} sites, {placed.summary['session_days']} session-days "
                  f"({matrix.method} travel times); sessions.csv, assignment.csv, unserved.csv written to {out}")


# ---- route (routing.py) ---------------------------------------------------------------------
@app.command()
def route(
    scenario: Path = typer.Argument(...),
    out: Path = typer.Option(..., "--out"),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", help="search seconds (default: scenario's)"),
):
    """Weekly routes for the units; writes schedule.csv/.xlsx and unscheduled.csv."""
    from planner import sheets
    from planner.pipeline import run
    from planner.routing import check_schedule
    from planner.scenario import ScenarioError, load

    try:
        loaded = load(scenario)
    except ScenarioError as exc:
        fail(f"{scenario} cannot be used:\n{exc}")
    if time_limit is not None:
        loaded = loaded.model_copy(update={"time_budget_s": time_limit})
    try:
        result = run(loaded, console=console)  # placement feeds routing; every stage runs once
    except (ValueError, OSError) as exc:
        fail(str(exc))
    routes = result.routes
    out.mkdir(parents=True, exist_ok=True)
    sheets.write_schedule_csv(result.plan, out / "schedule.csv")
    sheets.write_schedule_xlsx(result.plan, out / "schedule.xlsx")
    routes.unscheduled.to_csv(out / "unscheduled.csv", index=False)
    problems = check_schedule(routes.schedule, loaded.calendar, result.sites, units=loaded.units)
    jobs = routes.schedule[routes.schedule["job_kind"] != "depot"]
    console.print(f"[green]✓[/] {jobs['job_id'].nunique()} jobs on "
                  f"{routes.schedule[['unit', 'date']].drop_duplicates().shape[0]} unit-days, "
                  f"{len(routes.unscheduled)} unscheduled (see unscheduled.csv); written to {out}")
    if not routes.stats.get("reproducible", True):
        console.print("[yellow]note:[/] the search budget cut a run short; a larger --time-limit gives a plan "
                      "that does not depend on machine speed")
    if problems:
        fail("schedule check failed (please report this):\n" + "\n".join(problems[:20]), code=1)


# ---- map, sheets (maps.py, sheets.py) -------------------------------------------------------
@app.command("map")
def map_(
    plan: Path = typer.Argument(..., help="plan.json"),
    out: Path = typer.Option(..., "--out"),
    offline: bool = typer.Option(False, "--offline", help="inline Leaflet: one self-contained file"),
    gpkg: Optional[Path] = typer.Option(None, "--gpkg", help="also write the plan as a GeoPackage (QGIS)"),
):
    """Render a saved plan as an interactive HTML map (aggregates only)."""
    from planner import maps
    from planner.plan import Plan

    try:
        loaded = Plan.load(plan)
        areas = loaded.load_areas()
        m = maps.plan_map(loaded, areas)
        path = maps.save_map(m, out, offline=offline)
        if gpkg is not None:
            console.print(f"GeoPackage: {maps.write_geopackage(loaded, areas, gpkg)}")
    except (ValueError, OSError) as exc:
        fail(str(exc))
    console.print(f"map: {path} ({path.stat().st_size / 2**20:.1f} MB{', offline' if offline else ''})")


@app.command()
def sheets(
    plan: Path = typer.Argument(..., help="plan.json"),
    out: Path = typer.Option(..., "--out"),
    with_names: bool = typer.Option(False, "--with-names", help="put residents' names on day sheets"),
    register: Optional[Path] = typer.Option(None, "--register",
                                            help="geocoded register (CSV/XLSX with nama, rt, rw, kode_kel, "
                                                 "home_visit); needed with --with-names"),
):
    """Write schedule.xlsx and printable day sheets."""
    import pandas as pd

    from planner import sheets as sheets_mod
    from planner.plan import Plan

    if with_names and register is None:
        fail("--with-names needs --register: the plan holds no names, they come from the geocoded register")
    if register is not None and not with_names:
        fail("--register is only read with --with-names (names go only on sheets asked for by name)")
    try:
        loaded = Plan.load(plan)
        people = None
        if register is not None:
            people = (pd.read_excel(register, dtype=str) if register.suffix.lower() in (".xlsx", ".xls")
                      else pd.read_csv(register, dtype=str))
            if "home_visit" in people:
                people["home_visit"] = people["home_visit"].str.lower().isin(["true", "1", "ya", "y"])
        out.mkdir(parents=True, exist_ok=True)
        written = [sheets_mod.write_schedule_xlsx(loaded, out / "schedule.xlsx"),
                   sheets_mod.write_schedule_csv(loaded, out / "schedule.csv")]
        pages = sheets_mod.write_day_sheets(loaded, out / "day-sheets", register=people)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    for path in written:
        console.print(f"  {path}")
    console.print(f"  {len(pages) - 1} day sheets in {out / 'day-sheets'} (open index.html)"
                  + (" [bold yellow]with residents' names: for the visiting team only[/]" if with_names else ""))


# ---- whole pipeline (pipeline.py) -----------------------------------------------------------
@app.command()
def plan(
    scenario: Path = typer.Argument(..., help="scenario TOML file"),
    out: Path = typer.Option(Path("out"), "--out", help="output folder"),
    offline: bool = typer.Option(False, "--offline", help="self-contained map.html (Leaflet inlined)"),
    with_names: bool = typer.Option(False, "--with-names",
                                    help="day sheets with residents' names for the teams (personal data)"),
    state: Optional[Path] = typer.Option(None, "--state",
                                         help="last week's private/register-state.csv: plan the residents left"),
    week_start: Optional[str] = typer.Option(None, "--week-start",
                                             help="Monday to plan (default: the scenario's, or the week after "
                                                  "the last one in --state)"),
):
    """Run every stage for a scenario: map.html, schedule.xlsx/.csv, plan.json, plan.gpkg, day sheets.

    Also writes OUT/private/register-state.csv (personal data, never share) for `planner progress`.
    """
    import datetime as dt

    from planner import progress
    from planner.pipeline import run, write_outputs
    from planner.scenario import ScenarioError, load

    try:
        loaded = load(scenario)
    except ScenarioError as exc:
        fail(f"{scenario} cannot be used:\n{exc}")
    try:
        previous = progress.read_state(state) if state is not None else None
        start = dt.date.fromisoformat(week_start) if week_start else (
            progress.next_week(previous) if previous is not None else None)
        if start is not None:
            loaded = progress.scenario_for_week(loaded, start)
        result = run(loaded, console=console, state=previous)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    from planner.forecast import election_outlook

    outlook = election_outlook(loaded, result.gaps)
    if outlook is not None:
        result.plan.meta["election"] = outlook
    _finish(result, out, offline, with_names)
    if outlook is not None:
        console.print(f"election {outlook['election_date']}: {outlook['at_risk']:,} of {outlook['pemula']:,} "
                      "first-time voters at risk of no printed card by then at this pace "
                      f"({outlook['not_recorded']:,} not recorded, {outlook['recorded_not_printed']:,} awaiting print)")
    kept = previous if previous is not None else progress.initial_state(result.register)
    console.print(f"  {'register state':14s} {progress.save_private(kept, out)} "
                  "[bold yellow](personal data: do not share private/)[/]")


def _finish(result, out: Path, offline: bool, with_names: bool = False) -> None:
    from rich.table import Table

    from planner.pipeline import write_outputs

    paths = write_outputs(result, out, offline=offline, with_names=with_names)
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


# ---- weekly loop (progress.py) --------------------------------------------------------------
@app.command("progress")
def progress_(
    plan_path: Path = typer.Argument(..., metavar="PLAN", help="last week's plan.json"),
    recorded: Path = typer.Option(..., "--recorded", help="CSV/XLSX of NIKs recorded this week (column nik)"),
    not_found: Optional[Path] = typer.Option(None, "--not-found",
                                             help="CSV/XLSX of NIKs not found (columns nik, reason: "
                                                  "moved/pindah, died/meninggal, other_nik/nik lain)"),
    out: Path = typer.Option(..., "--out", help="folder for next week's register state and gaps"),
    state: Optional[Path] = typer.Option(None, "--state",
                                         help="register state (default: PLAN's folder/private/register-state.csv)"),
):
    """Mark this week's recorded and not-found residents, recompute the gaps, write next week's state."""
    import datetime as dt

    from rich.table import Table

    from planner import progress as progress_mod
    from planner.plan import Plan

    try:
        loaded = Plan.load(plan_path)
        current = progress_mod.read_state(state or plan_path.parent / "private" / "register-state.csv")
        done = progress_mod.apply(current, progress_mod.read_list(recorded),
                                  progress_mod.read_list(not_found, with_reason=True) if not_found else None,
                                  week=loaded.week_start)
        election = loaded.meta.get("election_date") or None
        gaps = progress_mod.gaps(done.state, loaded.load_areas(), loaded.week_start + dt.timedelta(days=7),
                                 dt.date.fromisoformat(election) if election else None)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    out.mkdir(parents=True, exist_ok=True)
    state_path = progress_mod.save_private(done.state, out)
    gaps.to_csv(out / "gaps.csv", index=False)
    done.summary().to_csv(out / "progress.csv", index=False)
    table = Table(title=f"{loaded.name}: week of {loaded.week_start}")
    for column in ("state", "before", "after"):
        table.add_column(column, justify="right" if column != "state" else "left")
    for row in done.summary().itertuples():
        table.add_row(row.state, f"{row.before:,}", f"{row.after:,}")
    console.print(table)
    if len(done.issues):
        issues_path = out / "private" / "progress-issues.csv"
        done.issues.to_csv(issues_path, index=False)
        err_console.print(f"[yellow]{len(done.issues)} NIK(s) not applied[/] (not added to the register): "
                          + ", ".join(f"{n} {r}" for r, n in done.issues["reason"].value_counts().items())
                          + f"; see {issues_path}")
    console.print(f"  gaps           {out / 'gaps.csv'} ({int(gaps['unrecorded'].sum()):,} unrecorded, "
                  f"{int((gaps['unrecorded'] == 0).sum())} kelurahan finished)")
    console.print(f"  register state {state_path} [bold yellow](personal data: do not share private/)[/]")
    console.print(f"next: planner plan SCENARIO --state {state_path} --out DIR (week of "
                  f"{loaded.week_start + dt.timedelta(days=7)})")


# ---- forecast (forecast.py) -----------------------------------------------------------------
@app.command("forecast")
def forecast_(
    scenario: Path = typer.Argument(..., help="scenario TOML file"),
    until: str = typer.Option(..., "--until", help="last date to simulate (YYYY-MM-DD)"),
    out: Path = typer.Option(Path("forecast-out"), "--out", help="output folder"),
    units: Optional[str] = typer.Option(None, "--units", help="session units to compare, e.g. 2,4,6 "
                                                               "(default: the scenario's)"),
    saturday: Optional[bool] = typer.Option(None, "--saturday/--no-saturday", help="work Saturdays (default: "
                                                                                   "the scenario's calendar)"),
    target: Optional[float] = typer.Option(None, "--target", help="coverage to reach, e.g. 1.0 or 0.95"),
    turnout: Optional[float] = typer.Option(None, "--turnout", help="share of invited residents who come"),
    state: Optional[Path] = typer.Option(None, "--state", help="start from a register state (private/...csv)"),
):
    """Simulate weeks of plans: the week each kelurahan and the city reach the target, and a chart."""
    import datetime as dt

    import pandas as pd
    from rich.table import Table

    from planner import forecast as forecast_mod
    from planner import progress
    from planner.scenario import ScenarioError, load

    try:
        loaded = load(scenario)
    except ScenarioError as exc:
        fail(f"{scenario} cannot be used:\n{exc}")
    overrides = {k: v for k, v in {"target": target, "turnout": turnout}.items() if v is not None}
    try:
        end = dt.date.fromisoformat(until)
        counts = [int(u) for u in units.split(",")] if units else [None]
        previous = progress.read_state(state) if state is not None else None
        if previous is not None and progress.next_week(previous):
            loaded = progress.scenario_for_week(loaded, progress.next_week(previous))
        with console.status("gaps"):
            gaps, _ = forecast_mod.scenario_gaps(loaded, previous)
        runs = [forecast_mod.from_scenario(loaded, gaps, until=end, units=n, saturday=saturday, **overrides)
                for n in counts]
    except ValueError as exc:
        fail(str(exc))
    out.mkdir(parents=True, exist_ok=True)
    table = forecast_mod.summary(runs)
    table.to_csv(out / "forecast-summary.csv", index=False)
    pd.concat([f.weekly.assign(scenario=f.label) for f in runs]).to_csv(out / "forecast-weekly.csv", index=False)
    pd.concat([f.kelurahan.assign(scenario=f.label) for f in runs]).to_csv(out / "forecast-kelurahan.csv",
                                                                         index=False)
    forecast_mod.plot(runs, out / "forecast.png", title=f"{loaded.name}: remaining gap")
    report = Table(title=f"{loaded.name}: {table['start_gap'].iloc[0]:,} unrecorded from {loaded.calendar.week_start}, "
                         f"target {runs[0].target:.0%}")
    for column in ("scenario", "weeks", "reached", "capacity bound", "pemula at risk"):
        report.add_column(column, justify="left" if column == "scenario" else "right")
    for row in table.itertuples():
        reached = not pd.isna(row.weeks_to_target)
        report.add_row(row.scenario, str(row.weeks_to_target) if reached else "-",
                       str(row.target_date) if reached else f"not by {end}", str(row.capacity_bound_weeks),
                       "-" if pd.isna(row.pemula_at_risk) else f"{int(row.pemula_at_risk):,}")
    console.print(report)
    if loaded.election_date is not None:
        console.print(f"election {loaded.election_date}: first-time voters (pemula) recorded and printed in weeks "
                      "ending before it; the rest are at risk")
    if loaded.blangko is not None:
        stock = Table(title="blangko (blank cards) by scenario")
        for column in ("scenario", "stock at start", "delivered", "printed", "weeks short", "max shortfall",
                       "awaiting print at end"):
            stock.add_column(column, justify="left" if column == "scenario" else "right")
        for f in runs:
            w = f.weekly
            stock.add_row(f.label, f"{loaded.blangko.stock:,}", f"{int(w['delivered'].sum()):,}",
                          f"{int(w['printed'].sum()):,}", str(int((w["shortfall"] > 0).sum())),
                          f"{int(w['shortfall'].max()):,}", f"{int(w['awaiting_print'].iloc[-1]):,}")
        console.print(stock)
        console.print("stock, use and shortfall by week: forecast-weekly.csv (columns stock_start ... shortfall)")
    for path in ("forecast-summary.csv", "forecast-weekly.csv", "forecast-kelurahan.csv"):
        console.print(f"  {out / path}")
    console.print(f"  {out / 'forecast.png'}")


if __name__ == "__main__":
    app()
