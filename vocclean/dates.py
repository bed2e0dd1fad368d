"""A record's date as a day number, for comparing how far apart two stories were published.

Scraped dumps write dates every way: ``20220924``, ``2022-01-25 11:36:29``,
``2022-01-25T11:36:29+08:00``, ``2022/1/25``, ``2022年1月25日``, or seconds
(milliseconds) since 1970 as a number. ``day_number`` reads the calendar
date as written (a time of day and a zone are ignored: a window of days does
not need them) and gives its proleptic Gregorian ordinal, or ``UNDATED``
when the value holds no valid date.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

__all__ = ["UNDATED", "day_number"]

UNDATED = 0  # ordinals start at 1 (0001-01-01)
_COMPACT = re.compile(r"\s*(\d{4})(\d{2})(\d{2})(?!\d)")
_SEPARATED = re.compile(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)")
_MILLISECONDS = 1e11  # an epoch number above this is in milliseconds (1e11 s is the year 5138)


def day_number(value: Any) -> int:
    """The day of ``value`` (a date string or epoch seconds/milliseconds) as an ordinal; else ``UNDATED``."""
    if isinstance(value, str):
        found = _COMPACT.match(value) or _SEPARATED.match(value)
        if found is None:
            return UNDATED
        year, month, day = (int(part) for part in found.groups())
        try:
            return datetime.date(year, month, day).toordinal()
        except ValueError:
            return UNDATED
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if abs(value) > _MILLISECONDS else value
        try:
            return datetime.datetime.fromtimestamp(seconds, datetime.UTC).date().toordinal()
        except (ValueError, OverflowError, OSError):  # NaN, out of range
            return UNDATED
    return UNDATED
