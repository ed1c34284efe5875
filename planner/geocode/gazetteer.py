"""The gazetteer: name keys of every kelurahan, kecamatan and kab/kota of an area set, with codes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from planner.errors import InputError, MissingFileError
from planner.geocode.names import name_key


@dataclass
class Gazetteer:
    """Name keys of every kelurahan, kecamatan and kab/kota of an area set, with their codes.

    Parameters
    ----------
    kelurahan, kecamatan
        The AreaSet layers (``kode, nama, kode_kec`` and ``kode, nama``).
    official
        Optional gazetteer CSV (``kode, nama, level``, e.g. ``lampung_wilayah_2025.csv``): adds
        official spellings as alternate names, kab/kota names, and desa without a polygon (matched to
        their kecamatan).
    """

    kel_keys: dict[str, list[str]] = field(default_factory=dict)
    kec_keys: dict[str, list[str]] = field(default_factory=dict)
    kab_keys: dict[str, list[str]] = field(default_factory=dict)
    kel_kec: dict[str, str] = field(default_factory=dict)
    kel_names: dict[str, str] = field(default_factory=dict)
    kec_names: dict[str, str] = field(default_factory=dict)
    polygon_kel: set[str] = field(default_factory=set)
    kec_kel_keys: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @classmethod
    def from_areas(cls, areas, official: str | Path | pd.DataFrame | None = None) -> Gazetteer:
        """The gazetteer of an AreaSet (or a SynthCity), with official spellings added from `official`."""
        gaz = cls()
        kabkota = getattr(areas, "kabkota", None)  # e.g. a SynthCity: its kab/kota names as a table
        areas = getattr(areas, "areas", areas)
        kel, kec = areas.kelurahan, areas.kecamatan
        for code, name, kode_kec in zip(kel["kode"], kel["nama"], kel["kode_kec"]):
            gaz._add_kel(str(code), str(name), str(kode_kec))
        gaz.polygon_kel = set(map(str, kel["kode"]))
        for code, name in zip(kec["kode"], kec["nama"]):
            gaz._add(gaz.kec_keys, name, str(code))
            gaz.kec_names.setdefault(str(code), str(name))
        if "nama_kabkota" in kel.columns:
            for code, name in zip(kel["kode"].str[:5], kel["nama_kabkota"]):
                gaz._add_kab(str(name), code)
        if isinstance(kabkota, pd.DataFrame) and "nama" in kabkota.columns:
            codes = kabkota["kode"] if "kode" in kabkota.columns else kabkota.index
            for code, name in zip(codes.astype(str), kabkota["nama"].astype(str)):
                gaz._add_kab(name, code)
        if official is not None:
            gaz._add_official(_official_table(official), kec)
        gaz.kec_kel_keys = {}
        for key, codes in gaz.kel_keys.items():
            for code in codes:
                gaz.kec_kel_keys.setdefault(gaz.kel_kec[code], {}).setdefault(key, []).append(code)
        return gaz

    def _add_official(self, table: pd.DataFrame, kec: pd.DataFrame) -> None:
        """Official names of the areas' kab/kota, kecamatan and kel/desa as alternate spellings."""
        prefixes = tuple(sorted(set(kec["kode"].str[:5])))
        table = table[table["kode"].astype(str).str.startswith(prefixes)]
        known_kec = set(map(str, kec["kode"]))
        for code, name, level in zip(table["kode"].astype(str), table["nama"].astype(str), table["level"]):
            if level == "kabkota":
                self._add_kab(name, code)
            elif level == "kecamatan" and code in known_kec:
                self._add(self.kec_keys, name, code)
            elif level == "keldesa" and code[:8] in known_kec:
                self._add_kel(code, name, code[:8])

    @staticmethod
    def _add(index: dict, name: str, code: str) -> None:
        key = name_key(name)
        if key and code not in index.setdefault(key, []):
            index[key].append(code)

    def _add_kel(self, code: str, name: str, kode_kec: str) -> None:
        self._add(self.kel_keys, name, code)
        self.kel_kec[code] = kode_kec
        self.kel_names.setdefault(code, name)

    def _add_kab(self, name: str, code: str) -> None:
        plain = re.sub(r"^\s*(kabupaten|kab\.?|kota)\s+", "", str(name), flags=re.I)
        self._add(self.kab_keys, plain, code)


# ---- resolving one reduced address -----------------------------------------------------------------


def _official_table(official: str | Path | pd.DataFrame) -> pd.DataFrame:
    """The official gazetteer (``kode, nama, level``) as a table, or a clear error."""
    if isinstance(official, pd.DataFrame):
        table = official
    else:
        if not Path(official).is_file():
            raise MissingFileError(official, "gazetteer")
        try:
            table = pd.read_csv(official, dtype=str, keep_default_na=False)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"gazetteer {official}: cannot read it as CSV ({exc})") from exc
    missing = [c for c in ("kode", "nama", "level") if c not in table.columns]
    if missing:
        raise InputError(f"gazetteer {official}: missing column(s) {missing}; expected kode, nama, level "
                         "(provinsi/kabkota/kecamatan/keldesa) as in lampung_wilayah_2025.csv")
    return table
