"""Name normalisation: area names and free-text addresses reduced to comparable keys.

Names are matched on a *key*: lower case, abbreviations expanded (Tj. -> tanjung, Kec. -> marker), roman
numerals as digits, spaces and punctuation removed, doubled letters collapsed; so "Tanjungkarang",
"Tanjung Karang" and "Tj. Karang" are one key. Addresses become token segments with RT/RW, house
numbers and streets set aside, so only words that can name an area are looked up.
"""

from __future__ import annotations

import re

KEL_MARK = {"~kel", "kel", "kelurahan", "desa", "ds", "des", "kelurahaan", "kelurhan", "kelurahn", "klurahan",
            "kelrahan",            "pekon", "tiyuh", "kelurah"}
KEC_MARK = {"~kec", "kec", "kecamatan", "kc", "kecamatn", "kecamtan", "kecmatan", "kecamatam", "kcmtn", "kecam"}
KAB_MARK = {"kab", "kabupaten", "kodya", "kotamadya", "kotamadia"}
STOPWORDS = {"belum", "diisi", "tidak", "ada", "diketahui", "alamat", "kosong", "tanpa", "tdk", "isi", "data",
             "nama", "dan", "atau", "dekat", "depan", "belakang", "samping", "sebelah", "masjid", "pasar",
             "sekolah", "kantor", "rumah", "toko", "warung", "simpang", "ujung", "pojok", "xxx"}
FILLER = {"kota", "lampung", "indonesia", "kab", "kabupaten", "provinsi", "prov"}
PROV_MARK = {"prov", "provinsi", "propinsi", "prop"}
STREET_MARK = {"jl", "jln", "jalan", "jaln", "gg", "gang", "lr", "lrg", "lorong", "komp", "kompleks", "komplek",
               "perum", "perumahan", "dusun", "dsn", "lk", "lingkungan", "blok", "blk", "griya", "villa",
               "cluster", "residence", "asrama", "dukuh", "rumah", "kost", "kos", "ruko", "link"}
MARKERS = KEL_MARK | KEC_MARK | KAB_MARK | PROV_MARK
ABBREV = {
    "tj": "tanjung", "tjg": "tanjung", "tg": "tanjung", "tjng": "tanjung", "tjung": "tanjung",
    "gn": "gunung", "gng": "gunung", "gu": "gunung", "kp": "kampung", "kmp": "kampung", "kamp": "kampung",
    "tlk": "teluk", "tl": "teluk", "bdr": "bandar", "bndr": "bandar", "bd": "bandar", "sk": "suka",
    "utr": "utara", "ut": "utara", "sel": "selatan", "slt": "selatan", "sltn": "selatan", "brt": "barat",
    "tmr": "timur", "tim": "timur", "tgh": "tengah", "teng": "tengah", "pst": "pusat",
    "tk": "tanjungkarang", "tjk": "tanjungkarang", "tb": "telukbetung", "tlb": "telukbetung",
    "tkp": "tanjungkarang pusat", "tkb": "tanjungkarang barat", "tkt": "tanjungkarang timur",
    "tbu": "telukbetung utara", "tbs": "telukbetung selatan", "tbb": "telukbetung barat",
    "tbt": "telukbetung timur", "bdl": "bandar lampung", "bl": "bandar lampung",
    "lamsel": "lampung selatan", "lamteng": "lampung tengah", "lamtim": "lampung timur",
    "lampura": "lampung utara", "lambar": "lampung barat", "tubaba": "tulang bawang barat",
    "pesbar": "pesisir barat", "sp": "simpang", "smp": "simpang",
    "i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8",
}
_RT_RW = re.compile(
    r"\brt\s*[./:]?\s*rw\s*[.:]?\s*\d{1,4}\s*[/.\-]\s*\d{1,4}"           # RT/RW 003/002
    r"|\brt\s*[.:]?\s*\d{1,4}\s*[/.\-]?\s*(?:rw\s*[.:]?\s*)?\d{0,4}"     # RT 03 RW 02, RT.03/RW.02, RT 3/2
    r"|\brw\s*[.:]?\s*\d{1,4}")
