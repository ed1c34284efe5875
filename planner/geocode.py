"""Register rows -> kelurahan/kecamatan codes, by a cascade that records why at each step.

1. coordinates -> kelurahan by point in polygon (STRtree); swapped lat/lon are detected and fixed;
2. kelurahan/kecamatan columns -> gazetteer names, normalised, then fuzzy (rapidfuzz);
3. free-text address -> kelurahan/kecamatan mentions, ignoring RT/RW, house numbers and streets;
4. NIK region code -> kecamatan when nothing better is known;
5. otherwise unmatched (or invalid when the row holds nothing to locate it by).

Names are matched on a *key*: lower case, abbreviations expanded (Tj. -> tanjung, Kec. -> marker), roman
numerals as digits, spaces and punctuation removed, doubled letters collapsed; so "Tanjungkarang",
"Tanjung Karang" and "Tj. Karang" are one key. A kelurahan name is always checked against a kecamatan
(or kab/kota) named in the same row: names repeat (Lampung has 14 desa called Sidodadi).

Speed: work is done once per *unique* string (registers repeat the same kelurahan spellings) and
fuzzy matching only runs on the words left over after exact matching.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from rapidfuzz import fuzz, process

from planner.register import standardise

# ---- normalising names ---------------------------------------------------------------------------
KEL_MARK = {"~kel", "kel", "kelurahan", "desa", "ds", "des", "kelurahaan", "kelurhan", "kelurahn", "klurahan", "kelrahan",
            "pekon", "tiyuh", "kelurah"}
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


# ---- the gazetteer -------------------------------------------------------------------------------
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
    def from_areas(cls, areas, official: str | Path | pd.DataFrame | None = None) -> "Gazetteer":
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
            if isinstance(official, pd.DataFrame):
                table = official
            else:
                try:
                    table = pd.read_csv(official, dtype=str, keep_default_na=False)
                except (OSError, ValueError, UnicodeDecodeError) as exc:
                    raise ValueError(f"gazetteer {official}: cannot read it as CSV ({exc})") from exc
            missing = [c for c in ("kode", "nama", "level") if c not in table.columns]
            if missing:
                raise ValueError(f"gazetteer {official}: missing column(s) {missing}; expected kode, nama, level "
                                 "(provinsi/kabkota/kecamatan/keldesa) as in lampung_wilayah_2025.csv")
            prefixes = tuple(sorted(set(kec["kode"].str[:5])))
            table = table[table["kode"].astype(str).str.startswith(prefixes)]
            known_kec = set(map(str, kec["kode"]))
            for code, name, level in zip(table["kode"].astype(str), table["nama"].astype(str), table["level"]):
                if level == "kabkota":
                    gaz._add_kab(name, code)
                elif level == "kecamatan" and code in known_kec:
                    gaz._add(gaz.kec_keys, name, code)
                elif level == "keldesa" and code[:8] in known_kec:
                    gaz._add_kel(code, name, code[:8])
        gaz.kec_kel_keys = {}
        for key, codes in gaz.kel_keys.items():
            for code in codes:
                gaz.kec_kel_keys.setdefault(gaz.kel_kec[code], {}).setdefault(key, []).append(code)
        return gaz

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
@dataclass(frozen=True)
class Span:
    kel: tuple  # ((code, weight), ...)
    kec: tuple
    kab: tuple
    text: str
    fuzzy: bool = False
    where: tuple = ()  # (segment, start, end, role, key)


@dataclass(frozen=True)
class Match:
    """Result for one reduced string: status, codes, score and why."""

    status: str
    kode_kel: str = ""
    kode_kec: str = ""
    score: float = 0.0
    reason: str = ""
    candidates: str = ""


EMPTY = Match("unmatched", reason="no area name found")
MAX_SPAN = 5
FUZZY_CUTOFF = 86.0
FUZZY_IN_KEC_CUTOFF = 80.0  # a kelurahan of a kecamatan named in the same row
UNMARKED_CUTOFF = 88.0  # words without Kel./Kec. before them: stricter
UNMARKED_IN_KEC_CUTOFF = 83.0  # one wrong letter in a six-letter name scores 83
LONE_FUZZY_MIN = 90.0
MARKED = 1.1  # a name right after Kel./Desa/Kec. counts a little more than an unmarked one


class Resolver:
    """Finds area mentions in token segments and picks the consistent (kelurahan, kecamatan) reading."""

    def __init__(self, gaz: Gazetteer):
        self.gaz = gaz
        self.extended = False
        self._segment_cache: dict = {}
        self._fuzzy_cache: dict = {}
        self.kel_choices = sorted(gaz.kel_keys)
        self.kec_choices = sorted(gaz.kec_keys)
        self._cache: dict = {}

    # -- mentions --
    def _span(self, key: str, role: str | None, weight: float, text: str, fuzzy=False) -> Span | None:
        g = self.gaz
        kel = tuple((c, weight) for c in g.kel_keys.get(key, ())) if role in (None, "kel") else ()
        kec = tuple((c, weight) for c in g.kec_keys.get(key, ())) if role in (None, "kec") else ()
        kab = tuple((c, weight) for c in g.kab_keys.get(key, ())) if role in (None, "kab") else ()
        if not (kel or kec or kab):
            return None
        return Span(kel, kec, kab, text, fuzzy)

    def mentions(self, segments) -> tuple[list[Span], list[tuple]]:
        """Exact mentions (longest first, left to right) and the left-over word runs.

        Left-overs are ``(segment, start, role, words)``; a marker (Kel., Kec., Kota ...) gives the
        role of the name that follows it.
        """
        spans, leftovers = [], []
        for si, seg in enumerate(segments):
            cached = self._segment_cache.get(seg)
            if cached is None:
                cached = self._segment_cache[seg] = self._segment_mentions(seg)
            seg_spans, seg_leftovers = cached
            if si:
                seg_spans = [replace(sp, where=(si,) + sp.where[1:]) for sp in seg_spans]
                seg_leftovers = [(si,) + lo[1:] for lo in seg_leftovers]
            spans.extend(seg_spans)
            leftovers.extend(seg_leftovers)
        return spans, leftovers

    def _segment_mentions(self, seg) -> tuple[list[Span], list[tuple]]:
        """`mentions` of one segment (cached: the same 'Kel. Sukarame' recurs in many addresses)."""
        spans, leftovers = [], []
        g = self.gaz
        si = 0
        soft = False
        i, role, run, run_role, run_start = 0, None, [], None, 0
        n = len(seg)
        while i < n:
            found = None
            for size in range(min(MAX_SPAN, n - i), 0, -1):
                words = seg[i:i + size]
                if size == 1 and words[0] in MARKERS:
                    break
                key = _key(words)
                if key in g.kel_keys or key in g.kec_keys or key in g.kab_keys:
                    found = (size, key)
                    break
            tok = seg[i]
            if found is None and tok in MARKERS:
                if run:
                    leftovers.append((si, run_start, run_role, run))
                    run = []
                role = ("kel" if tok in KEL_MARK else "kec" if tok in KEC_MARK
                        else "kab" if tok in KAB_MARK else "prov")
                soft = tok.startswith("~")  # from a kelurahan/kecamatan column: may have been swapped
                i += 1
                continue
            if found is None:
                if not run:
                    run_role, run_start = role, i
                run.append(tok)
                i += 1
                continue
            size, key = found
            if run:
                leftovers.append((si, run_start, run_role, run))
                run = []
            span_role = role if role in ("kel", "kec", "kab") else None
            text = " ".join(seg[i:i + size])
            span = self._span(key, span_role, MARKED if span_role in ("kel", "kec") else 1.0, text)
            if span_role in ("kel", "kec") and (span is None or soft):
                # the name is not of the marked kind (or came from a column that may be swapped):
                # let it count as the other kind too, a little less
                other = self._span(key, "kec" if span_role == "kel" else "kel", 0.9, text)
                if other is not None:
                    span = other if span is None else Span(span.kel + other.kel, span.kec + other.kec, span.kab,
                                                           text)
            if span is not None:
                spans.append(Span(span.kel, span.kec, span.kab, text, False, (si, i, i + size, span_role, key)))
            role = None
            i += size
        if run:
            leftovers.append((si, run_start, run_role, run))
        return spans, leftovers

    def fuzzy(self, spans: list[Span], leftovers, segments, within_kec: set[str]) -> list[Span]:
        """Spans after fuzzy matching the left-over words.

        A left-over run right after an exact mention may complete it ("Sukarame Bru" is Sukarame Baru,
        not Sukarame); other runs are matched on their n-grams, against the kelurahan of an already
        named kecamatan first.
        """
        spans = list(spans)
        self.extended = False
        for si, start, role, run in leftovers:
            if role == "prov":
                continue
            seg = segments[si]
            before = [j for j, sp in enumerate(spans) if sp.where and sp.where[0] == si and sp.where[2] == start]
            if before:
                j = before[0]
                _, s0, _, span_role, span_key = spans[j].where
                best = None
                for m in range(1, len(run) + 1):
                    key = _key(seg[s0:start + m])
                    hits = (self._fuzzy_key(key, span_role, within_kec, 88.0, "local")
                            + self._fuzzy_key(key, span_role, set(), 88.0, "global"))
                    for cand, score, kind in hits:
                        if cand != span_key and len(cand) > len(span_key) and (best is None or score > best[1]):
                            best = (cand, score, kind, " ".join(seg[s0:start + m]))
                if best is not None:
                    spans[j] = self._fuzzy_span(best, within_kec, (si, s0, start + len(run), span_role, best[0]))
                    self.extended = True
                    continue
                if span_role in (None, "kel") and spans[j].kel and self._longer_names_tie(seg[s0:start + len(run)],
                                                                                     span_key):
                    # 'Kel. Rajabasa Haya': Rajabasa Raya or Rajabasa Jaya, surely not plain Rajabasa
                    # the words are a kelurahan we cannot tell: they name nothing certain at all
                    old = spans[j]
                    spans[j] = Span((), (), (), old.text, True, old.where)
                    self.extended = True
                    continue
            end = start + len(run)
            after = [j for j, sp in enumerate(spans) if sp.where and sp.where[0] == si and sp.where[1] == end]
            if after:
                j = after[0]
                _, _, e0, span_role, span_key = spans[j].where
                best = None
                for m in range(1, min(len(run), 2) + 1):
                    key = _key(seg[start + len(run) - m:e0])
                    hits = (self._fuzzy_key(key, span_role, within_kec, 88.0, "local")
                            + self._fuzzy_key(key, span_role, set(), 88.0, "global"))
                    for cand, score, kind in hits:
                        if cand != span_key and len(cand) > len(span_key) and (best is None or score > best[1]):
                            best = (cand, score, kind, " ".join(seg[start + len(run) - m:e0]))
                if best is not None:
                    spans[j] = self._fuzzy_span(best, within_kec, (si, start, e0, span_role, best[0]))
                    self.extended = True
                    continue
            words = [w for w in run if w not in MARKERS]
            if role is None:
                # unmarked words may be a street, a landmark or a name: only the whole run (minus filler
                # words) may be a misspelt area name, and it must be close
                words = [w for w in words if w not in STOPWORDS]
                grams = [words] if words else []
                cutoff, local_cutoff = UNMARKED_CUTOFF, UNMARKED_IN_KEC_CUTOFF
            else:
                grams = [words[i:i + size] for size in range(min(MAX_SPAN, len(words)), 0, -1)
                         for i in range(len(words) - size + 1)]
                cutoff, local_cutoff = FUZZY_CUTOFF, FUZZY_IN_KEC_CUTOFF
            best = None
            for scope in (("local", "global") if within_kec else ("global",)):
                for gram in grams:
                    key = _key(gram)
                    if len(key) < 3 or all(w in FILLER or w in STOPWORDS for w in gram):
                        continue
                    for cand, score, kind in self._fuzzy_key(key, role, within_kec, cutoff, scope, local_cutoff):
                        if best is None or score > best[1]:
                            best = (cand, score, kind, " ".join(gram))
                if best is not None:
                    break
            if best is not None:
                spans.append(self._fuzzy_span(best, within_kec, (si, start, start + len(run), role, best[0])))
        return spans

    def _longer_names_tie(self, words, span_key: str) -> bool:
        """Do two or more longer kelurahan names fit these words about equally well?"""
        key = _key(words)
        hits = process.extract(key, self.kel_choices, scorer=fuzz.ratio, limit=3, score_cutoff=85.0)
        longer = [h for h in hits if h[0] != span_key and len(h[0]) > len(span_key)]
        return len(longer) >= 2 and longer[0][1] - longer[1][1] < 3

    def _fuzzy_span(self, best, within_kec, where) -> Span:
        g = self.gaz
        cand, score, kind, text = best
        codes = g.kel_keys.get(cand, []) if kind == "kel" else g.kec_keys.get(cand, [])
        if kind == "kel" and within_kec:
            codes = [c for c in codes if g.kel_kec[c] in within_kec] or codes
        weight = score / 100.0 + (MARKED - 1.0 if where[3] in ("kel", "kec") else 0.0)
        pairs = tuple((c, weight) for c in codes)
        return Span(pairs if kind == "kel" else (), pairs if kind == "kec" else (), (), text, True, where)

    def _fuzzy_key(self, key: str, role, within_kec: set[str], cutoff: float = FUZZY_CUTOFF, scope: str = "both",
                   local_cutoff: float = 0.0):
        """Closest name(s) to `key`: among the kelurahan of `within_kec` (scope local), else all names."""
        local_cutoff = local_cutoff or max(FUZZY_IN_KEC_CUTOFF, cutoff - 8)
        memo = (key, role, frozenset(within_kec), cutoff, scope, local_cutoff)
        found = self._fuzzy_cache.get(memo)
        if found is None:
            found = self._fuzzy_key_uncached(key, role, within_kec, cutoff, scope, local_cutoff)
            self._fuzzy_cache[memo] = found
        return found

    def _fuzzy_key_uncached(self, key: str, role, within_kec: set[str], cutoff: float, scope: str,
                            local_cutoff: float):
        g = self.gaz
        found = []
        if role in (None, "kel") and within_kec and scope in ("both", "local"):
            local = sorted({k for kec in within_kec for k in g.kec_kel_keys.get(kec, {})})
            hits = process.extract(key, local, scorer=fuzz.ratio, limit=2, score_cutoff=local_cutoff)
            if hits and (len(hits) == 1 or hits[0][1] - hits[1][1] >= 3):
                found.append((hits[0][0], hits[0][1], "kel"))
                return found
            if hits:
                return found
        if scope == "local" or len(key) < 5:
            return found
        for kind, choices in (("kel", self.kel_choices), ("kec", self.kec_choices)):
            if role not in (None, kind):
                continue
            hits = process.extract(key, choices, scorer=fuzz.ratio, limit=2, score_cutoff=cutoff)
            if hits and (len(hits) == 1 or hits[0][1] - hits[1][1] >= 3):
                found.append((hits[0][0], hits[0][1], kind))
        return found

    # -- choosing a reading --
    def choose(self, spans: list[Span], nik_kec: str = "") -> Match:
        g = self.gaz
        kel_opts = [(None, None, 0.0)] + [(j, c, w) for j, s in enumerate(spans) for c, w in s.kel]
        kec_opts = [(None, None, 0.0)] + [(j, c, w) for j, s in enumerate(spans) for c, w in s.kec]
        kab_opts = [(None, None, 0.0)] + [(j, c, w) for j, s in enumerate(spans) for c, w in s.kab]
        best, outcomes = 0.0, {}
        for j1, k, w1 in kel_opts:
            kk = g.kel_kec.get(k) if k else None
            for j2, c, w2 in kec_opts:
                if j2 is not None and j2 == j1:
                    continue
                if k and c and kk != c:
                    continue
                kec_final = c or kk
                for j3, b, w3 in kab_opts:
                    if j3 is not None and j3 in (j1, j2):
                        continue
                    if b and (not kec_final or kec_final[:5] != b):
                        continue
                    score = 2 * w1 + 2 * w2 + 2 * w3
                    if score <= 0 or score < best - 1e-9:
                        continue
                    if score > best + 1e-9:
                        best, outcomes = score, {}
                    quality = min(1.0, min(w for w in (w1, w2) if w > 0) if (w1 or w2) else w3)
                    prev = outcomes.get((k, kec_final))
                    outcomes[(k, kec_final)] = max(prev or 0.0, quality)
        if not outcomes:
            kabs = sorted({c for s in spans for c, _ in s.kab})
            if kabs:
                return Match("unmatched", reason=f"only a kab/kota is named ({', '.join(kabs)})"), 0.0
            return EMPTY, 0.0
        return self._decide(outcomes, nik_kec), best

    def _decide(self, outcomes: dict, nik_kec: str) -> Match:
        g = self.gaz
        keys = list(outcomes)
        kecs = {c for _, c in keys if c}
        how = ""
        if len(kecs) > 1 and nik_kec and nik_kec in kecs:
            keys = [kc for kc in keys if kc[1] == nik_kec]
            kecs = {nik_kec}
            how = "; chosen by the NIK region among same-named areas"
        if len(kecs) == 1:
            kec = kecs.pop()
            kels = sorted({k for k, c in keys if k})
            quality = max(outcomes[kc] for kc in keys)
            score = round(100 * quality * (0.8 if how else 1.0), 1)
            if len(kels) == 1 and (None, kec) in keys:
                # one name that is both a kelurahan and its own kecamatan ('Jl. X, Sukarame'): the writer
                # may mean either, so only the kecamatan is certain
                kel = kels[0]
                return Match("matched", "", kec, score, f"kecamatan {g.kec_names.get(kec, kec)} (also the name "
                             f"of its kelurahan {kel}: kelurahan not certain){how}", f"{kel} {g.kel_names.get(kel, '')}")
            if len(kels) == 1:
                kel = kels[0]
                if kel not in g.polygon_kel:
                    return Match("matched", "", kec, score,
                                 f"{g.kel_names.get(kel, kel)} ({kel}) has no polygon: kecamatan only{how}")
                return Match("matched", kel, kec, score, f"kelurahan {g.kel_names[kel]}{how}")
            if kels:
                cands = "; ".join(f"{k} {g.kel_names.get(k, '')}" for k in kels)
                return Match("matched", "", kec, score, f"kecamatan {g.kec_names.get(kec, kec)}; kelurahan "
                             f"ambiguous{how}", cands)
            return Match("matched", "", kec, score, f"kecamatan {g.kec_names.get(kec, kec)}{how}")
        cands = "; ".join(sorted(f"{k or c} {g.kel_names.get(k, '') if k else g.kec_names.get(c, '')}"
                                 for k, c in keys))
        return Match("ambiguous", score=0.0, reason=f"{len(keys)} areas fit the names given", candidates=cands)

    def resolve(self, segments, nik_kec: str = "") -> tuple[Match, bool]:
        """Match for token segments; second value says whether fuzzy matching was used."""
        cache_key = (segments, nik_kec)
        hit = self._cache.get(cache_key)
        if hit is not None:
            return hit
        main = tuple(s for s in segments if s[0] != STREET_TAIL)
        tails = [s[1:] for s in segments if s[0] == STREET_TAIL]
        result = self._resolve(main, nik_kec)
        if result[0].status != "matched" and tails:
            # the names may hide at the end of a street that ran to the end of the address: drop the
            # street's first words (its own name) and accept only an exact, consistent reading
            for tail in tails:
                for k in range(1, min(3, len(tail) - 1) + 1):
                    m, fz = self._resolve(main + (tail[k:],), nik_kec)
                    if m.status == "matched" and not fz:
                        result = (Match(m.status, m.kode_kel, m.kode_kec, round(m.score * 0.9, 1),
                                        m.reason + " (read after the street name)", m.candidates), False)
                        break
                if result[0].status == "matched":
                    break
        self._cache[cache_key] = result
        return result

    def _resolve(self, segments, nik_kec: str = "") -> tuple[Match, bool]:
        spans, leftovers = self.mentions(segments)
        fuzzy_used = False
        match, total = self.choose(spans, nik_kec)
        leftovers = [lo for lo in leftovers if any(len(x) > 2 for x in lo[3])]
        for attempt in range(2):  # a second pass once a (fuzzy) kecamatan narrows the kelurahan names
            if not leftovers or (attempt and match.kode_kel):
                break
            within = {match.kode_kec} if match.status == "matched" and match.kode_kec else set()
            fuzzy_spans = self.fuzzy(spans, leftovers, segments, within)
            if fuzzy_spans == spans:
                break
            fuzzy_match, fuzzy_total = self.choose(fuzzy_spans, nik_kec)
            better = (self.extended or fuzzy_total > total + 1e-9
                      or (match.status != "matched" and fuzzy_match.status == "matched"))
            if fuzzy_match.status == "ambiguous" and match.status != "matched":
                match = Match("ambiguous", reason=f"closest names: {fuzzy_match.reason}",
                              candidates=fuzzy_match.candidates)
                break
            if not spans and len(fuzzy_spans) == 1 and fuzzy_match.score < LONE_FUZZY_MIN:
                # a lone fuzzy name with nothing to confirm it: too weak to call a match
                if match.status != "matched":
                    match = Match("unmatched", reason=f"closest name {fuzzy_match.reason} scores only "
                                  f"{fuzzy_match.score:.0f}", candidates=fuzzy_match.kode_kel or fuzzy_match.kode_kec)
                break
            if not (fuzzy_match.status == "matched" and better):
                break
            if fuzzy_match == match:
                break
            match, total, fuzzy_used = fuzzy_match, fuzzy_total, True
        return match, fuzzy_used


# ---- the cascade ------------------------------------------------------------------------------------
def _strip_marker(value: str) -> str:
    return re.sub(r"^\s*(kel(urahan)?|desa|ds|kec(amatan)?)\b\.?\s*", "", value, flags=re.I)


def _column_segments(kel: str, kec: str) -> tuple:
    segs = []
    if kel:
        segs.append(("~kel",) + tuple(t for t in _tokens(_strip_marker(kel).lower().replace("-", " ")) if t != HASH))
    if kec:
        segs.append(("~kec",) + tuple(t for t in _tokens(_strip_marker(kec).lower().replace("-", " ")) if t != HASH))
    return tuple(s for s in segs if len(s) > 1)


_CODE = re.compile(r"^\s*(\d{2})\.?(\d{2})\.?(\d{2})(?:\.?(\d{4}))?\s*$")


def _code_match(kel: str, kec: str, gaz: Gazetteer) -> Match | None:
    """A kelurahan or kecamatan column that holds a Kemendagri code ('18.71.02.1006', '1871021006')."""
    for value in (kel, kec):
        found = _CODE.match(value or "")
        if not found:
            continue
        a, b, c, d = found.groups()
        if d and f"{a}.{b}.{c}.{d}" in gaz.kel_kec:
            code = f"{a}.{b}.{c}.{d}"
            if code in gaz.polygon_kel:
                return Match("matched", code, gaz.kel_kec[code], 100.0, f"kelurahan code {code}")
            return Match("matched", "", gaz.kel_kec[code], 100.0, f"code {code} has no polygon: kecamatan only")
        if not d and f"{a}.{b}.{c}" in gaz.kec_names:
            return Match("matched", "", f"{a}.{b}.{c}", 100.0, f"kecamatan code {a}.{b}.{c}")
    return None


def _coordinates(frame: pd.DataFrame, areas, gaz: Gazetteer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index of the kelurahan containing each point (-1 if none), whether lat/lon were swapped, and notes."""
    n = len(frame)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float)
    has = np.isfinite(lat) & np.isfinite(lon) & ~((lat == 0) & (lon == 0))
    found = np.full(n, -1, dtype=np.int64)
    swapped = np.zeros(n, dtype=bool)
    note = np.full(n, "", dtype=object)
    geoms = areas.kelurahan.geometry.values
    tree = shapely.STRtree(geoms)
    for attempt, (x, y) in enumerate(((lon, lat), (lat, lon))):
        todo = np.flatnonzero(has & (found < 0))
        if not len(todo):
            break
        points = shapely.points(x[todo], y[todo])
        src, hit = tree.query(points, predicate="within")
        if len(src):
            first = np.unique(src, return_index=True)
            found[todo[first[0]]] = hit[first[1]]
            if attempt == 1:
                swapped[todo[first[0]]] = True
    outside = has & (found < 0)
    note[outside] = "coordinates outside the area set"
    note[~has & (np.isfinite(lat) | np.isfinite(lon))] = "coordinates not usable (one missing, or 0,0)"
    return found, swapped, note


