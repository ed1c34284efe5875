"""Command line: `planner demo`, `planner plan`, `planner validate`, one command per stage.

Only wiring lives here: every command parses its options, calls `planner.pipeline` (or one stage)
and prints with Rich. Errors a user can fix (`planner.errors.PlannerError`, and `OSError` such as
an unwritable folder) are printed as one clear message with exit code 2; anything else is a bug
and shows its traceback with a line asking to report it.
"""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path

import click
import typer
from rich.console import Console
from rich.markup import escape

from planner.errors import PlannerError
from planner.fmt import hari_tanggal
from planner.i18n import en, t, text, written

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
network_app = typer.Typer(help="Road networks and travel-time matrices.", no_args_is_help=True)
app.add_typer(network_app, name="network")


@app.callback()
def _language(lang: str | None = typer.Option(None, "--lang", envvar="PLANNER_LANG",
                                               help="language of messages and outputs: id (default) or en")):
    """Plan e-KTP outreach: gaps, session sites, weekly routes, maps."""
    from planner.i18n import LANGUAGES, set_language

    wanted = (lang or "").split("_")[0].split(".")[0].lower() or None
    if wanted is not None and wanted not in LANGUAGES:
        raise typer.BadParameter(f"expected one of {', '.join(LANGUAGES)}", param_hint="--lang")
    set_language(wanted)


console = Console()
err_console = Console(stderr=True)
REPORT = ("[bold red]Ini kesalahan program planner, bukan kesalahan data Anda.[/] Mohon laporkan (this is a bug: "
          "please report it) dengan pesan di atas: https://github.com/planner-ektp/planner/issues")


def shown(message) -> str:
    """A message in the user's language, safe to print through rich (a '[sites]' stays text, not markup)."""
    return escape(text(message))


def fail(message: str, code: int = 2) -> None:
    """Print one clear error line and stop with `code`."""
    err_console.print(f"[bold red]{t('error')}:[/] {shown(message)}")
    raise typer.Exit(code)


