"""Administrative areas: kelurahan/desa polygons keyed by Kemendagri code, and their kecamatan.

Codes are the join key everywhere (names vary in the wild), so loading checks the code hierarchy
before anything else runs: a kelurahan whose code does not start with its kecamatan's code, a code
used twice or an invalid polygon would silently misplace residents later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import AreaError

KEL_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.[12]\d{3}$")
KEC_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
WGS84 = "EPSG:4326"


@dataclass
class AreaSet:
    """Kelurahan/desa [kode, nama, kode_kec, nama_kec, geometry] and kecamatan [kode, nama, geometry]."""

    kelurahan: gpd.GeoDataFrame
    kecamatan: gpd.GeoDataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def metric_crs(self):
        """UTM zone for lengths and areas (EPSG:32748 for Lampung)."""
        return self.kelurahan.estimate_utm_crs()

    def representative_points(self) -> gpd.GeoDataFrame:
        """One point inside each kelurahan (not the centroid, which may fall outside)."""
        points = self.kelurahan[["kode", "nama", "kode_kec", "nama_kec"]].copy()
        return gpd.GeoDataFrame(points, geometry=self.kelurahan.representative_point(), crs=WGS84)

    def bounds_polygon(self):
        """The area set's outline (union of kecamatan), for clipping roads and checking depots."""
        return shapely.union_all(self.kecamatan.geometry.values)


def normalise_code(value) -> str | None:
    """'1871011003', 1871011003, ' 18.71.01.1003 ' -> '18.71.01.1003'; None if it is no code."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    if re.fullmatch(r"\d{10}", text):
        return f"{text[:2]}.{text[2:4]}.{text[4:6]}.{text[6:]}"
    if re.fullmatch(r"\d{6}", text):
        return f"{text[:2]}.{text[2:4]}.{text[4:6]}"
    if re.fullmatch(r"\d{4}", text):
        return f"{text[:2]}.{text[2:]}"
    return text or None


def _read(path: Path, layer: str | None, what: str) -> gpd.GeoDataFrame:
    path = Path(path)
    if not path.exists():
        raise AreaError([f"{what}: file not found: {path}"])
    try:
        frame = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; the user needs the message, not the class
        raise AreaError([f"{what}: cannot read {path} as a polygon layer ({exc})"]) from exc
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns \
            or frame.geometry.isna().all():
        raise AreaError([f"{what}: {path} holds no geometry (a plain table?); give the polygons as GeoJSON, "
                         "GeoPackage or Shapefile"])
    if frame.crs is None:
        minx, miny, maxx, maxy = frame.total_bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise AreaError([f"{what}: {path} has no CRS and its coordinates are not longitude/latitude"])
        frame = frame.set_crs(WGS84)
    return frame.to_crs(WGS84)


def _geometry_problems(frame: gpd.GeoDataFrame, what: str, repair: bool) -> tuple[gpd.GeoDataFrame, list[str]]:
    problems = []
    empty = frame.geometry.isna() | frame.geometry.is_empty
    if empty.any():
        problems.append(f"{what}: {int(empty.sum())} area(s) without geometry: {_codes(frame[empty])}")
    kinds = frame.geometry[~empty].geom_type
    not_poly = ~kinds.isin(["Polygon", "MultiPolygon"])
    if not_poly.any():
        problems.append(f"{what}: {int(not_poly.sum())} geometries are not polygons "
                        f"({sorted(set(kinds[not_poly]))}): {_codes(frame[~empty][not_poly])}")
    invalid = ~empty & ~frame.geometry.is_valid
    if invalid.any():
        if repair:
            frame = frame.copy()
            frame.loc[invalid, "geometry"] = shapely.make_valid(frame.geometry[invalid].values)
        else:
            reasons = [shapely.is_valid_reason(g) for g in frame.geometry[invalid].values[:3]]
            problems.append(f"{what}: {int(invalid.sum())} invalid polygon(s) {_codes(frame[invalid])}, "
                            f"e.g. {reasons}; repair them (shapely.make_valid) or load with repair=True")
    return frame, problems


def _codes(frame: pd.DataFrame, limit: int = 8) -> str:
    codes = [str(c) for c in frame.get("kode", pd.Series(frame.index.astype(str)))]
    more = f" and {len(codes) - limit} more" if len(codes) > limit else ""
    return ", ".join(codes[:limit]) + more


def check_hierarchy(kelurahan: pd.DataFrame, kecamatan: pd.DataFrame | None = None) -> list[str]:
    """Problems with codes: malformed, duplicated, or a kelurahan outside its kecamatan's code."""
    problems = []
    bad = ~kelurahan["kode"].fillna("").str.match(KEL_CODE)
    if bad.any():
        problems.append(f"kelurahan: {int(bad.sum())} code(s) not of the form PP.KK.CC.DDDD "
                        f"(4th part 1xxx kelurahan, 2xxx desa): {_codes(kelurahan[bad])}")
    dup = kelurahan["kode"].duplicated(keep=False) & kelurahan["kode"].notna()
    if dup.any():
        problems.append(f"kelurahan: code(s) used more than once: {sorted(set(kelurahan.loc[dup, 'kode']))[:8]}")
    if "kode_kec" in kelurahan:
        given = kelurahan["kode_kec"].notna() & ~bad
        wrong = given & (kelurahan["kode"].str[:8] != kelurahan["kode_kec"])
        if wrong.any():
            pairs = [f"{k} in {c}" for k, c in kelurahan.loc[wrong, ["kode", "kode_kec"]].values[:8]]
            problems.append(f"kelurahan: {int(wrong.sum())} code(s) do not start with their kecamatan code: {pairs}")
    if kecamatan is not None:
        bad_kec = ~kecamatan["kode"].fillna("").str.match(KEC_CODE)
        if bad_kec.any():
            problems.append(f"kecamatan: {int(bad_kec.sum())} code(s) not of the form PP.KK.CC: "
                            f"{_codes(kecamatan[bad_kec])}")
        dup_kec = kecamatan["kode"].duplicated(keep=False)
        if dup_kec.any():
            twice = sorted(set(kecamatan.loc[dup_kec, "kode"]))[:8]
            problems.append(f"kecamatan: code(s) used more than once: {twice}")
        orphans = sorted(set(kelurahan["kode"].dropna().str[:8]) - set(kecamatan["kode"]))
        if orphans:
            problems.append(f"kelurahan: {len(orphans)} kecamatan code(s) missing from the kecamatan layer: "
                            f"{orphans[:8]}")
    return problems


