"""Synthetic registers of unrecorded residents, messy the way typed registers are, with the truth attached.

Used for the demo, the synthetic city, the tests and the benchmarks. Each row is a fictional resident
(made-up names, valid NIKs) living in a given kelurahan, written in one *style* of the ones offices
produce: ``Kel./Kec.`` markers, marker-less comma lists, separate kelurahan/kecamatan columns, typos,
streets named after another kelurahan, coordinates (some with lat/lon swapped), NIK only, junk.
TRUTH columns (``true_kode_kel``, ``true_kode_kec``, ``style``, ``true_names_kel``,
``true_names_kec``) are for scoring only; the geocoder never reads them.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.contracts import apportion
from planner.errors import InputError

#: style -> share of rows (defaults); pass ``styles=`` to change them.
STYLES = {
    "marked": 0.16,        # Jl. X No. 5, RT 003 RW 002, Kel. A, Kec. B, Kota C
    "marked_compact": 0.06,  # jl x no.5 rt.03/rw.02 kel.a kec.b
    "comma": 0.14,         # Jl. X 5, A, B, C (no markers)
    "spaced": 0.05,        # Jl X No 5 A B (no markers, no commas)
    "columns": 0.14,       # street + RT/RW in alamat, kelurahan and kecamatan in their own columns
    "typo": 0.08,          # a typing error in the kelurahan (sometimes kecamatan) name
    "street_trap": 0.07,   # the street is named after another kelurahan
    "kel_only": 0.05,      # only the kelurahan (and city) named
    "kec_only": 0.03,      # only the kecamatan named
    "coords": 0.08,        # latitude/longitude columns
    "swapped": 0.02,       # latitude and longitude swapped
    "nik_only": 0.04,      # nothing but the NIK
    "junk": 0.03,          # empty or junk rows
}
NAMES_KEL = {"marked", "marked_compact", "comma", "spaced", "columns", "typo", "street_trap", "kel_only",
             "coords", "swapped"}
NAMES_KEC = NAMES_KEL - {"kel_only", "coords", "swapped"} | {"kec_only"}
MOVED_SHARE = 0.04  # residents whose NIK was issued in another kecamatan (they moved)

FIRST = ["Andi", "Budi", "Citra", "Dewi", "Eka", "Fajar", "Gita", "Hadi", "Indah", "Joko", "Kartika", "Lestari",
         "Made", "Nur", "Oki", "Putri", "Rizki", "Sari", "Tono", "Utami", "Wahyu", "Yuni", "Zainal", "Agus",
         "Bayu", "Dian", "Fitri", "Hendra", "Intan", "Maya", "Nanda", "Rani", "Siti", "Teguh", "Wulan", "Yoga",
         "Ahmad", "Aisyah", "Bagus", "Dimas", "Endang", "Galih", "Ilham", "Lina", "Mega", "Novi", "Ratna", "Surya"]
LAST = ["Saputra", "Wijaya", "Pratama", "Lestari", "Santoso", "Hidayat", "Kurniawan", "Setiawan", "Rahmawati",
        "Nugroho", "Purnama", "Susanti", "Gunawan", "Hasibuan", "Siregar", "Putra", "Sari", "Utomo", "Wibowo",
        "Halim", "Firmansyah", "Ramadhan", "Anggraini", "Maharani", "Permana", "Syahputra", "Fauzi", ""]
STREETS = ["Teuku Umar", "Diponegoro", "Sudirman", "Kartini", "Imam Bonjol", "Pramuka", "Soekarno Hatta",
           "ZA Pagar Alam", "Ratu Dibalau", "Antasari", "Sultan Agung", "Gajah Mada", "Hayam Wuruk",
           "Wolter Monginsidi", "Ahmad Yani", "Cut Nyak Dien", "Urip Sumoharjo", "Kapten Tendean", "Nusa Indah",
           "Cendana", "Flamboyan", "Mawar", "Melati", "Anggrek", "Cempaka", "Dahlia", "Kenanga", "Merdeka",
           "Pemuda", "Pahlawan", "Hasanuddin", "Kamboja", "Pisang", "Manggis", "Durian", "Rambutan", "Salak"]
STREET_KIND = ["Jl.", "Jl", "Jln.", "Jalan", "JL.", "Gg.", "Gang", "Perum", "Komp."]
JUNK = ["", "-", "--", "xxx", "?", "tidak diketahui", "TIDAK ADA", "0", "n/a", "=HYPERLINK(\"http://x\")", ".",
        "alamat", "belum diisi", "@SUM(A1)", "+62", "123"]
ABBREV = [("Tanjung", "Tj."), ("Gunung", "Gn."), ("Teluk", "Tlk."), ("Kampung", "Kp."), ("Tanjung", "Tj")]
PREFIXES = ("Tanjung", "Teluk", "Gunung", "Suka", "Way", "Sumber", "Kota", "Labuhan", "Rajabasa", "Bumi", "Sido",
            "Campang", "Kali", "Sawah", "Kupang", "Pasir", "Rawa", "Batu", "Sri", "Karang", "Mulya", "Purwo")
ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5"}


def _split_join(name: str) -> list[str]:
    """Spacing variants: 'Tanjungkarang Pusat' <-> 'Tanjung Karang Pusat', 'Way Halim' -> 'Wayhalim'."""
    out = []
    words = name.split()
    for i, w in enumerate(words):
        for p in PREFIXES:
            if w.lower().startswith(p.lower()) and len(w) > len(p) + 2:
                out.append(" ".join(words[:i] + [w[:len(p)], w[len(p)].upper() + w[len(p) + 1:]] + words[i + 1:]))
    if len(words) >= 2 and words[0] in PREFIXES:
        out.append(" ".join([words[0] + words[1].lower()] + words[2:]))
    return out


def name_variants(name: str) -> list[str]:
    """Ways people write one area name (spacing, abbreviation, case, roman numerals)."""
    name = str(name)
    base = [name] + _split_join(name)
    more = []
    for b in base:
        for long, short in ABBREV:
            if re.search(rf"\b{long}", b):
                more.append(re.sub(rf"\b{long}\s*", short + " ", b).replace("  ", " "))
        words = b.split()
        if words and words[-1] in ROMAN:
            more.append(" ".join(words[:-1] + [ROMAN[words[-1]]]))
    forms = base + more
    cased = forms + [f.upper() for f in forms[:2]] + [f.lower() for f in forms[:2]]
    return list(dict.fromkeys(cased))


def _typo(name: str, rng: np.random.Generator) -> str:
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    if len(letters) < 6:
        return name
    i = int(rng.choice(letters[2:-1]))
    kind = rng.integers(4)
    if kind == 0:  # drop a letter
        return name[:i] + name[i + 1:]
    if kind == 1 and name[i + 1:i + 2].isalpha():  # swap two letters
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    if kind == 2:  # double a letter
        return name[:i] + name[i] + name[i:]
    vowels = "aeiou"
    if name[i].lower() in vowels:
        return name[:i] + vowels[(vowels.index(name[i].lower()) + 1 + int(rng.integers(4))) % 5] + name[i + 1:]
    return name[:i] + name[i + 1:]


def _kota_variants(name: str) -> list[str]:
    if not name or name == "nan":
        return [""]
    plain = re.sub(r"^(Kabupaten|Kota)\s+", "", name)
    if name.startswith("Kota"):
        forms = [plain, name, plain.upper(), "Kota " + plain]
        if plain == "Bandar Lampung":
            forms += ["Bdr Lampung", "Balam", "B. Lampung"]
    else:
        forms = [plain, "Kab. " + plain, "Kabupaten " + plain, plain.upper()]
    return forms


def _points_in(kelurahan: gpd.GeoDataFrame, codes: np.ndarray,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random point inside the polygon of each code (deterministic for the generator state)."""
    lon = np.full(len(codes), np.nan)
    lat = np.full(len(codes), np.nan)
    if not len(codes):
        return lon, lat
    geom = dict(zip(kelurahan["kode"].astype(str), kelurahan.geometry.values))
    uniq, inverse = np.unique(codes, return_inverse=True)
    counts = np.bincount(inverse)
    series = gpd.GeoSeries([geom[c] for c in uniq], crs=kelurahan.crs)
    sampled = series.sample_points(size=counts, rng=rng)
    for j, multi in enumerate(sampled.values):
        rows = np.flatnonzero(inverse == j)
        pts = list(getattr(multi, "geoms", [multi]))
        lon[rows] = [p.x for p in pts][:len(rows)]
        lat[rows] = [p.y for p in pts][:len(rows)]
    return lon, lat