def handled(command):
    """Run a command; user-fixable errors become one message (exit 2), bugs a traceback plus REPORT."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (typer.Exit, click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except PlannerError as exc:
            fail(str(exc))
        except OSError as exc:
            where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
            fail(f"{exc.strerror or exc}{where}")
        except KeyboardInterrupt:
            err_console.print(t("interrupted: nothing was written"))
            raise typer.Exit(130) from None
        except Exception:
            err_console.print(REPORT)
            raise
    return wrapper


# ---- validate (scenario) -------------------------------------------------------------------
@app.command()
@handled
def validate(scenario: Path = typer.Argument(..., help="scenario TOML file")):
    """Check a scenario file and everything it names, and report every problem at once (no solving)."""
    from rich.table import Table

    from planner.checks import check_scenario

    loaded, problems = check_scenario(scenario)
    if not problems:
        what = (t("{n} kab/kota offices", n=len(loaded.offices)) if loaded.offices
                else t("{n} unit-days", n=loaded.unit_days))
        console.print(f"[green]OK[/] {escape(str(scenario))}: '{escape(loaded.name)}', {what} "
                      + t("on {days} working days", days=len(loaded.calendar.working_dates())))
        return
    table = Table(title=t("{n} problem(s) in {file}", n=len(problems), file=str(scenario)))
    for column in ("file", "key", "problem"):
        table.add_column(t(column), overflow="fold")
    for p in problems:
        table.add_row(escape(p.file), escape(p.key), shown(p.message))
    err_console.print(table)
    raise typer.Exit(1)


ENGINE_OPTION = typer.Option(None, "--engine", help="routing engine: best, ortools or pyvrp (default: the scenario's "
                                                    "[routing] engine)")


def _load(scenario: Path, engine: str | None = None):
    from planner.scenario import RoutingConfig, ScenarioError, load

    try:
        loaded = load(scenario)
    except ScenarioError as exc:
        fail("\n".join([t("{file} cannot be used:", file=str(scenario))]
                      + [f"{p.key}: {text(p.message)}" for p in exc.problems]))
    if engine is not None:
        if engine not in ("best", "ortools", "pyvrp"):
            fail(t("--engine {engine}: expected best, ortools or pyvrp", engine=engine))
        loaded = loaded.model_copy(update={"routing": RoutingConfig(engine=engine)})
    return loaded


def _print_notes(notes) -> None:
    for note in notes:
        style = "bold yellow" if str(note).startswith("PERINGATAN") else "yellow"
        err_console.print(f"[{style}]![/] {shown(note)}")


# ---- geocode (register.py, geocode/, demand.py) --------------------------------------------
@app.command()
@handled
def geocode(
    register: Path = typer.Argument(..., help="register CSV or XLSX"),
    areas: Path = typer.Option(..., "--areas", help="kelurahan/desa polygons"),
    kecamatan: Path | None = typer.Option(None, "--kecamatan", help="kecamatan polygons"),
    out: Path = typer.Option(..., "--out", help="output folder"),
    gazetteer: Path | None = typer.Option(None, "--gazetteer", help="official names CSV (kode, nama, level)"),
    within: str | None = typer.Option(None, "--within", help="keep only areas whose code starts with this"),
    column: list[str] = typer.Option([], "--column", help="map a column: canonical=Header, e.g. alamat='Alamat KTP'"),
):
    """Geocode a register onto kelurahan and kecamatan; every row ends in one bucket."""
    from rich.table import Table

    from planner import geocode as geocode_mod
    from planner.areas import load_areas
    from planner.register import read_register

    mapping = {}
    for item in column:
        if "=" not in item:
            fail(t("--column {item}: expected canonical=Header, e.g. alamat=Alamat Lengkap", item=repr(item)))
        key, value = item.split("=", 1)
        mapping[key.strip()] = value.strip()
    area_set = load_areas(areas, kecamatan, within=within)
    table = read_register(register, mapping=mapping or None)
    names = geocode_mod.Gazetteer.from_areas(area_set, gazetteer)
    report = table.attrs.get("import_report")
    coded = geocode_mod.geocode(table, area_set, gazetteer=names, progress=True)
    paths = geocode_mod.write_outputs(coded, area_set, out)
    counts = geocode_mod.buckets(coded)
    summary = Table(title=t("{n} register rows", n=written(len(coded))))
    summary.add_column(t("bucket"))
    summary.add_column(t("rows"), justify="right")
    summary.add_column(t("share"), justify="right")
    for name, count in counts.items():
        summary.add_row(text(name), written(int(count)), written(round(100 * count / max(len(coded), 1), 1)) + "%")
    summary.add_row(f"[bold]{t('total')}[/]", f"[bold]{written(int(counts.sum()))}[/]", "")
    console.print(summary)
    _print_notes((report.messages() if report is not None else []) + coded.attrs.get("warnings", []))
    moved = int(coded["nik_kec_mismatch"].sum())
    if moved:
        console.print(t("{n} matched rows have a NIK from another kecamatan (likely moved)", n=written(moved)))
    console.print(t("wrote {files}", files=", ".join(str(p) for p in paths.values()))
                  + f" [bold yellow]({t('private/ holds personal data: do not share')})[/]")


# ---- network (network.py) -------------------------------------------------------------------
@network_app.command("build")
@handled
def network_build(
    out: Path = typer.Option(..., "--out", help="graph file (.graphml)"),
    roads: Path | None = typer.Option(None, "--roads", help="road line layer (e.g. BIG RBI JALAN_LN_50K)"),
    osm: Path | None = typer.Option(None, "--osm", help="local OSM XML file"),
    online: bool = typer.Option(False, "--online", help="download from OpenStreetMap"),
    areas: Path | None = typer.Option(None, "--areas", help="polygons whose union bounds the network"),
    class_column: str = typer.Option("REMARK", "--class-column", help="road class column of --roads"),
):
    """Build a routable road graph and cache it to disk."""
    import geopandas as gpd

    from planner import network
    from planner.areas import load_areas
    from planner.errors import MissingFileError
    from planner.inputs import _read_lines, require_internet

    if (roads is not None) + (osm is not None) + online != 1:
        fail("give exactly one source: --roads FILE, --osm FILE or --online")
    for path in (roads, osm, areas):
        if path is not None and not path.exists():
            raise MissingFileError(path)
    boundary = None
    if areas is not None:
        shapes = load_areas(areas).kelurahan
        utm = shapes.estimate_utm_crs()
        # 500 m margin, as osmnx does, so roads just outside the border still join the network
        boundary = gpd.GeoSeries([shapes.to_crs(utm).union_all().buffer(500)], crs=utm).to_crs(4326).iloc[0]
    with console.status("building the road graph"):
        if roads is not None:
            lines = _read_lines(roads)
            if boundary is not None:
                lines = lines[lines.to_crs(4326).intersects(boundary)]
            G = network.graph_from_lines(lines, class_column)
        elif osm is not None:
            pbf = osm.name.lower().endswith(".pbf")
            G = network.graph_from_osm_pbf(osm) if pbf else network.graph_from_osm_xml(osm)
        else:
            if boundary is None:
                fail("--online needs --areas (the polygons to download roads for)")
            require_internet("--online")
            G = network.graph_from_polygon(boundary)
        network.save_graph(G, out)
    km = sum(d["length"] for _, _, d in G.edges(data=True)) / 1000
    console.print(f"[green]OK[/] {out}: " + t("{nodes} nodes, {edges} directed edges, {km} km of directed edges",
                                              nodes=written(G.number_of_nodes()), edges=written(G.number_of_edges()),
                                              km=written(round(km, 1))))
    for key, value in G.graph.get("report", {}).items():
        console.print(f"  {key}: {value}")


@network_app.command("matrix")
@handled
def network_matrix(
    points: Path = typer.Argument(..., help="points file (GeoJSON/CSV with id, lat, lon)"),
    graph: Path | None = typer.Option(None, "--graph", help="graph file; straight-line fallback without it"),
    vehicle: str = typer.Option("van", "--vehicle"),
    out: Path = typer.Option(..., "--out", help="CSV of minutes and metres, long format"),
    max_snap_m: float = typer.Option(1000.0, "--max-snap-m", help="flag points farther than this from a road"),
):
    """Many-to-many travel-time and distance matrix."""
    from planner import network
    from planner.tables import write_csv

    pts = network.read_points(points)
    G = network.load_graph(graph) if graph is not None else None
    tm = network.travel_matrix(pts, pts, G, vehicle, max_snap_m=max_snap_m, progress=True)
    write_csv(tm.to_long(), out)
    if tm.method == "straight_line":
        console.print(f"[yellow]{t('no --graph: straight-line estimate')}[/] "
                      + t("(haversine x circuity / speed), marked method=straight_line in the CSV"))
    console.print(f"[green]OK[/] {out}: " + t("{n} x {n} pairs, {vehicle}, method={method}", n=len(pts),
                                              vehicle=vehicle, method=tm.method))
    if tm.origin_far is not None and tm.origin_far.any():
        far = [i for i, f in zip(tm.origins, tm.origin_far) if f]
        err_console.print(f"[yellow]{t('warning')}:[/] " + escape(t("{n} point(s) farther than {m} m from a road: "
                                                                   "{ids}", n=len(far), m=f"{max_snap_m:.0f}",
                                                                   ids=str(far[:10]))))
    if not tm.reachable.all():
        err_console.print(f"[yellow]{t('warning')}:[/] " + t("{n} pair(s) unreachable (minutes={minutes}, "
                                                            "reachable=False)", n=int((~tm.reachable).sum()),
                                                            minutes=network.UNREACHABLE_MIN))


# ---- place, route (placement.py, routing/) --------------------------------------------------
@app.command()
@handled
def place(
    scenario: Path = typer.Argument(...),
    out: Path = typer.Option(..., "--out"),
    solver: str = typer.Option("HIGHS", "--solver", help="HIGHS, SCIP or CP_SAT"),
):
    """Choose session sites and session-days; writes sessions.csv, assignment.csv, unserved.csv."""
    from planner.pipeline import run
    from planner.tables import write_csv

    loaded = _load(scenario)
    stage = run(loaded, until="placement", console=console, solver=solver)
    placed = stage.placement
    for name in ("sessions", "assignment", "unserved"):
        write_csv(getattr(placed, name), out / f"{name}.csv")
    console.print(escape(text(placed.explain())))
    _print_notes(stage.notes)
    console.print("[green]✓[/] " + t("{sites} sites, {days} session-days ({method} travel times); sessions.csv, "
                                     "assignment.csv, unserved.csv written to {out}", sites=len(placed.sessions),
                                     days=placed.summary["session_days"], method=stage.matrix.method, out=str(out)))


@app.command()
@handled
def route(
    scenario: Path = typer.Argument(...),
    out: Path = typer.Option(..., "--out"),
    sessions: Path | None = typer.Option(None, "--sessions", help="sessions.csv written by `planner place` "
                                                                     "(default: run placement first)"),
    time_limit: float | None = typer.Option(None, "--time-limit", help="search seconds (default: scenario's)"),
    engine: str | None = ENGINE_OPTION,
):
    """Weekly routes for the units; writes schedule.csv/.xlsx and unscheduled.csv."""
    from planner import sheets
    from planner.pipeline import routing_units, run
    from planner.routing import check_schedule
    from planner.tables import read_table, write_csv

    loaded = _load(scenario, engine)
    if time_limit is not None:
        loaded = loaded.model_copy(update={"time_budget_s": time_limit})
    given = None
    if sessions is not None:
        given, _ = read_table(sessions, what="sessions file", looks_right=lambda h: "site_id" in h)
        given = given.drop(columns=[c for c in given.columns if c.startswith("__")])
    result = run(loaded, console=console, sessions=given)
    routes = result.routes
    out.mkdir(parents=True, exist_ok=True)
    sheets.write_schedule_csv(result.plan, out / "schedule.csv")
    sheets.write_schedule_xlsx(result.plan, out / "schedule.xlsx")
    write_csv(routes.unscheduled, out / "unscheduled.csv")
    problems = check_schedule(routes.schedule, loaded.calendar, result.sites, units=routing_units(loaded, result.sites),
                              min_session_min=loaded.placement.min_session_min)
    from planner.contracts import FRAME_KINDS

    jobs = routes.schedule[~routes.schedule["job_kind"].isin(FRAME_KINDS)]
    console.print("[green]✓[/] " + t("{jobs} jobs on {days} unit-days, {left} unscheduled (see unscheduled.csv); "
                                     "written to {out}", jobs=jobs["job_id"].nunique(),
                                     days=routes.schedule[["unit", "date"]].drop_duplicates().shape[0],
                                     left=len(routes.unscheduled), out=str(out)))
    _print_notes(result.notes)
    if problems:
        err_console.print(REPORT)
        fail("schedule check failed:\n" + "\n".join(problems[:20]), code=1)


# ---- map, sheets (maps.py, sheets.py) -------------------------------------------------------
@app.command("map")
@handled
def map_(
    plan: Path = typer.Argument(..., help="plan.json"),
    out: Path = typer.Option(..., "--out"),
    offline: bool = typer.Option(True, "--offline/--cdn", help="one self-contained file (default) or the small "
                                                              "online version that loads Leaflet from a CDN"),
    gpkg: Path | None = typer.Option(None, "--gpkg", help="also write the plan as a GeoPackage (QGIS)"),
):
    """Render a saved plan as an interactive HTML map (aggregates only)."""
    from planner import exports, maps
    from planner.plan import Plan

    loaded = Plan.load(plan)
    areas = loaded.load_areas()
    path = maps.save_map(maps.plan_map(loaded, areas), out, offline=offline)
    if gpkg is not None:
        console.print(f"GeoPackage: {exports.write_geopackage(loaded, areas, gpkg)}")
    size = f"{written(round(path.stat().st_size / 2**20, 1))} MB" + ("" if offline else ", " + t("needs internet"))
    console.print(t("map: {file} ({size})", file=str(path), size=size))


@app.command()
@handled
def sheets(
    plan: Path = typer.Argument(..., help="plan.json"),
    out: Path = typer.Option(..., "--out"),
    with_names: bool = typer.Option(False, "--with-names", help="put residents' names on day sheets"),
    register: Path | None = typer.Option(None, "--register",
                                            help="the register state the plan was made from (default: the plan's "
                                                 "folder/private/register-state.csv); needed with --with-names"),
):
    """Write schedule.xlsx and printable day sheets (with names only for the visiting teams)."""
    from planner import sheets as sheets_mod
    from planner.plan import Plan

    if register is not None and not with_names:
        fail("--register is only read with --with-names (names go only on sheets asked for by name)")
    loaded = Plan.load(plan)
    people = _named_register(loaded, plan, register) if with_names else None
    files = [sheets_mod.write_schedule_xlsx(loaded, out / "schedule.xlsx"),
             sheets_mod.write_schedule_csv(loaded, out / "schedule.csv")]
    folder = out / ("private/lembar-harian-nama" if with_names else "day-sheets")
    pages = sheets_mod.write_day_sheets(loaded, folder, register=people)
    for path in files:
        console.print(f"  {path}")
    console.print("  " + t("{n} day sheets in {folder} (open index.html)", n=len(pages) - 1, folder=str(folder))
                  + (f" [bold yellow]{t('with residents names: for the visiting team only')}[/]" if with_names else ""))


def _named_register(loaded, plan_path: Path, register: Path | None):
    """The register state the plan was made from, checked against the plan's fingerprint."""
    from planner.errors import InputError
    from planner.pipeline import register_fingerprint
    from planner.progress import read_state
    from planner.tables import read_own_csv

    path = register or plan_path.parent / "private" / "register-state.csv"
    if not path.exists():
        fail("--with-names needs the register the plan was made from: --register "
             "OUT/private/register-state.csv (the plan holds no names)")
    people = read_own_csv(path)
    if "state" in people:
        people = read_state(path)
    expected = (loaded.meta.get("register") or {}).get("fingerprint")
    if expected and ({"row", "nik"} - set(people.columns) or register_fingerprint(people) != expected):
        raise InputError(f"{path} is not the register this plan was made from (its rows and NIKs differ); give the "
                         "private/register-state.csv written with this plan")
    return people


