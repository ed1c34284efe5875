"""Reading the tables people give planner, and writing cells that spreadsheets cannot run.

Offices export registers, recorded lists and site lists from SIAK, Excel or LibreOffice: CSV with
commas, semicolons or tabs, in UTF-8 or Windows-1252 (sometimes both in one file), or XLSX with an
instructions sheet first and the data split over several sheets. `read_table` reads all of these
the same way for every input and never loses, merges or shifts a row without saying so: each row
keeps the physical line it came from, and every repair is listed in the `ReadReport` (with line
numbers) and in the row's ``__row_problem``.

`guard` / `safe_frame` / `write_csv` / `write_xlsx` are the one formula guard for every CSV/XLSX cell
the tool writes (OWASP "CSV injection"): a text cell that a spreadsheet would evaluate (starting
with ``=``, ``+``, ``-``, ``@``, tab or CR) gets a leading apostrophe; real numbers stay numbers.
`unguard` undoes it when planner reads its own files back.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import InputError, MissingFileError

MAX_LINE_BYTES = 1_000_000  # a table line longer than this is not a row (a cell holding a whole file)
DELIMITERS = (";", ",", "\t", "|")
_MAX_QUOTED_LINES = 5  # a quoted cell may hold a line break; more than this is an unclosed quote


@dataclass
class ReadReport:
    """How a table was read: encoding, delimiter, sheets, and every row that needed a repair."""

    path: str
    kind: str = "csv"  # csv | xlsx
    encoding: str = ""
    delimiter: str = ""
    sheets: list[str] = field(default_factory=list)
    skipped_sheets: list[str] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line or row number, what happened)
    notes: list[str] = field(default_factory=list)

    def add(self, line: int, problem: str) -> None:
        """Record a repair made to the row that starts on `line`."""
        self.problems.append((int(line), problem))


# ---- reading ----------------------------------------------------------------------------------
def read_table(path: str | Path, *, what: str = "table", looks_right: Callable[[list[str]], bool] | None = None,
               error: type[InputError] = InputError,
               free_text: Callable[[list[str]], int | None] | None = None) -> tuple[pd.DataFrame, ReadReport]:
    """Read a CSV or XLSX file as text cells, with a report of what was repaired.

    Parameters
    ----------
    path
        The file (CSV/TSV/TXT in any common encoding and delimiter, or XLSX).
    what
        What the file should be, for messages ("register", "recorded list", ...).
    looks_right
        ``looks_right(header) -> bool``: whether a header row (list of column names) is one of the
        wanted kind. XLSX sheets whose first rows hold no such header are skipped (and named in the
        report); sheets with the same header are read as one table, in order.

    Returns
    -------
    (DataFrame, ReadReport)
        All cells as strings (``""`` for empty); column ``__line`` is the physical line (CSV) or
        sheet row (XLSX) each row started on, ``__row_problem`` what was repaired in it.

    Raises
    ------
    MissingFileError
        No such file.
    InputError
        (or the given `error` subclass) a folder, an empty, binary or unreadable file, or no header.
    """
    try:
        return _read(Path(path), what, looks_right, free_text)
    except MissingFileError:
        raise
    except InputError as exc:
        if error is InputError or isinstance(exc, error):
            raise
        raise error(str(exc)) from None


def _read(path: Path, what: str, looks_right, free_text) -> tuple[pd.DataFrame, ReadReport]:
    if path.is_dir():
        raise InputError(f"{what} {path} is a folder, not a file; give the CSV or XLSX file inside it")
    if not path.exists():
        raise MissingFileError(path, what)
    if path.stat().st_size == 0:
        raise InputError(f"{what} {path}: the file is empty; expected a header row and one row per line")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if path.suffix.lower() == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{what} {path}: old Excel .xls format is not supported; save it as .xlsx or CSV")
    if path.suffix.lower() in (".xlsx", ".xlsm") or head.startswith(b"PK"):
        return _read_xlsx(path, what, looks_right)
    return _read_csv(path, what, free_text)


def _read_csv(path: Path, what: str, free_text) -> tuple[pd.DataFrame, ReadReport]:
    report = ReadReport(str(path), "csv")
    _check_lines(path, what)
    text = _decode(path.read_bytes(), path, what, report)
    if not text.strip():
        raise InputError(f"{what} {path}: the file has no content; expected a header row and one row per line")
    lines = _physical_lines(text, report)
    delimiter = _sniff_delimiter(lines)
    report.delimiter = delimiter
    records = _records(lines, delimiter)
    if not records:
        raise InputError(f"{what} {path}: no header row found")
    widths = Counter(len(f) for _, f, _ in records if any(x.strip() for x in f))
    if not widths:
        raise InputError(f"{what} {path}: every line is empty; expected a header row and one row per line")
    width = widths.most_common(1)[0][0]
    start = next(k for k, (_, f, _) in enumerate(records) if len(f) == width)
    if start:
        report.notes.append(f"{start} line(s) above the header skipped (a title?)")
    header = _unique_header([h.strip() for h in records[start][1]])
    aligner = _Aligner(header, [f for _, f, _ in records[start + 1:] if len(f) == width],
                       free_text(header) if free_text is not None else None, delimiter)
    body, lines_of, problems = [], [], []
    for line, fields, split_problem in records[start + 1:]:
        fields, problem = aligner.fit(fields)
        problem = "; ".join(p for p in (split_problem, problem) if p)
        if problem:
            report.add(line, problem)
        body.append(fields)
        lines_of.append(line)
        problems.append(problem)
    frame = pd.DataFrame(body, columns=header, dtype=object) if body else pd.DataFrame(columns=header, dtype=object)
    frame["__line"] = lines_of
    frame["__row_problem"] = problems
    return _drop_trailing_blank(frame), report


def _records(lines: list[tuple[int, str]], delimiter: str) -> list[tuple[int, list[str], str]]:
    """Split physical lines into records; a quoted cell may span a few lines, an unclosed quote may not.

    A line with an odd number of quotes either opens a cell that a following line closes (kept as one
    record when that yields the usual field count) or holds a stray quote: then the line alone is its
    record, the quote read as a character, and the repair reported. So an unclosed quote never
    swallows the next resident.
    """
    usual = Counter(len(_split(t, delimiter)) for _, t in lines[:2000] if t.count('"') % 2 == 0 and t.strip())
    width = usual.most_common(1)[0][0] if usual else 0
    out, k = [], 0
    odd = [t.count('"') % 2 == 1 for _, t in lines]
    while k < len(lines):
        if not odd[k]:  # a run of lines with balanced quotes: one C-speed csv pass
            end = k
            while end < len(lines) and not odd[end]:
                end += 1
            run = lines[k:end]
            out += [(line, fields, "") for (line, _), fields in
                    zip(run, csv.reader((t for _, t in run), delimiter=delimiter))]
            k = end
            continue
        line, text = lines[k]
        joined = None
        for extra in range(1, _MAX_QUOTED_LINES + 1):
            if k + extra >= len(lines):
                break
            chunk = "\n".join(t for _, t in lines[k:k + extra + 1])
            if chunk.count('"') % 2 == 0:
                fields = _split(chunk, delimiter)
                if len(fields) == width:
                    joined = (extra, fields)
                break
        if joined is not None:
            out.append((line, joined[1], f"a quoted cell spans lines {line}-{lines[k + joined[0]][0]}"))
            k += joined[0] + 1
            continue
        out.append((line, _without_stray_quote(text, delimiter, width),
                    "a quote is not closed on this line: read as a plain character"))
        k += 1
    return out


def _without_stray_quote(text: str, delimiter: str, width: int) -> list[str]:
    """Fields of a line with one unmatched quote: drop the quote whose removal gives the usual width."""
    positions = [i for i, ch in enumerate(text) if ch == '"']
    for i in positions:
        fields = _split(text[:i] + text[i + 1:], delimiter)
        if len(fields) == width:
            return fields
    return next(csv.reader([text], delimiter=delimiter, quoting=csv.QUOTE_NONE))


def _split(text: str, delimiter: str) -> list[str]:
    return next(csv.reader([text], delimiter=delimiter), [])


_SHAPES = (
    ("empty", re.compile(r"^\s*$")),
    ("nik", re.compile(r"^\s*'?\d{16}\s*$")),
    ("number", re.compile(r"^\s*[+-]?\d+([.,]\d+)?\s*$")),
    ("date", re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\s*$")),
    ("flag", re.compile(r"^\s*(ya|y|tidak|tdk|t|yes|no|true|false|l|p)\s*$", re.I)),
    ("marked", re.compile(r"^\s*(kel|kec|desa|ds|jl|jln|jalan|gg|rt|rw|no|kab|kota)\b", re.I)),
)


def _shape(value: str) -> str:
    """A coarse kind of cell (empty, NIK, number, date, yes/no, marked text, text) for aligning rows."""
    for name, pattern in _SHAPES:
        if pattern.match(value):
            return name
    return "text"


class _Aligner:
    """Fits a record with too many or too few fields to the header, without shifting columns silently.

    A record with surplus fields is read in the way that best matches what the well-formed rows hold
    column by column (their usual cell shapes): either the surplus belongs to the free-text column
    (an address typed with an unquoted separator: joined back into it) or it trails after the last
    column (kept out of the columns and reported). Either way the row is kept and flagged.
    """

    def __init__(self, header: list[str], good: list[list[str]], free_text: int | None, separator: str):
        self.header, self.width, self._sep = header, len(header), separator
        sample = good[:5000]
        self.usual = [Counter(_shape(r[c]) for r in sample) for c in range(self.width)]
        if free_text is None and sample:
            lengths = [np.mean([len(r[c]) for r in sample]) for c in range(self.width)]
            free_text = int(np.argmax(lengths))
        self.free_text = free_text

    def _fit_score(self, fields: list[str]) -> float:
        total = 0.0
        for c, value in enumerate(fields[:self.width]):
            seen = self.usual[c]
            n = sum(seen.values())
            if n:
                total += seen[_shape(value)] / n
        return total

    def fit(self, fields: list[str]) -> tuple[list[str], str]:
        """The record made to the header's width, and what was done (``""`` when nothing)."""
        width = self.width
        if len(fields) == width:
            return fields, ""
        if len(fields) < width:
            if any(f.strip() for f in fields):
                return fields + [""] * (width - len(fields)), f"only {len(fields)} of {width} fields"
            return [""] * width, ""
        surplus = len(fields) - width
        trailing = fields[width:]
        if not any(f.strip() for f in trailing):
            return fields[:width], f"{surplus} empty field(s) after the last column ignored"
        kept = fields[:width]
        options = [(self._fit_score(kept), 0, kept, f"{surplus} field(s) more than the header after the last "
                    f"column, not read: {' | '.join(trailing)[:80]}")]
        t = self.free_text
        if t is not None:
            sep = self._sep
            joined = fields[:t] + [sep.join(fields[t:t + surplus + 1])] + fields[t + surplus + 1:]
            options.append((self._fit_score(joined), 1, joined, f"{surplus} extra '{sep}' joined back into "
                            f"column {self.header[t]!r} (typed inside the cell)"))
        best = max(options, key=lambda o: (round(o[0], 6), o[1]))
        return best[2], best[3]


