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
from planner.fmt import HARI, hari_tanggal
from planner.plan import schedule_frames as plan_frames
from planner.plan import stationed_units
from planner.tables import write_csv, xlsx_text_cells

KEGIATAN = {"depot": "Kantor (depo)", "lodging": "Menginap", "session": "Sesi perekaman",
            "home_visit": "Kunjungan rumah"}


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
        "Unit": s["unit"],
        "Kendaraan": s["vehicle"],
        "Tanggal": s["day"],
        "Hari": s["day"].map(lambda d: HARI[d.weekday()]),
        "Urutan": s["stop"].astype(int),
        "Kegiatan": s["job_kind"].map(KEGIATAN).fillna(s["job_kind"]),
        "Lokasi": s["name"].fillna(""),
        "Kelurahan": s["kode_kel"].map(lambda k: kel.get(str(k), "") if pd.notna(k) else ""),
        "Kecamatan": s["kode_kec"].map(lambda k: kec.get(str(k), "") if pd.notna(k) else ""),
        "Kode kelurahan": s["kode_kel"].fillna(""),
        "Tiba": s["arrival_hm"].map(clock),
        "Mulai": s["start_hm"].map(clock),
        "Selesai": s["end_hm"].map(clock),
        "Perjalanan (menit)": s["travel_min"].round(0).astype(int),
        "Jarak (km)": s["travel_km"].round(1),
        "Perkiraan perekaman": s["expected_recordings"].round(1),
        "ID tugas": s["job_id"].astype(str),
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
    """Gaps per kelurahan with Indonesian headers, for the workbook."""
    g = plan.gaps.copy()
    cols = {"kode_kel": "Kode kelurahan", "nama_kel": "Kelurahan", "kode_kec": "Kode kecamatan",
            "nama_kec": "Kecamatan", "pemula": "Pemilih pemula", "lansia": "Lansia", "umum": "Umum",
            "home_visit": "Kunjungan rumah", "unrecorded": "Belum rekam", "wajib_ktp": "Wajib KTP"}
    out = g[[c for c in cols if c in g]].rename(columns=cols)
    if "wajib_ktp" in g:
        out["% belum rekam"] = (g["unrecorded"] / g["wajib_ktp"].where(g["wajib_ktp"] > 0)).round(4)
    if len(plan.sessions) and {"kode_kel", "session_days"} <= set(plan.sessions.columns):
        days = plan.sessions.assign(k=plan.sessions["kode_kel"].astype(str)).groupby("k")["session_days"].sum()
        out["Hari sesi direncanakan"] = g["kode_kel"].astype(str).map(days).fillna(0).astype(int)
    return out.sort_values("Belum rekam", ascending=False, kind="stable") if "Belum rekam" in out else out


def write_schedule_xlsx(plan, path: str | Path) -> Path:
    """schedule.xlsx: Ringkasan, one sheet per unit, Kesenjangan (gaps), Tidak terjadwal, Tidak terlayani.

    Headers are frozen and bold, columns sized to their content, dates and times are real Excel
    values (sortable, filterable), so the office can work on the file directly.
    """
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = schedule_table(plan)
    sheets: list[tuple[str, pd.DataFrame]] = [("Ringkasan", summary_table(plan))]
    used = {"ringkasan", "kesenjangan", "tidak terjadwal", "tidak terlayani", "pos perekaman", "blangko"}
    posts = stationed_units(plan)
    for unit, frame in table[~table["Unit"].isin(posts)].groupby("Unit", sort=False):
        sheets.append((_sheet_name(unit, used), frame.drop(columns="Unit")))
    if posts:  # twenty operators at their kantor camat: one sheet, one row per post-day
        sheets.append(("Pos perekaman", table[table["Unit"].isin(posts)]))
    if (plan.meta or {}).get("blangko"):
        sheets.append(("Blangko", blangko_table(plan)))
    sheets.append(("Kesenjangan", gap_table(plan)))
    sheets.append(("Tidak terjadwal", _readable(plan, plan.unscheduled, UNSCHEDULED_COLUMNS)))
    sheets.append(("Tidak terlayani", _readable(plan, plan.unserved, UNSERVED_COLUMNS)))

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
                if column == "Tanggal":
                    for cell in ws[letter][1:]:
                        cell.number_format = "DD/MM/YYYY"
                elif column in ("Tiba", "Mulai", "Selesai"):
                    # pandas writes datetime.time as text; put real times back so Excel can sort and add them
                    for cell, value in zip(ws[letter][1:], frame[column]):
                        cell.value = value
                        cell.number_format = "HH:MM"
            if len(frame):
                ws.auto_filter.ref = ws.dimensions
            _print_setup(ws)
    return path


