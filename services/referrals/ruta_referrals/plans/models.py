"""API schemas of case plans: a template's task, adding tasks, changing status, reading."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from ruta_shared.ids import ID_PATTERN

TaskStatus = Literal["open", "done", "cancelled"]
CODE = r"^[a-z][a-z0-9_]{0,39}$"


class TemplateTask(BaseModel):
    """One task of a plan template (settings): codes only, so events stay free of text."""

    goal: str = Field(pattern=CODE)
    task: str = Field(pattern=CODE)
    due_in_days: int = Field(ge=0, le=3650)


class PlanCreate(BaseModel):
    """Start a victim's plan from the template of the case's crime type and her age group."""

    model_config = ConfigDict(extra="forbid")

    assignee_id: str = Field(pattern=ID_PATTERN, description="Profesional responsable.")
    starts_on: date


class TaskCreate(BaseModel):
    """A task added by hand (its title is kept encrypted)."""

    model_config = ConfigDict(extra="forbid")

    goal: str = Field(pattern=CODE, description="Código del objetivo.")
    title: str = Field(min_length=1, max_length=500, description="Qué (se guarda cifrado).")
    assignee_id: str = Field(pattern=ID_PATTERN, description="Quién.")
    due_on: date


class TaskStatusChange(BaseModel):
    """Mark a task done or cancelled (or open again)."""

    model_config = ConfigDict(extra="forbid")

    status: TaskStatus


class TaskRead(BaseModel):
    """One task of a victim's plan (a hand-written title only through `/details`)."""

    task_id: str
    case_id: str
    victim_id: str
    goal: str
    task: str  # the template's task code, or `custom`
    assignee_id: str
    due_on: date
    status: TaskStatus
    overdue: bool
    has_title: bool
    created_at: datetime


class TaskDetails(BaseModel):
    """A task's decrypted title."""

    task_id: str
    title: str | None
