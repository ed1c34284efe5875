"""The contracts between stages: table columns, id schemes, resident classes, site kinds.

Why one module: every table that crosses a stage, every id one stage writes and another parses,
and every list of classes or kinds is defined here once. A stage that needs one imports it; a
stage never re-derives another stage's format. ARCHITECTURE.md describes the same contracts in
prose; this module is their owner. Column names are stable English identifiers (part of the API):
people read translated headers in the workbooks, programs read these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from planner.errors import InputError, TableError

# ---- residents --------------------------------------------------------------------------------
#: Demand classes, exclusive, in order of precedence (see `demand.classify`).
CLASSES = ("home_visit", "pemula", "lansia", "umum")
#: Classes served at sessions (home_visit residents are visited instead).
SESSION_CLASSES = ("pemula", "lansia", "umum")
#: The gaps table's class columns, in column order.
GAP_CLASSES = (*SESSION_CLASSES, "home_visit")
#: Priority per session class: one recording of a first-time voter is worth three of `umum`.
DEFAULT_WEIGHTS = {"pemula": 3.0, "lansia": 2.0, "umum": 1.0}

# ---- sites ------------------------------------------------------------------------------------
#: kind -> (suffix used in site ids, label in Bahasa Indonesia, label in English)
SITE_KINDS = {
    "kantor_camat": ("camat", "Kantor camat", "Kecamatan office"),
    "kantor_lurah": ("lurah", "Kantor lurah / balai desa", "Village office"),
    "sekolah": ("sekolah", "Sekolah", "School"),
    "lainnya": ("lain", "Lainnya", "Other venue"),
    "balai": ("balai", "Balai kelurahan (titik perkiraan)", "Village hall (estimated point)"),
}
KINDS = tuple(SITE_KINDS)


def site_id_suffix(kind: str) -> str:
    """The part of a site id that names its kind (`18.71.01.1003-camat`)."""
    if kind not in SITE_KINDS:
        raise InputError(f"unknown site kind {kind!r}; expected one of {list(SITE_KINDS)}")
    return SITE_KINDS[kind][0]


# ---- tables -----------------------------------------------------------------------------------
#: One row per register row (register.read_register): canonical columns where present.
REGISTER_COLUMNS = ["nik", "nama", "alamat", "rt", "rw", "kelurahan", "kecamatan", "tgl_lahir", "jenis_kelamin",
                    "lat", "lon", "home_visit"]
#: Columns geocode adds to the register (same length and order as the input).
GEOCODE_COLUMNS = ["row", "status", "level", "kode_kel", "kode_kec", "method", "score", "reason",
                   "nik_kec_mismatch", "candidates"]
#: Every register row ends in exactly one of these.
GEOCODE_STATUSES = ("matched", "ambiguous", "unmatched", "invalid")
#: One row per kelurahan of the AreaSet (demand.gaps).
GAPS_COLUMNS = ["kode_kel", "nama_kel", "kode_kec", "nama_kec", *CLASSES[1:], "home_visit", "unrecorded"]
#: One row per home-visit resident (demand.home_visits): a point inside the kelurahan, never the house.
HOME_VISIT_COLUMNS = ["visit_id", "kode_kel", "kode_kec", "lon", "lat"]
#: Candidate session sites (sites.py); GeoDataFrame with geometry.
SITE_COLUMNS = ["site_id", "name", "kind", "kode_kel", "kode_kec", "open_days", "open_from", "open_to",
                "max_days", "geometry"]
#: Session-days per site (placement.place).
SESSION_COLUMNS = ["site_id", "name", "kind", "kode_kel", "kode_kec", "session_days", "exp_pemula", "exp_lansia",
                   "exp_umum", "exp_total", "capacity", "unit_group"]
#: Which kelurahan's residents go to which site (placement.place).
ASSIGNMENT_COLUMNS = ["kode_kel", "site_id", "travel_min", *SESSION_CLASSES, "exp_total"]
#: Residents placement could not serve, with the reason.
UNSERVED_COLUMNS = ["kode_kel", "kode_kec", "klass", "residents", "reason"]
#: One row per unit-day-stop, frame rows (depot, or a touring team's lodging) first and last (routing).
SCHEDULE_COLUMNS = ["unit", "vehicle", "date", "stop", "job_id", "job_kind", "site_id", "name", "kode_kel",
                    "kode_kec", "lon", "lat", "arrival", "start", "end", "travel_min", "travel_km",
                    "expected_recordings"]
JOB_KINDS = ("depot", "lodging", "session", "home_visit")
#: Rows that frame a unit's day (where it starts and ends): its office, or where a touring team sleeps.
FRAME_KINDS = ("depot", "lodging")
#: One row per driven leg (legs.road_legs): `order` is the stop (legs.route_stops) it arrives at, `method`
#: "network" (road path) or "straight_line" (no graph or no connection), `path` an encoded polyline.
LEG_COLUMNS = ["unit", "date", "order", "method", "path"]
#: The offline basemap (basemap.road_lines): a road class and one encoded polyline per row.
BASEMAP_COLUMNS = ["road_class", "path"]
#: Jobs routing could not fit, with the reason.
UNSCHEDULED_COLUMNS = ["job_id", "job_kind", "site_id", "kode_kel", "reason"]
#: Columns the weekly loop adds to the geocoded register (progress.py; personal data).
STATE_COLUMNS = ["state", "not_found_reason", "week"]
STATES = ("unrecorded", "recorded", "not_found")


def require_columns(frame: pd.DataFrame, columns, what: str, source: str = "") -> None:
    """Raise TableError naming the missing columns of `frame` (called `what`), if any.

    Every stage refuses a half-made table up front with the same kind of message (which columns
    are missing, what was expected, where it usually comes from) instead of failing later with a
    KeyError deep inside a solver. `source` says where such a table comes from, e.g. "demand.gaps".
    """
    columns = list(columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        origin = f" ({source} output)" if source else ""
        raise TableError(f"{what}{origin}: missing columns {missing}; needs {columns} (see ARCHITECTURE.md)")


def empty_table(columns: Iterable[str]) -> pd.DataFrame:
    """A table with the contract's columns and no rows."""
    return pd.DataFrame(columns=list(columns))


