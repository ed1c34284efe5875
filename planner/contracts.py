"""The tables passed between stages (ARCHITECTURE.md): one check that a table has the columns a stage needs.

Why one place: every stage refuses a half-made table up front with the same kind of message (which
columns are missing, what was expected, where it usually comes from) instead of failing later
with a KeyError deep inside a solver.
"""

from __future__ import annotations

import re

import pandas as pd

_HALF_SESSION = re.compile(r"-h\d+$")


def require_columns(frame: pd.DataFrame, columns, what: str, source: str = "") -> None:
    """Raise ValueError naming the missing columns of `frame` (called `what`), if any.

    `source` says where such a table comes from, e.g. "demand.gaps", and is added to the message.
    """
    columns = list(columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        origin = f" ({source} output)" if source else ""
        raise ValueError(f"{what}{origin}: missing columns {missing}; needs {columns} (see ARCHITECTURE.md)")


def session_job_id(site_id, k: int, half: bool) -> str:
    """Id of the k-th (0-based) session job at a site: ``S-<site>-d<k+1>`` for a full session-day,
    ``S-<site>-h<k+1>`` for a half-day session (two per session-day)."""
    return f"S-{site_id}-{'h' if half else 'd'}{k + 1}"


def session_days_held(job_ids) -> float:
    """Session-days that the given session job ids add up to (a half-day session counts one half)."""
    ids = pd.Series(pd.unique(pd.Series(job_ids, dtype=str)))
    halves = int(ids.str.contains(_HALF_SESSION).sum())
    return float(len(ids) - halves + 0.5 * halves)
