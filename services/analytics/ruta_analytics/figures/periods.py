"""Time in the figures: period fields of a Peruvian day, and fixed-format timestamps."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final

# One fixed width so stored timestamps sort as text and survive MongoDB without losing
# microseconds (a BSON date keeps milliseconds only, and a rebuild must match exactly).
TIMESTAMP_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"


def stamp(moment: datetime) -> str:
    """A UTC timestamp as fixed-width text."""
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def parse_stamp(text: str) -> datetime:
    """The datetime of a `stamp()`."""
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def period_fields(day: date) -> dict[str, int | str]:
    """The period fields every fact carries: year, month and the day as text."""
    return {"year": day.year, "month": day.month, "day": day.isoformat()}
