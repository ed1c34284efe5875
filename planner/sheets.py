"""Spreadsheets and printable day sheets: what the office opens in Excel and the teams carry.

`schedule.xlsx` has one sheet per unit (dates as real Excel dates, times as real times), the gaps
per kelurahan and what could not be scheduled. Day sheets are one HTML page per unit-day, styled
for printing, in Bahasa Indonesia. Residents' names and RT/RW appear only when the caller passes
the register explicitly (``planner sheets --with-names``): that sheet is for the team that visits
them, never for sharing.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pandas as pd

from planner.contracts import (
    FRAME_KINDS,
    SCHEDULE_COLUMNS,
    UNSCHEDULED_COLUMNS,
    UNSERVED_COLUMNS,
    row_of_visit,
    visit_of_job,
)
from planner.errors import InputError
from planner.fmt import hari_tanggal, weekday
from planner.i18n import language, t, text, written
from planner.plan import schedule_frames as plan_frames
from planner.plan import stationed_units
from planner.tables import write_csv, xlsx_text_cells

#: job_kind -> what the activity is called (msgids; `t()` gives the reader's language).
ACTIVITY = {"depot": "Office (depot)", "lodging": "Overnight stay", "session": "Recording session",
            "home_visit": "Home visit"}
#: vehicle values of the scenario -> their names.
VEHICLE = {"van": "Van", "motorbike": "Motorbike", "car": "Car", "walk": "On foot", "post": "Stationed post"}


def activity(kind) -> str:
    """A job kind's name for people."""
    return t(ACTIVITY[kind]) if kind in ACTIVITY else str(kind)


def vehicle_name(vehicle) -> str:
    """A vehicle's name for people."""
    return t(VEHICLE[vehicle]) if vehicle in VEHICLE else str(vehicle)


def _kel_names(plan) -> tuple[dict, dict]:
    g = plan.gaps
    kel = dict(zip(g["kode_kel"].astype(str), g["nama_kel"])) if "nama_kel" in g else {}
    kec = dict(zip(g["kode_kec"].astype(str), g["nama_kec"])) if "nama_kec" in g else {}
    return kel, kec


def schedule_table(plan) -> pd.DataFrame:
    """The schedule as people read it: Indonesian headers, names of places, real dates and times."""
    s = plan_frames(plan)["schedule"]
    kel, kec = _kel_names(plan)

    def clock(text: str):
        return dt.datetime.strptime(text, "%H:%M").time() if text else None

    return pd.DataFrame({
        t("Unit"): s["unit"],
        t("Vehicle"): s["vehicle"].map(vehicle_name),
        t("Date"): s["day"],
        t("Day"): s["day"].map(weekday),
        t("Order"): s["stop"].astype(int),
        t("Activity"): s["job_kind"].map(activity),
        t("Place"): s["name"].fillna(""),
        t("Kelurahan"): s["kode_kel"].map(lambda k: kel.get(str(k), "") if pd.notna(k) else ""),
        t("Kecamatan"): s["kode_kec"].map(lambda k: kec.get(str(k), "") if pd.notna(k) else ""),
        t("Kelurahan code"): s["kode_kel"].fillna(""),
        t("Arrival"): s["arrival_hm"].map(clock),
        t("Start"): s["start_hm"].map(clock),
        t("End"): s["end_hm"].map(clock),
        t("Travel (minutes)"): s["travel_min"].round(0).astype(int),
        t("Distance (km)"): s["travel_km"].round(1),
        t("Expected recordings"): s["expected_recordings"].round(1),
        t("Job ID"): s["job_id"].astype(str),
    })