def _resolve_rows(resolver: Resolver, segments: list, codes: np.ndarray, nik_kec: np.ndarray, how: str) -> dict:
    """Resolve each distinct segment tuple once; re-resolve with the NIK region only where ambiguous.

    Returns per-row arrays (status, kode_kel, kode_kec, score, reason, candidates, method).
    """
    results = [resolver.resolve(seg) for seg in segments]
    fields = {
        "status": np.array([m.status for m, _ in results], dtype=object),
        "kode_kel": np.array([m.kode_kel for m, _ in results], dtype=object),
        "kode_kec": np.array([m.kode_kec for m, _ in results], dtype=object),
        "score": np.array([m.score for m, _ in results], dtype=float),
        "reason": np.array([m.reason for m, _ in results], dtype=object),
        "candidates": np.array([m.candidates for m, _ in results], dtype=object),
        "method": np.array([how + ("_fuzzy" if fz else "") for _, fz in results], dtype=object),
    }
    rows = {k: v[codes] for k, v in fields.items()}
    again = np.flatnonzero((rows["status"] == "ambiguous") & (nik_kec != ""))
    for j in again:
        m, fz = resolver.resolve(segments[codes[j]], nik_kec[j])
        rows["status"][j], rows["kode_kel"][j], rows["kode_kec"][j] = m.status, m.kode_kel, m.kode_kec
        rows["score"][j], rows["reason"][j], rows["candidates"][j] = m.score, m.reason, m.candidates
        rows["method"][j] = how + ("_fuzzy" if fz else "") + ("_nik" if m.status == "matched" else "")
    return rows


