"""What geocoding tells people: bucket counts, matched rows per area, and the files written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from planner.contracts import GEOCODE_COLUMNS
from planner.privacy import private_folder
from planner.tables import write_csv

# ---- outputs ---------------------------------------------------------------------------------------
BUCKETS = ["matched (kelurahan)", "matched (kecamatan)", "ambiguous", "unmatched", "invalid"]
_RESULT_COLUMNS = GEOCODE_COLUMNS


def buckets(coded: pd.DataFrame) -> pd.Series:
    """Row counts per bucket; they always add up to the number of rows."""
    label = np.where(coded["status"] == "matched", "matched (" + coded["level"].astype(str) + ")", coded["status"])
    return pd.Series(label).value_counts().reindex(BUCKETS, fill_value=0)


#: Above this share of rows that do not belong to the areas, a register is probably the wrong one.
FOREIGN_SHARE = 0.2


def fit_warnings(coded: pd.DataFrame, areas) -> list[str]:
    """Warnings (Bahasa Indonesia) when a register mostly does not belong to the areas it is planned on.

    Two signs: many rows not placed at all, or many valid NIKs issued in kab/kota outside the area
    set. Either above `FOREIGN_SHARE` means the register is probably from another kab/kota (or the
    scenario names the wrong areas): a plan from it would serve few of its residents.
    """
    n = len(coded)
    if not n:
        return []
    out = []
    unplaced = int((coded["status"] != "matched").sum())
    if unplaced / n > FOREIGN_SHARE:
        out.append(f"PERINGATAN: {unplaced:,} dari {n:,} baris ({unplaced / n:.0%}) tidak dapat ditempatkan di wilayah "
                   "skenario; apakah daftar ini dari kab/kota lain, atau wilayahnya salah?")
    if "nik_valid" in coded and "nik_kode_kec" in coded:
        valid = coded[coded["nik_valid"].astype(bool)]
        kab = valid["nik_kode_kec"].astype(str).str[:5]
        ours = {str(k)[:5] for k in areas.kecamatan["kode"]}
        foreign = kab[~kab.isin(ours)]
        if len(valid) and len(foreign) / len(valid) > FOREIGN_SHARE:
            top = ", ".join(f"{k} ({c:,})" for k, c in foreign.value_counts().head(3).items())
            out.append(f"PERINGATAN: {len(foreign):,} dari {len(valid):,} NIK ({len(foreign) / len(valid):.0%}) "
                       f"terbit di kab/kota di luar wilayah skenario (kode {top}); wilayah skenario: "
                       f"{', '.join(sorted(ours))}")
    return out


def summary(coded: pd.DataFrame, areas) -> pd.DataFrame:
    """Matched rows per kelurahan and per kecamatan (aggregates only: shareable)."""
    matched = coded[coded["status"] == "matched"]
    kel = areas.kelurahan
    at_kel = matched[matched["level"] == "kelurahan"]["kode_kel"].value_counts()
    at_kec_only = matched[matched["level"] == "kecamatan"]["kode_kec"].value_counts()
    all_kec = matched["kode_kec"].value_counts()
    rows_kel = pd.DataFrame({"level": "kelurahan", "kode": kel["kode"].astype(str), "nama": kel["nama"].astype(str),
                             "kode_kec": kel["kode_kec"].astype(str)})
    rows_kel["matched_kelurahan"] = rows_kel["kode"].map(at_kel).fillna(0).astype(int)
    rows_kel["matched_kecamatan_only"] = 0
    kec = areas.kecamatan
    rows_kec = pd.DataFrame({"level": "kecamatan", "kode": kec["kode"].astype(str), "nama": kec["nama"].astype(str),
                             "kode_kec": kec["kode"].astype(str)})
    total = rows_kec["kode"].map(all_kec).fillna(0)
    rows_kec["matched_kelurahan"] = (total - rows_kec["kode"].map(at_kec_only).fillna(0)).astype(int)
    rows_kec["matched_kecamatan_only"] = rows_kec["kode"].map(at_kec_only).fillna(0).astype(int)
    out = pd.concat([rows_kec, rows_kel], ignore_index=True)
    out["matched"] = out["matched_kelurahan"] + out["matched_kecamatan_only"]
    return out


def write_outputs(coded: pd.DataFrame, areas, out_dir: str | Path) -> dict[str, Path]:
    """Write the geocoding result: personal files under ``private/``, the shareable summary beside it.

    ``private/geocoded.csv`` (every row, input order) and ``private/review.csv`` (rows needing a
    person) hold NIKs, names and addresses; ``summary.csv`` (counts per kelurahan and kecamatan) holds
    aggregates only.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    private = private_folder(out_dir)
    first = [c for c in _RESULT_COLUMNS if c in coded.columns]
    ordered = coded[first + [c for c in coded.columns if c not in first]]
    paths = {"geocoded": private / "geocoded.csv", "review": private / "review.csv",
             "summary": out_dir / "summary.csv"}
    write_csv(ordered, paths["geocoded"])
    review_cols = first + [c for c in ("nik", "nama", "alamat", "rt", "rw", "kelurahan", "kecamatan", "lat", "lon",
                                       "nik_problem", "row_problem") if c in coded.columns]
    review = ordered.loc[ordered["status"] != "matched", review_cols]
    write_csv(review, paths["review"])
    write_csv(summary(coded, areas), paths["summary"])
    return paths