def make_register(kelurahan: gpd.GeoDataFrame, residents: pd.Series, seed: int, as_of: dt.date,  # noqa: C901
                  election_date: dt.date | None = None, styles: dict | None = None) -> pd.DataFrame:
    """A register of unrecorded residents with messy addresses and TRUTH columns.

    Parameters
    ----------
    kelurahan
        AreaSet kelurahan layer ``[kode, nama, kode_kec, nama_kec, geometry]`` (``nama_kabkota`` used
        when present).
    residents
        Unrecorded residents per kelurahan: index ``kode_kel``, values counts.
    seed
        Same seed, same register.
    as_of
        Date the register is drawn (ages are counted from it).
    election_date
        When given, some 16-year-olds turn 17 between `as_of` and this date (first-time voters).
    styles
        ``{style: share}`` overriding `STYLES` (missing styles keep their default share; 0 disables).

    Returns
    -------
    DataFrame
        ``nik, nama, alamat, rt, rw, kelurahan, kecamatan, tgl_lahir, jenis_kelamin, lat, lon,
        home_visit`` and TRUTH ``true_kode_kel, true_kode_kec, style, true_names_kel, true_names_kec``.
    """
    rng = np.random.default_rng(seed)
    kel = kelurahan.reset_index(drop=True)
    kel_codes = kel["kode"].astype(str).to_numpy()
    missing = sorted(set(map(str, residents.index)) - set(kel_codes))
    if missing:
        raise InputError(f"residents names kelurahan codes not in the kelurahan layer: {missing[:5]}")
    shares = dict(STYLES, **(styles or {}))
    unknown = sorted(set(shares) - set(STYLES))
    if unknown:
        raise InputError(f"unknown register style(s) {unknown}; expected some of {sorted(STYLES)}")
    style_names = np.array(list(shares))
    weights = np.array([max(float(shares[s]), 0.0) for s in style_names])
    if weights.sum() <= 0:
        raise InputError("styles: at least one style needs a positive share")
    weights = weights / weights.sum()

    counts = residents.reindex(kel_codes).fillna(0).astype(int).to_numpy()
    n = int(counts.sum())
    row_kel = np.repeat(np.arange(len(kel)), counts)
    rng.shuffle(row_kel)
    kode_kel = kel_codes[row_kel]
    kode_kec = kel["kode_kec"].astype(str).to_numpy()[row_kel]
    nama_kel = kel["nama"].astype(str).to_numpy()
    kec_name_of = (dict(zip(kel["kode_kec"].astype(str), kel["nama_kec"].astype(str)))
                   if "nama_kec" in kel.columns else {})
    kab_of = (dict(zip(kel["kode"].astype(str).str[:5], kel["nama_kabkota"].astype(str)))
              if "nama_kabkota" in kel.columns else {})
    style = style_names[rng.choice(len(style_names), size=n, p=weights)]

    # people: sex, age, birth date, NIK
    as_of = pd.Timestamp(as_of)
    female = rng.random(n) < 0.5
    group = rng.choice(4, size=n, p=[0.30, 0.25, 0.25, 0.20])
    lo = np.array([16.0, 17.0, 25.0, 60.0])[group]
    hi = np.array([17.0, 25.0, 60.0, 92.0])[group]
    if election_date is not None:  # 16-year-olds: most turn 17 before the election
        span = max((pd.Timestamp(election_date) - as_of).days / 365.25, 0.05)
        lo = np.where(group == 0, np.maximum(17.0 - span * 1.2, 16.0), lo)
    age_days = np.floor((lo + (hi - lo) * rng.random(n)) * 365.25).astype(int)
    born = (as_of - pd.to_timedelta(age_days, unit="D")).normalize()
    born = pd.DatetimeIndex(born)
    kec_codes_all = np.array(sorted(set(kel["kode_kec"].astype(str))))
    moved = (rng.random(n) < MOVED_SHARE) & np.isin(style, ["marked", "comma", "columns", "marked_compact"])
    other_kec = kec_codes_all[rng.integers(len(kec_codes_all), size=n)]
    nik_kec = np.where(moved & (len(kec_codes_all) > 1), other_kec, kode_kec)
    day = born.day.to_numpy() + np.where(female, 40, 0)
    nik = (pd.Series(nik_kec).str.replace(".", "", regex=False)
           + pd.Series(day).map("{:02d}".format) + pd.Series(born.month).map("{:02d}".format)
           + pd.Series(born.year % 100).map("{:02d}".format)
           + pd.Series(rng.integers(1, 10000, size=n)).map("{:04d}".format)).to_numpy(dtype=object)
    first = np.array(FIRST)[rng.integers(len(FIRST), size=n)]
    last = np.array(LAST)[rng.integers(len(LAST), size=n)]
    nama = np.char.strip(np.char.add(np.char.add(first, " "), last)).astype(object)
    rt = rng.integers(1, 25, size=n)
    rw = rng.integers(1, 12, size=n)
    house = rng.integers(1, 250, size=n)
    home_visit = rng.random(n) < np.where(group == 3, 0.12, 0.015)

    # name variants, precomputed per area
    kel_var = [name_variants(x) for x in nama_kel]
    kec_names = {c: kec_name_of.get(c, c) for c in kec_codes_all}
    kec_var = {c: name_variants(v) for c, v in kec_names.items()}
    kota_var = {k: _kota_variants(v) for k, v in kab_of.items()}
    keys = {re.sub(r"[^a-z0-9]", "", v.lower()) for v in list(nama_kel) + list(kec_names.values())}
    r = rng.random((n, 8))
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    kelurahan_col = np.full(n, "", dtype=object)
    kecamatan_col = np.full(n, "", dtype=object)
    alamat = np.full(n, "", dtype=object)

    def pick(options, u):
        return options[int(u * len(options)) % len(options)]

    def street(i):
        kind = pick(STREET_KIND, r[i, 0])
        return f"{kind} {pick(STREETS, r[i, 1])}"

    def number(i):
        u = r[i, 2]
        return (f"No. {house[i]}" if u < 0.4 else f"no {house[i]}" if u < 0.6 else f"No.{house[i]}" if u < 0.8
                else str(house[i]))

    def rtrw(i):
        u = r[i, 3]
        return (f"RT {rt[i]:03d} RW {rw[i]:03d}" if u < 0.35 else f"RT.{rt[i]:02d}/RW.{rw[i]:02d}" if u < 0.6
                else f"Rt {rt[i]} Rw {rw[i]}" if u < 0.8 else f"RT {rt[i]:02d}/{rw[i]:02d}")

    for i in range(n):
        s = style[i]
        k = row_kel[i]
        kel_name = pick(kel_var[k], r[i, 4])
        kec_name = pick(kec_var[kode_kec[i]], r[i, 5])
        kota = pick(kota_var.get(kode_kel[i][:5], [""]), r[i, 6])
        tail = f", {kota}" if kota and r[i, 7] < 0.7 else ""
        if s == "typo":
            for _ in range(5):
                t = _typo(kel_name, rng)
                if re.sub(r"[^a-z0-9]", "", t.lower()) not in keys:
                    kel_name = t
                    break
            if r[i, 7] < 0.2:
                t = _typo(kec_name, rng)
                if re.sub(r"[^a-z0-9]", "", t.lower()) not in keys:
                    kec_name = t
        if s in ("marked", "typo"):
            alamat[i] = f"{street(i)} {number(i)}, {rtrw(i)}, Kel. {kel_name}, Kec. {kec_name}{tail}"
            if r[i, 6] < 0.3 and s == "marked":
                alamat[i] = f"{street(i)} {number(i)} {rtrw(i)} Kelurahan {kel_name} Kecamatan {kec_name}{tail}"
        elif s == "marked_compact":
            alamat[i] = (f"{street(i).lower()} no.{house[i]} rt.{rt[i]:02d}/rw.{rw[i]:02d} "
                         f"kel.{kel_name.lower()} kec.{kec_name.lower()}")
        elif s == "comma":
            alamat[i] = f"{street(i)} {number(i)}, {kel_name}, {kec_name}{tail}"
            if r[i, 3] < 0.3:
                alamat[i] = f"{street(i)} {number(i)} {rtrw(i)}, {kel_name}, {kec_name}{tail}"
        elif s == "spaced":
            alamat[i] = f"{street(i)} {number(i)} {kel_name} {kec_name}"
        elif s == "columns":
            alamat[i] = f"{street(i)} {number(i)} {rtrw(i)}" if r[i, 7] < 0.8 else ""
            kelurahan_col[i] = kel_name if r[i, 3] < 0.7 else f"Kel. {kel_name}"
            kecamatan_col[i] = kec_name if r[i, 3] < 0.7 else f"Kec. {kec_name}"
        elif s == "street_trap":
            other = nama_kel[(k + 1 + int(r[i, 0] * (len(nama_kel) - 1))) % len(nama_kel)]
            trap = f"{pick(['Jl.', 'Jalan', 'Jl', 'Gg.'], r[i, 1])} {other}"
            alamat[i] = (f"{trap} {number(i)}, Kel. {kel_name}, Kec. {kec_name}{tail}" if r[i, 3] < 0.5
                         else f"{trap} {number(i)}, {kel_name}, {kec_name}{tail}")
        elif s == "kel_only":
            alamat[i] = f"{street(i)} {number(i)}, {kel_name}" + (f", {kota}" if kota else "")
        elif s == "kec_only":
            alamat[i] = f"{street(i)} {number(i)}, Kec. {kec_name}{tail}"
        elif s in ("coords", "swapped"):
            alamat[i] = f"{street(i)} {number(i)}" if r[i, 7] < 0.6 else ""
        elif s == "junk":
            alamat[i] = pick(JUNK, r[i, 4])
    coord = np.isin(style, ["coords", "swapped"])
    if coord.any():
        x, y = _points_in(kel, kode_kel[coord], rng)
        swap = style[coord] == "swapped"
        lon[coord] = np.where(swap, y, x).round(6)
        lat[coord] = np.where(swap, x, y).round(6)
    junk = style == "junk"
    nik = np.where(junk, np.where(r[:, 5] < 0.5, "", np.char.add("18", (r[:, 6] * 1e6).astype(int).astype(str))), nik)
    tgl = pd.Series(born).where(rng.random(n) > 0.05)  # some registers miss birth dates
    mismatch = rng.random(n) < 0.01
    tgl[mismatch] = tgl[mismatch] + pd.Timedelta(days=3)
    sex = np.where(female, "P", "L")
    flip = rng.random(n) < 0.01
    sex = np.where(flip, np.where(female, "L", "P"), sex)
    names_kel = np.isin(style, list(NAMES_KEL))
    # a row "names or encodes" its kecamatan when it writes it, or when its NIK was issued there
    names_kec = np.isin(style, list(NAMES_KEC)) | (~junk & ~moved)
    return pd.DataFrame({
        "nik": nik,
        "nama": np.where(junk & (r[:, 7] < 0.5), "", nama),
        "alamat": alamat,
        "rt": np.where(style == "columns", rt.astype(str), ""),
        "rw": np.where(style == "columns", rw.astype(str), ""),
        "kelurahan": kelurahan_col,
        "kecamatan": kecamatan_col,
        "tgl_lahir": tgl.astype("datetime64[ns]").to_numpy(),
        "jenis_kelamin": sex,
        "lat": lat,
        "lon": lon,
        "home_visit": home_visit & ~junk,
        "true_kode_kel": np.where(junk, "", kode_kel),
        "true_kode_kec": np.where(junk, "", kode_kec),
        "style": style,
        "true_names_kel": names_kel,
        "true_names_kec": names_kec,
    })


