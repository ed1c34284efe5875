"""Province plans: one independent plan per kab/kota office, run as Dask tasks, and the overview.

Each kab/kota Disdukcapil plans its own units; the province coordinates (DESIGN.md, "Offices").
A scenario with ``[[offices]]`` is split by kab/kota code: each office gets the province's areas
within its code, the register rows whose NIK was issued there (or its share of a generated
register), its own units, posts and blangko. The province's own units ([lending]) are lent one at
a time by a stated rule (`lend`). Kab/kota plans then run as Dask tasks: a `LocalCluster` sized to
the machine by default, or any existing scheduler (``--scheduler tcp://HOST:PORT`` / ``[run]
scheduler``) unchanged. Each task writes its office's folder; a failing office is reported with its
error and the others finish. The province folder gets ``provinsi.xlsx`` (per kab/kota, and the
lending with its reasons), ``provinsi.json`` and ``index.html`` (a light map linking each office's).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import shapely

from planner.errors import InputError

OFFICE_FOLDER = re.compile(r"[^a-z0-9]+")
#: How far ahead each office's forecast looks for the week it reaches its target.
FORECAST_WEEKS = 104


@dataclass
class ProvinceResult:
    """Each office's summary (or error), the lending, and the files written."""

    offices: list[dict]
    lending: list[dict]
    files: dict = field(default_factory=dict)

    @property
    def failed(self) -> list[dict]:
        """Offices whose plan failed, with the error."""
        return [o for o in self.offices if o.get("error")]


def folder_name(office) -> str:
    """``18.71-kota-bandar-lampung``: one sub-folder per office."""
    return f"{office.code}-{OFFICE_FOLDER.sub('-', office.name.lower()).strip('-')}"


def office_scenario(scenario, office, *, residents: int | None = None, lent: list | None = None):
    """The office's own scenario: the province's settings, its areas, units (plus `lent`), posts, blangko."""
    register = scenario.register
    if register.synthetic is not None and residents is not None:
        register = register.model_copy(update={"synthetic": register.synthetic.model_copy(
            update={"residents": max(int(residents), 1)})})
    units = [u.model_copy() for u in office.units] + list(lent or [])
    return scenario.model_copy(update={
        "name": f"{office.name}", "areas": scenario.areas.model_copy(update={"within": office.code}),
        "register": register, "units": units, "posts": list(office.posts),
        "blangko": office.blangko if office.blangko is not None else scenario.blangko,
        "roads": office.roads if office.roads is not None else scenario.roads,
        "offices": [], "lending": None})


def residents_per_office(scenario, areas) -> dict[str, int]:
    """A generated register's residents split over the offices as the province's table spreads them."""
    from planner.synth_register import residents_by_population

    synthetic = scenario.register.synthetic
    per_kel = residents_by_population(areas, synthetic.residents, scenario.resolve(synthetic.population),
                                      synthetic.population_vintage, scenario.seed)
    by_code = per_kel.groupby(per_kel.index.str[:5]).sum()
    return {o.code: int(by_code.get(o.code, 0)) for o in scenario.offices}


def register_per_office(register: pd.DataFrame, offices) -> tuple[dict[str, pd.DataFrame], int]:
    """A real register split by the kab/kota of each NIK (digits 1-4); rows matching no office counted."""
    digits = register["nik"].astype(str).str.replace(r"\D", "", regex=True)
    code = digits.str[:2] + "." + digits.str[2:4]
    parts = {o.code: register[code == o.code] for o in offices}
    return parts, int((~code.isin([o.code for o in offices])).sum())


# ---- Dask tasks (module level: workers import them) ---------------------------------------------------
def _scenario_from(payload: dict):
    from planner.scenario import Scenario

    return Scenario.model_validate({**payload["scenario"], "base_dir": payload["base_dir"]})


def office_gaps(payload: dict) -> dict:
    """Task: an office's gaps (register geocoded onto its areas); the error instead when it fails."""
    from planner.pipeline import run

    try:
        r = run(_scenario_from(payload), until="gaps", register=payload.get("register"))
        return {"code": payload["code"], "gaps": r.gaps}
    except Exception as exc:  # one broken kab/kota must not stop the province
        return {"code": payload["code"], "error": f"{type(exc).__name__}: {exc}"}