def write_schedule_csv(plan, path: str | Path) -> Path:
    """The schedule in the contract's column names (for other tools), ISO dates and HH:MM times."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    s = plan_frames(plan)["schedule"]
    out = s[SCHEDULE_COLUMNS].copy()
    out["date"] = s["day"].map(lambda d: d.isoformat())
    out["arrival"], out["start"], out["end"] = s["arrival_hm"], s["start_hm"], s["end_hm"]
    return write_csv(out, path)


def _sheet_name(name: str, used: set[str]) -> str:
    r"""Excel sheet names: at most 31 characters, none of []:*?/\, unique."""
    base = re.sub(r"[\[\]:*?/\\]", "-", str(name)).strip("'") or "Unit"
    base = base[:31]
    candidate, i = base, 2
    while candidate.lower() in used:
        suffix = f" ({i})"
        candidate, i = base[:31 - len(suffix)] + suffix, i + 1
    used.add(candidate.lower())
    return candidate


def gap_table(plan) -> pd.DataFrame:
    """Gaps per kelurahan under the reader's headers, for the workbook."""
    g = plan.gaps.copy()
    cols = {"kode_kel": "Kelurahan code", "nama_kel": "Kelurahan", "kode_kec": "Kecamatan code",
            "nama_kec": "Kecamatan", "pemula": "First-time voters", "lansia": "Elderly", "umum": "General",
            "home_visit": "Home visit", "unrecorded": "Unrecorded", "wajib_ktp": "Must hold an e-KTP"}
    out = g[[c for c in cols if c in g]].rename(columns={k: t(v) for k, v in cols.items()})
    if "wajib_ktp" in g:
        out[t("% unrecorded")] = (g["unrecorded"] / g["wajib_ktp"].where(g["wajib_ktp"] > 0)).round(4)
    if len(plan.sessions) and {"kode_kel", "session_days"} <= set(plan.sessions.columns):
        days = plan.sessions.assign(k=plan.sessions["kode_kel"].astype(str)).groupby("k")["session_days"].sum()
        out[t("Session days planned")] = g["kode_kel"].astype(str).map(days).fillna(0).astype(int)
    return out.sort_values(t("Unrecorded"), ascending=False, kind="stable") if t("Unrecorded") in out else out


#: The workbook's sheets that are not a unit's (msgids).
SHEETS = ("Summary", "Gaps", "Not scheduled", "Not served", "Recording posts", "Blangko")


def write_schedule_xlsx(plan, path: str | Path) -> Path:
    """schedule.xlsx: Ringkasan, one sheet per unit, Kesenjangan (gaps), Tidak terjadwal, Tidak terlayani.

    Headers are frozen and bold, columns sized to their content, dates and times are real Excel
    values (sortable, filterable), so the office can work on the file directly. Every label and
    reason is in the reader's language (`planner.i18n`).
    """
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = schedule_table(plan)
    sheets: list[tuple[str, pd.DataFrame]] = [(t("Summary"), summary_table(plan))]
    used = {t(name).lower() for name in SHEETS}
    posts = stationed_units(plan)
    unit = t("Unit")
    for name, frame in table[~table[unit].isin(posts)].groupby(unit, sort=False):
        sheets.append((_sheet_name(name, used), frame.drop(columns=unit)))
    if posts:  # twenty operators at their kantor camat: one sheet, one row per post-day
        sheets.append((t("Recording posts"), table[table[unit].isin(posts)]))
    if (plan.meta or {}).get("blangko"):
        sheets.append((t("Blangko"), blangko_table(plan)))
    sheets.append((t("Gaps"), gap_table(plan)))
    sheets.append((t("Not scheduled"), _readable(plan, plan.unscheduled, UNSCHEDULED_COLUMNS)))
    sheets.append((t("Not served"), _readable(plan, plan.unserved, UNSERVED_COLUMNS)))
    dates, times = t("Date"), (t("Arrival"), t("Start"), t("End"))

    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets:
            frame.to_excel(writer, sheet_name=name, index=False)
            ws = writer.sheets[name]
            xlsx_text_cells(ws)  # names from input data stay text, never formulas
            ws.freeze_panes = "A2"
            for cell in ws[1]:
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor="DDEBF7")
            for i, column in enumerate(frame.columns, start=1):
                letter = get_column_letter(i)
                values = [str(column)] + [str(v) for v in frame[column].head(500)]
                ws.column_dimensions[letter].width = min(max(len(v) for v in values) + 2, 50)
                if column == dates:
                    for cell in ws[letter][1:]:
                        cell.number_format = "DD/MM/YYYY"
                elif column in times:
                    # pandas writes datetime.time as text; put real times back so Excel can sort and add them
                    for cell, value in zip(ws[letter][1:], frame[column]):
                        cell.value = value
                        cell.number_format = "HH:MM"
            if len(frame):
                ws.auto_filter.ref = ws.dimensions
            _print_setup(ws)
    return path


