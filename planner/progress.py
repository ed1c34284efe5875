"""The weekly loop: mark who was recorded or not found, keep the register state for next week.

Outreach is a campaign: each week the teams record some residents, find that others moved, died or
hold another NIK, and the coordinator re-plans the rest. The *register state* is the geocoded
register plus three columns:

* ``state``: ``unrecorded``, ``recorded`` or ``not_found``;
* ``not_found_reason``: ``moved``, ``died`` or ``other_nik`` (empty unless not found);
* ``week``: ISO date of the Monday of the week the state changed (empty while unrecorded).

Rows are never added or removed, so ``recorded + not_found + unrecorded`` always equals the rows the
campaign started with. A NIK on a weekly list that is not in the register, or that was already
closed, is reported (``issues``), never added. The state holds personal data (NIK, names, addresses):
it is written under a ``private/`` folder that must not be shared.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from planner.contracts import STATE_COLUMNS, STATES, require_columns
from planner.errors import InputError, MissingFileError
from planner.privacy import private_folder
from planner.register import clean_nik, nik_problem
from planner.tables import read_own_csv, read_table, write_csv

REASONS = ("moved", "died", "other_nik")
#: words offices write in a "not found" list -> reason
REASON_WORDS = {
    "moved": "moved", "pindah": "moved", "pindah domisili": "moved", "pindah alamat": "moved",
    "died": "died", "dead": "died", "meninggal": "died", "meninggal dunia": "died", "wafat": "died",
    "other_nik": "other_nik", "other nik": "other_nik", "nik lain": "other_nik", "nik ganda": "other_nik",
    "ganda": "other_nik", "duplicate": "other_nik",
}
_DATE_COLUMNS = ("tgl_lahir", "nik_tgl_lahir")
_BOOL_COLUMNS = ("home_visit", "nik_valid", "nik_dob_mismatch", "nik_sex_mismatch", "nik_kec_mismatch",
                 "true_names_kel", "true_names_kec")
_FLOAT_COLUMNS = ("lat", "lon", "score")
ISSUE_COLUMNS = ["list", "nik", "reason"]


@dataclasses.dataclass
class Progress:
    """Result of `apply`: the new state, NIKs that could not be applied (with why), and counts."""

    state: pd.DataFrame
    issues: pd.DataFrame
    before: dict
    after: dict
    week: dt.date

    def summary(self) -> pd.DataFrame:
        """Counts before and after, one row per state (aggregates only: safe to share)."""
        rows = [{"state": s, "before": self.before[s], "after": self.after[s]} for s in (*STATES, "total")]
        return pd.DataFrame(rows)


def initial_state(geocoded: pd.DataFrame) -> pd.DataFrame:
    """Register state at the start of a campaign: every row unrecorded."""
    require_columns(geocoded, ["nik", "status", "kode_kel"], "the geocoded register", "geocode.geocode")
    state = geocoded.copy()
    if "row" not in state:
        state.insert(0, "row", np.arange(1, len(state) + 1))
    state["nik"] = state["nik"].map(_clean)
    state["state"] = "unrecorded"
    state["not_found_reason"] = ""
    state["week"] = ""
    return state.reset_index(drop=True)


def _clean(value) -> str:
    return clean_nik(value)


def check_state(state: pd.DataFrame) -> pd.DataFrame:
    """Raise ValueError when a frame is not a register state (wrong columns or state values)."""
    missing = [c for c in ["nik", "status", "kode_kel", *STATE_COLUMNS] if c not in state.columns]
    if missing:
        raise InputError(f"not a register state: missing columns {missing} "
                         "(write one with `planner plan`, it is private/register-state.csv)")
    bad = sorted(set(state["state"].astype(str)) - set(STATES))
    if bad:
        raise InputError(f"register state has unknown state values {bad}; expected one of {list(STATES)}")
    return state


def counts(state: pd.DataFrame) -> dict:
    """Rows per state and the total: ``{unrecorded, recorded, not_found, total}``."""
    check_state(state)
    values = state["state"].value_counts()
    out = {s: int(values.get(s, 0)) for s in STATES}
    out["total"] = int(len(state))
    return out


def open_rows(state: pd.DataFrame) -> pd.DataFrame:
    """The geocoded register of residents still unrecorded: what next week's plan starts from."""
    check_state(state)
    return state[state["state"] == "unrecorded"].reset_index(drop=True)