#: KPI keys of `plan.kpis` (stable English identifiers) -> what the office reads.
KPI_LABELS = {
    "unrecorded": "Belum rekam (warga)", "pemula": "Pemilih pemula belum rekam", "lansia": "Lansia belum rekam",
    "home_visit_demand": "Perlu kunjungan rumah", "kelurahan_with_gap": "Kelurahan/desa dengan kesenjangan",
    "session_days_planned": "Hari sesi direncanakan", "sessions_scheduled": "Sesi terjadwal",
    "session_days_scheduled": "Hari sesi terjadwal", "expected_recordings_planned": "Perkiraan perekaman (rencana)",
    "expected_recordings_scheduled": "Perkiraan perekaman (terjadwal)",
    "home_visits_scheduled": "Kunjungan rumah terjadwal", "unit_days_used": "Hari kerja unit terpakai",
    "travel_km": "Jarak tempuh (km)", "unserved_residents": "Warga belum terlayani minggu ini",
    "unscheduled_jobs": "Tugas tidak terjadwal", "register_rows": "Baris daftar nama",
    "placed_in_kelurahan": "Ditemukan sampai kelurahan/desa",
    "placed_in_kecamatan_only": "Ditemukan sampai kecamatan saja",
    "not_placed": "Tidak dapat ditempatkan",
}
_KIND = {"session": "Sesi perekaman", "home_visit": "Kunjungan rumah", "depot": "Kantor", "lodging": "Menginap"}
_CLASS = {"pemula": "Pemilih pemula", "lansia": "Lansia", "umum": "Umum", "home_visit": "Kunjungan rumah"}
_HEADERS = {"job_id": "Kode tugas", "job_kind": "Jenis", "site_id": "Kode lokasi", "kode_kel": "Kode kel/desa",
            "kode_kec": "Kode kecamatan", "klass": "Kelompok", "residents": "Warga", "reason": "Alasan"}


def summary_table(plan) -> pd.DataFrame:
    """The Ringkasan sheet: the week, every KPI under its Indonesian name, and the plan's notes."""
    rows = [("Rencana", plan.name), ("Minggu mulai", hari_tanggal(plan.week_start)),
            ("Hari kerja", len(plan.working_dates)), ("Unit", sum(int(u.get("count", 1)) for u in plan.units))]
    rows += [(KPI_LABELS.get(key, key), value) for key, value in (plan.kpis or {}).items()]
    blangko = (plan.meta or {}).get("blangko")
    if blangko:
        rows += [("Blangko: stok / dibutuhkan / kekurangan",
                  f"{blangko['stock']:,} / {blangko['needed']:,} / {blangko['shortfall']:,}".replace(",", "."))]
    rows += [("Catatan", note) for note in (plan.meta or {}).get("notes", [])]
    return pd.DataFrame(rows, columns=["Ukuran", "Nilai"])


BLANGKO_LABELS = {
    "stock": "Stok blangko minggu ini (termasuk kiriman)", "needed": "Dibutuhkan untuk perekaman terjadwal",
    "needed_pemula": "… di antaranya pemilih pemula (perkiraan)", "printed": "Dapat dicetak",
    "printed_pemula": "… di antaranya pemilih pemula", "stock_end": "Sisa stok akhir minggu",
    "shortfall": "Kekurangan: menunggu blangko", "awaiting_pemula": "… di antaranya pemilih pemula",
}


def blangko_table(plan) -> pd.DataFrame:
    """The Blangko sheet: this week's stock, need, printing and shortfall (scenario's [blangko])."""
    info = (plan.meta or {}).get("blangko") or {}
    return pd.DataFrame([(label, info.get(key)) for key, label in BLANGKO_LABELS.items()], columns=["Ukuran", "Nilai"])


