"""Gaps: unrecorded residents per kelurahan by class, and the home-visit list.

Reads the geocoded register (only rows with status ``matched``; the rest are reported by geocode).
Classes are exclusive, in this order: ``home_visit`` (row flagged: sick, disabled, bedridden elderly),
``pemula`` (turns 17 on or before the election date and is not 17 yet at plan start, or has just
turned 17), ``lansia`` (60+), ``umum`` (everyone else). Rows matched only to a kecamatan are spread
over its kelurahan in proportion to the kelurahan-level matches (equally when there are none), with
whole numbers that add up exactly.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.contracts import GAP_CLASSES, apportion, require_columns, visit_id

CLASSES = list(GAP_CLASSES)


def _age(born: pd.Series, on: dt.date) -> np.ndarray:
    """Whole years completed on `on` (NaN when the birth date is unknown)."""
    on = pd.Timestamp(on)
    years = on.year - born.dt.year
    before_birthday = (born.dt.month > on.month) | ((born.dt.month == on.month) & (born.dt.day > on.day))
    return (years - before_birthday.astype(float)).to_numpy(dtype=float)


def birth_dates(geocoded: pd.DataFrame) -> pd.Series:
    """Birth date from ``tgl_lahir``, else from the NIK (``nik_tgl_lahir``)."""
    born = pd.Series(pd.NaT, index=geocoded.index, dtype="datetime64[ns]")
    if "tgl_lahir" in geocoded.columns:
        born = pd.to_datetime(geocoded["tgl_lahir"], errors="coerce").astype("datetime64[ns]")
    if "nik_tgl_lahir" in geocoded.columns:
        born = born.fillna(pd.to_datetime(geocoded["nik_tgl_lahir"], errors="coerce").astype("datetime64[ns]"))
    return born


def classify(geocoded: pd.DataFrame, as_of: dt.date, election_date: dt.date | None = None) -> pd.Series:
    """Class of each row: home_visit, pemula, lansia or umum (see module docstring)."""
    born = birth_dates(geocoded)
    age_now = _age(born, as_of)
    pemula = (age_now >= 17) & (age_now < 18)  # just turned 17
    if election_date is not None:
        pemula |= (_age(born, election_date) >= 17) & (age_now < 17)
    lansia = age_now >= 60
    flagged = (geocoded["home_visit"].fillna(False).astype(bool).to_numpy()
               if "home_visit" in geocoded.columns else np.zeros(len(geocoded), dtype=bool))
    klass = np.where(flagged, "home_visit", np.where(pemula, "pemula", np.where(lansia, "lansia", "umum")))
    return pd.Series(klass, index=geocoded.index, name="klass")


def gaps(geocoded: pd.DataFrame, areas, as_of: dt.date, election_date: dt.date | None = None) -> pd.DataFrame:
    """Unrecorded residents per kelurahan of the area set, by class.

    Parameters
    ----------
    geocoded
        Output of `geocode.geocode`.
    areas
        AreaSet; every kelurahan gets a row, also those with no one unrecorded.
    as_of
        Plan start: ages are counted on this day.
    election_date
        First-time voters (pemula) are those who turn 17 on or before it.

    Returns
    -------
    DataFrame
        ``[kode_kel, nama_kel, kode_kec, nama_kec, pemula, lansia, umum, home_visit, unrecorded]``.
    """
    require_columns(geocoded, ["status", "level", "kode_kel", "kode_kec"], "the geocoded register", "geocode.geocode")
    kel = areas.kelurahan
    out = pd.DataFrame({"kode_kel": kel["kode"].astype(str).to_numpy(), "nama_kel": kel["nama"].astype(str).to_numpy(),
                        "kode_kec": kel["kode_kec"].astype(str).to_numpy()})
    out["nama_kec"] = kel["nama_kec"].astype(str).to_numpy() if "nama_kec" in kel.columns else out["kode_kec"]
    matched = geocoded[geocoded["status"] == "matched"]
    klass = classify(matched, as_of, election_date)
    at_kel = (matched["level"] == "kelurahan").to_numpy()
    counts = pd.crosstab(matched.loc[at_kel, "kode_kel"], klass[at_kel]).reindex(
        index=out["kode_kel"], columns=CLASSES, fill_value=0)
    table = counts.to_numpy(dtype=np.int64).copy()
    by_kec = out.groupby("kode_kec").indices
    kec_rows = matched.loc[~at_kel]
    if len(kec_rows):
        kec_counts = pd.crosstab(kec_rows["kode_kec"], klass[~at_kel]).reindex(columns=CLASSES, fill_value=0)
        for kode_kec, row in kec_counts.iterrows():
            members = by_kec.get(kode_kec)
            if members is None or not len(members):
                continue  # a kecamatan without kelurahan polygons cannot be placed on the map
            base = table[members].sum(axis=1)
            for j, name in enumerate(CLASSES):
                weights = table[members, j] if table[members, j].sum() > 0 else base
                table[members, j] += apportion(int(row[name]), weights)
    for j, name in enumerate(CLASSES):
        out[name] = table[:, j]
    out["unrecorded"] = table.sum(axis=1)
    return out


def gaps_by_kecamatan(gap: pd.DataFrame) -> pd.DataFrame:
    """The kelurahan gaps summed per kecamatan: ``[kode_kec, nama_kec, pemula, lansia, umum, home_visit,
    unrecorded, kelurahan]`` (the last is how many kelurahan it has).
    """
    columns = CLASSES + ["unrecorded"]
    out = gap.groupby(["kode_kec", "nama_kec"], as_index=False)[columns].sum()
    out["kelurahan"] = gap.groupby(["kode_kec", "nama_kec"]).size().to_numpy()
    return out


def home_visits(geocoded: pd.DataFrame, areas, seed: int) -> pd.DataFrame:
    """One row per matched home-visit resident: ``[visit_id, kode_kel, kode_kec, lon, lat]``.

    ``visit_id`` is ``HV`` + the resident's register row (`contracts.visit_id`), so the visiting
    team's named day sheet finds the right resident in the register the plan was made from.

    The point is a deterministic random point inside the kelurahan polygon (inside the kecamatan for
    rows matched only to a kecamatan), never the resident's own coordinates: the list can be shared
    with a routing team without revealing where someone lives.
    """
    columns = ["visit_id", "kode_kel", "kode_kec", "lon", "lat"]
    if "home_visit" not in geocoded.columns:
        return pd.DataFrame(columns=columns)
    rows = geocoded[(geocoded["status"] == "matched") & geocoded["home_visit"].fillna(False).astype(bool)]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rng = np.random.default_rng(seed)
    kel = areas.kelurahan
    kel_geom = dict(zip(kel["kode"].astype(str), kel.geometry.values))
    kec_geom = dict(zip(areas.kecamatan["kode"].astype(str), areas.kecamatan.geometry.values))
    at_kel = (rows["level"] == "kelurahan").to_numpy()
    area = np.where(at_kel, rows["kode_kel"].astype(str), rows["kode_kec"].astype(str))
    geoms = [kel_geom.get(a) if k else kec_geom.get(a) for a, k in zip(area, at_kel)]
    lon = np.full(len(rows), np.nan)
    lat = np.full(len(rows), np.nan)
    uniq, inverse = np.unique(area, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(uniq))
    polygons = [geoms[int(np.flatnonzero(inverse == j)[0])] for j in range(len(uniq))]
    usable = [j for j, g in enumerate(polygons) if g is not None and not g.is_empty]
    if usable:
        sampled = gpd.GeoSeries([polygons[j] for j in usable], crs="EPSG:4326").sample_points(
            size=counts[usable], rng=rng)
        for j, multi in zip(usable, sampled.values):
            members = np.flatnonzero(inverse == j)
            pts = list(getattr(multi, "geoms", [multi]))
            lon[members] = [p.x for p in pts][:len(members)]
            lat[members] = [p.y for p in pts][:len(members)]
    kode_kel = rows["kode_kel"].astype(str).to_numpy(dtype=object).copy()
    need = ~at_kel & np.isfinite(lon)
    if need.any():  # kecamatan-level rows: the kelurahan the drawn point falls in
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon[need], lat[need]), crs="EPSG:4326")
        joined = gpd.sjoin(points, kel[["kode", "geometry"]], how="left", predicate="within")
        joined = joined[~joined.index.duplicated()]
        kode_kel[need] = joined["kode"].fillna("").astype(str).to_numpy()
    out = pd.DataFrame({
        # the register row names the visit: stable week after week, whatever rows are still open
        "visit_id": [visit_id(r) for r in (rows["row"] if "row" in rows else range(1, len(rows) + 1))],
        "kode_kel": kode_kel,
        "kode_kec": rows["kode_kec"].astype(str).to_numpy(),
        "lon": lon.round(6),
        "lat": lat.round(6),
    })
    return out