_HOUSE_NO = re.compile(r"\b(?:no|nomor|nmr|nr|number)\s*[.:]?\s*\d+\s*[a-z]?\b|#\s*\d+|\b\d+[a-z]\b")
_MULTI_DIGIT = re.compile(r"\d{2,}")
_SEGMENT = re.compile(r"[,;|/()\[\]\n\r\t]+|\s-\s")
_TOKEN = re.compile(r"[a-z]+|\d+|#")
_DOUBLE = re.compile(r"(.)\1+")
HASH = "#"
STREET_TAIL = "~street"


def _key(tokens) -> str:
    """Compact key: tokens joined without spaces, doubled letters collapsed."""
    return _DOUBLE.sub(r"\1", "".join(tokens))


_GLUED = re.compile(r"^(tj|tjg|tlk|gn)(?=[a-z]{4})")
_GLUED_LONG = {"tj": "tanjung", "tjg": "tanjung", "tlk": "teluk", "gn": "gunung"}


def _tokens(text: str) -> list[str]:
    out = []
    for tok in _TOKEN.findall(text):
        tok = ABBREV.get(tok, tok)
        if tok[:1] in "tg" and _GLUED.match(tok):  # 'tjkarang', 'tlkbetung'
            tok = _GLUED.sub(lambda m: _GLUED_LONG[m.group(1)], tok)
        if tok.isdigit() and len(tok) > 1:
            out.append(HASH)
        else:
            out.extend(tok.split(" "))
    return out


def name_key(name: str) -> str:
    """Key of a gazetteer name: 'Tanjung Karang Pusat' and 'Tanjungkarang Pusat' -> 'tanjungkarangpusat'."""
    tokens = [t for t in _tokens(str(name).lower().replace("-", " ")) if t != HASH]
    while len(tokens) > 1 and tokens[0] in MARKERS:
        tokens = tokens[1:]
    return _key(tokens)


def reduce_address(text: str) -> tuple[tuple[str, ...], ...]:
    """Segments of tokens that may name an area: RT/RW, house numbers, postcodes and streets removed.

    A street runs from its marker (Jl., Gg., Perum, Dusun ...) to the next house number, comma or
    area marker, so 'Jl. Sukarame No. 5 Kel. Way Halim' keeps only 'kel way halim'. Numbers split
    segments, so a name never spans across them. Comma-separated parts repeat a lot between rows
    ('Kel. Sukarame', 'RT 003 RW 002'), so each distinct part is reduced once and cached.
    """
    if not text:
        return ()
    segments: list[tuple[str, ...]] = []
    for part in _SEGMENT.split(text.lower()):
        part = part.strip()
        if not part:
            continue
        reduced = _SEGMENT_CACHE.get(part)
        if reduced is None:
            if len(_SEGMENT_CACHE) > 2_000_000:
                _SEGMENT_CACHE.clear()
            reduced = _SEGMENT_CACHE[part] = _reduce_segment(part)
        segments.extend(reduced)
    return tuple(segments)


_SEGMENT_CACHE: dict[str, tuple] = {}


def _reduce_segment(part: str) -> tuple[tuple[str, ...], ...]:
    part = part.replace("\u00a0", " ")
    part = _RT_RW.sub(" # ", part)
    part = _HOUSE_NO.sub(" # ", part)
    part = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", part)
    kept: list[str] = []
    street: list[str] = []
    in_street = False
    for tok in _tokens(part):
        if tok in STREET_MARK:
            in_street, street = True, []
            continue
        if in_street:
            if tok == HASH or tok in MARKERS or tok.isdigit():
                in_street = False
            else:
                street.append(tok)
                continue
        kept.append(tok)
    out, run = [], []
    for tok in kept + [HASH]:
        if tok == HASH:
            if run:
                out.append(tuple(run))
            run = []
        else:
            run.append(tok)
    if in_street and len(street) > 1:
        # a street that runs to the end of its part may have swallowed the area names
        # ('Jl. Teuku Umar Kedaton'): kept aside, read only if nothing else names an area
        out.append((STREET_TAIL,) + tuple(street))
    return tuple(out)


