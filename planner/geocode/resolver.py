"""Resolving one reduced address: find area mentions and pick the consistent (kelurahan, kecamatan).

A kelurahan name is always checked against a kecamatan (or kab/kota) named in the same row: names
repeat (Lampung has 14 desa called Sidodadi). Fuzzy matching (rapidfuzz) only runs on the words left
over after exact matching, once per unique string.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process

from planner.geocode.gazetteer import Gazetteer
from planner.geocode.names import FILLER, KAB_MARK, KEC_MARK, KEL_MARK, MARKERS, STOPWORDS, STREET_TAIL, _key


@dataclass(frozen=True)
class Span:
    """One mention of an area in a reduced address: candidate codes by role, and where it stands."""

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
            if self._extend_before(spans, seg, si, start, run, within_kec):
                continue
            if self._extend_after(spans, seg, si, start, run, within_kec):
                continue
            best = self._best_gram(run, role, within_kec)
            if best is not None:
                spans.append(self._fuzzy_span(best, within_kec, (si, start, start + len(run), role, best[0])))
        return spans

    def _longer_match(self, texts, span_role, span_key: str, within_kec: set[str]):
        """Best fuzzy candidate longer than `span_key` for any of the word runs in `texts`."""
        best = None
        for words in texts:
            key = _key(words)
            hits = (self._fuzzy_key(key, span_role, within_kec, 88.0, "local")
                    + self._fuzzy_key(key, span_role, set(), 88.0, "global"))
            for cand, score, kind in hits:
                if cand != span_key and len(cand) > len(span_key) and (best is None or score > best[1]):
                    best = (cand, score, kind, " ".join(words))
        return best

    def _extend_before(self, spans, seg, si, start, run, within_kec) -> bool:
        """A run right after an exact mention may complete it; True if the mention was replaced."""
        before = [j for j, sp in enumerate(spans) if sp.where and sp.where[0] == si and sp.where[2] == start]
        if not before:
            return False
        j = before[0]
        _, s0, _, span_role, span_key = spans[j].where
        best = self._longer_match([seg[s0:start + m] for m in range(1, len(run) + 1)], span_role, span_key,
                                  within_kec)
        if best is not None:
            spans[j] = self._fuzzy_span(best, within_kec, (si, s0, start + len(run), span_role, best[0]))
            self.extended = True
            return True
        if span_role in (None, "kel") and spans[j].kel and self._longer_names_tie(seg[s0:start + len(run)], span_key):
            # 'Kel. Rajabasa Haya': Rajabasa Raya or Rajabasa Jaya, surely not plain Rajabasa
            # the words are a kelurahan we cannot tell: they name nothing certain at all
            old = spans[j]
            spans[j] = Span((), (), (), old.text, True, old.where)
            self.extended = True
            return True
        return False

    def _extend_after(self, spans, seg, si, start, run, within_kec) -> bool:
        """A run right before an exact mention may be its first words; True if the mention was replaced."""
        end = start + len(run)
        after = [j for j, sp in enumerate(spans) if sp.where and sp.where[0] == si and sp.where[1] == end]
        if not after:
            return False
        j = after[0]
        _, _, e0, span_role, span_key = spans[j].where
        best = self._longer_match([seg[end - m:e0] for m in range(1, min(len(run), 2) + 1)], span_role, span_key,
                                  within_kec)
        if best is None:
            return False
        spans[j] = self._fuzzy_span(best, within_kec, (si, start, e0, span_role, best[0]))
        self.extended = True
        return True

    def _best_gram(self, run, role, within_kec: set[str]):
        """Best fuzzy candidate for a left-over run on its own (its n-grams, local scope first)."""
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
        for scope in (("local", "global") if within_kec else ("global",)):
            best = None
            for gram in grams:
                key = _key(gram)
                if len(key) < 3 or all(w in FILLER or w in STOPWORDS for w in gram):
                    continue
                for cand, score, kind in self._fuzzy_key(key, role, within_kec, cutoff, scope, local_cutoff):
                    if best is None or score > best[1]:
                        best = (cand, score, kind, " ".join(gram))
            if best is not None:
                return best
        return None

    def _longer_names_tie(self, words, span_key: str) -> bool:
        """Whether two or more longer kelurahan names fit these words about equally well."""
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
        """The consistent reading of the mentions (kelurahan inside a named kecamatan), or why none."""
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
                             f"of its kelurahan {kel}: kelurahan not certain){how}",
                             f"{kel} {g.kel_names.get(kel, '')}")
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
