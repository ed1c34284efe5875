"""Read a register of unrecorded residents (SIAK export or hand-kept spreadsheet) into canonical columns.

Registers arrive as CSV in whatever encoding and separator the office PC produced, or as XLSX, with
column names typed by hand. Reading maps them onto the canonical names of ARCHITECTURE.md, parses the
NIK and flags problems per row (never drops a row): a malformed NIK, a NIK whose birth date or sex
disagrees with the other columns, a formula-like cell. Files that cannot be used at all raise
`RegisterError` with a message a coordinator can act on.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import RegisterError
from planner.i18n import en
from planner.tables import looks_like_formula, read_table

CANONICAL = ["nik", "nama", "alamat", "rt", "rw", "kelurahan", "kecamatan", "tgl_lahir", "jenis_kelamin",
             "lat", "lon", "home_visit"]

#: Header spellings recognised for each canonical column (compared after lower-casing and turning every
#: run of non-alphanumerics into one underscore).
SYNONYMS: dict[str, list[str]] = {
    "nik": ["nik", "no_nik", "nomor_nik", "nik_penduduk", "nomor_induk_kependudukan", "no_ktp", "nik_ktp"],
    "nama": ["nama", "nama_lengkap", "nama_lgkp", "nama_penduduk", "name", "full_name"],
    "alamat": ["alamat", "alamat_lengkap", "alamat_rumah", "address", "alamat_domisili", "domisili"],
    "rt": ["rt", "no_rt", "nomor_rt"],
    "rw": ["rw", "no_rw", "nomor_rw"],
    "kelurahan": ["kelurahan", "desa", "kel_desa", "keldesa", "kel", "desa_kelurahan", "kelurahan_desa",
                  "nama_kel", "nama_kelurahan", "nama_desa", "nama_kel_desa", "village"],
    "kecamatan": ["kecamatan", "kec", "nama_kec", "nama_kecamatan", "district"],
    "tgl_lahir": ["tgl_lahir", "tanggal_lahir", "tgl_lhr", "tanggal_lhr", "tgllahir", "tanggallahir", "dob",
                  "birth_date", "date_of_birth"],
    "jenis_kelamin": ["jenis_kelamin", "jenis_klmin", "jns_kelamin", "jns_klmin", "jk", "sex", "gender", "kelamin",
                      "l_p", "lp"],
    "lat": ["lat", "latitude", "lintang", "y"],
    "lon": ["lon", "lng", "long", "longitude", "bujur", "x"],
    "home_visit": ["home_visit", "kebutuhan_khusus", "kunjungan_rumah", "perlu_kunjungan", "homevisit",
                   "disabilitas", "penyandang_disabilitas", "difabel", "jemput_bola_rumah"],
}
#: Columns holding two canonical values at once: "003/002" RT/RW, "-5.41, 105.26" coordinates.
COMBINED = {"rt_rw": ["rt_rw", "rtrw", "no_rt_rw"],
            "koordinat": ["koordinat", "coordinates", "coordinate", "latlong", "lat_long", "lat_lon", "latlon",
                          "lat_lng", "titik_koordinat", "lokasi_koordinat"]}
LOCATING = ("alamat", "kelurahan", "kecamatan", "lat", "nik")
MONTHS = {"januari": "01", "jan": "01", "februari": "02", "feb": "02", "pebruari": "02", "maret": "03",
          "mar": "03", "april": "04", "apr": "04", "mei": "05", "juni": "06", "jun": "06", "juli": "07",
          "jul": "07", "agustus": "08", "agu": "08", "agt": "08", "aug": "08", "september": "09",
          "sep": "09", "okt": "10", "oktober": "10", "oct": "10", "november": "11", "nov": "11",
          "nop": "11", "desember": "12", "des": "12", "dec": "12", "may": "05", "june": "06", "july": "07",
          "august": "08", "october": "10", "december": "12", "january": "01", "february": "02",
          "march": "03"}




@dataclass(frozen=True)
class NikInfo:
    """What a NIK encodes: region of issue, birth date and sex."""

    nik: str
    kode_prov: str
    kode_kab: str
    kode_kec: str
    tgl_lahir: dt.date
    jenis_kelamin: str
    serial: str


def _century(yy: int, today: dt.date | None = None) -> int:
    today = today or dt.date.today()
    return 2000 + yy if yy <= today.year % 100 else 1900 + yy


def parse_nik(nik) -> NikInfo | None:
    """Decode a 16-digit NIK; None when it is malformed (wrong length, non-digits, impossible date).

    Digits 1-6 are the kecamatan code without dots, 7-12 the birth date DDMMYY with 40 added to the
    day for women, 13-16 a serial.
    """
    text = clean_nik(nik)
    if not re.fullmatch(r"\d{16}", text):
        return None
    day, month, yy = int(text[6:8]), int(text[8:10]), int(text[10:12])
    sex = "P" if day > 40 else "L"
    day = day - 40 if day > 40 else day
    try:
        born = dt.date(_century(yy), month, day)
    except ValueError:
        return None
    if text[:2] == "00" or text[2:4] == "00" or text[4:6] == "00" or text[12:] == "0000":
        return None
    return NikInfo(text, text[:2], f"{text[:2]}.{text[2:4]}", f"{text[:2]}.{text[2:4]}.{text[4:6]}",
                   born, sex, text[12:])


def clean_nik(value) -> str:
    """Strip what spreadsheets add around a NIK: spaces, dots, dashes, a leading apostrophe, '.0'.

    Full-width digits (typed with an Asian keyboard layout) become ASCII digits, and thousands
    separators (``1,871,014,508,990,003``) are dropped when what is left is 16 digits.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = unicodedata.normalize("NFKC", str(value)).strip().lstrip("'`")
    if text.endswith(".0"):
        text = text[:-2]
    if re.fullmatch(r"\d\.\d{15}e\+15", text, flags=re.I):  # a 16-digit number Excel kept as a float
        text = str(int(float(text)))
    text = re.sub(r"[\s.\-]", "", text)
    if "," in text and re.fullmatch(r"\d{1,3}(,\d{3})+", text) and len(text.replace(",", "")) == 16:
        text = text.replace(",", "")
    return text