# ---- whole pipeline (pipeline.py, outputs.py) -----------------------------------------------
@app.command()
@handled
def plan(
    scenario: Path = typer.Argument(..., help="scenario TOML file"),
    out: Path = typer.Option(Path("out"), "--out", help="output folder (replaced whole on success)"),
    offline: bool = typer.Option(True, "--offline/--cdn", help="self-contained map.html (default) or the small "
                                                              "online version"),
    with_names: bool = typer.Option(False, "--with-names",
                                    help="day sheets with residents' names for the teams (personal data)"),
    state: Path | None = typer.Option(None, "--state",
                                         help="last week's private/register-state.csv: plan the residents left"),
    week_start: datetime | None = typer.Option(None, "--week-start", formats=["%Y-%m-%d"],
                                                  help="Monday to plan (default: the scenario's, or the week "
                                                       "after the last one in --state)"),
    keep_private: bool = typer.Option(False, "--keep-private", help="keep the old OUT/private/ files this run "
                                                                    "does not rewrite"),
    engine: str | None = ENGINE_OPTION,
    scheduler: str | None = typer.Option(None, "--scheduler", help="province plans: an existing Dask scheduler, "
                                         "e.g. tcp://10.0.0.5:8786 (default: a local cluster)"),
):
    """Run every stage for a scenario: map.html, schedule.xlsx/.csv, plan.json, plan.gpkg, day sheets.

    Also writes OUT/private/register-state.csv (personal data, never share) for `planner progress`.
    A scenario with [[offices]] plans each kab/kota on Dask and writes the province folder.
    """
    from planner import outputs, progress
    from planner.pipeline import run

    loaded = _load(scenario, engine)
    if loaded.offices:
        _province(loaded, out, offline, scheduler)
        return
    outputs.check_target(out)
    outputs.check_state_kept(out, state)
    previous = progress.read_state(state) if state is not None else None
    start = week_start.date() if week_start else (progress.next_week(previous) if previous is not None else None)
    if start is not None:
        loaded = progress.scenario_for_week(loaded, start)
    result = run(loaded, console=console, state=previous, state_source=state)
    _finish(result, out, offline, with_names, keep_private)


