"""Pure rules of care records: the day care was given."""

from __future__ import annotations

from datetime import date

from ruta_shared.aggregate import RuleViolationError


def check_day(field: str, day: date, *, today: date, not_before: date | None = None) -> date:
    """A calendar day that is not in the future (nor before `not_before`)."""
    if day > today:
        raise RuleViolationError(field, "la fecha no puede estar en el futuro")
    if not_before is not None and day < not_before:
        raise RuleViolationError(field, "la fecha es anterior a la apertura del caso")
    return day