#: How a spreadsheet mangles a 16-digit NIK, and what the office should do about it.
EXPORT_AS_TEXT = ("export the NIK column as text (in Excel: select the column, Format Cells > Text, then type "
                  "or paste the NIKs again; in LibreOffice: Format > Cells > Text), or save it from SIAK as CSV")


def nik_problem(value) -> str:
    """Why a value is not a usable NIK, in words a coordinator can act on ('' if it is one)."""
    raw = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip()
    text = clean_nik(raw)
    if not text:
        return "no NIK"
    if re.fullmatch(r"\d+([.,]\d+)?[eE][+-]?\d+", raw.replace(" ", "")):
        return (f"NIK {raw!r} was turned into a number in scientific notation by a spreadsheet program: its last "
                f"digits are lost and cannot be recovered; {EXPORT_AS_TEXT}")
    if re.fullmatch(r"\d{14,15}", text):
        return (f"NIK has {len(text)} digits instead of 16: a spreadsheet program probably dropped digits "
                f"(it treated the NIK as a number); {EXPORT_AS_TEXT}")
    if re.fullmatch(r"\d{13}000", text) or re.fullmatch(r"\d{15}0", text) and parse_nik(text) is None:
        return (f"NIK {text} ends in zeros where a spreadsheet program rounded it (it keeps only 15 digits of a "
                f"number); {EXPORT_AS_TEXT}")
    if not re.fullmatch(r"\d{16}", text):
        return "NIK is not 16 digits"
    if parse_nik(text) is None:
        return "NIK birth date DDMMYY is not a date, or a region/serial part is zero"
    return ""


# ---- reading files ------------------------------------------------------------------------------
def _address_column(header: list[str]) -> int | None:
    """The address column of a header: where an unquoted separator most likely split a cell."""
    keys = [_key(h) for h in header]
    return next((i for i, k in enumerate(keys) if k in SYNONYMS["alamat"]), None)


def _looks_like_register(mapping: dict | None):
    """Whether a header row names a column that locates residents (or one the mapping names)."""
    wanted = set((mapping or {}).keys()) | set((mapping or {}).values())

    def check(header: list[str]) -> bool:
        if wanted & set(header):
            return True
        try:
            return any(c in column_map(header) for c in LOCATING)
        except RegisterError:
            return False
    return check


