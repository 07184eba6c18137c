"""Pure rules of a case and of every record in it: instants, case codes, facts, status moves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Final

from ruta_shared.aggregate import RuleViolationError
from ruta_shared.reference import OFFICE_CODES, CaseStatus
from ruta_shared.security.break_glass import BreakGlassError, check_justification
from ruta_shared.security.settings import SecuritySettings

# Clocks of phones and servers drift: an instant this close to "now" is not "in the future".
CLOCK_SKEW: Final = timedelta(minutes=5)
EARLIEST: Final = datetime(1990, 1, 1, tzinfo=UTC)


@contextmanager
def field_prefix(prefix: str) -> Iterator[None]:
    """Re-raise RuleViolationErrors with `prefix.` before their field (e.g. `body.victims.0`)."""
    try:
        yield
    except RuleViolationError as exc:
        if exc.field is None:
            raise
        raise RuleViolationError(
            f"{prefix}.{exc.field}",
            exc.message,
            status_code=exc.status_code,
            code=exc.code,
            kind=exc.kind,
        ) from None


def utc_now() -> datetime:
    """Now in UTC, to the millisecond (what BSON stores, so a write reads back unchanged)."""
    return to_millis(datetime.now(UTC))


def to_millis(instant: datetime) -> datetime:
    """An instant in UTC truncated to the millisecond."""
    utc = instant.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def case_code(office: str, year: int, number: int) -> str:
    """The readable case code, e.g. LIM-2026-0042 (number per office and Peruvian year)."""
    return f"{OFFICE_CODES[office]}-{year:04d}-{number:04d}"


def check_instant(field: str, instant: datetime, now: datetime) -> datetime:
    """A past instant in UTC; RuleViolationError when in the future or implausibly old."""
    if instant > now + CLOCK_SKEW:
        raise RuleViolationError(field, "la fecha no puede estar en el futuro")
    if instant < EARLIEST:
        raise RuleViolationError(field, "la fecha es anterior a 1990")
    return to_millis(instant)


def check_arrival(channel: str, institution_kind: str | None, *, prefix: str = "body") -> None:
    """The referring institution is given exactly when an institution referred the case."""
    if channel == "institution_referral" and institution_kind is None:
        raise RuleViolationError(
            f"{prefix}.referring_institution_kind", "indique qué tipo de institución derivó el caso"
        )
    if channel != "institution_referral" and institution_kind is not None:
        raise RuleViolationError(
            f"{prefix}.referring_institution_kind",
            "solo se indica cuando el caso llegó derivado por una institución",
        )


# Which statuses a case may move to through the status route (closing and reopening have
# their own routes, because they carry a reason and need their own events).
STATUS_MOVES: Final[dict[CaseStatus, frozenset[CaseStatus]]] = {
    "open": frozenset({"in_care"}),
    "in_care": frozenset({"open"}),
    "closed": frozenset(),
}


def check_status_move(current: CaseStatus, target: CaseStatus) -> None:
    """RuleViolationError (409) unless `current → target` is an allowed plain status change."""
    if current == "closed":
        raise RuleViolationError(
            "status", "el caso está cerrado: reábralo antes de cambiar su estado", status_code=409
        )
    if target == "closed":
        raise RuleViolationError(
            "status", "para cerrar un caso use la ruta de cierre con un motivo"
        )
    if target not in STATUS_MOVES[current]:
        raise RuleViolationError("status", "el caso ya tiene ese estado", status_code=409)


def check_not_closed(status: CaseStatus) -> None:
    """RuleViolationError (409) when the case is closed (no changes until it is reopened)."""
    if status == "closed":
        raise RuleViolationError(
            "case_id", "el caso está cerrado: reábralo para registrar cambios", status_code=409
        )


def dedupe(values: list[str]) -> list[str]:
    """The values once each, in their first order."""
    return list(dict.fromkeys(values))


def justification_long_enough(justification: str, settings: SecuritySettings) -> None:
    """A too-short break-glass justification is a 422 naming `justification` (for the form)."""
    try:
        check_justification(justification, settings.break_glass_min_justification)
    except BreakGlassError as error:
        raise RuleViolationError("body.justification", str(error)) from error