def _province(loaded, out: Path, offline: bool, scheduler: str | None) -> None:
    from rich.table import Table

    from planner.province import plan_province, summary_table

    result = plan_province(loaded, out, scheduler=scheduler, offline=offline, progress=True)
    table = Table(title=t("{name}: {n} kab/kota, week starting {date}", name=loaded.name, n=len(result.offices),
                          date=str(loaded.calendar.week_start)))
    for column in ("kab/kota", "units", "unrecorded", "sessions", "recordings", "pemula at risk"):
        table.add_column(t(column), justify="left" if column == "kab/kota" else "right")
    for row in summary_table(result).itertuples():
        if isinstance(row.error, str):
            table.add_row(str(row.name), "-", "-", "-", "-", f"[red]{t('failed')}: {escape(text(row.error)[:60])}[/]")
        else:
            at_risk = row.pemula_at_risk if row.pemula_at_risk is not None else "-"
            table.add_row(str(row.name), str(row.units), str(written(row.unrecorded)), str(row.sessions),
                          str(written(round(row.recordings_planned))), str(written(at_risk)))
    console.print(table)
    for lent in result.lending:
        console.print(t("lent: {unit} -> {office} ({why})", unit=lent["unit"], office=lent["office_name"],
                        why=text(lent["why"])))
    for failed in result.failed:
        console.print(f"[bold red]{t('{code} failed', code=failed['code'])}[/]: {shown(failed['error'])}")
    for name, path in result.files.items():
        console.print(f"  {name:16s} {path}")
    if result.failed:
        raise typer.Exit(1)