def office_plan(payload: dict) -> dict:
    """Task: an office's whole plan, written to its folder; its summary (aggregates only) or the error."""
    from planner import forecast
    from planner.outputs import write_outputs
    from planner.pipeline import run

    try:
        scenario = _scenario_from(payload)
        r = run(scenario, register=payload.get("register"))
        write_outputs(r, payload["out"], offline=payload.get("offline", True))
        kpis = r.plan.kpis
        outlook = r.plan.meta.get("election") or {}
        ahead = forecast.from_scenario(scenario, r.gaps, travel=r,
                                       until=scenario.calendar.week_start + dt.timedelta(weeks=FORECAST_WEEKS))
        return {"code": payload["code"], "name": scenario.name, "folder": Path(payload["out"]).name,
                "units": sum(g.count for g in scenario.units), "unrecorded": int(kpis.get("unrecorded", 0)),
                "pemula": int(r.gaps["pemula"].sum()), "pemula_at_risk": outlook.get("at_risk"),
                "sessions": int(kpis.get("sessions_scheduled", 0)),
                "recordings_planned": round(float(kpis.get("expected_recordings_scheduled", 0)), 1),
                "home_visits": int(kpis.get("home_visits_scheduled", 0)),
                "weeks_to_target": ahead.target_week,
                "blangko_stock": scenario.blangko.stock if scenario.blangko is not None else None,
                "blangko_shortfall": int(ahead.weekly["shortfall"].max()) if len(ahead.weekly) else 0,
                "schedule": r.routes.schedule}
    except Exception as exc:  # one broken kab/kota must not stop the province
        return {"code": payload["code"], "error": f"{type(exc).__name__}: {exc}"}


# ---- lending ------------------------------------------------------------------------------------------
def lend(scenario, gaps: dict[str, pd.DataFrame], office_scenarios: dict) -> list[dict]:
    """Allocate the province's units one at a time, by the stated rule, with the reason for each.

    Each unit goes to the office where one more session unit most reduces the first-time voters at
    risk of missing the election (the unit-blind forecast to election_date, the same for every
    office), ties and no election: the office with the most residents left per unit it has.
    """
    from planner import forecast

    pool = [(g, k) for g in (scenario.lending.units if scenario.lending else []) for k in range(g.count)]
    if not pool or not gaps:
        return []
    until = scenario.election_date or scenario.calendar.week_start + dt.timedelta(days=7 * 12)
    units = {code: sum(u.count for u in sc.units if u.sessions) for code, sc in office_scenarios.items()
             if code in gaps}
    memo: dict = {}

    def at_risk(code: str, n: int) -> int:
        if (code, n) not in memo:
            end = max(until, scenario.calendar.week_start)
            f = forecast.from_scenario(office_scenarios[code], gaps[code], until=end, units=n)
            memo[code, n] = int(f.election.get("at_risk") or 0)
        return memo[code, n]

    out = []
    for group, k in pool:
        def score(code):
            left = int(gaps[code][["pemula", "lansia", "umum"]].to_numpy().sum())
            return (at_risk(code, units[code]) - at_risk(code, units[code] + 1), left / (units[code] + 1), code)

        best = max(units, key=score)
        saved, per_unit, _ = score(best)
        out.append({"unit": f"{group.name} {k + 1}" if group.count > 1 else group.name, "office": best,
                    "office_name": office_scenarios[best].name,
                    "pemula_at_risk_before": at_risk(best, units[best]),
                    "pemula_at_risk_after": at_risk(best, units[best] + 1),
                    "why": (f"saves {saved} first-time voters from missing the election" if saved > 0 else
                            f"most residents left per unit ({per_unit:,.0f})")})
        units[best] += 1
    return out


def _lent_units(allocation: list[dict], scenario, office_scenarios: dict) -> dict[str, list]:
    """The lent units as each receiving office's UnitGroups (count 1, working from its first depot)."""
    by_name = {}
    for group in scenario.lending.units if scenario.lending else []:
        for k in range(group.count):
            by_name[f"{group.name} {k + 1}" if group.count > 1 else group.name] = group
    out: dict = {}
    for row in allocation:
        group = by_name[row["unit"]]
        home = office_scenarios[row["office"]].units
        depot = home[0].depot if home else group.depot
        out.setdefault(row["office"], []).append(group.model_copy(update={
            "name": f"{row['unit']} (pinjaman provinsi)", "count": 1, "depot": depot}))
    return out


