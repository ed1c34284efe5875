"""How dates, durations and numbers are written for people: in the reader's language (Babel), one place.

Maps, workbooks and day sheets all show the same 'Senin, 23 November 2026' and '1 j 35 mnt'; they
take these from here rather than from each other.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from planner.i18n import language, t, written


def as_date(value) -> dt.date:
    """A date from a date, datetime, Timestamp or ISO string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(str(value)).date()


def hari_tanggal(value, short: bool = False) -> str:
    """2026-11-23 -> 'Senin, 23 November 2026' (short: 'Sen 23 Nov'); English with --lang en."""
    from babel.dates import format_date

    return format_date(as_date(value), "EEE d MMM" if short else "EEEE, d MMMM y", locale=language())


def month_year(value) -> str:
    """2026-11-23 -> 'Nov 2026' (chart axes)."""
    from babel.dates import format_date

    return format_date(as_date(value), "MMM y", locale=language())


def weekday(value) -> str:
    """2026-11-23 -> 'Senin'."""
    from babel.dates import format_date

    return format_date(as_date(value), "EEEE", locale=language())


def minutes_text(minutes: float) -> str:
    """95 -> '1 j 35 mnt' ('1 h 35 min' in English)."""
    minutes = int(round(float(minutes)))
    return (t("{h} h {m} min", h=minutes // 60, m=minutes % 60) if minutes >= 60
            else t("{m} min", m=minutes))


def number(value) -> str:
    """1234 -> '1.234' (the language's thousands separator)."""
    return written(int(round(float(value))))