def next_week(state: pd.DataFrame) -> dt.date | None:
    """Monday after the last week recorded in the state (None when nothing changed yet)."""
    weeks = pd.to_datetime(state["week"].replace("", np.nan), errors="coerce").dropna()
    return None if weeks.empty else (weeks.max() + pd.Timedelta(days=7)).date()


def write_state(state: pd.DataFrame, path: str | Path) -> Path:
    """Write the register state as CSV (personal data: keep it in a private folder)."""
    check_state(state)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = state.copy()
    for column in _DATE_COLUMNS:
        if column in out:
            out[column] = pd.to_datetime(out[column], errors="coerce").dt.strftime("%Y-%m-%d")
    return write_csv(out, path)


def read_state(path: str | Path) -> pd.DataFrame:
    """Read a register state written by `write_state`, with dates, flags and numbers typed again."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "register state (`planner plan` writes it to OUT/private/register-state.csv)")
    try:
        state = read_own_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path} is not a register state written by planner ({exc})") from None
    check_state(state)
    for column in _DATE_COLUMNS:
        if column in state:
            state[column] = pd.to_datetime(state[column].replace("", np.nan), errors="coerce")
    for column in _BOOL_COLUMNS:
        if column in state:
            state[column] = state[column].str.lower().isin(["true", "1"])
    for column in (*_FLOAT_COLUMNS, "row"):
        if column in state:
            state[column] = pd.to_numeric(state[column].replace("", np.nan), errors="coerce")
    state["row"] = state["row"].astype("int64")
    return state


def read_list(path: str | Path, with_reason: bool = False) -> pd.DataFrame:
    """Read a weekly list of NIKs (CSV or XLSX with a ``nik`` column; a one-column file needs no header name).

    With `with_reason` a ``reason`` (or ``alasan``) column is read too and normalised to
    ``moved``/``died``/``other_nik`` (Indonesian words such as *pindah*, *meninggal* are understood).
    Rows with a blank or malformed NIK are kept (``nik`` empty or as written, ``line`` the file's
    line) so that `apply` counts and reports them: a list never loses a row silently.
    """
    path = Path(path)
    what = "not-found list" if with_reason else "recorded list"
    frame, _ = read_table(path, what=what, looks_right=_list_header, error=InputError)
    lines = frame.pop("__line").to_numpy()
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("__")])
    columns = {str(c).strip().lower(): c for c in frame.columns}
    if "nik" in columns:
        nik = frame[columns["nik"]]
    elif len(frame.columns) == 1:
        nik = frame.iloc[:, 0]
        if _clean(frame.columns[0]).isdigit():  # no header: the first line is a NIK too
            nik = pd.concat([pd.Series([str(frame.columns[0])]), nik], ignore_index=True)
            lines = np.concatenate([[1], lines])
    else:
        raise InputError(f"{path}: no 'nik' column (columns are {list(frame.columns)})")
    out = pd.DataFrame({"nik": nik.map(_clean).to_numpy(), "written": nik.astype(str).to_numpy(), "line": lines})
    if with_reason:
        key = columns.get("reason", columns.get("alasan"))
        if key is None:
            raise InputError(f"{path}: a not-found list needs a 'reason' column (moved, died or other_nik)")
        out["reason"] = frame[key].fillna("").to_numpy()
    return out


def _list_header(header: list[str]) -> bool:
    """A NIK list's header names a nik column, or is one column (possibly a NIK itself)."""
    names = [h.strip().lower() for h in header if h.strip()]
    return "nik" in names or len(names) == 1