# ---- the province run ---------------------------------------------------------------------------------
def plan_province(scenario, out: str | Path, *, scheduler: str | None = None, workers: int | None = None,
                  offline: bool = True, progress: bool = False) -> ProvinceResult:
    """Plan every office of a province scenario on Dask and write the province folder."""
    from planner.inputs import scenario_areas, scenario_register

    if not scenario.offices:
        raise InputError("this scenario has no [[offices]]: plan it with `planner plan` as one office")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    areas = scenario_areas(scenario)
    known = set(areas.kelurahan["kode"].astype(str).str[:5])
    missing = [o.code for o in scenario.offices if o.code not in known]
    base = {"base_dir": str(scenario.base_dir)}
    registers: dict = {}
    unplaced_rows = 0
    if scenario.register.synthetic is not None:
        residents = residents_per_office(scenario, areas)
    else:
        residents = {}
        registers, unplaced_rows = register_per_office(scenario_register(scenario, areas), scenario.offices)
    scenarios = {o.code: office_scenario(scenario, o, residents=residents.get(o.code)) for o in scenario.offices}

    def payload(code, sc, **extra):
        return {**base, "code": code, "scenario": sc.model_dump(mode="json"), "register": registers.get(code),
                **extra}

    offices = {o.code: o for o in scenario.offices}
    with _client(scheduler or scenario.run.scheduler, workers or scenario.run.workers, len(offices)) as client:
        runnable = [c for c in offices if c not in missing]
        first = _gather(client, office_gaps, [payload(c, scenarios[c]) for c in runnable], "kab/kota: gaps", progress)
        gaps = {g["code"]: g["gaps"] for g in first if "gaps" in g}
        allocation = lend(scenario, gaps, scenarios)
        lent = _lent_units(allocation, scenario, scenarios)
        final = {c: office_scenario(scenario, offices[c], residents=residents.get(c), lent=lent.get(c))
                 for c in gaps}
        plans = _gather(client, office_plan, [payload(c, final[c], out=str(out / folder_name(offices[c])),
                                                      offline=offline) for c in final], "kab/kota: plans", progress)
    results = {p["code"]: p for p in plans}
    for g in first:
        if "error" in g:
            results[g["code"]] = g
    for code in missing:
        results[code] = {"code": code, "error": f"no kelurahan/desa with code {code} in [areas] "
                                                f"({offices[code].name}); check the kab/kota code"}
    rows = [{"name": offices[c].name, **results[c]} for c in offices]
    result = ProvinceResult(rows, allocation)
    result.files = write_overview(result, scenario, areas, out, unplaced_rows, offline)
    return result


class _client:
    """A Dask client on `address`, or on a LocalCluster sized to the machine (workers with memory limits)."""

    def __init__(self, address: str | None, workers: int | None, tasks: int):
        self.address, self.workers, self.tasks = address, workers, tasks

    def __enter__(self):
        import dask
        from distributed import Client, LocalCluster

        if self.address:
            self.cluster = None
            self.client = Client(self.address, timeout="20s")
            return self.client
        n = max(1, min(self.workers or os.cpu_count() or 1, self.tasks))
        # workers that may start processes of their own (the OR-Tools portfolio does, on larger weeks)
        with dask.config.set({"distributed.worker.daemon": False}):
            self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                                        silence_logs=40)
        self.client = Client(self.cluster)
        return self.client

    def __exit__(self, *exc):
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _gather(client, task, payloads: list[dict], label: str, progress: bool) -> list[dict]:
    """Run `task` on every payload; results in payload order, with a progress bar over kab/kota."""
    from distributed import as_completed

    futures = [client.submit(task, p, pure=False, key=f"{task.__name__}-{p['code']}") for p in payloads]
    if progress:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn(label), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), transient=True) as bar:
            tid = bar.add_task(label, total=len(futures))
            for _ in as_completed(futures):
                bar.advance(tid)
    return [f.result() for f in futures]


# ---- the overview -------------------------------------------------------------------------------------
SUMMARY_HEADERS = {"code": "Kode kab/kota", "name": "Kab/kota", "units": "Unit", "unrecorded": "Belum rekam",
                   "pemula": "Pemilih pemula", "pemula_at_risk": "Pemula berisiko tidak terekam sebelum pemilu",
                   "sessions": "Sesi", "recordings_planned": "Perkiraan perekaman", "home_visits": "Kunjungan rumah",
                   "weeks_to_target": "Minggu sampai target", "blangko_stock": "Stok blangko",
                   "blangko_shortfall": "Kekurangan blangko (terbesar)", "error": "Galat"}
LENDING_HEADERS = {"unit": "Unit provinsi", "office": "Kode kab/kota", "office_name": "Dipinjamkan ke",
                   "pemula_at_risk_before": "Pemula berisiko (tanpa)", "pemula_at_risk_after": "Pemula berisiko "
                   "(dengan unit)", "why": "Alasan"}


def summary_table(result: ProvinceResult) -> pd.DataFrame:
    """One row per office (aggregates only), in the scenario's order."""
    rows = [{k: o.get(k) for k in SUMMARY_HEADERS} for o in result.offices]
    return pd.DataFrame(rows, columns=list(SUMMARY_HEADERS))


