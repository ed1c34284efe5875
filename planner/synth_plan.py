"""A realistic Plan built directly from the data contracts, for map/sheet tests and benchmarks.

Lives in the package (beside `synth`) so tests and benchmarks share it without importing each other.

It does not run the solvers: gaps are drawn per kelurahan, each unit-day visits one or two session
sites (kantor camat / balai) and some home visits, with times and distances that add up. Same seed,
same plan.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from planner.contracts import session_job_id, visit_id, visit_job_id
from planner.plan import Plan


def fake_plan(areas, *, seed: int = 0, units: int = 3, days: int = 5, name: str = "Uji Bandar Lampung",
              week_start: dt.date = dt.date(2026, 11, 23), kel_names: dict | None = None,
              unit_names: list[str] | None = None, depot=None) -> Plan:
    """A realistic Plan for tests and demos: gaps, sessions, routes and job ids as the stages make them."""
    rng = np.random.default_rng(seed)
    kel = areas.kelurahan.reset_index(drop=True)
    if kel_names:
        kel = kel.assign(nama=kel["kode"].map(kel_names).fillna(kel["nama"]))
    n = len(kel)
    pemula = rng.poisson(25, n)
    lansia = rng.poisson(15, n)
    umum = rng.poisson(60, n)
    home = rng.poisson(2, n)
    gaps = pd.DataFrame({"kode_kel": kel["kode"], "nama_kel": kel["nama"], "kode_kec": kel["kode_kec"],
                         "nama_kec": kel["nama_kec"], "pemula": pemula, "lansia": lansia, "umum": umum,
                         "home_visit": home})
    gaps["unrecorded"] = gaps[["pemula", "lansia", "umum", "home_visit"]].sum(axis=1)
    gaps["wajib_ktp"] = gaps["unrecorded"] * rng.integers(30, 60, n)

    pts = kel.geometry.representative_point()
    sites = pd.DataFrame({
        "site_id": [f"S{i:04d}" for i in range(n)],
        "name": ["Balai " + str(x) for x in kel["nama"]],
        "kind": "balai", "kode_kel": kel["kode"], "kode_kec": kel["kode_kec"], "open_days": "01234",
        "open_from": "08:00", "open_to": "16:00", "max_days": 5, "lon": pts.x.round(6), "lat": pts.y.round(6),
    })
    n_sessions = min(n, units * days * 2 + 4)
    chosen = rng.choice(n, size=n_sessions, replace=False)
    sessions = pd.DataFrame({
        "site_id": sites["site_id"].iloc[chosen].values, "name": sites["name"].iloc[chosen].values,
        "kind": "balai", "kode_kel": kel["kode"].iloc[chosen].values, "kode_kec": kel["kode_kec"].iloc[chosen].values,
        "session_days": 1, "exp_pemula": 15.0, "exp_lansia": 8.0, "exp_umum": 20.0, "exp_total": 43.0,
        "capacity": 50,
    })
    assignment = pd.DataFrame({"kode_kel": kel["kode"], "site_id": sites["site_id"].iloc[chosen].values[
        rng.integers(0, n_sessions, n)], "travel_min": rng.integers(5, 40, n), "pemula": pemula, "lansia": lansia,
        "umum": umum, "exp_total": (pemula + lansia + umum) * 0.4})
    if depot is None:
        depot = (float(pts.x.mean()), float(pts.y.mean()))

    dates = []
    day = week_start
    while len(dates) < days:
        if day.weekday() < 5:
            dates.append(day)
        day += dt.timedelta(days=1)
    names = unit_names or [f"Unit {i + 1}" for i in range(units)]
    rows, used = [], 0
    home_kel = list(np.flatnonzero(home > 0))
    for unit in names:
        for date in dates:
            clock, stop = 8 * 60, 0
            here = depot
            stops = [("depot", None)]
            for _ in range(2 if used + 2 <= n_sessions - 4 else 0):
                stops.append(("session", used))
                used += 1
            for _ in range(int(rng.integers(0, 4))):
                stops.append(("home_visit", int(rng.choice(home_kel))))
            stops.append(("depot", None))
            for kind, ref in stops:
                if kind == "depot":
                    lon, lat, sid, nm, kk, kc, job = depot[0], depot[1], "", "Kantor Disdukcapil", "", "", "depot"
                elif kind == "session":
                    i = chosen[ref]
                    lon, lat = sites.loc[i, "lon"], sites.loc[i, "lat"]
                    sid, nm = sites.loc[i, "site_id"], sites.loc[i, "name"]
                    kk, kc = kel.loc[i, "kode"], kel.loc[i, "kode_kec"]
                    job = session_job_id(sid, 0, half=False)
                else:
                    lon = pts.x[ref] + rng.normal(0, 0.002)
                    lat = pts.y[ref] + rng.normal(0, 0.002)
                    sid, nm, kk, kc = "", "Kunjungan rumah", kel.loc[ref, "kode"], kel.loc[ref, "kode_kec"]
                    job = visit_job_id(visit_id(len(rows) + 1))
                km = float(np.hypot(lon - here[0], lat - here[1]) * 111.0 * 1.3) if stop else 0.0
                travel = min(int(round(km * 2.5)), 60)  # province-wide plans: units start near their work
                arrival = clock + travel
                dur = {"depot": 0, "session": 180, "home_visit": 20}[kind]
                rows.append({"unit": unit, "vehicle": "van", "date": date.isoformat(), "stop": stop, "job_id": job,
                             "job_kind": kind, "site_id": sid, "name": nm, "kode_kel": kk, "kode_kec": kc,
                             "lon": float(lon), "lat": float(lat),
                             "arrival": f"{date.isoformat()}T{arrival // 60:02d}:{arrival % 60:02d}",
                             "start": f"{date.isoformat()}T{arrival // 60:02d}:{arrival % 60:02d}",
                             "end": f"{date.isoformat()}T{(arrival + dur) // 60:02d}:{(arrival + dur) % 60:02d}",
                             "travel_min": travel, "travel_km": round(km, 2),
                             "expected_recordings": {"session": 43.0, "home_visit": 1.0}.get(kind, 0.0)})
                clock, here, stop = arrival + dur, (lon, lat), stop + 1
    schedule = pd.DataFrame(rows)
    left = sessions.iloc[used:]
    unscheduled = pd.DataFrame({"job_id": [session_job_id(s, 0, half=False) for s in left["site_id"]],
                                "job_kind": "session",
                                "site_id": left["site_id"].values, "kode_kel": left["kode_kel"].values,
                                "reason": "tidak cukup hari unit"})
    unserved = pd.DataFrame({"kode_kel": kel["kode"].iloc[:3].values, "kode_kec": kel["kode_kec"].iloc[:3].values,
                             "klass": "umum", "residents": [5, 3, 2], "reason": "lebih dari 45 menit ke sesi"})
    return Plan(name=name, week_start=week_start, working_dates=dates, gaps=gaps, sites=sites, sessions=sessions,
                assignment=assignment, unserved=unserved, schedule=schedule, unscheduled=unscheduled)