def overlap_warnings(kelurahan: gpd.GeoDataFrame, share: float = 0.01) -> list[str]:
    """Kelurahan pairs whose polygons overlap by more than `share` of the smaller one.

    Digitised boundaries touch and overlap by slivers; a real overlap means a point (a resident's
    coordinates, a site) can fall in two kelurahan, and the first one wins silently.
    """
    metric = kelurahan.to_crs(kelurahan.estimate_utm_crs()) if len(kelurahan) else kelurahan
    left, right = metric.sindex.query(metric.geometry, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if not len(left):
        return []
    geoms = metric.geometry.values
    common = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    bad = common > share * np.maximum(smaller, 1e-9)
    if not bad.any():
        return []
    codes = kelurahan["kode"].astype(str).to_numpy()
    examples = [f"{codes[a]} & {codes[b]} ({100 * c / m:.0f}%)"
                for a, b, c, m in zip(left[bad][:5], right[bad][:5], common[bad][:5], smaller[bad][:5])]
    return [f"{int(bad.sum())} pair(s) of kelurahan overlap by more than {100 * share:g}% of the smaller one, "
            f"e.g. {', '.join(examples)}: a point there belongs to the first kelurahan found; fix the boundaries"]


def derive_kecamatan(kelurahan: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Kecamatan polygons by dissolving kelurahan on the first three code parts."""
    frame = kelurahan.assign(kode_kec=kelurahan["kode"].str[:8])
    names = frame.groupby("kode_kec")["nama_kec"].first() if "nama_kec" in frame else None
    dissolved = frame[["kode_kec", "geometry"]].dissolve(by="kode_kec").reset_index()
    dissolved = dissolved.rename(columns={"kode_kec": "kode"})
    dissolved["nama"] = dissolved["kode"].map(names) if names is not None else dissolved["kode"]
    dissolved["nama"] = dissolved["nama"].fillna(dissolved["kode"])
    return gpd.GeoDataFrame(dissolved[["kode", "nama", "geometry"]], geometry="geometry", crs=WGS84)


def load_areas(
    kelurahan: str | Path,
    kecamatan: str | Path | None = None,
    *,
    code_column: str = "kode",
    name_column: str = "nama",
    layer: str | None = None,
    kecamatan_layer: str | None = None,
    within: str | None = None,
    repair: bool = False,
) -> AreaSet:
    """Load kelurahan/desa polygons (GeoJSON, GeoPackage, Shapefile) and their kecamatan.

    Parameters
    ----------
    kelurahan, kecamatan
        Polygon files; without a kecamatan file, kecamatan are dissolved from the kelurahan codes.
    code_column, name_column
        Columns holding the Kemendagri code (dotted or not) and the name, in both files.
    within
        Keep only areas whose code starts with this prefix, e.g. ``"18.71"`` for Bandar Lampung.
    repair
        Fix invalid polygons with ``shapely.make_valid`` instead of refusing them.

    Raises
    ------
    AreaError
        With every problem found: missing columns, malformed or duplicated codes, a kelurahan
        code that does not start with its kecamatan code, invalid or missing geometry.
    """
    kel = _read(Path(kelurahan), layer, "kelurahan")
    missing = [c for c in (code_column, name_column) if c not in kel.columns]
    if missing:
        raise AreaError([f"kelurahan: column(s) {missing} not in {kelurahan}; columns are "
                         f"{[c for c in kel.columns if c != 'geometry']} (set code_column/name_column)"])
    out = gpd.GeoDataFrame({
        "kode": kel[code_column].map(normalise_code),
        "nama": kel[name_column].astype("string").str.strip(),
    }, geometry=kel.geometry.values, crs=WGS84)
    out["kode_kec"] = out["kode"].str[:8]
    if "kode_kec" in kel.columns and code_column != "kode_kec":
        given = kel["kode_kec"].map(normalise_code)
        out["kode_kec"] = given.where(given.notna(), out["kode_kec"]).values
    if "nama_kec" in kel.columns:
        out["nama_kec"] = kel["nama_kec"].astype("string").values
    if within:
        out = out[out["kode"].fillna("").str.startswith(within)].reset_index(drop=True)
        if out.empty:
            raise AreaError([f"kelurahan: no area code starts with '{within}' in {kelurahan}"])

    kec = None
    problems: list[str] = []
    if kecamatan is not None:
        raw_kec = _read(Path(kecamatan), kecamatan_layer, "kecamatan")
        missing = [c for c in (code_column, name_column) if c not in raw_kec.columns]
        if missing:
            raise AreaError([f"kecamatan: column(s) {missing} not in {kecamatan}"])
        kec = gpd.GeoDataFrame({
            "kode": raw_kec[code_column].map(normalise_code),
            "nama": raw_kec[name_column].astype("string").str.strip(),
        }, geometry=raw_kec.geometry.values, crs=WGS84)
        if within:
            kec = kec[kec["kode"].fillna("").str.startswith(within)].reset_index(drop=True)
        kec, geo_problems = _geometry_problems(kec, "kecamatan", repair)
        problems += geo_problems

    out, geo_problems = _geometry_problems(out, "kelurahan", repair)
    problems += geo_problems
    problems += check_hierarchy(out, kec)
    if problems:
        raise AreaError(problems)

    if kec is None:
        kec = derive_kecamatan(out)
    names = dict(zip(kec["kode"], kec["nama"]))
    if "nama_kec" not in out:
        out["nama_kec"] = out["kode_kec"].map(names)
    else:
        out["nama_kec"] = out["nama_kec"].fillna(out["kode_kec"].map(names))
    warnings = overlap_warnings(out)
    empty_kec = sorted(set(kec["kode"]) - set(out["kode_kec"]))
    if empty_kec:
        warnings.append(f"{len(empty_kec)} kecamatan have no kelurahan polygon: {empty_kec[:8]}")
    out = out[["kode", "nama", "kode_kec", "nama_kec", "geometry"]].reset_index(drop=True)
    return AreaSet(kelurahan=out, kecamatan=kec.reset_index(drop=True), warnings=warnings)