def write_overview(result: ProvinceResult, scenario, areas, out: Path, unplaced_rows: int = 0,
                   offline: bool = True) -> dict:
    """provinsi.xlsx, provinsi.json and index.html in the province folder."""
    from planner.tables import safe_frame

    table = summary_table(result)
    files = {"workbook": out / "provinsi.xlsx", "summary": out / "provinsi.json", "index": out / "index.html"}
    lending = pd.DataFrame(result.lending, columns=list(LENDING_HEADERS))
    with pd.ExcelWriter(files["workbook"], engine="openpyxl") as xl:
        safe_frame(table).rename(columns=SUMMARY_HEADERS).to_excel(xl, sheet_name="Ringkasan provinsi", index=False)
        safe_frame(lending).rename(columns=LENDING_HEADERS).to_excel(xl, sheet_name="Pinjaman unit", index=False)
        rule = pd.DataFrame({"Aturan pinjaman": [
            "Setiap unit provinsi dipinjamkan satu per satu ke kab/kota tempat satu unit tambahan paling banyak "
            "mengurangi pemilih pemula yang berisiko belum terekam sebelum hari pemilu; bila sama, ke kab/kota "
            "dengan warga belum rekam terbanyak per unit."]})
        rule.to_excel(xl, sheet_name="Aturan", index=False)
    files["summary"].write_text(json.dumps({
        "name": scenario.name, "week_start": str(scenario.calendar.week_start),
        "election_date": str(scenario.election_date or ""), "register_rows_without_office": unplaced_rows,
        "offices": table.where(table.notna(), None).to_dict(orient="records"), "lending": result.lending},
        ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    _index_map(result, scenario, areas, files["index"], offline)
    return files


def _index_map(result: ProvinceResult, scenario, areas, path: Path, offline: bool = True) -> None:
    """A light map of the province: each kab/kota shaded by residents left, linking to its own map.

    Self-contained like every shared map (Leaflet inlined): it opens on a phone with no signal.
    """
    import html

    import folium

    from planner.maps import ASSETS, save_map

    kel = areas.kelurahan.assign(code=areas.kelurahan["kode"].astype(str).str[:5])
    kab = kel.dissolve("code")[["geometry"]].reset_index()
    # close the slivers between desa polygons, then a light outline (~10 m precision is plenty here)
    closed = shapely.buffer(shapely.buffer(kab.geometry.to_numpy(), 0.002), -0.002)
    kab["geometry"] = shapely.set_precision(shapely.simplify(closed, 0.01), 1e-4)
    info = {o["code"]: o for o in result.offices}
    top = max([o.get("unrecorded") or 0 for o in result.offices] + [1])
    bounds = kab.total_bounds
    fmap = folium.Map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom_start=8,
                      tiles=None)
    fmap.default_js = [("leaflet", ASSETS["leaflet.js"])]  # only Leaflet, vendored in planner/static
    fmap.default_css = [("leaflet_css", ASSETS["leaflet.css"])]
    for _, row in kab.iterrows():
        o = info.get(row["code"])
        if o is None:
            continue
        left = o.get("unrecorded") or 0
        shade = f"rgba(189,0,38,{0.15 + 0.75 * left / top:.2f})"
        name = html.escape(str(o.get("name", row["code"])))
        body = (f"<b>{name}</b><br>galat: {html.escape(str(o['error']))}" if o.get("error") else
                f"<b>{name}</b><br>{left:,} belum rekam · {o.get('sessions', 0)} sesi<br>"
                f"<a href='{html.escape(str(o.get('folder', '')))}/map.html'>buka peta kab/kota</a>")
        feature = {"type": "Feature", "geometry": row["geometry"].__geo_interface__, "properties": {"info": body}}
        # GeoJsonPopup builds its text in plain Leaflet (folium.Popup would need jQuery, not shipped)
        folium.GeoJson(feature, style_function=lambda _, s=shade: {
            "fillColor": s, "color": "#333", "weight": 1, "fillOpacity": 1},
            popup=folium.GeoJsonPopup(fields=["info"], labels=False), tooltip=name).add_to(fmap)
    fmap.get_root().html.add_child(folium.Element(
        f"<div style='position:fixed;top:8px;left:50px;z-index:999;background:#fff;padding:6px 10px;"
        f"border-radius:4px;font:14px sans-serif'><b>{html.escape(scenario.name)}</b><br>Ketuk kab/kota untuk "
        "membuka petanya</div>"))
    save_map(fmap, path, offline=offline)
