"""The tables passed between stages (ARCHITECTURE.md): one check that a table has the columns a stage needs.

Why one place: every stage refuses a half-made table up front with the same kind of message (which
columns are missing, what was expected, where it usually comes from) instead of failing later
with a KeyError deep inside a solver.
"""

from __future__ import annotations

import pandas as pd


def require_columns(frame: pd.DataFrame, columns, what: str, source: str = "") -> None:
    """Raise ValueError naming the missing columns of `frame` (called `what`), if any.

    `source` says where such a table comes from, e.g. "demand.gaps", and is added to the message.
    """
    columns = list(columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        origin = f" ({source} output)" if source else ""
        raise ValueError(f"{what}{origin}: missing columns {missing}; needs {columns} (see ARCHITECTURE.md)")
