"""Pure intake rules: Lima dates, case codes, age groups, status moves, consent by guardians."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from ruta_intake.cases.rules import case_code, check_instant, check_status_move
from ruta_intake.consent.rules import check_guardian
from ruta_intake.victims.rules import age_on, derive_age
from ruta_shared.aggregate import RuleViolationError
from ruta_shared.lima import lima_date


def test_the_year_of_a_case_is_the_year_in_peru() -> None:
    # 03:00 UTC on 1 January is still 31 December in Lima (UTC-5).
    assert lima_date(datetime(2027, 1, 1, 3, 0, tzinfo=UTC)) == date(2026, 12, 31)
    assert lima_date(datetime(2027, 1, 1, 5, 0, tzinfo=UTC)) == date(2027, 1, 1)
    assert case_code("lima", 2026, 42) == "LIM-2026-0042"
    assert case_code("madre_de_dios", 2026, 12345) == "MDD-2026-12345"


def test_age_counts_completed_years() -> None:
    assert age_on(date(2008, 6, 15), date(2026, 6, 14)) == 17
    assert age_on(date(2008, 6, 15), date(2026, 6, 15)) == 18


@pytest.mark.parametrize(
    ("birth", "age", "group", "expected"),
    [
        (date(2010, 1, 1), None, None, (16, "minor")),
        (date(2000, 1, 1), 26, "adult", (26, "adult")),
        (None, 17, None, (17, "minor")),
        (None, None, "minor", (None, "minor")),
        (None, None, None, (None, "unknown")),
    ],
)
def test_age_group_derives_from_birth_date_or_stated_age(
    birth: date | None, age: int | None, group: str | None, expected: tuple[int | None, str]
) -> None:
    assert (
        derive_age(
            birth_date=birth,
            stated_age=age,
            stated_group=group,  # type: ignore[arg-type]
            intake_date=date(2026, 6, 1),
        )
        == expected
    )


@pytest.mark.parametrize(
    ("birth", "age", "group", "field"),
    [
        (date(2010, 1, 1), 20, None, "age_at_intake"),
        (date(2010, 1, 1), None, "adult", "age_group"),
        (None, 30, "minor", "age_group"),
        (date(2030, 1, 1), None, None, "personal_data.birth_date"),
        (date(1890, 1, 1), None, None, "personal_data.birth_date"),
    ],
)
def test_age_never_contradicts_the_birth_date(
    birth: date | None, age: int | None, group: str | None, field: str
) -> None:
    with pytest.raises(RuleViolationError) as raised:
        derive_age(
            birth_date=birth,
            stated_age=age,
            stated_group=group,  # type: ignore[arg-type]
            intake_date=date(2026, 6, 1),
        )
    assert raised.value.field == field
    assert raised.value.status_code == 422


def test_status_moves() -> None:
    check_status_move("open", "in_care")
    check_status_move("in_care", "open")
    with pytest.raises(RuleViolationError) as closed:
        check_status_move("closed", "open")
    assert closed.value.status_code == 409
    with pytest.raises(RuleViolationError) as same:
        check_status_move("open", "open")
    assert same.value.status_code == 409


def test_future_instants_and_minor_consent_are_refused() -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert check_instant("f", datetime(2026, 6, 1, 12, 3, tzinfo=UTC), now).minute == 3  # skew
    with pytest.raises(RuleViolationError):
        check_instant("f", datetime(2026, 6, 2, tzinfo=UTC), now)
    check_guardian("minor", "guardian")
    check_guardian("adult", "victim")
    with pytest.raises(RuleViolationError) as raised:
        check_guardian("minor", "victim")
    assert raised.value.field == "given_by"
