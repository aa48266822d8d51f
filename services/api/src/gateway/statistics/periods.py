"""Programme years: the inspectorate's year runs from 1 April to 31 March, and is written `2024-25`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

FIRST_MONTH = 4
"""A programme year starts on 1 April."""

_WRITTEN = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class ProgrammeYear:
    start_year: int
    """The calendar year it starts in: 2024 for 2024-25."""

    @classmethod
    def of(cls, day: date) -> ProgrammeYear:
        return cls(day.year if day.month >= FIRST_MONTH else day.year - 1)

    @classmethod
    def parse(cls, written: str) -> ProgrammeYear:
        """`2024-25`; a ValueError saying what is wrong otherwise."""
        matched = _WRITTEN.match(written.strip())
        if matched is None:
            raise ValueError(f"{written!r} is not a programme year: write it as 2024-25")
        start = int(matched.group(1))
        if int(matched.group(2)) != (start + 1) % 100:
            raise ValueError(f"{written!r} is not a programme year: the year after {start} ends in {(start + 1) % 100:02d}")
        return cls(start)

    @property
    def first_day(self) -> date:
        return date(self.start_year, FIRST_MONTH, 1)

    @property
    def last_day(self) -> date:
        return date(self.start_year + 1, FIRST_MONTH - 1, 31)

    @property
    def previous(self) -> ProgrammeYear:
        return ProgrammeYear(self.start_year - 1)

    def __str__(self) -> str:
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}"
