"""Peruvian calendar time: every "today", year and month users see is judged in Lima.

Peru (America/Lima) has kept UTC-5 without daylight saving since 1994; slim images without
time zone data fall back to that fixed offset.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _lima() -> timezone | ZoneInfo:
    try:
        return ZoneInfo("America/Lima")
    except ZoneInfoNotFoundError:
        return timezone(timedelta(hours=-5), "America/Lima")


LIMA: Final = _lima()


def lima_date(instant: datetime) -> date:
    """The calendar date of an instant in Peru."""
    return instant.astimezone(LIMA).date()


def today_lima(now: datetime | None = None) -> date:
    """Today's date in Peru (or that of `now`)."""
    return lima_date(now or datetime.now(UTC))


def lima_day_start(day: date) -> datetime:
    """The first instant of a Peruvian calendar day, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=LIMA).astimezone(UTC)