def residents_by_population(areas, total: int, population_csv: Path | None, vintage: str | None,
                            seed: int) -> pd.Series:
    """How many unrecorded residents each kelurahan gets in a generated register.

    The population table may be per kecamatan (``kode_kec`` + ``jumlah``, e.g. Dukcapil's Bandar
    Lampung table) or per kab/kota (``kode`` ``18.71`` + ``total``, e.g. the Dec 2024 table in
    wilayah-kemendagri-2025): each area of that level gets its population share, spread below it by
    kelurahan area with some noise (no per-kelurahan counts are public). Without a table, by area.
    """
    rng = np.random.default_rng(seed)
    kel = areas.kelurahan
    km2 = kel.to_crs(areas.metric_crs).area.to_numpy() / 1e6
    within = np.sqrt(km2) * rng.uniform(0.6, 1.4, len(kel))
    if population_csv is None:
        group = kel["kode_kec"].astype(str).to_numpy()
        weights = pd.Series(km2, index=group).groupby(level=0).sum()
    else:
        group, weights = _population_weights(kel, population_csv, vintage)
    share_in_group = within / pd.Series(within).groupby(group).transform("sum").to_numpy()
    share = share_in_group * pd.Series(group).map(weights / weights.sum()).to_numpy()
    return pd.Series(apportion(total, share), index=kel["kode"].to_numpy(), name="residents")