def _unique_header(header: list[str]) -> list[str]:
    seen: Counter = Counter()
    out = []
    for name in header:
        name = name or "kolom"
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name}.{seen[name] - 1}")
    return out


def _drop_trailing_blank(frame: pd.DataFrame) -> pd.DataFrame:
    """Trailing blank lines are layout, not rows; blank lines in between stay (as empty rows)."""
    data = frame.drop(columns=["__line", "__row_problem", "__sheet"], errors="ignore")
    if data.empty or not len(data.columns):
        return frame
    values = data.to_numpy(dtype=object)
    last = len(values)
    while last > 0 and all(not str(v).strip() for v in values[last - 1]):
        last -= 1
    return frame.iloc[:last]


def _physical_lines(text: str, report: ReadReport) -> list[tuple[int, str]]:
    """(line number, text) per line. A CR alone inside a file of CRLF/LF lines is part of a cell."""
    text = text.replace("\r\n", "\n")
    if "\n" not in text:
        text = text.replace("\r", "\n")  # an old Mac file: CR ends lines
    elif "\r" in text:
        count = text.count("\r")
        text = text.replace("\r", " ")
        report.notes.append(f"{count} carriage return(s) inside cells read as spaces")
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return list(enumerate(parts, start=1))


def _check_lines(path: Path, what: str, limit: int = MAX_LINE_BYTES) -> None:
    """Stream the file once and refuse a line longer than `limit` bytes before parsing it.

    A line is read in 16 MiB chunks, so a 1 GB line costs 16 MiB of memory, not 1 GB.
    """
    current, line_no = 0, 1
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 24):
            parts = chunk.split(b"\n")
            lengths = [len(p) for p in parts]
            lengths[0] += current
            closed = lengths[:-1]
            worst = max(closed) if closed else 0
            if worst > limit or lengths[-1] > limit:
                where = line_no + (closed.index(worst) if worst > limit else len(closed))
                raise InputError(f"{what} {path}: line {where} is longer than {limit:,} bytes; a row is a few "
                                 "hundred bytes, so this is not a table of rows (or a cell holds a whole file). "
                                 "Fix or remove that line.")
            line_no += len(closed)
            current = lengths[-1]


