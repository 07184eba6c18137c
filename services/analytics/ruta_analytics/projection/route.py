"""The projection's fact builders for the route of care (pure): stage occurrences and plan tasks.

A stage occurrence (`stages`) and a plan task (`tasks`) copy their case's attributes like a
referral (`FactBatch.case_attributes`), so corrections of the case reach them by `_id`. A
stage counts where it was entered (the day entered) and, once left, where it was left (the
day left: its days in stage); a task counts where it was added (the day of its event).
"""

from __future__ import annotations

from ruta_shared.events import EventEnvelope
from ruta_shared.events.catalog.referrals import (
    CasePlanTaskAdded,
    CasePlanTaskOverdue,
    CasePlanTaskStatusChanged,
    RouteStageEntered,
    RouteStageLeft,
    RouteStageOverdue,
)
from ruta_shared.lima import lima_date

from ruta_analytics.figures.periods import period_fields
from ruta_analytics.projection.models import STAGES, TASKS, FactBatch

StageEvent = RouteStageEntered | RouteStageLeft | RouteStageOverdue
TaskEvent = CasePlanTaskAdded | CasePlanTaskStatusChanged | CasePlanTaskOverdue


def stage_event(batch: FactBatch, event: StageEvent, envelope: EventEnvelope) -> None:
    attributes = batch.case_attributes(event.case_id, (STAGES, event.stage_occurrence_id))
    stage = batch.guarded(STAGES, event.stage_occurrence_id, envelope)
    if stage is None:
        return
    stage.update(
        case_id=event.case_id,
        victim_id=event.victim_id,
        office=event.office,
        stage=event.stage,
        institution_kind=event.institution_kind,
        project_code=event.project_code,
        entered_on=event.entered_on.isoformat(),
        **period_fields(event.entered_on),
        **attributes,
    )
    stage.setdefault("left", False)
    stage.setdefault("overdue", False)
    stage.setdefault("target_day", None)
    if isinstance(event, RouteStageEntered):
        target = event.target_at
        stage["target_day"] = lima_date(target).isoformat() if target is not None else None
    elif isinstance(event, RouteStageOverdue):
        stage.update(overdue=True, target_day=lima_date(event.target_at).isoformat())
    else:
        stage.update(
            left=True,
            left_on=event.left_on.isoformat(),
            left_year=event.left_on.year,
            left_month=event.left_on.month,
            days_in_stage=event.days_in_stage,
        )
    batch.put(STAGES, stage)


def task_event(batch: FactBatch, event: TaskEvent, envelope: EventEnvelope) -> None:
    attributes = batch.case_attributes(event.case_id, (TASKS, event.task_id))
    task = batch.guarded(TASKS, event.task_id, envelope)
    if task is None:
        return
    due_on = event.due_on.isoformat()
    if task.get("due_on") not in (None, due_on):
        task["overdue"] = False  # a new due day: the old overdue notice no longer holds
    task.update(
        case_id=event.case_id,
        victim_id=event.victim_id,
        office=event.office,
        goal=event.goal,
        task=event.task,
        due_on=due_on,
        **attributes,
    )
    if "year" not in task or isinstance(event, CasePlanTaskAdded):
        task.update(period_fields(lima_date(envelope.occurred_at)))
    task.setdefault("status", "open")
    task.setdefault("overdue", False)
    if isinstance(event, CasePlanTaskStatusChanged):
        task["status"] = event.to_status
    elif isinstance(event, CasePlanTaskOverdue):
        task["overdue"] = True
    batch.put(TASKS, task)