def _find_header(frame: pd.DataFrame, mapping: dict | None, look: int = 10) -> pd.DataFrame:
    """Hand-kept sheets often start with a title ('DAFTAR PENDUDUK BELUM REKAM') above the header:
    when the first row names no usable column, take the first of the next `look` rows that does.
    """
    if mapping or any(c in column_map(frame.columns) for c in LOCATING):
        return frame
    for i in range(min(look, len(frame))):
        header = [str(v).strip() for v in frame.iloc[i].tolist()]
        if any(c in column_map(header) for c in LOCATING) and len(set(header)) == len(header):
            body = frame.iloc[i + 1:].reset_index(drop=True)
            body.columns = header
            return body
    return frame


def _key(name) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def column_map(columns, mapping: dict | None = None) -> dict[str, str]:
    """Canonical name -> source column, from an explicit mapping and the recognised spellings."""
    columns = [str(c) for c in columns]
    found: dict[str, str] = {}
    for key, value in (mapping or {}).items():
        if key in CANONICAL and value in columns:
            found[key] = value
        elif value in CANONICAL and key in columns:
            found[value] = key
        else:
            own = ", ".join(c for c in columns if not c.startswith("__"))
            if key in CANONICAL:
                raise RegisterError(f"[register.columns] {key} = {value!r}: the file has no column {value!r}; "
                                    f"its columns are {own} (write the header exactly as in the file)")
            raise RegisterError(f"[register.columns] {key} = {value!r}: write canonical name = file column, "
                                f"with a canonical name from {', '.join(CANONICAL)} (the file's columns: {own})")
    used = set(found.values())
    for exact in (True, False):  # exact spellings first, then headers such as "Tanggal Lahir (dd-mm-yyyy)"
        for canonical, spellings in list(SYNONYMS.items()) + list(COMBINED.items()):
            if canonical in found:
                continue
            for column in columns:
                key = _key(column)
                hit = key in spellings if exact else canonical not in ("nik", "nama") and any(
                    key.startswith(s + "_") for s in spellings if len(s) > 3)
                if column not in used and hit:
                    found[canonical] = column
                    used.add(column)
                    break
    return found


@dataclass
class ImportReport:
    """What reading a register did with every column and row: nothing is dropped without a word.

    `messages()` says it in Bahasa Indonesia for the coordinator; `to_dict()` is the aggregate form
    (column names and counts only, no resident data) that a plan may record.
    """

    rows: int
    used: dict[str, str]
    unused: list[str]
    auto_mapped: list[tuple[str, str, str]]  # (column, canonical, why)
    suggestions: list[tuple[str, str, str]]  # (column, canonical, why): map it in the scenario
    duplicate_niks: int  # NIKs that appear on more than one row
    duplicate_rows: int  # rows carrying such a NIK
    nik_problems: dict[str, int]
    repaired_rows: int
    notes: list[str]

    def messages(self) -> list[str]:
        """One line per fact a coordinator should know, most important first."""
        out = []
        for column, canonical, why in self.suggestions:
            out.append(en("column '{column}' is not used although it looks like {field} ({why}); map it in the "
                          "scenario: [register.columns] {field} = \"{column}\"", column=column, field=canonical,
                          why=why))
        for column, canonical, why in self.auto_mapped:
            out.append(en("column '{column}' read as {field} ({why})", column=column, field=canonical, why=why))
        if self.duplicate_niks:
            out.append(en("{niks} NIK(s) appear on more than one row ({rows} rows): check for duplicates",
                          niks=self.duplicate_niks, rows=self.duplicate_rows))
        for problem, count in sorted(self.nik_problems.items(), key=lambda kv: -kv[1]):
            out.append(en("{n} row(s): {problem}", n=count, problem=problem))
        if self.repaired_rows:
            out.append(en("{n} row(s) repaired while reading (see the row_problem column)", n=self.repaired_rows))
        if self.unused:
            out.append(en("other columns not used: {columns}", columns=", ".join(self.unused)))
        return out + self.notes

    def to_dict(self) -> dict:
        """Aggregates only: column names and counts."""
        return {"rows": self.rows, "used": self.used, "unused": self.unused,
                "auto_mapped": [list(x) for x in self.auto_mapped], "suggestions": [list(x) for x in self.suggestions],
                "duplicate_niks": self.duplicate_niks, "duplicate_rows": self.duplicate_rows,
                "nik_problems": self.nik_problems, "repaired_rows": self.repaired_rows}