def geocode(register: pd.DataFrame, areas, gazetteer: Gazetteer | str | Path | None = None,
            progress: bool = False) -> pd.DataFrame:
    """Geocode every register row onto a kelurahan (or at least a kecamatan); one bucket per row.

    Parameters
    ----------
    register
        From `register.read_register` (or any table `register.standardise` accepts).
    areas
        AreaSet (``.kelurahan``, ``.kecamatan``).
    gazetteer
        A `Gazetteer`, or the path of an official gazetteer CSV to add alternate names, or None.
    progress
        Show a Rich progress bar (on inputs of 10,000 rows or more).

    Returns
    -------
    DataFrame
        The register plus ``row, status, level, kode_kel, kode_kec, method, score, reason,
        nik_kec_mismatch, candidates``; same length and order as the input. ``status`` is one of
        matched (``level`` kelurahan or kecamatan), ambiguous, unmatched, invalid.
    """
    if "row" not in register.columns or "nik_valid" not in register.columns:
        register = standardise(register)
    gaz = gazetteer if isinstance(gazetteer, Gazetteer) else Gazetteer.from_areas(areas, gazetteer)
    resolver = Resolver(gaz)
    n = len(register)
    status = np.full(n, "unmatched", dtype=object)
    level = np.full(n, "", dtype=object)
    kode_kel = np.full(n, "", dtype=object)
    kode_kec = np.full(n, "", dtype=object)
    method = np.full(n, "", dtype=object)
    score = np.zeros(n, dtype=float)
    reason = np.full(n, "", dtype=object)
    candidates = np.full(n, "", dtype=object)
    notes = np.full(n, "", dtype=object)
    nik_kec = register["nik_kode_kec"].fillna("").astype(str).to_numpy(dtype=object)
    bar = _Progress(progress, n)

    # 1. coordinates
    bar.step("coordinates")
    found, swapped, coord_note = _coordinates(register, areas, gaz)
    hit = found >= 0
    kel_codes = areas.kelurahan["kode"].astype(str).to_numpy(dtype=object)
    kel_kecs = areas.kelurahan["kode_kec"].astype(str).to_numpy(dtype=object)
    status[hit], level[hit] = "matched", "kelurahan"
    kode_kel[hit], kode_kec[hit] = kel_codes[found[hit]], kel_kecs[found[hit]]
    method[hit] = np.where(swapped[hit], "coordinates_swapped", "coordinates")
    score[hit] = np.where(swapped[hit], 95.0, 100.0)
    reason[hit] = np.where(swapped[hit], "point in polygon after swapping lat/lon", "point in polygon")
    notes[:] = np.where(coord_note != "", coord_note + "; ", "")

    def apply(rows: np.ndarray, res: dict, take: np.ndarray | None = None) -> None:
        if take is not None:
            rows, res = rows[take], {k: v[take] for k, v in res.items()}
        ok = res["status"] == "matched"
        r = rows[ok]
        status[r] = "matched"
        level[r] = np.where(res["kode_kel"][ok] != "", "kelurahan", "kecamatan")
        kode_kel[r], kode_kec[r], score[r] = res["kode_kel"][ok], res["kode_kec"][ok], res["score"][ok]
        method[r], reason[r], candidates[r] = res["method"][ok], res["reason"][ok], res["candidates"][ok]
        # not matched: keep the most informative failure (ambiguous beats unmatched)
        worse = ~ok & (status[rows] != "matched") & ((res["status"] == "ambiguous") | (status[rows] != "ambiguous"))
        r = rows[worse]
        status[r] = res["status"][worse]
        reason[r] = res["method"][worse] + ": " + res["reason"][worse]
        candidates[r] = res["candidates"][worse]

    # 2. kelurahan / kecamatan columns
    bar.step("kelurahan/kecamatan columns")
    kel_col = register["kelurahan"].fillna("").astype(str).to_numpy(dtype=object)
    kec_col = register["kecamatan"].fillna("").astype(str).to_numpy(dtype=object)
    todo = np.flatnonzero(~hit & ((kel_col != "") | (kec_col != "")))
    if len(todo):
        codes, uniq = pd.factorize(pd.Series(kel_col[todo] + "\x1f" + kec_col[todo]))
        segments = [_column_segments(*u.split("\x1f")) for u in uniq]
        res = _resolve_rows(resolver, segments, codes, nik_kec[todo], "columns")
        by_code = [_code_match(*u.split("\x1f"), gaz) for u in uniq]  # columns holding codes, not names
        has_code = np.array([m is not None for m in by_code], dtype=bool)
        for j in np.flatnonzero(has_code[codes]):
            m = by_code[codes[j]]
            res["status"][j], res["kode_kel"][j], res["kode_kec"][j] = m.status, m.kode_kel, m.kode_kec
            res["score"][j], res["reason"][j], res["candidates"][j] = m.score, m.reason, ""
            res["method"][j] = "columns_code"
        apply(todo, res)

    # 3. free-text address, for rows without a kelurahan yet
    alamat = register["alamat"].fillna("").astype(str).to_numpy(dtype=object)
    informative = alamat != ""  # refined below: an address of only '-', '?', numbers, RT/RW says nothing
    todo = np.flatnonzero((level != "kelurahan") & (alamat != ""))
    if len(todo):
        codes, uniq = pd.factorize(alamat[todo])
        # house numbers, RT/RW and postcodes make most addresses unique; '00' for every number of two or
        # more digits leaves far fewer distinct strings to read (single digits may be part of a name)
        codes2, uniq = pd.factorize(pd.Series([_MULTI_DIGIT.sub("00", a.lower()) for a in uniq], dtype=object))
        codes = codes2[codes]
        reduced = [reduce_address(a) for a in bar.track(uniq, "reading addresses")]
        red_codes, red_uniq = pd.factorize(pd.Series(["|".join(" ".join(t) for t in r) for r in reduced]))
        first = {}
        for j, rc in enumerate(red_codes):
            first.setdefault(rc, j)
        segments = [reduced[first[rc]] for rc in range(len(red_uniq))]
        wordy = np.array([any(len(t) >= 3 and t not in STOPWORDS and t not in MARKERS for seg in segs for t in seg)
                          for segs in segments], dtype=bool)  # a street alone counts: it is an address
        informative[todo] = wordy[red_codes[codes]]
        bar.step("matching names")
        res = _resolve_rows(resolver, segments, red_codes[codes], nik_kec[todo], "address")
        prior_matched = status[todo] == "matched"
        adds_kel = (res["status"] == "matched") & (res["kode_kel"] != "")
        same_kec = res["kode_kec"] == kode_kec[todo]
        # columns gave only a kecamatan: take the address only if it adds a kelurahan inside it
        take = ~prior_matched | (adds_kel & same_kec)
        clash = prior_matched & adds_kel & ~same_kec
        for j in np.flatnonzero(clash):
            notes[todo[j]] += f"address names {res['kode_kel'][j]}, outside the kecamatan column; "
        apply(todo, res, take)

    # 4. NIK region code -> kecamatan
    bar.step("NIK region codes")
    kec_known = np.array(sorted(set(map(str, areas.kecamatan["kode"]))), dtype=object)
    nik_ok = register["nik_valid"].to_numpy(dtype=bool)
    todo = np.flatnonzero((status != "matched") & nik_ok)
    known = np.isin(nik_kec[todo], kec_known)
    r = todo[known]
    prior = reason[r]
    status[r], level[r], kode_kec[r], method[r], score[r] = "matched", "kecamatan", nik_kec[r], "nik", 60.0
    reason[r] = np.where(prior != "", "kecamatan from the NIK region code (" + prior + ")",
                         "kecamatan from the NIK region code")
    r = todo[~known]
    reason[r] = np.where(reason[r] != "", reason[r] + "; ", "") + "NIK region " + nik_kec[r] + " is not in the area set"

    # 5. what is left: unmatched, or invalid when the row has nothing to locate it by
    left = status != "matched"
    has_coords = coord_note != ""
    nothing = ~informative & (kel_col == "") & (kec_col == "") & ~has_coords & ~hit & ~nik_ok
    row_problem = (register["row_problem"] if "row_problem" in register.columns
                   else pd.Series("", index=register.index)).fillna("").astype(str).to_numpy(dtype=object)
    nik_problem = register["nik_problem"].fillna("").astype(str).to_numpy(dtype=object)
    invalid = left & nothing
    status[invalid] = "invalid"
    for i in np.flatnonzero(invalid):
        why = [p for p in (row_problem[i], nik_problem[i]) if p]
        reason[i] = "nothing to locate the row by: no usable address, area name, coordinates or valid NIK" + (
            f" ({'; '.join(why)})" if why else "")
    empty_reason = left & ~invalid & (reason == "")
    reason[empty_reason] = "no area name found"
    has_note = notes != ""
    reason[has_note] = reason[has_note] + " [" + np.array([x.rstrip("; ") for x in notes[has_note]], dtype=object) + "]"
    bar.close()

    out = register.copy()
    out["status"] = status
    out["level"] = level
    out["kode_kel"] = kode_kel
    out["kode_kec"] = kode_kec
    out["method"] = method
    out["score"] = score
    out["reason"] = reason
    out["nik_kec_mismatch"] = (status == "matched") & nik_ok & (nik_kec != kode_kec)
    out["candidates"] = candidates
    return out


