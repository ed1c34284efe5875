"""Register rows -> kelurahan/kecamatan codes, by a cascade that records why at each step.

1. coordinates -> kelurahan by point in polygon (STRtree); swapped lat/lon are detected and fixed;
2. kelurahan/kecamatan columns -> gazetteer names (or codes), normalised, then fuzzy (rapidfuzz);
3. free-text address -> kelurahan/kecamatan mentions, ignoring RT/RW, house numbers and streets;
4. NIK region code -> kecamatan when nothing better is known;
5. otherwise unmatched (or invalid when the row holds nothing to locate it by).

Each step is a function that looks at the rows still open and proposes a result for some of them
(`Proposal`); `Rows.merge` is the one rule that decides what a proposal changes: a match replaces
anything that is not yet a match, and among failures the more informative one (ambiguous beats
unmatched) is kept. Work is done once per *unique* string: registers repeat the same spellings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from planner.contracts import GEOCODE_COLUMNS
from planner.geocode.gazetteer import Gazetteer
from planner.geocode.names import _MULTI_DIGIT, HASH, MARKERS, STOPWORDS, _tokens, name_key, reduce_address
from planner.geocode.report import FOREIGN_SHARE, fit_warnings
from planner.geocode.resolver import Match, Resolver
from planner.register import standardise

_FIELDS = ("status", "kode_kel", "kode_kec", "score", "reason", "candidates", "method")


@dataclass
class Proposal:
    """A step's result for some rows: one array per field, aligned with `rows` (register positions)."""

    rows: np.ndarray
    status: np.ndarray
    kode_kel: np.ndarray
    kode_kec: np.ndarray
    score: np.ndarray
    reason: np.ndarray
    candidates: np.ndarray
    method: np.ndarray

    @classmethod
    def of_matches(cls, rows: np.ndarray, matches: list[Match], methods) -> Proposal:
        """A proposal from one Match per row."""
        def column(name, dtype=object):
            return np.array([getattr(m, name) for m in matches], dtype=dtype)

        return cls(rows, column("status"), column("kode_kel"), column("kode_kec"), column("score", float),
                   column("reason"), column("candidates"), np.asarray(methods, dtype=object))

    def subset(self, keep: np.ndarray) -> Proposal:
        """Only the rows where `keep` (a boolean array over this proposal) is true."""
        return Proposal(self.rows[keep], *(getattr(self, f)[keep] for f in _FIELDS))


@dataclass
class Rows:
    """The result being built, one array per output column, and the merge rule."""

    n: int
    status: np.ndarray = field(init=False)
    level: np.ndarray = field(init=False)
    kode_kel: np.ndarray = field(init=False)
    kode_kec: np.ndarray = field(init=False)
    method: np.ndarray = field(init=False)
    score: np.ndarray = field(init=False)
    reason: np.ndarray = field(init=False)
    candidates: np.ndarray = field(init=False)
    notes: np.ndarray = field(init=False)

    def __post_init__(self):
        for name in ("level", "kode_kel", "kode_kec", "method", "reason", "candidates", "notes"):
            setattr(self, name, np.full(self.n, "", dtype=object))
        self.status = np.full(self.n, "unmatched", dtype=object)
        self.score = np.zeros(self.n, dtype=float)

    def merge(self, p: Proposal, *, failure_prefix: bool = True) -> None:
        """Apply a proposal: matches replace any non-match; failures keep the most informative one."""
        ok = p.status == "matched"
        r = p.rows[ok]
        self.status[r] = "matched"
        self.level[r] = np.where(p.kode_kel[ok] != "", "kelurahan", "kecamatan")
        self.kode_kel[r], self.kode_kec[r], self.score[r] = p.kode_kel[ok], p.kode_kec[ok], p.score[ok]
        self.method[r], self.reason[r], self.candidates[r] = p.method[ok], p.reason[ok], p.candidates[ok]
        before = self.status[p.rows]
        worse = ~ok & (before != "matched") & ((p.status == "ambiguous") | (before != "ambiguous"))
        r = p.rows[worse]
        self.status[r] = p.status[worse]
        self.reason[r] = (p.method[worse] + ": " + p.reason[worse]) if failure_prefix else p.reason[worse]
        self.candidates[r] = p.candidates[worse]


