"""The Plan: everything a week's outreach decision contains that may be shared, and its KPIs.

A Plan holds aggregates only (counts per kelurahan, sessions, routes); residents' NIK, names and
addresses never enter it, so a saved plan.json, a map or a summary made from it is safe to share.
Areas are referenced by file (`areas_ref`), not copied, so a plan stays small.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from planner.contracts import FRAME_KINDS, SCHEDULE_COLUMNS, clock_text, require_columns, session_days_held
from planner.errors import PlanFileError
from planner.fmt import as_date
from planner.privacy import PERSONAL_COLUMNS

TABLES = ("gaps", "sites", "sessions", "assignment", "unserved", "schedule", "unscheduled", "legs", "basemap")
FORMAT_VERSION = 1


@dataclass
class Plan:
    """One planning run: inputs summarised, decisions, and what was left out.

    Tables follow ARCHITECTURE.md. `sites` carries lon/lat columns instead of geometry.
    """

    name: str
    week_start: dt.date
    working_dates: list[dt.date]
    gaps: pd.DataFrame
    sites: pd.DataFrame = field(default_factory=pd.DataFrame)
    sessions: pd.DataFrame = field(default_factory=pd.DataFrame)
    assignment: pd.DataFrame = field(default_factory=pd.DataFrame)
    unserved: pd.DataFrame = field(default_factory=pd.DataFrame)
    schedule: pd.DataFrame = field(default_factory=pd.DataFrame)
    unscheduled: pd.DataFrame = field(default_factory=pd.DataFrame)
    legs: pd.DataFrame = field(default_factory=pd.DataFrame)  # road paths (older plan files: none)
    basemap: pd.DataFrame = field(default_factory=pd.DataFrame)  # the map's roads (basemap.road_lines)
    units: list[dict] = field(default_factory=list)
    areas_ref: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    kpis: dict = field(default_factory=dict)

    def __post_init__(self):
        for table in TABLES:
            frame = getattr(self, table)
            if frame is None:
                setattr(self, table, pd.DataFrame())
                continue
            if hasattr(frame, "geometry") and "geometry" in frame:
                frame = pd.DataFrame(frame.assign(lon=frame.geometry.x, lat=frame.geometry.y).drop(columns="geometry"))
                setattr(self, table, frame)
            leaked = PERSONAL_COLUMNS & {str(c).lower() for c in frame.columns}
            if leaked:
                raise PlanFileError(f"plan table '{table}' carries personal columns {sorted(leaked)}; "
                                 "a Plan holds aggregates only")
        if not self.kpis:
            self.kpis = compute_kpis(self)

    # ---- persistence ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The plan as JSON-ready data (tables as column lists); `from_dict` reads it back."""
        def table(frame: pd.DataFrame) -> dict:
            return json.loads(frame.to_json(orient="split", index=False, date_format="iso"))

        return {
            "format": "planner-plan",
            "version": FORMAT_VERSION,
            "name": self.name,
            "week_start": self.week_start.isoformat(),
            "working_dates": [d.isoformat() for d in self.working_dates],
            "units": self.units,
            "areas_ref": {k: (str(v) if v is not None else None) for k, v in self.areas_ref.items()},
            "meta": self.meta,
            "kpis": self.kpis,
            "tables": {name: table(getattr(self, name)) for name in TABLES},
        }

    def save(self, path: str | Path) -> Path:
        """Write plan.json (UTF-8, sorted keys) and return its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Plan:
        """Read a plan.json written by `save`; a file that is not one raises PlanFileError."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PlanFileError(f"plan file not found: {path}") from None
        except json.JSONDecodeError as exc:
            raise PlanFileError(f"{path} is not a plan file (invalid JSON: {exc})") from None
        if not isinstance(data, dict) or data.get("format") != "planner-plan":
            raise PlanFileError(f"{path} is not a plan file written by planner")
        try:
            return cls._from_data(data, path)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)[:200]
            raise PlanFileError(f"{path} is a damaged plan file ({what}); write it again with `planner plan`") \
                from None

    @classmethod
    def _from_data(cls, data: dict, path: Path) -> Plan:

        def table(spec: dict) -> pd.DataFrame:
            frame = pd.DataFrame(spec["data"], columns=spec["columns"])
            for column in ("kode_kel", "kode_kec", "site_id", "job_id", "kode"):
                if column in frame:
                    frame[column] = frame[column].astype("string")
            return frame

        areas_ref = data.get("areas_ref", {})
        areas_ref.setdefault("base_dir", str(path.resolve().parent))  # relative area paths follow the plan
        return cls(
            name=data["name"],
            week_start=dt.date.fromisoformat(data["week_start"]),
            working_dates=[dt.date.fromisoformat(d) for d in data["working_dates"]],
            units=data.get("units", []),
            areas_ref=areas_ref,
            meta=data.get("meta", {}),
            kpis=data.get("kpis", {}),
            **{name: table(spec) for name, spec in data["tables"].items() if name in TABLES},
        )

    def load_areas(self):
        """The AreaSet this plan was made on (from `areas_ref`)."""
        from planner.areas import load_areas

        ref = dict(self.areas_ref)
        if not ref.get("kelurahan"):
            raise PlanFileError("this plan does not say which area files it was made on")
        base = Path(ref.pop("base_dir", ".") or ".")

        def resolve(p):
            return None if p is None else (Path(p) if Path(p).is_absolute() else base / p)

        return load_areas(resolve(ref.pop("kelurahan")), resolve(ref.pop("kecamatan", None)),
                          **{k: v for k, v in ref.items() if v is not None})