_YES_NO = re.compile(r"^(ya|y|tidak|tdk|t|yes|no|n|1|0|v|x|true|false|iya|perlu|tidak perlu)$", re.I)
_SIXTEEN = re.compile(r"^'?\d{16}$")
_HINTS = {"home_visit": ("kunjung", "dikunjungi", "disabil", "difabel", "sakit", "jompo", "rumah", "khusus"),
          "nik": ("nik", "induk", "ktp"), "tgl_lahir": ("lahir", "birth", "dob"),
          "alamat": ("alamat", "address", "domisili", "jalan"), "nama": ("nama", "name"),
          "kelurahan": ("kelurahan", "desa", "kel"), "kecamatan": ("kecamatan", "kec")}


#: What a column's values look like (msgids: why a column is taken for a field).
VALUE_KINDS = {"home_visit": "ya/tidak values", "nik": "16-digit values", "tgl_lahir": "date values"}


def _value_kind(values: pd.Series) -> str | None:
    """What most non-empty cells of a column look like: yes/no flags, 16-digit numbers or dates."""
    sample = _text(values.iloc[:2000])
    sample = sample[sample != ""]
    if len(sample) < 3:
        return None
    if sample.str.match(_YES_NO).mean() >= 0.9:
        return "home_visit"
    if sample.map(lambda v: bool(_SIXTEEN.match(clean_nik(v)))).mean() >= 0.8:
        return "nik"
    if parse_dates(sample).notna().mean() >= 0.8 and not sample.str.fullmatch(r"\d+").all():
        return "tgl_lahir"
    return None


def _header_hint(column: str) -> str | None:
    key = _key(column)
    if re.search(r"(^|_)(kk|no_kk|kartu_keluarga|nkk)($|_)", key):
        return None  # a family card number: 16 digits, but not the resident's NIK
    for canonical, words in _HINTS.items():
        if any(w in key.split("_") or (len(w) > 4 and w in key) for w in words):
            return canonical
    return None


def import_report(frame: pd.DataFrame, out: pd.DataFrame, mapping: dict | None, read=None) -> ImportReport:
    """Account for every column and row of a register table after `standardise`."""
    found = column_map(frame.columns, mapping)
    source = [c for c in frame.columns if not str(c).startswith("__")]
    used = {k: v for k, v in found.items() if not str(v).startswith("__")}
    auto = list(out.attrs.get("auto_mapped", []))
    for column, canonical, _ in auto:
        used[canonical] = column
    unused, suggest = [], []
    mapped, taken = set(used), set(used.values())
    for column in source:
        if column in taken or column == "row_input":
            continue
        kind = _value_kind(frame[column])
        hint = _header_hint(str(column))
        guess = kind if kind and (hint in (None, kind)) else (hint if hint and kind is None else None)
        if guess and guess not in mapped and (kind or hint in ("alamat", "nama", "kelurahan", "kecamatan")):
            why = (VALUE_KINDS[kind] if kind else "the header looks like it")
            suggest.append((str(column), guess, why))
        else:
            unused.append(str(column))
    niks = out.loc[out["nik_valid"], "nik"] if "nik_valid" in out else pd.Series(dtype=str)
    counts = niks.value_counts()
    dup = counts[counts > 1]
    problems = out["nik_problem"][out["nik_problem"] != ""].value_counts() if "nik_problem" in out else {}
    repaired = int((out["row_problem"] != "").sum()) if "row_problem" in out else 0
    notes = list(getattr(read, "notes", [])) if read is not None else []
    if read is not None and getattr(read, "sheets", None) and len(read.sheets) > 0 and read.kind == "xlsx":
        sheets = ", ".join(read.sheets)
        notes.append(en("sheets read: {sheets}; skipped: {skipped}", sheets=sheets,
                        skipped=", ".join(read.skipped_sheets)) if read.skipped_sheets
                     else en("sheets read: {sheets}", sheets=sheets))
    return ImportReport(len(out), used, unused, [tuple(a) for a in auto], suggest, int(len(dup)), int(dup.sum()),
                        {str(k): int(v) for k, v in dict(problems).items()}, repaired, notes)


