"""Candidate session sites: where a mobile unit can set up for a day.

Sites come from a points file (the BIG RBI ``PEMERINTAHAN_PT_50K`` layer, or its derived copy with
Kemendagri codes) or from a coordinator's CSV (``name, kind, lat, lon`` plus optional opening days
and hours). A kelurahan with no site gets a fallback ``balai`` site at a point inside it, so every
kelurahan with residents has at least one place to be served from.

Police stations, military installations and prisons are in the same RBI layer but are not public
session venues: they are left out, and counted in ``sites.attrs["excluded"]`` (nothing dropped
silently).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner.contracts import HHMM, KINDS, SITE_COLUMNS, site_id_suffix
from planner.errors import InputError
from planner.tables import read_table

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
COLUMNS = SITE_COLUMNS
DEFAULT_HOURS = ("08:00", "16:00")
OFFICE_DAYS = "01234"  # government offices open Monday-Friday
BALAI_DAYS = "012345"  # a community hall can host a Saturday session

# RBI REMARK -> kind. Anything else falls through to the name rules, then to "lainnya".
_REMARK_KIND = {
    "kantor camat": "kantor_camat",
    "kantor kepala desa": "kantor_lurah",
    "kantor lurah": "kantor_lurah",
}
# Not public venues for a recording session.
_EXCLUDED_REMARKS = {
    "kantor polisi", "instalasi tni (ad/al/au)", "bangunan/kantor pertahanan keamanan lainnya",
    "lembaga pemasyarakatan", "istana",
}
_NAME_KIND = [
    (re.compile(r"^kantor camat\b", re.I), "kantor_camat"),
    (re.compile(r"^(kantor (kepala )?(desa|lurah|kelurahan|pekon|kampung)"
                r"|(gedung )?balai (desa|pekon|kampung|kelurahan))\b",
                re.I), "kantor_lurah"),
    (re.compile(r"^(sd|sdn|smp|smpn|sma|sman|smk|smkn|mi|mts|ma|man|sekolah)\b", re.I), "sekolah"),
]
_KIND_ALIASES = {
    "kantor camat": "kantor_camat", "camat": "kantor_camat", "kecamatan": "kantor_camat",
    "kantor lurah": "kantor_lurah", "lurah": "kantor_lurah", "kelurahan": "kantor_lurah",
    "balai desa": "kantor_lurah", "kantor desa": "kantor_lurah", "desa": "kantor_lurah",
    "school": "sekolah", "other": "lainnya", "lain": "lainnya",
}
_HHMM = re.compile(HHMM)


def load_sites(
    path: str | Path,
    kinds: list[str] | None = None,
    within: str | None = None,
    kelurahan: gpd.GeoDataFrame | None = None,
    max_days: int = 5,
) -> gpd.GeoDataFrame:
    """Read candidate sites from an RBI points layer or a user CSV.

    Parameters
    ----------
    path : RBI layer (GeoJSON/Shapefile/GeoPackage with ``REMARK, NAMOBJ``) or a CSV with columns
        ``name, kind, lat, lon`` and optionally ``site_id, kode_kel, kode_kec, open_days, open_from,
        open_to, max_days``. The format is detected from the columns.
    kinds : keep only these kinds (default: all of ``KINDS``).
    within : keep only sites whose kelurahan/kecamatan code starts with this (e.g. ``"18.71"``).
    kelurahan : polygons ``[kode, kode_kec, geometry]``; when given, sites without codes get them by
        point-in-polygon (a user CSV rarely carries codes).
    max_days : session-days one site may host in the horizon, unless the file says otherwise.

    Returns
    -------
    GeoDataFrame following the sites contract, sorted by ``site_id`` (stable ids such as
    ``18.71.04-camat``), EPSG:4326.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"sites file not found: {path}")
    _check_kinds(kinds)
    if path.suffix.lower() in (".csv", ".txt"):
        frame = _from_csv(path, max_days)
    else:
        raw = gpd.read_file(path)
        if "REMARK" in raw.columns and "NAMOBJ" in raw.columns:
            frame = _from_rbi(raw, max_days)
        elif {"name", "kind"} <= set(raw.columns):
            frame = _from_table(pd.DataFrame(raw.drop(columns="geometry")), raw.geometry.to_crs(WGS84),
                                max_days, str(path))
        else:
            raise InputError(f"{path}: not a sites layer: expected RBI columns REMARK, NAMOBJ or columns "
                             f"name, kind (got {list(raw.columns)})")
    if kelurahan is not None:
        frame = _fill_codes(frame, kelurahan)
    if within:
        keep = frame["kode_kel"].fillna("").str.startswith(within) | frame["kode_kec"].fillna("").str.startswith(within)
        frame = frame[keep]
    excluded = {}
    if "_remark" in frame:
        excluded = {str(k): int(v) for k, v in frame.loc[frame["kind"].isna(), "_remark"].value_counts().items()}
        frame = frame[frame["kind"].notna()].drop(columns="_remark")
    if kinds is not None:
        frame = frame[frame["kind"].isin(kinds)]
    frame = _assign_ids(frame)
    frame.attrs["excluded"] = excluded
    if excluded:
        log.info("sites: left out %s (not public venues)", excluded)
    return frame