@dataclass
class Context:
    """What every step may read: the register's columns as arrays, the areas and the resolver."""

    register: pd.DataFrame
    areas: object
    gazetteer: Gazetteer
    resolver: Resolver
    bar: object
    kel_col: np.ndarray = field(init=False)
    kec_col: np.ndarray = field(init=False)
    alamat: np.ndarray = field(init=False)
    nik_kec: np.ndarray = field(init=False)
    nik_ok: np.ndarray = field(init=False)
    coord_note: np.ndarray = field(init=False)
    by_point: np.ndarray = field(init=False)
    informative: np.ndarray = field(init=False)

    def __post_init__(self):
        def text(column):
            return self.register[column].fillna("").astype(str).to_numpy(dtype=object)

        self.kel_col, self.kec_col, self.alamat = text("kelurahan"), text("kecamatan"), text("alamat")
        self.nik_kec = text("nik_kode_kec")
        self.nik_ok = self.register["nik_valid"].to_numpy(dtype=bool)
        self.coord_note = np.full(len(self.register), "", dtype=object)
        self.by_point = np.zeros(len(self.register), dtype=bool)
        self.informative = self.alamat != ""  # refined by the address step


# ---- the steps --------------------------------------------------------------------------------
def coordinates_step(ctx: Context, rows: Rows) -> None:
    """Point in polygon; a point that falls inside only after swapping lat/lon is taken (score 95)."""
    ctx.bar.step("coordinates")
    found, swapped, ctx.coord_note = _point_in_kelurahan(ctx.register, ctx.areas)
    hit = np.flatnonzero(found >= 0)
    ctx.by_point[hit] = True
    kel = ctx.areas.kelurahan
    codes = kel["kode"].astype(str).to_numpy(dtype=object)[found[hit]]
    kecs = kel["kode_kec"].astype(str).to_numpy(dtype=object)[found[hit]]
    flip = swapped[hit]
    rows.merge(Proposal(hit, np.full(len(hit), "matched", dtype=object), codes, kecs,
                        np.where(flip, 95.0, 100.0),
                        np.where(flip, "point in polygon after swapping lat/lon", "point in polygon").astype(object),
                        np.full(len(hit), "", dtype=object),
                        np.where(flip, "coordinates_swapped", "coordinates").astype(object)))
    rows.notes[:] = np.where(ctx.coord_note != "", ctx.coord_note + "; ", "")


def columns_step(ctx: Context, rows: Rows) -> None:
    """Kelurahan/kecamatan columns: names through the resolver, or Kemendagri codes written there."""
    ctx.bar.step("kelurahan/kecamatan columns")
    todo = np.flatnonzero(~ctx.by_point & ((ctx.kel_col != "") | (ctx.kec_col != "")))
    if not len(todo):
        return
    codes, uniq = pd.factorize(pd.Series(ctx.kel_col[todo] + "\x1f" + ctx.kec_col[todo]))
    pairs = [u.split("\x1f") for u in uniq]
    proposal = _resolve(ctx, todo, [_column_segments(*p) for p in pairs], codes, "columns")
    by_code = [_code_match(*p, ctx.gazetteer) for p in pairs]  # columns holding codes, not names
    for j in np.flatnonzero(np.array([m is not None for m in by_code], dtype=bool)[codes]):
        m = by_code[codes[j]]
        proposal.status[j], proposal.kode_kel[j], proposal.kode_kec[j] = m.status, m.kode_kel, m.kode_kec
        proposal.score[j], proposal.reason[j], proposal.candidates[j] = m.score, m.reason, ""
        proposal.method[j] = "columns_code"
    rows.merge(proposal)


def address_step(ctx: Context, rows: Rows) -> None:
    """Free-text address, for rows without a kelurahan yet.

    A row whose columns gave only a kecamatan takes the address only if it adds a kelurahan inside
    that kecamatan; an address naming a kelurahan elsewhere is noted, not taken.
    """
    todo = np.flatnonzero((rows.level != "kelurahan") & (ctx.alamat != ""))
    if not len(todo):
        return
    codes, uniq = pd.factorize(ctx.alamat[todo])
    # house numbers, RT/RW and postcodes make most addresses unique; '00' for every number of two or
    # more digits leaves far fewer distinct strings to read (single digits may be part of a name)
    codes2, uniq = pd.factorize(pd.Series([_MULTI_DIGIT.sub("00", a.lower()) for a in uniq], dtype=object))
    codes = codes2[codes]
    reduced = [reduce_address(a) for a in ctx.bar.track(uniq, "reading addresses")]
    red_codes, red_uniq = pd.factorize(pd.Series(["|".join(" ".join(t) for t in r) for r in reduced]))
    first: dict = {}
    for j, rc in enumerate(red_codes):
        first.setdefault(rc, j)
    segments = [reduced[first[rc]] for rc in range(len(red_uniq))]
    wordy = np.array([any(len(t) >= 3 and t not in STOPWORDS and t not in MARKERS for seg in segs for t in seg)
                      for segs in segments], dtype=bool)  # a street alone counts: it is an address
    ctx.informative[todo] = wordy[red_codes[codes]]
    ctx.bar.step("matching names")
    proposal = _resolve(ctx, todo, segments, red_codes[codes], "address")
    prior_matched = rows.status[todo] == "matched"
    adds_kel = (proposal.status == "matched") & (proposal.kode_kel != "")
    same_kec = proposal.kode_kec == rows.kode_kec[todo]
    for j in np.flatnonzero(prior_matched & adds_kel & ~same_kec):
        rows.notes[todo[j]] += f"address names {proposal.kode_kel[j]}, outside the kecamatan column; "
    rows.merge(proposal.subset(~prior_matched | (adds_kel & same_kec)))