def read_register(path: str | Path, mapping: dict | None = None) -> pd.DataFrame:
    """Read a register CSV (utf-8, utf-8-sig, cp1252/latin-1; comma, semicolon, tab) or XLSX.

    Parameters
    ----------
    path
        The file. The first row is the header.
    mapping
        Optional ``{canonical: column}`` (or ``{column: canonical}``) for headers not recognised.

    Returns
    -------
    DataFrame
        Canonical columns (see `standardise`), the original columns untouched, ``row`` (1-based data row
        number) and flags ``nik_valid``, ``nik_problem``, ``row_problem``.

    Raises
    ------
    RegisterError
        Missing/empty/binary file, a line over `MAX_LINE_BYTES` (1 MB), no usable column. Rows with
        too many or too few fields are kept and flagged in ``row_problem`` instead.
    """
    path = Path(path)
    table, report = read_table(path, what="register", looks_right=_looks_like_register(mapping),
                               error=RegisterError, free_text=_address_column)
    frame = _find_header(table, mapping)
    if frame.empty:
        raise RegisterError(f"{path}: the header is there but no data rows follow")
    try:
        out = standardise(frame, mapping)
    except RegisterError as exc:
        raise RegisterError(f"{path}: {exc}") from None
    out.attrs["read_report"] = report
    out.attrs["import_report"] = import_report(frame, out, mapping, report)
    return out


# ---- cleaning -------------------------------------------------------------------------------------
def _text(series: pd.Series) -> pd.Series:
    """Stripped text, '' for missing values (a plain loop: several times faster than .str on object data)."""
    values = series.to_numpy(dtype=object)
    try:
        out = [v.strip() for v in values]
    except AttributeError:  # numbers, None, NaN among the cells
        out = [v.strip() if isinstance(v, str) else ("" if v is None or v != v else str(v).strip()) for v in values]
    return pd.Series(np.array(out, dtype=object), index=series.index, dtype=object)


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates as typed in Indonesian registers: 2001-03-12, 12-03-2001, 12/03/2001, 12 Maret 2001, Excel serials."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.to_datetime(values, errors="coerce").astype("datetime64[ns]")
    text = _text(values).str.lower().str.replace(r"\s+00:00:00$", "", regex=True)
    uniq, inverse = np.unique(text.to_numpy(dtype=object).astype(str), return_inverse=True)
    u = pd.Series(uniq)
    out = pd.Series(pd.NaT, index=u.index, dtype="datetime64[ns]")
    for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d%m%Y", "%d-%m-%y", "%d/%m/%y"):
        todo = out.isna()
        if not todo.any():
            break
        out[todo] = pd.to_datetime(u[todo], format=fmt, errors="coerce")
    todo = out.isna() & u.str.contains(r"[a-z]", regex=True)
    if todo.any():
        def month_words(s: str) -> str:
            return re.sub(r"[a-z]+", lambda m: MONTHS.get(m.group(0).rstrip("."), m.group(0)), s)
        # 'Mar 12, 2001' / 'March 12 2001' name the month first (English); '12 Maret 2001' the day
        month_first = u[todo].str.match(r"^[a-z]+\.?\s+\d{1,2}(st|nd|rd|th)?,?\s+\d{4}$")
        words = u[todo].str.replace(r"(\d)(st|nd|rd|th)\b", r"\1", regex=True).map(month_words)
        words = words.str.replace(r"[\s,.]+", "-", regex=True).str.strip("-")
        out[todo] = np.where(month_first, pd.to_datetime(words, format="%m-%d-%Y", errors="coerce"),
                             pd.to_datetime(words, format="%d-%m-%Y", errors="coerce"))
    todo = out.isna() & u.str.fullmatch(r"\d{4,5}(\.0)?")
    if todo.any():  # Excel serial day numbers
        serial = pd.to_numeric(u[todo], errors="coerce")
        out[todo] = pd.to_datetime("1899-12-30") + pd.to_timedelta(serial, unit="D")
    out[(out < pd.Timestamp("1800-01-01")) | (out > pd.Timestamp("2200-01-01"))] = pd.NaT  # not a date typo
    return pd.Series(out.to_numpy()[inverse], index=values.index, dtype="datetime64[ns]")


def parse_sex(values: pd.Series) -> pd.Series:
    """'L'/'P'/'' from LAKI-LAKI, Perempuan, Lk, Pr, M/F, 1/2."""
    codes, uniq = pd.factorize(_text(values))
    text = pd.Series(uniq, dtype=object).str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    male = text.isin(["L", "LK", "LAKILAKI", "LAKI", "PRIA", "M", "MALE", "1"])
    female = text.isin(["P", "PR", "PEREMPUAN", "WANITA", "F", "FEMALE", "W", "2"])
    sex = np.where(male, "L", np.where(female, "P", ""))
    return pd.Series(sex[codes] if len(sex) else np.full(len(values), ""), index=values.index)


