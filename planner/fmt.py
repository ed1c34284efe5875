"""How dates, durations and numbers are written for people: Bahasa Indonesia, one place.

Maps, workbooks and day sheets all show the same 'Senin, 23 November 2026' and '1 j 35 mnt'; they
take these from here rather than from each other.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

HARI = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
BULAN = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
         "Oktober", "November", "Desember"]


def as_date(value) -> dt.date:
    """A date from a date, datetime, Timestamp or ISO string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(str(value)).date()


def hari_tanggal(value, short: bool = False) -> str:
    """2026-11-23 -> 'Senin, 23 November 2026' (short: 'Sen 23 Nov')."""
    d = as_date(value)
    if short:
        return f"{HARI[d.weekday()][:3]} {d.day} {BULAN[d.month - 1][:3]}"
    return f"{HARI[d.weekday()]}, {d.day} {BULAN[d.month - 1]} {d.year}"


def minutes_text(minutes: float) -> str:
    """95 -> '1 j 35 mnt'."""
    minutes = int(round(float(minutes)))
    return f"{minutes // 60} j {minutes % 60} mnt" if minutes >= 60 else f"{minutes} mnt"


def number(value) -> str:
    """1234 -> '1.234' (Indonesian thousands separator)."""
    return f"{int(round(float(value))):,}".replace(",", ".")
