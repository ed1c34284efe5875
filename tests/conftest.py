"""Shared test fixtures: where the real public data lives (../shared beside the checkout)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PLANNER_SHARED", REPO.parent / "shared")).resolve()
GEO = SHARED / "geodata-sources"
BL_KELURAHAN = GEO / "wilayah-boundaries-lampung" / "bandar_lampung" / "bandar_lampung_kelurahan.geojson"
BL_KECAMATAN = GEO / "wilayah-boundaries-lampung" / "bandar_lampung" / "bandar_lampung_kecamatan_from_kelurahan.geojson"
LAMPUNG_KELDESA = GEO / "wilayah-boundaries-lampung" / "lampung_keldesa.geojson"
LAMPUNG_KECAMATAN = GEO / "wilayah-boundaries-lampung" / "lampung_kecamatan_from_keldesa.geojson"
GAZETTEER = GEO / "wilayah-kemendagri-2025" / "lampung_wilayah_2025.csv"
BL_ROADS = GEO / "big-rbi50k-lampung" / "Kota_Bandar_Lampung" / "JALAN_LN_50K.shp"
GOV_OFFICES = GEO / "big-rbi50k-lampung" / "derived" / "lampung_pemerintahan_pt_50k_with_kode.geojson"
BL_POPULATION = GEO / "penduduk-kecamatan-bandar-lampung" / "bandar_lampung_penduduk_kecamatan_2019_2021_2022.csv"
BENCH = SHARED / "bench"
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def pytest_configure(config):
    if not GEO.exists():
        raise pytest.UsageError(f"public data not found at {SHARED}: put shared/ beside the checkout "
                                "or set PLANNER_SHARED")