def parse_flag(values: pd.Series) -> pd.Series:
    """True for 'ya', 'y', '1', 'true', 'x' or any description (e.g. 'disabilitas'); False for empty/'tidak'."""
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).astype(bool)
    text = _text(values).str.lower()
    no = text.isin(["", "0", "tidak", "tdk", "t", "no", "n", "false", "-", "nan", "none", "bukan"])
    return ~no


_HEMISPHERE = {"ls": -1, "s": -1, "lu": 1, "u": 1, "n": 1, "bt": 1, "t": 1, "e": 1, "bb": -1, "b": -1, "w": -1}
_DMS = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*(?:°|º|deg|d)?\s*(?:(\d+(?:[.,]\d+)?)\s*['′m])?\s*"
                  r"(?:(\d+(?:[.,]\d+)?)\s*(?:\"|″|''|s))?\s*([a-z]{1,2})?\.?\s*$", re.I)


def _coordinate(text: str) -> float:
    """One coordinate: '-5.43', '-5,43', '5.43 LS', '105.26 BT', '5°25'48" LS' -> decimal degrees."""
    if not text:
        return np.nan
    found = _DMS.match(text)
    if not found:
        return np.nan
    deg, minutes, seconds, hemi = found.groups()
    value = abs(float(deg.replace(",", "."))) + float((minutes or "0").replace(",", ".")) / 60 + float(
        (seconds or "0").replace(",", ".")) / 3600
    sign = -1.0 if deg.startswith("-") else 1.0
    if hemi:
        if hemi.lower() not in _HEMISPHERE:
            return np.nan
        sign = _HEMISPHERE[hemi.lower()]
    return sign * value


def parse_coordinate(values: pd.Series) -> pd.Series:
    """Decimal degrees from numbers with a decimal point or comma, LS/LU/BT/BB (or N/S/E/W) and DMS.

    South (LS) and west (BB) are negative: '5.43 LS' is -5.43, '105.26 BT' is 105.26. NaN when the
    cell is not a coordinate.
    """
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    codes, uniq = pd.factorize(_text(values))
    numbers = np.array([_coordinate(u) for u in uniq], dtype=float)
    return pd.Series(numbers[codes] if len(numbers) else np.full(len(values), np.nan), index=values.index)


def _nik_columns(nik: pd.Series, born: pd.Series, sex: pd.Series) -> pd.DataFrame:
    """Vectorised NIK checks: valid, region, birth date, sex, and a problem text per row.

    Works on a (n, 16) digit matrix so a million NIKs take well under a second; only values that
    are not already 16 characters go through the slower clean-up.
    """
    raw = nik.to_numpy(dtype=object)
    text = np.array(raw, dtype=object)
    lengths = np.fromiter((len(v) for v in raw), dtype=np.int64, count=len(raw))
    for i in np.flatnonzero(lengths != 16):
        text[i] = clean_nik(raw[i])
    for i in np.flatnonzero(lengths == 16):  # full-width digits, NBSP: 16 characters but not 16 ASCII digits
        if not (raw[i].isascii() and raw[i].isdigit()):
            text[i] = clean_nik(raw[i])
    lengths = np.fromiter((len(v) for v in text), dtype=np.int64, count=len(text))
    n = len(text)
    sixteen = np.flatnonzero(lengths == 16)
    digits = np.zeros(n, dtype=bool)
    mat = np.zeros((n, 16), dtype=np.int64)
    if len(sixteen):
        codes = np.array(text[sixteen].tolist(), dtype="U16").view(np.uint32).reshape(-1, 16).astype(np.int64) - 48
        ok = ((codes >= 0) & (codes <= 9)).all(axis=1)
        digits[sixteen[ok]] = True
        mat[sixteen[ok]] = codes[ok]

    def part(a):
        return np.where(digits, mat[:, a] * 10 + mat[:, a + 1], np.nan)

    day, month, yy = part(6), part(8), part(10)
    nik_sex = np.where(day > 40, "P", "L")
    dd = np.where(day > 40, day - 40, day)
    now = dt.date.today().year % 100
    year = np.where(yy <= now, 2000 + yy, 1900 + yy)
    nik_born = pd.Series(pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": dd}), errors="coerce")
                         .to_numpy(), index=nik.index)
    zero_part = digits & ((part(0) == 0) | (part(2) == 0) | (part(4) == 0)
                          | (mat[:, 12:16].sum(axis=1) == 0))
    has_date = nik_born.notna().to_numpy()
    valid = digits & has_date & ~zero_part
    problem = np.full(n, "", dtype=object)
    problem[lengths == 0] = "no NIK"
    problem[(lengths > 0) & ~digits] = "NIK is not 16 digits"
    for i in np.flatnonzero((lengths > 0) & ~digits):  # say how a spreadsheet mangled it, where it did
        problem[i] = nik_problem(raw[i]) or problem[i]
    problem[digits & ~has_date] = "NIK birth date DDMMYY is not a date"
    problem[digits & has_date & zero_part] = "NIK has a zero region or serial part"
    for i in np.flatnonzero(digits & zero_part):  # a rounded number (…0000) says so
        problem[i] = nik_problem(text[i]) or problem[i]
    b = pd.to_datetime(born, errors="coerce")
    has_born = valid & b.notna().to_numpy()
    dob_mismatch = has_born & ((b.dt.day.to_numpy() != nik_born.dt.day.to_numpy())
                               | (b.dt.month.to_numpy() != nik_born.dt.month.to_numpy())
                               | (b.dt.year.to_numpy() % 100 != yy))
    sex = sex.to_numpy(dtype=object)
    sex_mismatch = valid & (sex != "") & (sex != nik_sex)
    problem[dob_mismatch] = "NIK birth date differs from tgl_lahir"
    both = dob_mismatch & sex_mismatch
    problem[sex_mismatch] = "NIK sex differs from jenis_kelamin"
    problem[both] = "NIK birth date differs from tgl_lahir; NIK sex differs from jenis_kelamin"
    region_num = np.where(valid, mat[:, 0] * 100000 + mat[:, 1] * 10000 + mat[:, 2] * 1000 + mat[:, 3] * 100
                          + mat[:, 4] * 10 + mat[:, 5], -1)
    uniq, inverse = np.unique(region_num, return_inverse=True)
    labels = np.array(["" if u < 0 else f"{u // 10000:02d}.{u // 100 % 100:02d}.{u % 100:02d}" for u in uniq],
                      dtype=object)
    region = labels[inverse.ravel()]
    return pd.DataFrame({
        "nik_clean": text,
        "nik_valid": valid,
        "nik_kode_kec": region,
        "nik_tgl_lahir": nik_born.where(valid).to_numpy(dtype="datetime64[ns]"),
        "nik_jenis_kelamin": np.where(valid, nik_sex, ""),
        "nik_dob_mismatch": dob_mismatch,
        "nik_sex_mismatch": sex_mismatch,
        "nik_problem": problem,
    }, index=nik.index)


def standardise(frame: pd.DataFrame, mapping: dict | None = None) -> pd.DataFrame:
    """Canonical register columns from any table of residents; flags problems per row, drops none.

    Adds ``row`` (1-based), the canonical columns of ARCHITECTURE.md (empty strings / NaN / NaT where the
    source has no such column), ``nik_valid``, ``nik_kode_kec``, ``nik_tgl_lahir``, ``nik_problem``,
    ``nik_dob_mismatch``, ``nik_sex_mismatch`` and ``row_problem`` (e.g. a formula-like cell).
    """
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    found = column_map(frame.columns, mapping)
    auto = _auto_map(frame, found)
    frame = frame.copy()
    if "rt_rw" in found and not ("rt" in found or "rw" in found):
        parts = _text(frame[found.pop("rt_rw")]).str.extract(r"(\d+)\D+(\d+)")
        frame["__rt"], frame["__rw"] = parts[0].fillna(""), parts[1].fillna("")
        found["rt"], found["rw"] = "__rt", "__rw"
    if "koordinat" in found and "lat" not in found and "lon" not in found:
        parts = _text(frame[found.pop("koordinat")]).str.extract(r"(-?\d+(?:\.\d+)?)\s*[,;/ ]\s*(-?\d+(?:\.\d+)?)")
        frame["__lat"], frame["__lon"] = parts[0], parts[1]
        found["lat"], found["lon"] = "__lat", "__lon"
    found.pop("rt_rw", None)
    found.pop("koordinat", None)
    if not any(c in found for c in LOCATING):
        raise RegisterError(f"no column to locate residents: found columns {list(frame.columns)}; expected at "
                            f"least one of nik, alamat, kelurahan/desa, kecamatan, lat+lon (any case), or pass "
                            "a mapping such as {'alamat': 'Alamat Lengkap'}")
    if ("lat" in found) != ("lon" in found):
        only = found.get("lat") or found.get("lon")
        raise RegisterError(f"coordinates need both lat and lon columns; found only {only!r}")
    out = frame.drop(columns=[c for c in frame.columns if c.startswith("__")])
    n = len(frame)
    if "row" in out.columns and "row" not in found.values():
        out = out.rename(columns={"row": "row_input"})
    out.insert(0, "row", np.arange(1, n + 1))
    for canonical in ("nik", "nama", "alamat", "rt", "rw", "kelurahan", "kecamatan"):
        out[canonical] = _text(frame[found[canonical]]) if canonical in found else pd.Series("", index=frame.index)
    out["tgl_lahir"] = parse_dates(frame[found["tgl_lahir"]]) if "tgl_lahir" in found else pd.NaT
    out["tgl_lahir"] = out["tgl_lahir"].astype("datetime64[ns]")
    today = pd.Timestamp(dt.date.today())
    future = (out["tgl_lahir"] > today).to_numpy()
    ancient = (out["tgl_lahir"] < today - pd.DateOffset(years=120)).to_numpy()
    out.loc[future | ancient, "tgl_lahir"] = pd.NaT  # a date that would change the resident's class
    out["jenis_kelamin"] = parse_sex(frame[found["jenis_kelamin"]]) if "jenis_kelamin" in found else ""
    for axis in ("lat", "lon"):
        out[axis] = parse_coordinate(frame[found[axis]]) if axis in found else np.nan
    out["home_visit"] = parse_flag(frame[found["home_visit"]]) if "home_visit" in found else False
    if "home_visit" in found:  # 'disabilitas', 'sakit stroke': why the team visits (health data: private)
        said = _text(frame[found["home_visit"]])
        out["home_visit_reason"] = said.where(out["home_visit"] & ~said.str.match(_YES_NO), "")
    for column, values in _nik_columns(out["nik"], out["tgl_lahir"], out["jenis_kelamin"]).items():
        out[column] = values
    out["nik"] = out.pop("nik_clean").where(out["nik_valid"], out["nik"])
    problems = np.full(n, "", dtype=object)
    problems[future] += "tgl_lahir is in the future: not used; "
    problems[ancient] += "tgl_lahir is more than 120 years ago: not used; "
    for canonical in ("nik", "nama", "alamat", "kelurahan", "kecamatan", "rt", "rw"):
        if canonical in found:
            values = out[canonical].to_numpy(dtype=object)
            formula = [i for i, v in enumerate(values) if v and looks_like_formula(v)]
            if formula:
                problems[formula] += f"formula-like cell in {canonical}; "
                values = values.copy()
                values[formula] = ""  # never geocode or re-export a formula
                out[canonical] = values
    if "__row_problem" in frame.columns:
        extra = frame["__row_problem"].fillna("").astype(str).to_numpy(dtype=object)
        where = (frame["__line"].astype(str).to_numpy(dtype=object) if "__line" in frame.columns
                 else np.full(n, "", dtype=object))
        label = np.where(where != "", "line " + where + ": ", "")
        problems = np.where(extra != "", problems + label + extra + "; ", problems)
    out["row_problem"] = [p.rstrip("; ") for p in problems]
    out.attrs["auto_mapped"] = auto
    return out


def _auto_map(frame: pd.DataFrame, found: dict) -> list[tuple[str, str, str]]:
    """Map a column whose header *and* values say what it is ('Perlu Dikunjungi' with ya/tidak).

    Only when exactly one column fits a canonical field that nothing maps yet; `found` is updated.
    Columns that fit by values or header alone are suggested in the import report instead.
    """
    taken = set(found.values())
    fits: dict[str, list[str]] = {}
    for column in frame.columns:
        if column in taken or column.startswith("__"):
            continue
        hint = _header_hint(column)
        if hint in ("home_visit", "nik", "tgl_lahir") and hint not in found and _value_kind(frame[column]) == hint:
            fits.setdefault(hint, []).append(column)
    auto = []
    for canonical, columns in fits.items():
        if len(columns) == 1:
            found[canonical] = columns[0]
            auto.append((columns[0], canonical, "header and values match"))
    return auto