def nik_step(ctx: Context, rows: Rows) -> None:
    """NIK region code (digits 1-6) -> kecamatan, for rows still without a match."""
    ctx.bar.step("NIK region codes")
    kec_known = np.array(sorted(set(map(str, ctx.areas.kecamatan["kode"]))), dtype=object)
    todo = np.flatnonzero((rows.status != "matched") & ctx.nik_ok)
    known = np.isin(ctx.nik_kec[todo], kec_known)
    prior = rows.reason[todo]
    reason = np.where(known, np.where(prior != "", "kecamatan from the NIK region code (" + prior + ")",
                                      "kecamatan from the NIK region code"),
                      np.where(prior != "", prior + "; ", "") + "NIK region " + ctx.nik_kec[todo]
                      + " is not in the area set").astype(object)
    size = len(todo)
    rows.merge(Proposal(todo, np.where(known, "matched", rows.status[todo]).astype(object),
                        np.full(size, "", dtype=object), np.where(known, ctx.nik_kec[todo], "").astype(object),
                        np.where(known, 60.0, 0.0), reason, rows.candidates[todo].copy(),
                        np.where(known, "nik", "").astype(object)), failure_prefix=False)


#: The cascade, in order: later steps only see what earlier ones left open.
STEPS = (coordinates_step, columns_step, address_step, nik_step)


_AREA_IN_ADDRESS = re.compile(r"\b(kota(?:madya)?|kab(?:upaten)?|kodya|kec(?:amatan)?)\b\.?\s*([a-z][a-z .'-]{2,40}?)"
                              r"\s*(?=[,;/()]|\bkab|\bkota|\bprov|$)", re.I)


def _foreign_area(alamat: str, kecamatan: str, gaz: Gazetteer) -> str:
    """A kab/kota or kecamatan named in the row that the area set does not have ('' when none).

    Spelling slips of known names do not count (rapidfuzz ratio 85 or more to a known key).
    """
    from rapidfuzz import fuzz, process

    named = [(m.group(1).lower(), m.group(2).strip()) for m in _AREA_IN_ADDRESS.finditer(alamat)]
    if kecamatan:
        named.append(("kec", re.sub(r"^\s*kec(amatan)?\.?\s*", "", kecamatan, flags=re.I)))
    for marker, name in named:
        key = name_key(name)
        known = gaz.kec_keys if marker.startswith("kec") else gaz.kab_keys
        if len(key) < 3 or key in known or key in gaz.kab_keys or key in gaz.kec_keys:
            continue
        if known and process.extractOne(key, list(known), scorer=fuzz.ratio, score_cutoff=85.0):
            continue
        return f"{'kecamatan' if marker.startswith('kec') else 'kab/kota'} {name}"
    return ""


def doubt_foreign_rows(ctx: Context, rows: Rows) -> None:
    """A name match whose NIK *and* address both point outside the area set is not a match.

    Kelurahan names repeat across Indonesia (Sukarame is in Bandar Lampung and in Palembang): when a
    row's NIK was issued in a kab/kota outside the area set and its address (or kecamatan column)
    names a kab/kota or kecamatan the area set does not have, the resident most likely lives there,
    so the row becomes ``ambiguous`` with both facts in the reason. In a register whose NIKs mostly
    come from elsewhere (over `FOREIGN_SHARE`: the list belongs to another kab/kota) a name match
    with such a NIK is doubted even when the address names nothing else. A NIK from elsewhere alone
    stays a match (people move; ``nik_kec_mismatch`` says so).
    """
    kab_codes = {str(k)[:5] for k in ctx.areas.kecamatan["kode"]}
    nik_kab = np.array([k[:5] for k in ctx.nik_kec], dtype=object)
    by_name = np.array([str(m).startswith(("columns", "address")) for m in rows.method], dtype=bool)
    foreign = ctx.nik_ok & ~np.isin(nik_kab, list(kab_codes))
    share = foreign.sum() / max(int(ctx.nik_ok.sum()), 1)
    todo = np.flatnonzero((rows.status == "matched") & by_name & foreign)
    for i in todo:
        elsewhere = _foreign_area(ctx.alamat[i], ctx.kec_col[i], ctx.gazetteer)
        if not elsewhere and share > FOREIGN_SHARE:
            elsewhere = f"nothing else, but {share:.0%} of the register's NIKs are from outside the area set"
        if not elsewhere:
            continue
        rows.candidates[i] = f"{rows.kode_kel[i] or rows.kode_kec[i]} {rows.reason[i]}"
        rows.reason[i] = (f"name matches {rows.kode_kel[i] or rows.kode_kec[i]} only by name: the NIK was issued in "
                          f"{nik_kab[i]} and the row names {elsewhere}, both outside the area set")
        rows.status[i], rows.level[i], rows.kode_kel[i], rows.kode_kec[i] = "ambiguous", "", "", ""
        rows.score[i] = 0.0