#: KPI keys of `plan.kpis` (stable English identifiers) -> what the office reads (msgids).
KPI_LABELS = {
    "unrecorded": "Unrecorded residents", "pemula": "First-time voters unrecorded",
    "lansia": "Elderly unrecorded", "home_visit_demand": "Need a home visit",
    "kelurahan_with_gap": "Kelurahan/desa with a gap", "session_days_planned": "Session days planned",
    "sessions_scheduled": "Sessions scheduled", "session_days_scheduled": "Session days scheduled",
    "expected_recordings_planned": "Expected recordings (planned)",
    "expected_recordings_scheduled": "Expected recordings (scheduled)",
    "home_visits_scheduled": "Home visits scheduled", "unit_days_used": "Unit working days used",
    "travel_km": "Distance travelled (km)", "unserved_residents": "Residents not served this week",
    "unscheduled_jobs": "Jobs not scheduled", "register_rows": "Register rows",
    "placed_in_kelurahan": "Found down to kelurahan/desa", "placed_in_kecamatan_only": "Found to kecamatan only",
    "not_placed": "Could not be placed",
}
_CLASS = {"pemula": "First-time voters", "lansia": "Elderly", "umum": "General", "home_visit": "Home visit"}
_HEADERS = {"job_id": "Job code", "job_kind": "Kind", "site_id": "Site code", "kode_kel": "Kel/desa code",
            "kode_kec": "Kecamatan code", "klass": "Group", "residents": "Residents", "reason": "Reason"}


def kpi_label(key: str) -> str:
    """A KPI's name for people (a key the catalogue does not know is shown with spaces)."""
    return t(KPI_LABELS[key]) if key in KPI_LABELS else key.replace("_", " ")


def summary_table(plan) -> pd.DataFrame:
    """The Ringkasan sheet: the week, every KPI under its name, and the plan's notes."""
    rows = [(t("Plan"), plan.name), (t("Week starting"), hari_tanggal(plan.week_start)),
            (t("Working days"), len(plan.working_dates)), (t("Units"), sum(int(u.get("count", 1)) for u in plan.units))]
    rows += [(kpi_label(key), value) for key, value in (plan.kpis or {}).items()]
    blangko = (plan.meta or {}).get("blangko")
    if blangko:
        rows += [(t("Blangko: stock / needed / short"),
                  " / ".join(str(written(blangko[k])) for k in ("stock", "needed", "shortfall")))]
    rows += [(t("Note"), text(note)) for note in (plan.meta or {}).get("notes", [])]
    return pd.DataFrame(rows, columns=[t("Measure"), t("Value")])


BLANGKO_LABELS = {
    "stock": "Blangko stock this week (incl. deliveries)", "needed": "Needed for the scheduled recordings",
    "needed_pemula": "… of which first-time voters (estimate)", "printed": "Can be printed",
    "printed_pemula": "… of which first-time voters", "stock_end": "Stock left at the end of the week",
    "shortfall": "Short: waiting for blangko", "awaiting_pemula": "… of which first-time voters waiting",
}


def blangko_table(plan) -> pd.DataFrame:
    """The Blangko sheet: this week's stock, need, printing and shortfall (scenario's [blangko])."""
    info = (plan.meta or {}).get("blangko") or {}
    return pd.DataFrame([(t(label), info.get(key)) for key, label in BLANGKO_LABELS.items()],
                        columns=[t("Measure"), t("Value")])