def _decode(raw: bytes, path: Path, what: str, report: ReadReport) -> str:
    """Text of the file: UTF-16 by BOM, else UTF-8 line by line with Windows-1252 where a line is not UTF-8."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        report.encoding = "utf-16"
        return raw.decode("utf-16")
    if b"\x00" in raw[:4096]:
        raise InputError(f"{what} {path}: contains NUL bytes: not a text CSV (UTF-16 without BOM or a binary "
                         "file?). Save it as CSV UTF-8 or XLSX.")
    try:
        report.encoding = "utf-8"
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    lines = raw.split(b"\n")
    utf8 = 0
    out = []
    for k, line in enumerate(lines):
        try:
            out.append(line.decode("utf-8-sig" if k == 0 else "utf-8"))
            utf8 += 1 if any(b >= 0x80 for b in line) else 0
        except UnicodeDecodeError:
            out.append(line.decode("cp1252", errors="replace"))
            if utf8:
                report.add(k + 1, "bytes that are not UTF-8 read as Windows-1252")
    report.encoding = "utf-8 + cp1252" if utf8 else "cp1252"
    return "\n".join(out)


def _sniff_delimiter(lines: list[tuple[int, str]]) -> str:
    """The delimiter that splits the first lines into the same, largest number of fields."""
    sample = [t for _, t in lines[:50] if t.strip()]
    best, best_score = ",", (0, 0)
    for d in DELIMITERS:
        counts = Counter(len(_split(t, d)) for t in sample if t.count('"') % 2 == 0)
        if not counts:
            continue
        width, times = counts.most_common(1)[0]
        score = (times if width > 1 else 0, width)
        if score > best_score:
            best, best_score = d, score
    return best


def _read_xlsx(path: Path, what: str, looks_right) -> tuple[pd.DataFrame, ReadReport]:
    report = ReadReport(str(path), "xlsx")
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False, header=None,
                               engine="openpyxl")
    except Exception as exc:  # openpyxl/zipfile raise many types; the user needs the message
        raise InputError(f"{what} {path}: cannot read as XLSX ({exc}); save it again as .xlsx or CSV") from exc
    parts, header = [], None
    for name, raw in sheets.items():
        raw = raw.fillna("").astype(str)
        found = _sheet_header(raw, looks_right)
        if found is None:
            report.skipped_sheets.append(str(name))
            continue
        at, cols = found
        if header is not None and [c.lower() for c in cols] != [c.lower() for c in header]:
            report.skipped_sheets.append(f"{name} (other columns)")
            continue
        header = header or cols
        body = raw.iloc[at + 1:].copy()
        body = body.iloc[:, :len(header)]
        body.columns = _unique_header(header)[:body.shape[1]]
        body["__line"] = np.arange(at + 2, at + 2 + len(body))
        body["__row_problem"] = ""
        parts.append(_drop_trailing_blank(body.reset_index(drop=True)))
        report.sheets.append(str(name))
    if not parts:
        names = ", ".join(map(str, sheets)) or "none"
        raise InputError(f"{what} {path}: no sheet has a header row of a {what} (sheets: {names}); put the "
                         "column names in the first row of the sheet with the data")
    if len(report.sheets) > 1:
        report.notes.append(f"read {len(report.sheets)} sheets as one table: {', '.join(report.sheets)}")
    frame = pd.concat(parts, ignore_index=True)
    frame["__sheet"] = np.repeat(report.sheets, [len(p) for p in parts])
    return frame, report


def _sheet_header(raw: pd.DataFrame, looks_right, look: int = 10) -> tuple[int, list[str]] | None:
    """(row, header) of the first of the sheet's first rows that looks like the wanted header."""
    for at in range(min(look, len(raw))):
        cols = [str(v).strip() for v in raw.iloc[at].tolist()]
        while cols and not cols[-1]:
            cols.pop()
        if len([c for c in cols if c]) < 1:
            continue
        if looks_right is None or looks_right(cols):
            return at, cols
    return None


