"""Pure rules of case plans: the template that applies, tasks, status changes, overdue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from ruta_shared.aggregate import RuleViolationError
from ruta_shared.events.catalog.referrals import (
    CasePlanTaskAdded,
    CasePlanTaskOverdue,
    CasePlanTaskStatusChanged,
)
from ruta_shared.lima import lima_day_start

from ruta_referrals.plans.models import TaskRead, TemplateTask

Document = dict[str, Any]
CUSTOM = "custom"


def template_for(
    templates: Mapping[str, Sequence[TemplateTask]], crime_types: Sequence[str], age_group: str
) -> Sequence[TemplateTask]:
    """The most specific template: `crime:age`, `crime:*`, `*:age`, then `*:*`."""
    crimes = [*crime_types, "*"]
    for key in [f"{c}:{a}" for c in crimes for a in (age_group, "*")]:
        if key in templates:
            return templates[key]
    return []


def title_field(task_id: str) -> str:
    """The encryption field name of a hand-written task title."""
    return f"plan_task.{task_id}.title"


def new_task(
    *, task_id: str, victim_id: str, goal: str, task: str, assignee_id: str, due_on: date,
    title: str | None, now: datetime,
) -> Document:  # fmt: skip
    """A task as stored in the case's `tasks`; overdue once past the end of its due day."""
    return {
        "task_id": task_id,
        "victim_id": victim_id,
        "goal": goal,
        "task": task,
        "assignee_id": assignee_id,
        "due_on": due_on.isoformat(),
        "status": "open",
        "deadline_at": lima_day_start(due_on + timedelta(days=1)),
        "overdue_since": None,
        "title": title,
        "created_at": now,
    }


def _fields(case: Document, task: Document) -> dict[str, Any]:
    return {
        "case_id": case["_id"],
        "task_id": task["task_id"],
        "victim_id": task["victim_id"],
        "office": case["office"],
        "goal": task["goal"],
        "task": task["task"],
        "assignee_id": task["assignee_id"],
        "due_on": date.fromisoformat(task["due_on"]),
    }


def task_added(case: Document, task: Document) -> CasePlanTaskAdded:
    """The event of a new task (codes, ids and dates only)."""
    return CasePlanTaskAdded(**_fields(case, task))


def change_status(
    case: Document, task: Document, status: str, now: datetime
) -> tuple[Document, CasePlanTaskStatusChanged]:
    """The task in its new status and the event; 409 when it already is in it."""
    if task["status"] == status:
        raise RuleViolationError("body.status", "la tarea ya tiene ese estado", status_code=409)
    reopened = status == "open"
    due = lima_day_start(date.fromisoformat(task["due_on"]) + timedelta(days=1))
    updated = {
        **task,
        "status": status,
        # Reopened: its deadline runs again; done or cancelled: nothing is overdue.
        "deadline_at": due if reopened and task.get("overdue_since") is None else None,
        "overdue_since": task.get("overdue_since") if reopened else None,
    }
    event = CasePlanTaskStatusChanged(
        **_fields(case, task), from_status=task["status"], to_status=status, changed_at=now
    )
    return updated, event


def task_overdue(
    case: Document, task: Document, now: datetime
) -> tuple[Document, CasePlanTaskOverdue] | None:
    """The open task marked overdue once its due day has passed, else None."""
    due = task.get("deadline_at")
    if due is None or task["status"] != "open" or due > now:
        return None
    updated = {**task, "deadline_at": None, "overdue_since": now}
    return updated, CasePlanTaskOverdue(**_fields(case, task), overdue_at=now)


def is_overdue(task: Document) -> bool:
    """Whether the task is open past its due day."""
    return task["status"] == "open" and task.get("overdue_since") is not None


def task_read(case: Document, task: Document) -> TaskRead:
    """The read model of a stored task."""
    return TaskRead(
        task_id=task["task_id"],
        case_id=case["_id"],
        victim_id=task["victim_id"],
        goal=task["goal"],
        task=task["task"],
        assignee_id=task["assignee_id"],
        due_on=task["due_on"],
        status=task["status"],
        overdue=is_overdue(task),
        has_title=task.get("title") is not None,
        created_at=task["created_at"],
    )