def schedule_frames(plan) -> dict[str, pd.DataFrame]:
    """The plan's schedule with `day` (a date) and HH:MM times; also its session and home-visit rows.

    Raises TableError when the schedule lacks contract columns, so a half-made plan is not drawn
    as if it were empty.
    """
    s = plan.schedule
    if s is None or len(s) == 0:
        empty = pd.DataFrame(columns=[*SCHEDULE_COLUMNS, "day", "arrival_hm", "start_hm", "end_hm"])
        return {"schedule": empty, "sessions": empty, "visits": empty}
    require_columns(s, SCHEDULE_COLUMNS, "plan.schedule", "routing.route")
    s = s.copy()
    s["unit"] = s["unit"].astype(str)
    s["kode_kel"] = s["kode_kel"].astype("string")
    s["site_id"] = s["site_id"].astype("string")
    s["day"] = s["date"].map(as_date)
    for col in ("arrival", "start", "end"):
        s[f"{col}_hm"] = s[col].map(clock_text)
    for col in ("travel_min", "travel_km", "expected_recordings"):
        s[col] = pd.to_numeric(s[col], errors="coerce").fillna(0.0)
    s = s.sort_values(["unit", "day", "stop"], kind="stable").reset_index(drop=True)
    return {"schedule": s, "sessions": s[s["job_kind"] == "session"].reset_index(drop=True),
            "visits": s[s["job_kind"] == "home_visit"].reset_index(drop=True)}


def stationed_units(plan) -> set[str]:
    """Names of the plan's stationed units (posts): they record at their own site and never travel."""
    return {str(u.get("name")) for u in (plan.units or []) if isinstance(u, dict) and u.get("stationed")}


def _sum(frame: pd.DataFrame, column: str) -> float:
    return float(frame[column].sum()) if column in frame and len(frame) else 0.0


def compute_kpis(plan: Plan) -> dict:
    """Headline numbers a coordinator reads first."""
    schedule = plan.schedule
    jobs = schedule[~schedule["job_kind"].isin(FRAME_KINDS)] if "job_kind" in schedule else schedule
    sessions_done = jobs[jobs["job_kind"] == "session"] if "job_kind" in jobs else jobs.iloc[0:0]
    visits_done = jobs[jobs["job_kind"] == "home_visit"] if "job_kind" in jobs else jobs.iloc[0:0]
    unit_days_used = (schedule[["unit", "date"]].drop_duplicates().shape[0]
                      if {"unit", "date"} <= set(schedule.columns) and len(jobs) else 0)
    return {
        "unrecorded": int(_sum(plan.gaps, "unrecorded")),
        "pemula": int(_sum(plan.gaps, "pemula")),
        "lansia": int(_sum(plan.gaps, "lansia")),
        "home_visit_demand": int(_sum(plan.gaps, "home_visit")),
        "kelurahan_with_gap": int((plan.gaps["unrecorded"] > 0).sum()) if "unrecorded" in plan.gaps else 0,
        "session_days_planned": int(_sum(plan.sessions, "session_days")),
        # a session split around the Friday break is one job over two rows; a half-day session (job id
        # ending -h<k>) is half a session-day
        "sessions_scheduled": int(sessions_done["job_id"].nunique()) if "job_id" in sessions_done else 0,
        "session_days_scheduled": session_days_held(sessions_done["job_id"]) if "job_id" in sessions_done else 0.0,
        "expected_recordings_planned": round(_sum(plan.sessions, "exp_total"), 1),
        "expected_recordings_scheduled": round(_sum(sessions_done, "expected_recordings"), 1),
        "home_visits_scheduled": int(len(visits_done)),
        "unit_days_used": int(unit_days_used),
        "travel_km": round(_sum(schedule, "travel_km"), 1),
        "unserved_residents": int(_sum(plan.unserved, "residents")),
        "unscheduled_jobs": int(len(plan.unscheduled)),
    }
