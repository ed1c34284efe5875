"""Where the benchmarks find the public data: ``$PLANNER_SHARED`` or ``../shared`` beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PLANNER_SHARED", REPO.parent / "shared")).resolve()
GEO = SHARED / "geodata-sources"
BENCH = SHARED / "bench"
BL_KELURAHAN = GEO / "wilayah-boundaries-lampung" / "bandar_lampung" / "bandar_lampung_kelurahan.geojson"
BL_KECAMATAN = GEO / "wilayah-boundaries-lampung" / "bandar_lampung" / "bandar_lampung_kecamatan_from_kelurahan.geojson"
LAMPUNG_KELDESA = GEO / "wilayah-boundaries-lampung" / "lampung_keldesa.geojson"
LAMPUNG_KECAMATAN = GEO / "wilayah-boundaries-lampung" / "lampung_kecamatan_from_keldesa.geojson"
GAZETTEER = GEO / "wilayah-kemendagri-2025" / "lampung_wilayah_2025.csv"
BL_ROADS = GEO / "big-rbi50k-lampung" / "Kota_Bandar_Lampung" / "JALAN_LN_50K.shp"
GOV_OFFICES = GEO / "big-rbi50k-lampung" / "derived" / "lampung_pemerintahan_pt_50k_with_kode.geojson"