def _finish(ctx: Context, rows: Rows) -> None:
    """What is left: unmatched, or invalid when the row has nothing to locate it by."""
    reg = ctx.register
    left = rows.status != "matched"
    nothing = (~ctx.informative & (ctx.kel_col == "") & (ctx.kec_col == "") & (ctx.coord_note == "")
               & ~ctx.by_point & ~ctx.nik_ok)
    row_problem = (reg["row_problem"] if "row_problem" in reg.columns
                   else pd.Series("", index=reg.index)).fillna("").astype(str).to_numpy(dtype=object)
    nik_problem = reg["nik_problem"].fillna("").astype(str).to_numpy(dtype=object)
    invalid = left & nothing
    rows.status[invalid] = "invalid"
    for i in np.flatnonzero(invalid):
        why = [p for p in (row_problem[i], nik_problem[i]) if p]
        rows.reason[i] = "nothing to locate the row by: no usable address, area name, coordinates or valid NIK" + (
            f" ({'; '.join(why)})" if why else "")
    rows.reason[left & ~invalid & (rows.reason == "")] = "no area name found"
    noted = rows.notes != ""
    rows.reason[noted] = rows.reason[noted] + " [" + np.array([x.rstrip("; ") for x in rows.notes[noted]],
                                                               dtype=object) + "]"


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
    ctx = Context(register, areas, gaz, Resolver(gaz), _Progress(progress, len(register)))
    rows = Rows(len(register))
    for step in STEPS:
        step(ctx, rows)
    doubt_foreign_rows(ctx, rows)
    _finish(ctx, rows)
    ctx.bar.close()
    out = register.copy()
    for column in ("status", "level", "kode_kel", "kode_kec", "method", "score", "reason"):
        out[column] = getattr(rows, column)
    out["nik_kec_mismatch"] = (rows.status == "matched") & ctx.nik_ok & (ctx.nik_kec != rows.kode_kec)
    out["candidates"] = rows.candidates
    assert all(c in out.columns for c in GEOCODE_COLUMNS)
    out.attrs["warnings"] = fit_warnings(out, areas)
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


# ---- helpers of the steps ---------------------------------------------------------------------
def _resolve(ctx: Context, todo: np.ndarray, segments: list, codes: np.ndarray, how: str) -> Proposal:
    """Resolve each distinct segment tuple once; re-resolve with the NIK region only where ambiguous."""
    results = [ctx.resolver.resolve(seg) for seg in segments]
    matches = [results[c][0] for c in codes]
    methods = [how + ("_fuzzy" if results[c][1] else "") for c in codes]
    nik_kec = ctx.nik_kec[todo]
    for j in np.flatnonzero(np.array([m.status == "ambiguous" for m in matches], dtype=bool) & (nik_kec != "")):
        m, fuzzy = ctx.resolver.resolve(segments[codes[j]], nik_kec[j])
        matches[j] = m
        methods[j] = how + ("_fuzzy" if fuzzy else "") + ("_nik" if m.status == "matched" else "")
    return Proposal.of_matches(todo, matches, methods)


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


def _point_in_kelurahan(frame: pd.DataFrame, areas) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index of the kelurahan containing each point (-1 if none), whether lat/lon were swapped, and notes."""
    n = len(frame)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float)
    has = np.isfinite(lat) & np.isfinite(lon) & ~((lat == 0) & (lon == 0))
    found = np.full(n, -1, dtype=np.int64)
    swapped = np.zeros(n, dtype=bool)
    note = np.full(n, "", dtype=object)
    tree = shapely.STRtree(areas.kelurahan.geometry.values)
    for attempt, (x, y) in enumerate(((lon, lat), (lat, lon))):
        todo = np.flatnonzero(has & (found < 0))
        if not len(todo):
            break
        src, hit = tree.query(shapely.points(x[todo], y[todo]), predicate="within")
        if len(src):
            first = np.unique(src, return_index=True)
            found[todo[first[0]]] = hit[first[1]]
            if attempt == 1:
                swapped[todo[first[0]]] = True
    note[has & (found < 0)] = "coordinates outside the area set"
    note[~has & (np.isfinite(lat) | np.isfinite(lon))] = "coordinates not usable (one missing, or 0,0)"
    return found, swapped, note