def normalise_reason(value) -> str:
    """'Pindah' -> 'moved', 'meninggal dunia' -> 'died', 'NIK lain' -> 'other_nik'; ValueError otherwise."""
    key = " ".join(str(value).strip().lower().replace("_", " ").split())
    if key.replace(" ", "_") in REASONS:
        return key.replace(" ", "_")
    if key in REASON_WORDS:
        return REASON_WORDS[key]
    raise InputError(f"not-found reason {value!r} not understood; expected one of {list(REASONS)} "
                     "(or pindah, meninggal, nik lain)")


def apply(state: pd.DataFrame, recorded, not_found=None, *, week: dt.date) -> Progress:
    """Mark this week's recorded and not-found residents in the register state.

    Parameters
    ----------
    state
        Register state (`initial_state`, `read_state`).
    recorded
        NIKs recorded this week: a list or a frame with a ``nik`` column.
    not_found
        Frame ``[nik, reason]`` of residents not found at their address (reason moved/died/other_nik).
    week
        Monday of the week the lists belong to.

    Returns
    -------
    Progress
        The new state (a copy), ``issues [list, nik, reason]`` for NIKs not applied (not in the
        register, already closed, on both lists, listed twice), and counts before/after. A NIK on
        several register rows (duplicate entries) closes all of them.
    """
    check_state(state)
    issues: list[tuple[str, str, str]] = []
    rec = _usable("recorded", _as_list(recorded), issues)
    nf = (pd.DataFrame(columns=["nik", "reason"]) if not_found is None else pd.DataFrame(not_found).copy())
    if "nik" not in nf or "reason" not in nf:
        raise InputError("not_found needs columns nik and reason")
    nf = _usable("not_found", nf, issues)
    nf["reason"] = nf["reason"].map(normalise_reason)
    new = state.copy()
    before = counts(state)
    both = set(rec["nik"]) & set(nf["nik"])
    for nik in sorted(both):
        issues.append(("not_found", nik, "also on the recorded list: kept as recorded"))
    nf = nf[~nf["nik"].isin(both)]
    where = new.groupby("nik").indices
    week_text = week.isoformat()
    for name, frame in (("recorded", rec), ("not_found", nf)):
        seen = set()
        for nik, reason in zip(frame["nik"], frame["reason"] if "reason" in frame else [""] * len(frame)):
            if nik in seen:
                issues.append((name, nik, "listed twice"))
                continue
            seen.add(nik)
            rows = where.get(nik)
            if rows is None:
                issues.append((name, nik, "not in the register (not added)"))
                continue
            current = new.loc[rows, "state"]
            if (current != "unrecorded").all():
                issues.append((name, nik, f"already {current.iloc[0]} in week {new.loc[rows[0], 'week']}"))
                continue
            rows = rows[(current == "unrecorded").to_numpy()]
            if len(rows) > 1:
                issues.append((name, nik, f"closes {len(rows)} register rows with the same NIK (duplicate "
                                          "entries in the register: check them)"))
            new.loc[rows, "state"] = name
            new.loc[rows, "not_found_reason"] = reason if name == "not_found" else ""
            new.loc[rows, "week"] = week_text
    after = counts(new)
    if after["total"] != before["total"]:  # cannot happen: rows are only relabelled
        raise AssertionError("register state lost rows")
    return Progress(new, pd.DataFrame(issues, columns=ISSUE_COLUMNS), before, after, week)


def _as_list(values) -> pd.DataFrame:
    """A recorded list as a frame with ``nik`` (from a list of NIKs or a frame)."""
    if isinstance(values, pd.DataFrame):
        if "nik" not in values:
            raise InputError("the recorded list needs a 'nik' column")
        return values.copy()
    return pd.DataFrame({"nik": list(values)})


def _usable(name: str, frame: pd.DataFrame, issues: list) -> pd.DataFrame:
    """The rows of a list with a well-formed NIK; every other row becomes an issue (never dropped)."""
    frame = frame.copy()
    written = frame["written"] if "written" in frame else frame["nik"]
    frame["nik"] = frame["nik"].map(_clean)
    lines = frame["line"] if "line" in frame else pd.Series(range(2, len(frame) + 2), index=frame.index)
    ok = frame["nik"].astype(str).str.fullmatch(r"\d{16}").fillna(False).astype(bool)
    for raw, line, nik in zip(written[~ok], lines[~ok], frame["nik"][~ok]):
        problem = nik_problem(raw) if str(raw).strip() else "no NIK"
        issues.append((name, nik or "", f"line {line}: {'blank NIK' if problem == 'no NIK' else problem}"))
    return frame[ok].reset_index(drop=True)


