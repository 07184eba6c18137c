"""Pure domain rules of intake: dates in Lima time, case codes, age groups, status changes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Final

from ruta_shared.reference import OFFICE_CODES, AgeGroup, CaseStatus

ADULT_AGE: Final = 18
MAX_AGE: Final = 120
# Clocks of phones and servers drift: an instant this close to "now" is not "in the future".
CLOCK_SKEW: Final = timedelta(minutes=5)
EARLIEST: Final = datetime(1990, 1, 1, tzinfo=UTC)


class RuleError(Exception):
    """Input that breaks a domain rule: answered 4xx naming the field, in Spanish."""

    def __init__(self, field: str, message: str, *, status_code: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status_code = status_code


@contextmanager
def field_prefix(prefix: str) -> Iterator[None]:
    """Re-raise RuleErrors with `prefix.` before their field (e.g. `body.victims.0`)."""
    try:
        yield
    except RuleError as exc:
        raise RuleError(f"{prefix}.{exc.field}", exc.message, status_code=exc.status_code) from None


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
    """A past instant in UTC; RuleError when it is in the future or implausibly old."""
    if instant > now + CLOCK_SKEW:
        raise RuleError(field, "la fecha no puede estar en el futuro")
    if instant < EARLIEST:
        raise RuleError(field, "la fecha es anterior a 1990")
    return to_millis(instant)


def check_day(field: str, day: date, *, today: date, not_before: date | None = None) -> date:
    """A calendar day that is not in the future (nor before `not_before`)."""
    if day > today:
        raise RuleError(field, "la fecha no puede estar en el futuro")
    if not_before is not None and day < not_before:
        raise RuleError(field, "la fecha es anterior a la apertura del caso")
    return day


def age_on(birth: date, day: date) -> int:
    """Completed years of age on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def group_of(age: int) -> AgeGroup:
    """Minor under 18, adult otherwise."""
    return "minor" if age < ADULT_AGE else "adult"


def derive_age(
    *,
    birth_date: date | None,
    stated_age: int | None,
    stated_group: AgeGroup | None,
    intake_date: date,
) -> tuple[int | None, AgeGroup]:
    """Age at intake and age group, from the birth date or the stated age; never contradictory.

    The birth date wins when given; a stated age or group must agree with it. Without
    either, the stated group stands (a case worker may see that a child is a minor), or
    the group is unknown.
    """
    age = stated_age
    if birth_date is not None:
        if birth_date > intake_date:
            raise RuleError(
                "personal_data.birth_date", "la fecha de nacimiento es posterior a la atención"
            )
        computed = age_on(birth_date, intake_date)
        if computed > MAX_AGE:
            raise RuleError("personal_data.birth_date", "la fecha de nacimiento no es plausible")
        if stated_age is not None and stated_age != computed:
            raise RuleError(
                "age_at_intake",
                f"no coincide con la fecha de nacimiento (edad calculada: {computed})",
            )
        age = computed
    if age is None:
        return None, stated_group or "unknown"
    group = group_of(age)
    if stated_group is not None and stated_group != group:
        raise RuleError(
            "age_group",
            f"contradice la edad al ingreso ({age} años)",
        )
    return age, group


# Which statuses a case may move to through the status route (closing and reopening have
# their own routes, because they carry a reason and need their own events).
STATUS_MOVES: Final[dict[CaseStatus, frozenset[CaseStatus]]] = {
    "open": frozenset({"in_care"}),
    "in_care": frozenset({"open"}),
    "closed": frozenset(),
}


def check_status_move(current: CaseStatus, target: CaseStatus) -> None:
    """RuleError (409) unless `current → target` is an allowed plain status change."""
    if current == "closed":
        raise RuleError(
            "status", "el caso está cerrado: reábralo antes de cambiar su estado", status_code=409
        )
    if target == "closed":
        raise RuleError("status", "para cerrar un caso use la ruta de cierre con un motivo")
    if target not in STATUS_MOVES[current]:
        raise RuleError("status", "el caso ya tiene ese estado", status_code=409)


def check_not_closed(status: CaseStatus) -> None:
    """RuleError (409) when the case is closed (no changes until it is reopened)."""
    if status == "closed":
        raise RuleError(
            "case_id", "el caso está cerrado: reábralo para registrar cambios", status_code=409
        )


def check_guardian(age_group: AgeGroup, given_by: str) -> None:
    """A minor's consent is given by a guardian."""
    if age_group == "minor" and given_by != "guardian":
        raise RuleError(
            "given_by",
            "el consentimiento de una persona menor de edad lo da su madre, padre o tutor",
        )


def dedupe(values: list[str]) -> list[str]:
    """The values once each, in their first order."""
    return list(dict.fromkeys(values))
