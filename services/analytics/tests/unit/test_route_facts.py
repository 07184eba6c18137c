"""Route stages and plan tasks, pure: their facts and the counters they add where and when."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ruta_analytics.projection.cube import fact_delta, occurrences
from ruta_analytics.projection.handlers import apply_event
from ruta_analytics.projection.models import STAGES, TASKS, FactBatch
from ruta_shared.testing.synthetic import StreamBuilder

Doc = dict[str, Any]
AT = datetime(2017, 3, 1, 12, tzinfo=UTC)


def _stage(case_id: str, victim_id: str | None) -> Doc:
    return {
        "case_id": case_id,
        "stage_occurrence_id": "stg-1",
        "victim_id": victim_id,
        "office": "lima",
        "stage": "shelter",
        "institution_kind": "shelter_car",
        "project_code": "DTZ-2016",
        "entered_on": "2017-03-01",
    }


def test_a_stage_counts_entered_when_entered_and_its_days_when_left() -> None:
    builder = StreamBuilder()
    case_id = builder.open_case(at=AT, crime_types=["csec"], region="16")
    stage = _stage(case_id, None)
    entered = builder.emit(
        "route_stage.entered",
        "referrals",
        case_id,
        {**stage, "target_at": "2017-03-10T17:00:00Z"},
        at=AT,
    )
    batch = FactBatch(audit=False)
    for envelope in builder.envelopes:
        apply_event(batch, envelope)
    opened = batch.get(STAGES, "stg-1")
    assert opened is not None
    assert opened["target_day"] == "2017-03-10"
    assert opened["crime_types"] == ["csec"]
    delta = fact_delta(STAGES, None, opened)
    assert delta[("m:2017-03:lima:16", "c.csec|DTZ-2016.se.shelter")] == 1
    # Open: overdue from that day on (its due month all time, its day in the month's document).
    assert delta[("a:*:*:*", "c.*|*.sdue.2017-03")] == 1
    assert delta[("d:2017-03:*:*", "c.*|*.sday.2017-03-10")] == 1
    assert delta[("m:2017-03:*:*", "c.*|*.sdue.2017-03")] == 0  # all time only
    # A stage for the whole case counts once, for the case.
    assert {pid for pid, _, _ in occurrences(STAGES, opened)} == {
        f"dss:shelter:case:{case_id}",
        f"dsv:case:{case_id}",
    }
    left = builder.emit(
        "route_stage.left",
        "referrals",
        case_id,
        {**stage, "left_on": "2017-05-02", "days_in_stage": 62},
        at=AT,
    )
    apply_event(batch, left)
    apply_event(batch, entered)  # redelivered late: older than the fact, changes nothing
    closed = batch.get(STAGES, "stg-1")
    assert closed is not None
    assert closed["left"] is True
    moved = fact_delta(STAGES, opened, closed)
    assert moved[("m:2017-03:lima:16", "c.csec|DTZ-2016.se.shelter")] == 0  # still entered
    assert moved[("m:2017-05:lima:16", "c.csec|DTZ-2016.sl.shelter")] == 1
    assert moved[("y:2017:*:*", "c.*|*.sd.shelter.62")] == 1
    assert moved[("a:*:*:*", "c.*|*.sdue.2017-03")] == -1  # left: no longer overdue
    assert moved[("d:2017-03:*:*", "c.*|*.sday.2017-03-10")] == -1


def test_an_open_task_is_overdue_by_flag_or_day_and_a_new_due_day_clears_the_flag() -> None:
    builder = StreamBuilder()
    case_id = builder.open_case(at=AT)
    victim_id = builder.register_victim(case_id, at=AT)
    task = {
        "case_id": case_id,
        "task_id": "tsk-1",
        "victim_id": victim_id,
        "office": "lima",
        "goal": "salud",
        "task": "control_medico",
        "assignee_id": "user-worker-1",
        "due_on": "2017-03-05",
    }
    builder.emit("case_plan.task_added", "referrals", case_id, task, at=AT)
    batch = FactBatch(audit=False)
    for envelope in builder.envelopes:
        apply_event(batch, envelope)
    added = batch.get(TASKS, "tsk-1")
    assert added is not None
    assert fact_delta(TASKS, None, added)[("a:*:*:*", "c.*|*.tdue.2017-03")] == 1
    assert fact_delta(TASKS, None, added)[("d:2017-03:*:*", "c.*|*.tday.2017-03-05")] == 1
    flagged = {**task, "overdue_at": "2017-03-06T05:00:00Z"}
    apply_event(batch, builder.emit("case_plan.task_overdue", "referrals", case_id, flagged, at=AT))
    overdue = batch.get(TASKS, "tsk-1")
    assert overdue is not None
    assert fact_delta(TASKS, None, overdue)[("a:*:*:*", "c.*|*.tov")] == 1
    moved = {
        **task,
        "due_on": "2017-04-30",
        "from_status": "open",
        "to_status": "open",
        "changed_at": "2017-03-07T12:00:00Z",
    }
    apply_event(
        batch, builder.emit("case_plan.task_status_changed", "referrals", case_id, moved, at=AT)
    )
    later = batch.get(TASKS, "tsk-1")
    assert later is not None
    assert later["overdue"] is False
    assert fact_delta(TASKS, None, later)[("a:*:*:*", "c.*|*.tdue.2017-04")] == 1
    assert fact_delta(TASKS, None, later)[("d:2017-04:*:*", "c.*|*.tday.2017-04-30")] == 1
    done = {**moved, "to_status": "done"}
    apply_event(
        batch, builder.emit("case_plan.task_status_changed", "referrals", case_id, done, at=AT)
    )
    finished = batch.get(TASKS, "tsk-1")
    assert finished is not None
    assert not fact_delta(TASKS, None, finished)