# ---- ids --------------------------------------------------------------------------------------
_SESSION_JOB = re.compile(r"^S-(?P<site>.+)-(?P<half>[dh])(?P<k>\d+)$")


def session_job_id(site_id, k: int, half: bool) -> str:
    """Id of the k-th (0-based) session job at a site.

    ``S-<site>-d<k+1>`` for a full session-day, ``S-<site>-h<k+1>`` for a half-day session (two per
    session-day).
    """
    return f"S-{site_id}-{'h' if half else 'd'}{k + 1}"


def parse_session_job_id(job_id: str) -> tuple[str, int, bool] | None:
    """(site_id, k, half) of a session job id, or None if it is not one."""
    match = _SESSION_JOB.match(str(job_id))
    if match is None:
        return None
    return match["site"], int(match["k"]) - 1, match["half"] == "h"


def session_days_held(job_ids) -> float:
    """Session-days that the given session job ids add up to (a half-day session counts one half)."""
    ids = pd.unique(pd.Series(job_ids, dtype=str))
    parsed = [parse_session_job_id(i) for i in ids]
    halves = sum(1 for p in parsed if p is not None and p[2])
    return float(len(ids) - halves + 0.5 * halves)


def visit_id(row: int) -> str:
    """Id of the home visit to the resident on register row `row` (1-based): ``HV00017``."""
    return f"HV{int(row):05d}"


def row_of_visit(visit: str) -> int | None:
    """The register row a visit id names (None if it is not one)."""
    text = str(visit)
    return int(text[2:]) if text.startswith("HV") and text[2:].isdigit() else None


def visit_job_id(visit: str) -> str:
    """Routing's job id for a home visit: ``V-<visit_id>``."""
    return f"V-{visit}"


def visit_of_job(job_id: str) -> str | None:
    """The visit id a home-visit job id names, or None if it is not one."""
    text = str(job_id)
    return text[2:] if text.startswith("V-") else None


# ---- numbers and times ------------------------------------------------------------------------
def apportion(total: int, weights, *, cap: bool = False) -> np.ndarray:
    """Whole numbers summing to `total`, proportional to `weights` (largest remainder, stable order).

    Equal shares when every weight is zero. With `cap`, no share exceeds its weight (the weights are
    counts that cannot be exceeded, e.g. residents left in a kelurahan); the sum is then at most
    ``sum(weights)``.
    """
    weights = np.asarray(weights, dtype=float)
    total = int(total)
    if total <= 0 or len(weights) == 0:
        return np.zeros(len(weights), dtype=np.int64)
    if weights.sum() <= 0:
        if cap:
            return np.zeros(len(weights), dtype=np.int64)
        weights = np.ones_like(weights)
    if cap:
        total = min(total, int(np.floor(weights.sum())))
    share = weights / weights.sum() * total
    counts = np.floor(share).astype(np.int64)
    if cap:
        counts = np.minimum(counts, np.floor(weights).astype(np.int64))
    room = (np.floor(weights).astype(np.int64) - counts) if cap else np.full(len(weights), total, dtype=np.int64)
    left = total - int(counts.sum())
    for i in np.argsort(-(share - counts), kind="stable"):
        if left <= 0:
            break
        add = min(left, int(room[i]), 1 if not cap else left)
        counts[i] += add
        left -= add
    return counts


HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
_HHMM = re.compile(HHMM)
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


def hhmm_to_minutes(value: str) -> int:
    """'08:30' -> 510 (a time of day as minutes after midnight)."""
    text = str(value).strip()
    if not _HHMM.match(text):
        raise InputError(f"{value!r} is not a time of day HH:MM between 00:00 and 23:59")
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def is_hhmm(value) -> bool:
    """True for a string 'HH:MM' between 00:00 and 23:59."""
    return isinstance(value, str) and bool(_HHMM.match(value))


def minutes_to_hhmm(minutes: int) -> str:
    """510 -> '08:30'."""
    minutes = int(minutes)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def clock_text(value) -> str:
    """'2026-11-23T08:05', a Timestamp or minutes after midnight -> '08:05' ('' when missing)."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return minutes_to_hhmm(int(value))
    match = _CLOCK.search(str(value))
    if not match:
        raise InputError(f"cannot read a time of day from {value!r}; expected '2026-11-23T08:00' or minutes")
    return f"{int(match.group(1)):02d}:{match.group(2)}"