def _readable(plan, frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A contract table with Indonesian headers and values, and the kelurahan's name beside its code."""
    out = (frame if len(frame) else pd.DataFrame(columns=columns)).copy()
    kel, _ = _kel_names(plan)
    if "kode_kel" in out:
        out.insert(out.columns.get_loc("kode_kel") + 1, "Kelurahan/desa", out["kode_kel"].astype(str).map(kel))
    if "job_kind" in out:
        out["job_kind"] = out["job_kind"].map(_KIND).fillna(out["job_kind"])
    if "klass" in out:
        out["klass"] = out["klass"].map(_CLASS).fillna(out["klass"])
    return out.rename(columns=_HEADERS)


def _print_setup(ws) -> None:
    """Landscape, one page wide, header row repeated on every printed page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"


# ---- day sheets ------------------------------------------------------------------------------
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
        parts.append(f"telp. {_e(phone)}")
    why = text("alasan_kunjungan") or text("home_visit_reason")
    if why:
        parts.append(f"alasan: {_e(why)}")
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
        title = f"Lembar Kerja Harian — {unit}"
        rows = []
        number = 0
        last_stop = g["stop"].max()
        for r in g.itertuples():
            label = "" if r.job_kind in FRAME_KINDS else str(number := number + 1)
            activity = KEGIATAN.get(r.job_kind, r.job_kind)
            when = f"{_e(r.start_hm)}–{_e(r.end_hm)}"
            if r.job_kind in FRAME_KINDS:
                activity = {("depot", True): "Kembali ke kantor", ("depot", False): "Berangkat dari kantor",
                            ("lodging", True): "Menginap (tidur di sini)",
                            ("lodging", False): "Berangkat dari penginapan"}[r.job_kind, r.stop == last_stop]
                when = _e(r.arrival_hm if r.stop == last_stop else r.end_hm)
            where = r.name if isinstance(r.name, str) and r.name else ""
            kel_name = kel.get(str(r.kode_kel), "") if pd.notna(r.kode_kel) else ""
            kec_name = kec.get(str(r.kode_kec), "") if pd.notna(r.kode_kec) else ""
            expected = f"{r.expected_recordings:.0f}" if r.job_kind == "session" else ""
            rows.append(
                f"<tr><td>{label}</td><td class='t'>{_e(r.arrival_hm)}</td><td class='t'>{when}</td>"
                f"<td>{_e(activity)}</td><td>{_e(where)}</td>"
                f"<td>{_e(kel_name)}{', ' if kel_name and kec_name else ''}{_e(kec_name)}</td>"
                f"<td class='n'>{expected}</td><td class='n'>{r.travel_km:.1f}</td><td class='blank'></td></tr>")
            if r.job_kind == "home_visit" and register is not None:
                people = residents.get(str(r.job_id))
                if people is not None and len(people):
                    names = "; ".join(_resident_line(p) for p in people.to_dict("records"))
                    rows.append(f"<tr><td></td><td colspan='8'>Warga: {names}</td></tr>")
                else:
                    rows.append("<tr><td></td><td colspan='8'>Warga: (tidak ada di daftar yang diberikan)</td></tr>")
        sessions = g[g["job_kind"] == "session"]
        visits = g[g["job_kind"] == "home_visit"]
        vehicle = g["vehicle"].iloc[0]
        private = ("<div class='private'>RAHASIA: lembar ini memuat nama warga. Hanya untuk tim yang berkunjung; "
                   "jangan dibagikan atau difoto.</div>" if register is not None and len(visits) else "")
        page = f"""<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)} — {_e(hari_tanggal(day))}</title><style>{DAY_CSS}</style></head><body>
<h1>{_e(title)}</h1>
<div class="meta"><span><b>{_e(hari_tanggal(day))}</b></span><span>Kendaraan: {_e(vehicle)}</span>
<span>Rencana: {_e(plan.name)}</span></div>
<div class="meta"><span>Sesi perekaman: {len(sessions)}</span><span>Kunjungan rumah: {len(visits)}</span>
<span>Perkiraan perekaman: {sessions['expected_recordings'].sum():.0f}</span>
<span>Jarak tempuh: {g['travel_km'].sum():.1f} km</span></div>
{private}
<table><thead><tr><th>No</th><th>Tiba</th><th>Waktu</th><th>Kegiatan</th><th>Lokasi</th><th>Kelurahan, Kecamatan</th>
<th>Perkiraan</th><th>km</th><th>Terekam (isi)</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<h2>Catatan</h2><div style="border:1px solid #444;height:3cm"></div>
<div class="sign"><div>Petugas<div class="line"></div></div><div>Koordinator<div class="line"></div></div></div>
</body></html>
"""
        path = out_dir / f"{day.isoformat()}_{_slug(unit)}.html"
        path.write_text(page, encoding="utf-8")
        pages.append(path)
        links.append(f"<li><a href='{_e(path.name)}'>{_e(hari_tanggal(day))} — {_e(unit)}</a> "
                     f"({len(sessions)} sesi, {len(visits)} kunjungan rumah)</li>")
    index = out_dir / "index.html"
    index.write_text(f"""<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lembar kerja harian — {_e(plan.name)}</title><style>{DAY_CSS}</style></head><body>
<h1>Lembar kerja harian</h1><div class="meta">{_e(plan.name)}, minggu mulai {_e(hari_tanggal(plan.week_start))}</div>
<ul>{''.join(links) or '<li>Tidak ada jadwal.</li>'}</ul></body></html>
""", encoding="utf-8")
    return [index, *pages]
