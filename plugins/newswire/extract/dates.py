"""Finding dates in short free-text lines (by-lines, "Published ..." lines, date stamps).

Only unambiguous spellings are recognised: month names (English, full or abbreviated),
ISO dates and day.month.year with dots. Slashed dates (09/06/2016) are skipped: they mean
different days in different countries.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}
_MONTH = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"

_PATTERNS = [
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.I),  # September 06, 2016
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.I),  # 6 September 2016
    re.compile(rf"\b{_YEAR}-(?P<mnum>[01]\d)-(?P<day>[0-3]\d)\b"),  # 2016-09-06
    re.compile(rf"\b(?P<day>[0-3]?\d)\.(?P<mnum>[01]?\d)\.{_YEAR}\b"),  # 06.09.2016
]


def find_date(line: str) -> tuple[datetime | None, tuple[int, int]]:
    """The first valid date in ``line`` (UTC midnight) and its character span, or (None, (0, 0))."""
    for pattern in _PATTERNS:
        for match in pattern.finditer(line):
            parts = match.groupdict()
            month = int(parts["mnum"]) if parts.get("mnum") else _MONTHS[parts["month"].lower()[:3]]
            try:
                value = datetime(int(parts["year"]), month, int(parts["day"]), tzinfo=timezone.utc)
            except ValueError:
                continue
            return value, match.span()
    return None, (0, 0)