# ---- writing ------------------------------------------------------------------------------------
_RISKY = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


_FORMULA = re.compile(r"^\s*[=+@\t\r]|^\s*-\s*[\w(]")


def looks_like_formula(text: str) -> bool:
    """Whether a cell read from a file would run as a spreadsheet formula (``=1+1``, ``-2+3+cmd|...``)."""
    return bool(_FORMULA.match(text)) and not _NUMBER.match(text.strip())


def guard(value):
    """A cell value a spreadsheet will show as text, never run: ``'`` before formula-like text."""
    if isinstance(value, str) and value and (_RISKY.match(value) or _RISKY.match(value.lstrip(" "))):
        if _NUMBER.match(value.strip()):
            return value
        return "'" + value
    return value


def unguard(value):
    """Undo `guard` on a cell planner wrote itself (reading its own private files back)."""
    if isinstance(value, str) and value.startswith("'") and guard(value[1:]) == value:
        return value[1:]
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the table with every text cell (and column name) guarded."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(guard)
    return out.rename(columns=guard)


def write_csv(frame: pd.DataFrame, path: str | Path, **kwargs) -> Path:
    """`DataFrame.to_csv` (UTF-8, no index) with every text cell guarded."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # CRLF line ends make the csv writer quote a CR inside a cell too (with "\n" it would split the row)
    kwargs.setdefault("lineterminator", "\r\n")
    safe_frame(frame).to_csv(path, index=False, encoding=kwargs.pop("encoding", "utf-8"), **kwargs)
    return path


def read_own_csv(path: str | Path, **kwargs) -> pd.DataFrame:
    """A CSV that planner wrote with `write_csv`, guards removed (text cells as written)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, **kwargs)
    for column in frame.columns:
        frame[column] = frame[column].map(unguard)
    return frame.rename(columns=unguard)


def xlsx_text_cells(worksheet) -> None:
    """Make every string cell of an openpyxl worksheet a literal string (no formula), guarded."""
    for row in worksheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.value = guard(cell.value)
                cell.data_type = "s"