def add_fallback_sites(sites: gpd.GeoDataFrame, kelurahan: gpd.GeoDataFrame, max_days: int = 5) -> gpd.GeoDataFrame:
    """Add a ``balai`` site at a point inside every kelurahan that has no site of its own.

    Parameters
    ----------
    sites : sites GeoDataFrame (contract columns); may be empty.
    kelurahan : polygons with ``kode, nama, kode_kec``.

    Returns
    -------
    ``sites`` plus one row per kelurahan without a site: ``site_id = <kode>-balai``, name
    ``Balai <nama>``, at the polygon's representative point (always inside, unlike a centroid).
    """
    missing = {"kode", "nama", "kode_kec"} - set(kelurahan.columns)
    if missing:
        raise InputError(f"kelurahan needs columns kode, nama, kode_kec (missing {sorted(missing)})")
    have = set(sites["kode_kel"].dropna()) if len(sites) else set()
    todo = kelurahan[~kelurahan["kode"].isin(have)].to_crs(WGS84)
    balai = gpd.GeoDataFrame({
        "site_id": todo["kode"] + "-balai",
        "name": "Balai " + todo["nama"].astype(str),
        "kind": "balai",
        "kode_kel": todo["kode"],
        "kode_kec": todo["kode_kec"],
        "open_days": BALAI_DAYS,
        "open_from": DEFAULT_HOURS[0],
        "open_to": DEFAULT_HOURS[1],
        "max_days": int(max_days),
    }, geometry=todo.representative_point().values, crs=WGS84)
    out = pd.concat([sites[COLUMNS], balai[COLUMNS]], ignore_index=True) if len(sites) else balai[COLUMNS]
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84).sort_values("site_id", kind="stable")
    out = out.reset_index(drop=True)
    out.attrs = dict(sites.attrs)
    if out["site_id"].duplicated().any():
        twice = out.loc[out.site_id.duplicated(), "site_id"].tolist()
        raise InputError(f"duplicate site_id after adding balai sites: {twice}")
    return out


def open_days_in(open_days: str, dates) -> int:
    """How many of ``dates`` fall on the site's opening weekdays (``"01234"`` = Mon-Fri)."""
    days = {int(ch) for ch in str(open_days)}
    return sum(1 for d in dates if d.weekday() in days)


def _check_kinds(kinds) -> None:
    if kinds is None:
        return
    bad = sorted(set(kinds) - set(KINDS))
    if bad:
        raise InputError(f"unknown site kind(s) {bad}; expected some of {list(KINDS)}")


# ---- readers -------------------------------------------------------------------------------
def _kind_from_rbi(remark: str, name: str) -> str | None:
    remark = (remark or "").strip().lower()
    if remark in _EXCLUDED_REMARKS:
        return None
    if remark in _REMARK_KIND:
        return _REMARK_KIND[remark]
    for pattern, kind in _NAME_KIND:
        if pattern.search(name or ""):
            return kind
    return "lainnya"


def _from_rbi(raw: gpd.GeoDataFrame, max_days: int) -> gpd.GeoDataFrame:
    """RBI rows with their kind; rows that are no public venue keep kind None and their REMARK."""
    raw = raw.to_crs(WGS84)
    kinds = [_kind_from_rbi(r, n) for r, n in zip(raw["REMARK"], raw["NAMOBJ"].fillna(""))]
    raw = raw.assign(_kind=kinds)
    names = raw["NAMOBJ"].fillna(raw["REMARK"]).astype(str).str.strip()
    frame = gpd.GeoDataFrame({
        "site_id": None,
        "name": names.values,
        "kind": raw["_kind"].values,
        "kode_kel": raw["kode_keldesa"].values if "kode_keldesa" in raw else None,
        "kode_kec": raw["kode_kec"].values if "kode_kec" in raw else None,
        "open_days": OFFICE_DAYS,
        "open_from": DEFAULT_HOURS[0],
        "open_to": DEFAULT_HOURS[1],
        "max_days": int(max_days),
        "_remark": raw["REMARK"].values,
    }, geometry=raw.geometry.values, crs=WGS84)
    return frame


