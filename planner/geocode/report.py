"""What geocoding tells people: bucket counts, matched rows per area, and the files written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from planner.privacy import private_folder

# ---- outputs ---------------------------------------------------------------------------------------
BUCKETS = ["matched (kelurahan)", "matched (kecamatan)", "ambiguous", "unmatched", "invalid"]
_RESULT_COLUMNS = ["row", "status", "level", "kode_kel", "kode_kec", "method", "score", "reason",
                   "nik_kec_mismatch", "candidates"]


def buckets(coded: pd.DataFrame) -> pd.Series:
    """Row counts per bucket; they always add up to the number of rows."""
    label = np.where(coded["status"] == "matched", "matched (" + coded["level"].astype(str) + ")", coded["status"])
    return pd.Series(label).value_counts().reindex(BUCKETS, fill_value=0)


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


def _safe_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula (=, +, -x, @) with an apostrophe."""
    from planner.register import FORMULA

    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            values = frame[column].to_numpy(dtype=object)
            risky = [i for i, v in enumerate(values) if isinstance(v, str) and v and v.lstrip()[:1] in "=+-@"
                     and FORMULA.match(v)]
            if risky:
                values = values.copy()
                values[risky] = ["'" + values[i] for i in risky]
                frame[column] = values
    return frame


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
    _safe_cells(ordered).to_csv(paths["geocoded"], index=False, encoding="utf-8")
    review_cols = first + [c for c in ("nik", "nama", "alamat", "rt", "rw", "kelurahan", "kecamatan", "lat", "lon",
                                       "nik_problem", "row_problem") if c in coded.columns]
    review = ordered.loc[ordered["status"] != "matched", review_cols]
    _safe_cells(review).to_csv(paths["review"], index=False, encoding="utf-8")
    summary(coded, areas).to_csv(paths["summary"], index=False, encoding="utf-8")
    return paths