def _population_weights(kel, population_csv: Path, vintage: str | None) -> tuple[np.ndarray, pd.Series]:
    """(each kelurahan's area code at the table's level, population per such code) from a table."""
    from planner.tables import read_table

    table, _ = read_table(population_csv, what="population table",
                          looks_right=lambda h: bool({"kode_kec", "kode"} & {c.strip().lower() for c in h}))
    table.columns = [c.strip().lower() for c in table.columns]
    if vintage is not None and "vintage" in table:
        table = table[table["vintage"].astype(str) == str(vintage)]
    code = "kode_kec" if "kode_kec" in table else "kode"
    value = next((c for c in ("jumlah", "total", "penduduk", "population") if c in table), None)
    if value is None:
        raise InputError(f"population table {population_csv}: no population column; expected one of jumlah, "
                         f"total, penduduk (columns are {[c for c in table.columns if not c.startswith('__')]})")
    codes = table[code].astype(str).str.strip()
    counts = pd.to_numeric(table[value].astype(str).str.replace(r"[.,\s](?=\d{3}\b)", "", regex=True),
                           errors="coerce")
    kec_codes = kel["kode_kec"].astype(str)
    for width in (8, 5):  # kecamatan, then kab/kota codes
        ours = kec_codes.str[:width]
        rows = codes.str.len() == width
        if rows.any() and set(ours) <= set(codes[rows]):
            pop = counts[rows].groupby(codes[rows].to_numpy()).sum()
            return ours.to_numpy(), pop.reindex(sorted(set(ours))).astype(float)
    names = {2: "provinsi", 5: "kab/kota", 8: "kecamatan", 13: "kelurahan/desa"}
    levels = ", ".join(sorted({names.get(len(c), f"{len(c)}-character") for c in codes}))
    raise InputError(f"population table {population_csv}: its {code} codes are {levels} codes and cover neither every "
                     f"kecamatan nor every kab/kota of the areas (e.g. {sorted(set(kec_codes))[:3]}); give one row "
                     "per kecamatan (kode_kec 18.71.01) or per kab/kota (kode 18.71) with its population")