def gaps(state: pd.DataFrame, areas, as_of: dt.date, election_date: dt.date | None = None) -> pd.DataFrame:
    """Gaps per kelurahan (demand.gaps) of the residents still unrecorded in the state."""
    from planner import demand

    return demand.gaps(open_rows(state), areas, as_of=as_of, election_date=election_date)


def simulate_lists(state: pd.DataFrame, plan, *, share: float = 1.0, not_found_share: float = 0.0,
                   whole_kelurahan: bool = False, seed: int = 0) -> tuple[list[str], pd.DataFrame]:
    """Generated weekly lists for tests, demos and what-ifs: who a plan's teams would record.

    For every kelurahan in the plan's assignment, `share` of the residents assigned (by class) are
    drawn from its unrecorded kelurahan-level rows; every home visit scheduled records one
    home-visit resident. `not_found_share` of those drawn go on the not-found list instead (reasons
    drawn moved 60%, died 25%, other NIK 15%). With `whole_kelurahan`, every unrecorded resident of
    the visited kelurahan is drawn (the teams swept them).
    """
    from planner.demand import classify

    if not 0 <= share <= 1 or not 0 <= not_found_share <= 1:
        raise InputError(f"share and not_found_share must be between 0 and 1 (got {share}, {not_found_share})")
    rng = np.random.default_rng(seed)
    rows = open_rows(state)
    rows = rows[(rows["status"] == "matched") & (rows["level"] == "kelurahan")]
    election = plan.meta.get("election_date") or None
    klass = classify(rows, plan.week_start, dt.date.fromisoformat(str(election)) if election else None)
    rows = rows.assign(_klass=klass.to_numpy())
    chosen: list[str] = []
    assigned = plan.assignment.groupby("kode_kel")[["pemula", "lansia", "umum"]].sum() if len(plan.assignment) \
        else pd.DataFrame(columns=["pemula", "lansia", "umum"])
    visits = plan.schedule[plan.schedule["job_kind"] == "home_visit"] if len(plan.schedule) else plan.schedule
    wanted = {(k, c): int(round(share * n)) for k, r in assigned.iterrows() for c, n in r.items() if n > 0}
    for kode_kel, n in (visits.groupby("kode_kel").size().items() if len(visits) else []):
        wanted[(str(kode_kel), "home_visit")] = wanted.get((str(kode_kel), "home_visit"), 0) + int(n)
    by = rows.groupby(["kode_kel", "_klass"]).indices
    visited = {k for k, _ in wanted}
    for key in sorted(by):
        members = rows["nik"].to_numpy()[by[key]]
        if whole_kelurahan and key[0] in visited:
            chosen.extend(members)
        elif key in wanted:
            take = min(wanted[key], len(members))
            chosen.extend(rng.choice(members, size=take, replace=False))
    chosen = list(dict.fromkeys(chosen))
    lost = rng.random(len(chosen)) < not_found_share
    reasons = rng.choice(list(REASONS), size=int(lost.sum()), p=[0.6, 0.25, 0.15])
    not_found = pd.DataFrame({"nik": np.asarray(chosen, dtype=object)[lost], "reason": reasons})
    return [n for n, x in zip(chosen, lost) if not x], not_found


def save_private(state: pd.DataFrame, out: str | Path) -> Path:
    """Write ``out/private/register-state.csv`` (and a README saying the folder must not be shared)."""
    return write_state(state, private_folder(out) / "register-state.csv")


def scenario_for_week(scenario, week_start: dt.date):
    """The same scenario, planning the week that starts on `week_start` (holidays before it dropped)."""
    holidays = [d for d in scenario.calendar.holidays if d >= week_start]
    calendar = scenario.calendar.model_copy(update={"week_start": week_start, "holidays": holidays})
    return scenario.model_copy(update={"calendar": calendar})
