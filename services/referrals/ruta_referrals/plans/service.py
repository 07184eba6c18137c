"""Case plans: a victim's tasks from a template or by hand, status changes, overdue, lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ruta_shared.aggregate import Change, RuleViolationError
from ruta_shared.events import Actor, EventData
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_referrals.intake_projection.intake_api import IntakeLookup
from ruta_referrals.plans.models import PlanCreate, TaskCreate, TaskDetails, TaskRead
from ruta_referrals.plans.rules import (
    CUSTOM,
    change_status,
    is_overdue,
    new_task,
    task_added,
    task_overdue,
    task_read,
    template_for,
    title_field,
)
from ruta_referrals.referrals.rules import office_query
from ruta_referrals.referrals.service import visible_case
from ruta_referrals.reintegration.service import check_case_and_victim
from ruta_referrals.route_overdue import mark_entries_overdue
from ruta_referrals.runtime import Runtime

Document = dict[str, Any]
NOT_FOUND = "Tarea no encontrada."


async def _push_tasks(
    runtime: Runtime, principal: Principal, case_id: str, tasks: list[Document]
) -> list[TaskRead]:
    def apply(case: Document) -> Change[list[TaskRead]]:
        events: list[EventData] = [task_added(case, t) for t in tasks]
        reads = [task_read(case, t) for t in tasks]
        return Change({"$push": {"tasks": {"$each": tasks}}}, events, reads)

    return (await runtime.cases.change(case_id, apply=apply, actor=principal.actor)).result


async def start_plan(
    *,
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    victim_id: str,
    body: PlanCreate,
    intake: IntakeLookup,
) -> list[TaskRead]:
    """The victim's tasks from the template of the case's crime type and her age group."""
    await check_case_and_victim(
        runtime=runtime, principal=principal, case_id=case_id, victim_id=victim_id, intake=intake
    )
    case = await runtime.cases.load(case_id)
    if any(t["victim_id"] == victim_id and t["task"] != CUSTOM for t in case.get("tasks") or []):
        raise RuleViolationError(None, "La víctima ya tiene un plan.", status_code=409)
    victim = await runtime.victims.find_one({"_id": victim_id}) or {}
    template = template_for(
        runtime.settings.plan_templates,
        case.get("crime_types") or [],
        victim.get("age_group") or "unknown",
    )
    now = datetime.now(UTC)
    tasks = [
        new_task(
            task_id=str(uuid7()),
            victim_id=victim_id,
            goal=item.goal,
            task=item.task,
            assignee_id=body.assignee_id,
            due_on=body.starts_on + timedelta(days=item.due_in_days),
            title=None,
            now=now,
        )
        for item in template
    ]
    return await _push_tasks(runtime, principal, case_id, tasks)


async def add_task(
    *,
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    victim_id: str,
    body: TaskCreate,
    intake: IntakeLookup,
) -> TaskRead:
    """A task added by hand; its title is sealed with the victim's key."""
    await check_case_and_victim(
        runtime=runtime, principal=principal, case_id=case_id, victim_id=victim_id, intake=intake
    )
    task_id = str(uuid7())
    key = await runtime.keys.create("victim", victim_id)
    task = new_task(
        task_id=task_id,
        victim_id=victim_id,
        goal=body.goal,
        task=CUSTOM,
        assignee_id=body.assignee_id,
        due_on=body.due_on,
        title=key.encrypt(title_field(task_id), body.title),
        now=datetime.now(UTC),
    )
    return (await _push_tasks(runtime, principal, case_id, [task]))[0]


def _find(case: Document, task_id: str) -> tuple[int, Document]:
    for index, task in enumerate(case.get("tasks") or []):
        if task["task_id"] == task_id:
            return index, task
    raise RuleViolationError(None, NOT_FOUND, status_code=404)


async def set_task_status(
    *, runtime: Runtime, principal: Principal, case_id: str, task_id: str, status: str
) -> TaskRead:
    """Mark a task done, cancelled or open again."""
    await visible_case(runtime=runtime, principal=principal, case_id=case_id)
    now = datetime.now(UTC)

    def apply(case: Document) -> Change[TaskRead]:
        index, task = _find(case, task_id)
        updated, event = change_status(case, task, status, now)
        return Change({"$set": {f"tasks.{index}": updated}}, [event], task_read(case, updated))

    return (await runtime.cases.change(case_id, apply=apply, actor=principal.actor)).result


async def case_plan(*, runtime: Runtime, principal: Principal, case_id: str) -> list[TaskRead]:
    """Every task of the case's victims, in the order they were added."""
    case = await visible_case(runtime=runtime, principal=principal, case_id=case_id)
    return [task_read(case, t) for t in case.get("tasks") or []]


async def task_details(
    *, runtime: Runtime, principal: Principal, case_id: str, task_id: str
) -> TaskDetails:
    """A hand-written task's decrypted title, the read recorded in the access log first."""
    case = await visible_case(runtime=runtime, principal=principal, case_id=case_id)
    task = _find(case, task_id)[1]
    if task.get("title") is None:
        return TaskDetails(task_id=task_id, title=None)
    await runtime.access_log.record(
        principal=principal,
        subject_type="victim",
        subject_id=task["victim_id"],
        purpose="case_work",
        fields=["plan_task_title"],
        case_id=case_id,
    )
    key = await runtime.keys.get("victim", task["victim_id"])
    return TaskDetails(task_id=task_id, title=key.decrypt(title_field(task_id), task["title"]))


async def mark_tasks_overdue(*, runtime: Runtime, now: datetime, actor: Actor) -> list[Document]:
    """Publish `case_plan.task_overdue` once for every open task past its due day."""
    return await mark_entries_overdue(
        runtime=runtime, field="tasks", now=now, actor=actor, mark=task_overdue
    )


async def overdue_tasks(
    *,
    runtime: Runtime,
    principal: Principal | None,
    assignee_id: str | None = None,
    office: str | None = None,
) -> list[TaskRead]:
    """Open tasks past their due day of the caller's offices (one office, one worker if given)."""
    query: Document = {"tasks.overdue_since": {"$ne": None}}
    if principal is not None:
        query = {**office_query(principal, office), **query}
    return [
        task_read(case, task)
        async for case in runtime.cases.collection.find(query, {"_outbox": 0})
        for task in case.get("tasks") or []
        if is_overdue(task) and (assignee_id is None or task["assignee_id"] == assignee_id)
    ]