def _finish(result, out: Path, offline: bool, with_names: bool = False, keep_private: bool = False) -> None:
    from rich.table import Table

    from planner.outputs import write_outputs
    from planner.sheets import kpi_label

    paths = write_outputs(result, out, offline=offline, with_names=with_names, keep_private=keep_private)

    table = Table(title=t("{plan}: week starting {date}", plan=result.plan.name,
                          date=hari_tanggal(result.plan.week_start)))
    table.add_column(t("Measure"))
    table.add_column(t("Value"), justify="right")
    for key, value in result.plan.kpis.items():
        table.add_row(kpi_label(key), str(written(value)))
    console.print(table)
    outlook = result.plan.meta.get("election")
    if outlook is not None:
        console.print(t("election {date}: {at_risk} of {pemula} first-time voters at risk of no printed card by "
                        "then at this pace ({not_recorded} not recorded, {waiting} awaiting print)",
                        date=outlook["election_date"], at_risk=outlook["at_risk"], pemula=outlook["pemula"],
                        not_recorded=outlook["not_recorded"], waiting=outlook["recorded_not_printed"]))
    _print_notes(result.notes)
    for name, path in paths.items():
        note = f" [bold yellow]({t('personal data: do not share private/')})[/]" if "private" in path.parts else ""
        console.print(f"  {name:16s} {path}{note}")