def _readable(plan, frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A contract table under the reader's headers and values, the kelurahan's name beside its code."""
    out = (frame if len(frame) else pd.DataFrame(columns=columns)).copy()
    kel, _ = _kel_names(plan)
    if "kode_kel" in out:
        out.insert(out.columns.get_loc("kode_kel") + 1, t("Kelurahan/desa"), out["kode_kel"].astype(str).map(kel))
    if "job_kind" in out:
        out["job_kind"] = out["job_kind"].map(activity)
    if "klass" in out:
        out["klass"] = out["klass"].map(lambda k: t(_CLASS[k]) if k in _CLASS else k)
    if "reason" in out:
        out["reason"] = out["reason"].map(text)
    return out.rename(columns={k: t(v) for k, v in _HEADERS.items()})


def _print_setup(ws) -> None:
    """Landscape, one page wide, header row repeated on every printed page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"


# ---- day sheets ------------------------------------------------------------------------------
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'
DAY_HEADERS = ("No", "Arrival", "Time", "Activity", "Place", "Kelurahan, Kecamatan", "Expected", "km",
               "Recorded (fill in)")
DAY_CSS = """
body {font: 11pt/1.35 'Segoe UI', Arial, sans-serif; margin: 1.5cm; color: #000;}
h1 {font-size: 16pt; margin: 0 0 4pt;} h2 {font-size: 12pt; margin: 14pt 0 4pt;}
.meta {margin-bottom: 8pt;} .meta span {margin-right: 18pt;}
table {border-collapse: collapse; width: 100%; margin-top: 4pt;}
th, td {border: 1px solid #444; padding: 3pt 5pt; text-align: left; vertical-align: top;}
th {background: #e8e8e8;} td.t {white-space: nowrap;} td.n {text-align: right;} td.blank {min-width: 2.5cm;}
.private {border: 2px solid #000; padding: 4pt 6pt; margin: 8pt 0; font-weight: bold;}
.sign {margin-top: 28pt; display: flex; justify-content: space-between;}
.sign > div {width: 40%; text-align: center;} .sign .line {border-top: 1px solid #000; margin-top: 40pt;}
@page {size: A4; margin: 1.2cm;}
@media print {body {margin: 0;} a {color: #000; text-decoration: none;} h2 {page-break-after: avoid;}
  tr {page-break-inside: avoid;}}
"""


def _e(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "unit"


def _residents_by_stop(visits: pd.DataFrame, register: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """job_id of each home-visit stop -> the resident the team visits there.

    A home visit's id names the resident's register row (`contracts.visit_id`), so the resident is
    found by ``row`` in the register (or register state) the plan was made from; a register with
    its own ``visit_id`` column is matched on that. Without either, the kelurahan's home-visit
    residents are handed out in register order over its visit stops.
    """
    need = [c for c in ("nama", "kode_kel") if c not in register.columns]
    if need:
        raise InputError(f"the register for day sheets needs columns {need}; it has {list(register.columns)}")
    out: dict[str, pd.DataFrame] = {}
    jobs = visits["job_id"].astype(str)
    if "visit_id" in register or "row" in register:
        if "visit_id" in register:
            key, wanted = register["visit_id"].astype(str), [visit_of_job(j) for j in jobs]
        else:
            key = pd.to_numeric(register["row"], errors="coerce")
            wanted = [row_of_visit(visit_of_job(j) or "") for j in jobs]
        index = {k: i for i, k in enumerate(key)}
        for job, want in zip(jobs, wanted):
            at = index.get(want)
            out[job] = register.iloc[[at]] if at is not None else register.iloc[0:0]
        return out
    people = register[register["home_visit"].fillna(False).astype(bool)] if "home_visit" in register else register
    for kel, stops in visits.sort_values(["day", "unit", "stop"]).groupby("kode_kel", sort=False):
        here = people[people["kode_kel"].astype(str) == str(kel)].reset_index(drop=True)
        for i, job in enumerate(stops["job_id"].astype(str)):
            out[job] = here.iloc[i:i + 1]
    return out


def _resident_line(person: dict) -> str:
    """Name, address, RT/RW, phone and why the visit is needed; parts the register lacks are left out."""
    def text(key):
        value = person.get(key)
        return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()

    parts = [f"<b>{_e(text('nama'))}</b>"]
    if text("alamat"):
        parts.append(_e(text("alamat")))
    rt, rw = text("rt"), text("rw")
    if rt or rw:
        parts.append("/".join(x for x in (f"RT {_e(rt)}" if rt else "", f"RW {_e(rw)}" if rw else "") if x))
    phone = next((text(k) for k in ("telepon", "no_hp", "phone", "hp") if text(k)), "")
    if phone:
        parts.append(t("phone {phone}", phone=_e(phone)))
    why = text("alasan_kunjungan") or text("home_visit_reason")
    if why:
        parts.append(t("reason: {why}", why=_e(why)))
    return ", ".join(parts)


def write_day_sheets(plan, out_dir: str | Path, register: pd.DataFrame | None = None) -> list[Path]:
    """One printable HTML page per unit-day (and index.html); names and RT/RW only with a register.

    Parameters
    ----------
    plan
        The Plan (aggregates only).
    out_dir
        Folder for ``index.html`` and ``<date>_<unit>.html``.
    register
        The geocoded register (nama, rt, rw, kode_kel, home_visit[, visit_id]). Pass it only for
        sheets that go to the visiting team: their pages then list who to visit.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = plan_frames(plan)
    s = frames["schedule"]
    s = s[~s["unit"].isin(stationed_units(plan))]  # a post works at its own office: the workbook lists it
    kel, kec = _kel_names(plan)
    residents = _residents_by_stop(frames["visits"], register) if register is not None else {}
    pages: list[Path] = []
    links = []
    for (day, unit), g in s.groupby(["day", "unit"], sort=True):
        g = g.sort_values("stop")
        title = t("Daily work sheet — {unit}", unit=unit)
        rows = []
        number = 0
        last_stop = g["stop"].max()
        for r in g.itertuples():
            label = "" if r.job_kind in FRAME_KINDS else str(number := number + 1)
            what = activity(r.job_kind)
            when = f"{_e(r.start_hm)}–{_e(r.end_hm)}"
            if r.job_kind in FRAME_KINDS:
                what = t({("depot", True): "Back at the office", ("depot", False): "Leave the office",
                          ("lodging", True): "Overnight stay (sleep here)",
                          ("lodging", False): "Leave the lodging"}[r.job_kind, r.stop == last_stop])
                when = _e(r.arrival_hm if r.stop == last_stop else r.end_hm)
            where = r.name if isinstance(r.name, str) and r.name else ""
            kel_name = kel.get(str(r.kode_kel), "") if pd.notna(r.kode_kel) else ""
            kec_name = kec.get(str(r.kode_kec), "") if pd.notna(r.kode_kec) else ""
            expected = f"{r.expected_recordings:.0f}" if r.job_kind == "session" else ""
            rows.append(
                f"<tr><td>{label}</td><td class='t'>{_e(r.arrival_hm)}</td><td class='t'>{when}</td>"
                f"<td>{_e(what)}</td><td>{_e(where)}</td>"
                f"<td>{_e(kel_name)}{', ' if kel_name and kec_name else ''}{_e(kec_name)}</td>"
                f"<td class='n'>{expected}</td><td class='n'>{r.travel_km:.1f}</td><td class='blank'></td></tr>")
            if r.job_kind == "home_visit" and register is not None:
                people = residents.get(str(r.job_id))
                if people is not None and len(people):
                    names = "; ".join(_resident_line(p) for p in people.to_dict("records"))
                    rows.append(f"<tr><td></td><td colspan='8'>{t('Resident: {names}', names=names)}</td></tr>")
                else:
                    rows.append(f"<tr><td></td><td colspan='8'>{t('Resident: (not in the list given)')}</td></tr>")
        sessions = g[g["job_kind"] == "session"]
        visits = g[g["job_kind"] == "home_visit"]
        vehicle = g["vehicle"].iloc[0]
        private = ("<div class='private'>" + t("CONFIDENTIAL: this sheet has residents' names. Only for the "
                                               "visiting team; do not share or photograph it.") + "</div>"
                   if register is not None and len(visits) else "")
        headers = "".join(f"<th>{_e(t(h))}</th>" for h in DAY_HEADERS)
        page = f"""<!DOCTYPE html>
<html lang="{language()}"><head><meta charset="utf-8">{VIEWPORT}
<title>{_e(title)} — {_e(hari_tanggal(day))}</title><style>{DAY_CSS}</style></head><body>
<h1>{_e(title)}</h1>
<div class="meta"><span><b>{_e(hari_tanggal(day))}</b></span>
<span>{_e(t("Vehicle"))}: {_e(vehicle_name(vehicle))}</span>
<span>{_e(t("Plan"))}: {_e(plan.name)}</span></div>
<div class="meta"><span>{_e(t("Recording sessions"))}: {len(sessions)}</span>
<span>{_e(t("Home visits"))}: {len(visits)}</span>
<span>{_e(t("Expected recordings"))}: {sessions['expected_recordings'].sum():.0f}</span>
<span>{_e(t("Distance travelled"))}: {written(round(float(g['travel_km'].sum()), 1))} km</span></div>
{private}
<table><thead><tr>{headers}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<h2>{_e(t("Notes"))}</h2><div style="border:1px solid #444;height:3cm"></div>
<div class="sign"><div>{_e(t("Officer"))}<div class="line"></div></div>
<div>{_e(t("Coordinator"))}<div class="line"></div></div></div>
</body></html>
"""
        path = out_dir / f"{day.isoformat()}_{_slug(unit)}.html"
        path.write_text(page, encoding="utf-8")
        pages.append(path)
        count = t("{sessions} sessions, {visits} home visits", sessions=len(sessions), visits=len(visits))
        links.append(f"<li><a href='{_e(path.name)}'>{_e(hari_tanggal(day))} — {_e(unit)}</a> ({_e(count)})</li>")
    index = out_dir / "index.html"
    index.write_text(f"""<!DOCTYPE html>
<html lang="{language()}"><head><meta charset="utf-8">{VIEWPORT}
<title>{_e(t("Daily work sheets"))} — {_e(plan.name)}</title><style>{DAY_CSS}</style></head><body>
<h1>{_e(t("Daily work sheets"))}</h1><div class="meta">{_e(t("{plan}, week starting {date}", plan=plan.name,
                                                               date=hari_tanggal(plan.week_start)))}</div>
<ul>{''.join(links) or '<li>' + _e(t("No schedule.")) + '</li>'}</ul></body></html>
""", encoding="utf-8")
    return [index, *pages]