class _Progress:
    """A Rich progress bar (one task per cascade step) when asked for and the input is long."""

    def __init__(self, enabled: bool, total: int):
        self.progress = None
        self.task = None
        if enabled and total >= 10_000:
            from rich.progress import Progress
            self.progress = Progress(transient=True)
            self.progress.start()

    def step(self, label: str) -> None:
        if self.progress is not None:
            if self.task is not None:
                self.progress.update(self.task, completed=1, total=1)
            self.task = self.progress.add_task(f"geocode: {label}", total=None)

    def track(self, items, label: str):
        if self.progress is None:
            return items
        self.step(label)
        total = len(items)
        self.progress.update(self.task, total=total)

        def gen():
            for j, item in enumerate(items):
                if j % 5000 == 0:
                    self.progress.update(self.task, completed=j)
                yield item
        return gen()

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


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
    """Write ``geocoded.csv`` (every row, input order), ``review.csv`` (rows needing a person) and
    ``summary.csv`` (counts per kelurahan and kecamatan) into `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    first = [c for c in _RESULT_COLUMNS if c in coded.columns]
    ordered = coded[first + [c for c in coded.columns if c not in first]]
    paths = {"geocoded": out_dir / "geocoded.csv", "review": out_dir / "review.csv", "summary": out_dir / "summary.csv"}
    _safe_cells(ordered).to_csv(paths["geocoded"], index=False, encoding="utf-8")
    review_cols = first + [c for c in ("nik", "nama", "alamat", "rt", "rw", "kelurahan", "kecamatan", "lat", "lon",
                                       "nik_problem", "row_problem") if c in coded.columns]
    review = ordered.loc[ordered["status"] != "matched", review_cols]
    _safe_cells(review).to_csv(paths["review"], index=False, encoding="utf-8")
    summary(coded, areas).to_csv(paths["summary"], index=False, encoding="utf-8")
    return paths
