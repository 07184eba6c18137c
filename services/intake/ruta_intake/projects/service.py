"""The project registry (one document per project, `_id` = code) and a case's project."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError
from ruta_shared.aggregate import Change, RuleViolationError
from ruta_shared.events.catalog.intake import CaseProjectAssigned
from ruta_shared.projects import check_project_fits
from ruta_shared.rerun import Transition, earlier_attempt, operation_marker
from ruta_shared.security.principal import Principal

from ruta_intake.cases.aggregate import change_case
from ruta_intake.cases.rules import utc_now
from ruta_intake.projects.models import (
    CaseProjectAssign,
    CaseProjectRead,
    ProjectCreate,
    ProjectFacts,
    ProjectRead,
)
from ruta_intake.projects.rules import (
    check_period,
    project_event,
    project_fields,
    project_read,
)
from ruta_intake.runtime import Runtime

Document = dict[str, Any]
# A registry of a few dozen projects: one bounded read lists them all.
MAX_PROJECTS = 500


async def register_project(
    *, runtime: Runtime, principal: Principal, body: ProjectCreate
) -> tuple[ProjectRead, int]:
    """Add a project to the registry (409 when the code is taken)."""
    check_period(body)
    # Under an Idempotency-Key a re-run (after a crash) finds the project it registered.
    marker = operation_marker("project")
    doc = {"_id": body.code, **project_fields(body), "created_at": utc_now(), **marker}
    try:
        version = await runtime.projects.insert(
            doc, events=[project_event(body.code, doc, new=True)], actor=principal.actor
        )
    except DuplicateKeyError:
        taken = await runtime.projects.get(body.code)
        if (written := earlier_attempt([] if taken is None else [taken], marker)) is not None:
            read = project_read(written)
            return read, read.version
        raise RuleViolationError(
            "body.code", "ya existe un proyecto con ese código", status_code=409
        ) from None
    return project_read(doc, version), version


async def update_project(
    *, runtime: Runtime, principal: Principal, code: str, body: ProjectFacts, if_match: int
) -> tuple[ProjectRead, int]:
    """Correct a project's facts at the version the caller read (412 if it moved on)."""
    check_period(body)
    fields = project_fields(body)

    def apply(doc: Document) -> Change[ProjectRead]:
        updated = {**doc, **fields}
        return Change(
            {"$set": fields}, [project_event(code, updated, new=False)], project_read(updated)
        )

    changed = await runtime.projects.change(
        code, apply=apply, actor=principal.actor, expected_version=if_match
    )
    return changed.result.model_copy(update={"version": changed.version}), changed.version


async def get_project(*, runtime: Runtime, code: str) -> ProjectRead:
    """One project (404 when unknown)."""
    return project_read(await runtime.projects.load(code))


async def list_projects(*, runtime: Runtime) -> list[ProjectRead]:
    """Every project of the registry, by code."""
    found = runtime.projects.collection.find({}, {"_outbox": 0}, sort=[("_id", 1)])
    return [project_read(doc) for doc in await found.to_list(MAX_PROJECTS)]


async def check_project_code(
    *, runtime: Runtime, code: str | None, office: str, field: str
) -> None:
    """422 naming `field` unless `code` is absent or a registered project of the office."""
    if code is not None:
        check_project_fits(await runtime.projects.get(code), office=office, field=field)


async def assign_case_project(
    *, runtime: Runtime, principal: Principal, case_id: str, body: CaseProjectAssign
) -> tuple[CaseProjectRead, int]:
    """Put the case in a project of its office (or take it out of one)."""
    project = None if body.project_code is None else await runtime.projects.get(body.project_code)
    now = utc_now()
    # Under an Idempotency-Key a re-run (after a crash) finds the assignment it made.
    transition = Transition("project")

    @transition.stamped
    def apply(case: Document) -> Change[CaseProjectRead]:
        read = CaseProjectRead(case_id=case_id, project_code=body.project_code)
        if transition.done_in(case):
            return Change(result=read)
        if body.project_code is not None:
            check_project_fits(project, office=case["office"], field="body.project_code")
        event = CaseProjectAssigned(
            case_id=case_id, office=case["office"], project_code=body.project_code, assigned_at=now
        )
        return Change(
            {"$set": {"project_code": body.project_code, "updated_at": now}}, [event], read
        )

    return await change_case(runtime=runtime, principal=principal, case_id=case_id, apply=apply)