@app.command()
@handled
def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", help="output folder"),
    seed: int = typer.Option(7, "--seed", help="random seed of the fictional city"),
    size: str = typer.Option("toy", "--size", help="toy, city or province"),
    offline: bool = typer.Option(True, "--offline/--cdn", help="self-contained map.html (default)"),
):
    """Generate the fictional 'Kota Contoh' and run every stage on it."""
    from planner.outputs import check_target
    from planner.pipeline import run_demo

    check_target(out)
    console.print("[bold]Kota Contoh[/] " + t("(fictional), size {size}, seed {seed}", size=size, seed=seed))
    result = run_demo(out, seed=seed, size=size, console=console)
    _finish(result, out, offline)


# ---- weekly loop (progress.py) --------------------------------------------------------------
@app.command("progress")
@handled
def progress_(
    plan_path: Path = typer.Argument(..., metavar="PLAN", help="last week's plan.json"),
    recorded: Path = typer.Option(..., "--recorded", help="CSV/XLSX of NIKs recorded this week (column nik)"),
    not_found: Path | None = typer.Option(None, "--not-found",
                                             help="CSV/XLSX of NIKs not found (columns nik, reason: "
                                                  "moved/pindah, died/meninggal, other_nik/nik lain)"),
    out: Path = typer.Option(..., "--out", help="folder for next week's register state and gaps"),
    state: Path | None = typer.Option(None, "--state",
                                         help="register state (default: PLAN's folder/private/register-state.csv)"),
):
    """Mark this week's recorded and not-found residents, recompute the gaps, write next week's state."""
    import datetime as dt
    import re

    from rich.table import Table

    from planner import progress as progress_mod
    from planner.plan import Plan
    from planner.privacy import private_folder
    from planner.tables import write_csv

    loaded = Plan.load(plan_path)
    current = progress_mod.read_state(state or plan_path.parent / "private" / "register-state.csv")
    done = progress_mod.apply(current, progress_mod.read_list(recorded),
                              progress_mod.read_list(not_found, with_reason=True) if not_found else None,
                              week=loaded.week_start)
    election = loaded.meta.get("election_date") or None
    gaps = progress_mod.gaps(done.state, loaded.load_areas(), loaded.week_start + dt.timedelta(days=7),
                             dt.date.fromisoformat(election) if election else None)
    state_path = progress_mod.save_private(done.state, out)
    write_csv(gaps, out / "gaps.csv")
    write_csv(done.summary(), out / "progress.csv")
    table = Table(title=t("{name}: week of {date}", name=loaded.name, date=hari_tanggal(loaded.week_start)))
    for column in ("state", "before", "after"):
        table.add_column(t(column), justify="right" if column != "state" else "left")
    for row in done.summary().itertuples():
        table.add_row(text(row.state), written(int(row.before)), written(int(row.after)))
    console.print(table)
    if len(done.issues):
        issues_path = write_csv(done.issues, private_folder(out) / "progress-issues.csv")
        kinds = done.issues["reason"].map(lambda r: re.sub(r"^line \d+: ", "", str(r)).split(":")[0].split(" (")[0])
        err_console.print(f"[yellow]{t('{n} list row(s) not applied', n=len(done.issues))}[/] "
                          + t("(nothing added to the register): {kinds}; see {file}",
                              kinds=escape(", ".join(f"{n} {text(r)}" for r, n in kinds.value_counts().items())),
                              file=str(issues_path)))
    console.print("  " + t("gaps {file} ({n} unrecorded, {done} kelurahan finished)", file=str(out / "gaps.csv"),
                           n=written(int(gaps["unrecorded"].sum())), done=int((gaps["unrecorded"] == 0).sum())))
    console.print("  " + t("register state {file}", file=str(state_path))
                  + f" [bold yellow]({t('personal data: do not share private/')})[/]")
    console.print(t("next: planner plan SCENARIO --state {file} --out DIR (week of {date})", file=str(state_path),
                    date=hari_tanggal(loaded.week_start + dt.timedelta(days=7))))


