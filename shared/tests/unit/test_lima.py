"""Peruvian calendar dates from instants (pure logic)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ruta_shared.lima import lima_date, lima_day_start, today_lima


def test_an_instant_before_five_utc_is_still_the_previous_day_in_lima() -> None:
    assert lima_date(datetime(2026, 1, 1, 4, 59, tzinfo=UTC)) == date(2025, 12, 31)
    assert lima_date(datetime(2026, 1, 1, 5, 0, tzinfo=UTC)) == date(2026, 1, 1)


def test_today_and_the_start_of_a_day_agree() -> None:
    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    assert today_lima(now) == date(2026, 11, 26)
    start = lima_day_start(date(2026, 11, 26))
    assert start == datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    assert lima_date(start) == date(2026, 11, 26)