def _from_csv(path: Path, max_days: int) -> gpd.GeoDataFrame:
    table, _ = read_table(path, what="sites file", looks_right=lambda h: {"name", "lat", "lon"} <= {
        c.strip().lower() for c in h})
    table = table.drop(columns=[c for c in table.columns if c.startswith("__")])
    table.columns = [c.strip().lower() for c in table.columns]
    missing = {"name", "kind", "lat", "lon"} - set(table.columns)
    if missing:
        raise InputError(f"{path}: sites CSV needs columns name, kind, lat, lon (missing {sorted(missing)})")
    lat = pd.to_numeric(table["lat"].str.replace(",", "."), errors="coerce")
    lon = pd.to_numeric(table["lon"].str.replace(",", "."), errors="coerce")
    bad = table.index[lat.isna() | lon.isna() | ~lat.between(-90, 90) | ~lon.between(-180, 180)]
    if len(bad):
        raise InputError(f"{path}: rows {[int(i) + 2 for i in bad[:10]]} have no valid lat/lon "
                         "(expected decimal degrees, e.g. lat -5.43, lon 105.26)")
    return _from_table(table, gpd.points_from_xy(lon, lat, crs=WGS84), max_days, str(path))


def _from_table(table: pd.DataFrame, geometry, max_days: int, where: str) -> gpd.GeoDataFrame:
    kinds = table["kind"].astype(str).str.strip().str.lower()
    kinds = kinds.map(lambda k: _KIND_ALIASES.get(k, k.replace(" ", "_")))
    bad = sorted(set(kinds) - set(KINDS))
    if bad:
        raise InputError(f"{where}: unknown site kind(s) {bad}; expected one of {list(KINDS)}")

    def column(name, default):
        if name not in table:
            return pd.Series(default, index=table.index)
        values = table[name].astype(str).str.strip()
        return values.mask(values.isin(["", "nan", "None"]), default)

    open_days = column("open_days", OFFICE_DAYS).str.replace(r"[^0-6]", "", regex=True)
    frame = gpd.GeoDataFrame({
        "site_id": column("site_id", None).values,
        "name": table["name"].astype(str).str.strip().values,
        "kind": kinds.values,
        "kode_kel": column("kode_kel", None).values,
        "kode_kec": column("kode_kec", None).values,
        "open_days": open_days.values,
        "open_from": column("open_from", DEFAULT_HOURS[0]).values,
        "open_to": column("open_to", DEFAULT_HOURS[1]).values,
        "max_days": pd.to_numeric(column("max_days", str(max_days)), errors="coerce").values,
    }, geometry=geometry, crs=WGS84)
    problems = []
    for col in ("open_from", "open_to"):
        wrong = frame.index[~frame[col].astype(str).str.match(_HHMM)]
        if len(wrong):
            problems.append(f"{col} must be HH:MM (rows {[int(i) + 2 for i in wrong[:10]]})")
    if (frame["open_days"] == "").any():
        problems.append("open_days must list weekday numbers 0-6 (Mon=0), e.g. '01234'")
    if frame["max_days"].isna().any() or (frame["max_days"] < 0).any():
        problems.append("max_days must be a whole number >= 0")
    if problems:
        raise InputError(f"{where}: " + "; ".join(problems))
    frame["max_days"] = frame["max_days"].astype(int)
    return frame


def _fill_codes(frame: gpd.GeoDataFrame, kelurahan: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    todo = frame["kode_kel"].isna() | (frame["kode_kel"].astype(str) == "")
    if not todo.any():
        return frame
    polygons = kelurahan[["kode", "kode_kec", "geometry"]].to_crs(WGS84)
    hits = gpd.sjoin(frame.loc[todo, ["geometry"]], polygons, how="left", predicate="within")
    hits = hits[~hits.index.duplicated()]
    frame = frame.copy()
    frame["kode_kel"] = frame["kode_kel"].astype(object)
    frame["kode_kec"] = frame["kode_kec"].astype(object)
    frame.loc[todo, "kode_kel"] = hits["kode"].values
    frame.loc[todo, "kode_kec"] = hits["kode_kec"].values
    return frame


def _assign_ids(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Stable ids: ``<kode_kec>-camat`` for a kantor camat, ``<kode_kel>-<kind>`` otherwise,
    numbered ``-2, -3`` in name order when a code holds several sites of a kind.
    """
    frame = frame.copy()
    given = frame["site_id"].notna() & (frame["site_id"].astype(str) != "")
    area = frame["kode_kel"].where(frame["kind"] != "kantor_camat", frame["kode_kec"])
    area = area.fillna(frame["kode_kec"]).fillna("nocode")
    base = area.astype(str) + "-" + frame["kind"].map(site_id_suffix)
    frame["_base"] = base
    frame["_order"] = range(len(frame))
    frame = frame.sort_values(["_base", "name", "_order"], kind="stable")
    rank = frame.groupby("_base").cumcount() + 1
    generated = frame["_base"] + rank.map(lambda r: "" if r == 1 else f"-{r}")
    frame["site_id"] = frame["site_id"].where(given.loc[frame.index], generated)
    duplicated = frame["site_id"][frame["site_id"].duplicated()]
    if len(duplicated):
        raise InputError(f"duplicate site_id: {sorted(set(duplicated))[:10]}")
    frame = frame.drop(columns=["_base", "_order"]).sort_values("site_id", kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(frame[COLUMNS], geometry="geometry", crs=WGS84)