# ---- forecast (forecast.py) -----------------------------------------------------------------
@app.command("forecast")
@handled
def forecast_(
    scenario: Path = typer.Argument(..., help="scenario TOML file"),
    until: datetime = typer.Option(..., "--until", formats=["%Y-%m-%d"], help="last date to simulate (YYYY-MM-DD)"),
    out: Path = typer.Option(Path("forecast-out"), "--out", help="output folder"),
    units: str | None = typer.Option(None, "--units", help="session units to compare, e.g. 2,4,6 "
                                                               "(default: the scenario's)"),
    saturday: bool | None = typer.Option(None, "--saturday/--no-saturday", help="work Saturdays (default: "
                                                                                   "the scenario's calendar)"),
    target: float | None = typer.Option(None, "--target", help="coverage to reach, e.g. 1.0 or 0.95"),
    turnout: float | None = typer.Option(None, "--turnout", help="share of invited residents who come"),
    state: Path | None = typer.Option(None, "--state", help="start from a register state (private/...csv)"),
):
    """Simulate weeks of plans: the week each kelurahan and the city reach the target, and a chart."""
    import re

    import pandas as pd
    from rich.table import Table

    from planner import forecast as forecast_mod
    from planner import progress
    from planner.errors import InputError
    from planner.pipeline import run
    from planner.tables import write_csv

    loaded = _load(scenario)
    overrides = {k: v for k, v in {"target": target, "turnout": turnout}.items() if v is not None}
    end = until.date()
    if units and not re.fullmatch(r"\s*\d+\s*(,\s*\d+\s*)*", units):
        raise InputError(en("--units {units}: expected whole numbers separated by commas, e.g. 2,4,6",
                            units=repr(units)))
    counts = [int(u) for u in units.split(",")] if units else [None]
    previous = progress.read_state(state) if state is not None else None
    if previous is not None and progress.next_week(previous):
        loaded = progress.scenario_for_week(loaded, progress.next_week(previous))
    with console.status(t("gaps and the units' reach (travel times)")):
        reach = run(loaded, until="travel", state=previous)
    gaps = reach.gaps
    runs = [forecast_mod.from_scenario(loaded, gaps, until=end, units=n, saturday=saturday, travel=reach, **overrides)
            for n in counts]
    out.mkdir(parents=True, exist_ok=True)
    table = forecast_mod.summary(runs)
    write_csv(table, out / "forecast-summary.csv")
    write_csv(pd.concat([f.weekly.assign(scenario=f.label) for f in runs]), out / "forecast-weekly.csv")
    write_csv(pd.concat([f.kelurahan.assign(scenario=f.label) for f in runs]), out / "forecast-kelurahan.csv")
    forecast_mod.plot(runs, out / "forecast.png", title=t("{name}: remaining e-KTP gap", name=loaded.name))
    report = Table(title=t("{name}: {n} unrecorded from {date}, target {share}", name=loaded.name,
                           n=written(int(table["start_gap"].iloc[0])), date=hari_tanggal(loaded.calendar.week_start),
                           share=f"{runs[0].target:.0%}"))
    for column in ("scenario", "weeks", "reached", "capacity bound", "pemula at risk"):
        report.add_column(t(column), justify="left" if column == "scenario" else "right")
    for row in table.itertuples():
        reached = not pd.isna(row.weeks_to_target)
        report.add_row(text(row.scenario), str(row.weeks_to_target) if reached else "-",
                       hari_tanggal(row.target_date) if reached else t("not by {date}", date=hari_tanggal(end)),
                       str(row.capacity_bound_weeks),
                       "-" if pd.isna(row.pemula_at_risk) else written(int(row.pemula_at_risk)))
    console.print(report)
    if loaded.election_date is not None:
        console.print(t("election {date}: first-time voters (pemula) recorded and printed in weeks ending before it; "
                        "the rest are at risk", date=hari_tanggal(loaded.election_date)))
    if loaded.blangko is not None:
        stock = Table(title=t("blangko (blank cards) by scenario"))
        for column in ("scenario", "stock at start", "delivered", "printed", "weeks short", "max shortfall",
                       "awaiting print at end"):
            stock.add_column(t(column), justify="left" if column == "scenario" else "right")
        for f in runs:
            w = f.weekly
            stock.add_row(text(f.label), written(loaded.blangko.stock), written(int(w["delivered"].sum())),
                          written(int(w["printed"].sum())), str(int((w["shortfall"] > 0).sum())),
                          written(int(w["shortfall"].max())), written(int(w["awaiting_print"].iloc[-1])))
        console.print(stock)
        console.print(t("stock, use and shortfall by week: forecast-weekly.csv (columns stock_start ... shortfall)"))
    for path in ("forecast-summary.csv", "forecast-weekly.csv", "forecast-kelurahan.csv"):
        console.print(f"  {out / path}")
    console.print(f"  {out / 'forecast.png'}")


if __name__ == "__main__":
    app()
