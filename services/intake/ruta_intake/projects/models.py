"""Bodies of the project registry: registering, correcting, reading; a case's project."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field
from ruta_shared.reference import PROJECT_CODE_PATTERN, Office

from ruta_intake.bodies import Input

ProjectCode = Field(pattern=PROJECT_CODE_PATTERN, description="Código del proyecto")


class ProjectFacts(Input):
    """What a project is: its name, funder, execution period and offices."""

    name: str = Field(min_length=1, max_length=200)
    funder: str = Field(min_length=1, max_length=200, description="Financiador")
    starts_on: date
    ends_on: date
    offices: list[Office] = Field(min_length=1, max_length=4)


class ProjectCreate(ProjectFacts):
    """Register a funded project."""

    code: str = ProjectCode


class ProjectRead(ProjectFacts):
    """A project of the registry."""

    code: str
    version: int


class CaseProjectAssign(Input):
    """Assign the case to a project (null takes it out of any)."""

    project_code: str | None = Field(default=None, pattern=PROJECT_CODE_PATTERN)


class CaseProjectRead(BaseModel):
    """A case's project."""

    case_id: str
    project_code: str | None
