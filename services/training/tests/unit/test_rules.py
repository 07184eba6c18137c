"""Pure rules: status changes, hours, attendance merging, average gain, distinct reach."""

from __future__ import annotations

import pytest
from ruta_shared.aggregate import RuleViolationError
from ruta_training.reach.rules import Attendee, SessionFacts, compute_reach
from ruta_training.sessions.rules import (
    attended_hours,
    can_transition,
    merge_attendance,
    summarise_assessments,
)


def test_a_session_is_held_or_cancelled_once_and_from_scheduled_only() -> None:
    assert can_transition("scheduled", "held")
    assert can_transition("scheduled", "cancelled")
    assert not can_transition("held", "cancelled")
    assert not can_transition("cancelled", "held")
    assert not can_transition("held", "held")


def test_hours_come_from_the_session_the_hours_or_the_modules() -> None:
    assert attended_hours(pedagogic_hours=10, module_hours=[], hours=None, modules=None) == (10, [])
    assert attended_hours(pedagogic_hours=10, module_hours=[], hours=6, modules=None) == (6, [])
    assert attended_hours(pedagogic_hours=12, module_hours=[4, 8], hours=None, modules=[2, 2]) == (
        8,
        [2],
    )
    with pytest.raises(RuleViolationError) as too_many:
        attended_hours(pedagogic_hours=10, module_hours=[], hours=11, modules=None)
    assert too_many.value.field == "hours_attended"
    assert too_many.value.kind == "invalid"  # answered with the field error type of before
    with pytest.raises(RuleViolationError) as unknown:
        attended_hours(pedagogic_hours=12, module_hours=[4, 8], hours=None, modules=[3])
    assert unknown.value.field == "modules_attended"


def test_repeats_change_nothing_and_modules_accumulate() -> None:
    assert merge_attendance(None, 10, [], []) == (10, [])
    assert merge_attendance({"hours": 10, "modules": []}, 10, [], []) is None
    assert merge_attendance({"hours": 10, "modules": []}, 6, [], []) is None  # never goes down
    assert merge_attendance({"hours": 4, "modules": [1]}, 8, [2], [4, 8]) == (12, [1, 2])
    assert merge_attendance({"hours": 4, "modules": [1]}, 4, [1], [4, 8]) is None


def test_average_gain() -> None:
    summary = summarise_assessments([(40, 80), (55, 70), (60, 60)])
    assert summary.count == 3
    assert summary.average_gain == pytest.approx(18.33)
    assert summarise_assessments([]).average_gain is None


def test_reach_counts_each_person_once_at_their_first_session() -> None:
    ana = Attendee("p-ana", "female", "car_staff")
    luis = Attendee("p-luis", "male", "justice_operators")
    sessions = [
        SessionFacts("s-2", "2017-06-01", "16", [ana, luis]),
        SessionFacts("s-1", "2017-03-01", "15", [ana]),
        SessionFacts(
            "s-3",
            "2017-09-01",
            "08",
            [ana],
            {"adolescents": {"female": 120, "male": 75, "unknown": 5}},
        ),
    ]
    reach = compute_reach(sessions)
    assert reach.attendances == 4
    assert reach.distinct_participants == 2
    assert reach.headcount == 200
    assert reach.total_reach == 202
    assert reach.by_region == {"08": 200, "15": 1, "16": 1}
    assert reach.by_sex == {"female": 121, "male": 76, "unknown": 5}
    assert sum(reach.by_audience.values()) == reach.total_reach
