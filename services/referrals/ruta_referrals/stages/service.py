"""Route stages of a case: entering and leaving them, their notes, overdue marking and lists."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from ruta_shared.aggregate import Change, RuleViolationError
from ruta_shared.events import Actor
from ruta_shared.events.catalog.security import SubjectType
from ruta_shared.rerun import earlier_attempt, operation_marker
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_referrals.intake_projection.intake_api import IntakeLookup
from ruta_referrals.intake_projection.service import check_project
from ruta_referrals.referrals.rules import office_query
from ruta_referrals.referrals.service import visible_case
from ruta_referrals.reintegration.service import check_case_and_victim
from ruta_referrals.route_overdue import mark_entries_overdue
from ruta_referrals.runtime import Runtime
from ruta_referrals.stages.models import StageDetails, StageEnter, StageRead
from ruta_referrals.stages.rules import (
    entered,
    find_stage,
    is_overdue,
    leave,
    note_field,
    overdue_change,
    stage_entry,
    stage_read,
)

Document = dict[str, Any]
NOT_FOUND = "Etapa no encontrada."


def _key_subject(case_id: str, victim_id: str | None) -> tuple[SubjectType, str]:
    """Whose key seals a note: the victim's (erasure shreds it), else the case's."""
    return ("victim", victim_id) if victim_id else ("case", case_id)


async def enter_stage(
    *, runtime: Runtime, principal: Principal, case_id: str, body: StageEnter, intake: IntakeLookup
) -> StageRead:
    """Record that the case (or one of its victims) entered a stage of the route."""
    case = await visible_case(runtime=runtime, principal=principal, case_id=case_id, intake=intake)
    if body.victim_id is not None:
        await check_case_and_victim(
            runtime=runtime,
            principal=principal,
            case_id=case_id,
            victim_id=body.victim_id,
            intake=intake,
        )
    await check_project(
        runtime=runtime,
        code=body.project_code,
        office=case["office"],
        intake=intake,
        field="body.project_code",
    )
    occurrence_id = str(uuid7())
    note = None
    if body.note is not None:
        key = await runtime.keys.create(*_key_subject(case_id, body.victim_id))
        note = key.encrypt(note_field(occurrence_id), body.note)
    entry = stage_entry(
        body,
        occurrence_id=occurrence_id,
        author_id=principal.id,
        now=datetime.now(UTC),
        target_seconds=runtime.settings.route_stage_target_seconds[body.stage],
        note=note,
    )

    # Under an Idempotency-Key a re-run (after a crash) finds the occurrence it already added.
    marker = operation_marker("stage")

    def apply(case: Document) -> Change[StageRead]:
        if (written := earlier_attempt(case.get("stages") or [], marker)) is not None:
            return Change(result=stage_read(case, written))
        stored = {**entry, **marker}
        return Change(
            {"$push": {"stages": stored}}, [entered(case, entry)], stage_read(case, entry)
        )

    return (await runtime.cases.change(case_id, apply=apply, actor=principal.actor)).result


async def leave_stage(
    *, runtime: Runtime, principal: Principal, case_id: str, occurrence_id: str, left_on: date
) -> StageRead:
    """Record that the case (or victim) left a stage."""
    await visible_case(runtime=runtime, principal=principal, case_id=case_id)

    def apply(case: Document) -> Change[StageRead]:
        found = find_stage(case, occurrence_id)
        if found is None:
            raise RuleViolationError(None, NOT_FOUND, status_code=404)
        index, entry = found
        updated, event = leave(case, entry, left_on)
        return Change({"$set": {f"stages.{index}": updated}}, [event], stage_read(case, updated))

    return (await runtime.cases.change(case_id, apply=apply, actor=principal.actor)).result


async def case_stages(*, runtime: Runtime, principal: Principal, case_id: str) -> list[StageRead]:
    """Every stage occurrence of a case, in the order they were recorded."""
    case = await visible_case(runtime=runtime, principal=principal, case_id=case_id)
    return [stage_read(case, e) for e in case.get("stages") or []]


async def stage_details(
    *, runtime: Runtime, principal: Principal, case_id: str, occurrence_id: str
) -> StageDetails:
    """A stage occurrence's decrypted note, the read recorded in the access log first."""
    case = await visible_case(runtime=runtime, principal=principal, case_id=case_id)
    found = find_stage(case, occurrence_id)
    if found is None:
        raise RuleViolationError(None, NOT_FOUND, status_code=404)
    entry = found[1]
    if entry.get("note") is None:
        return StageDetails(stage_occurrence_id=occurrence_id, note=None)
    subject_type, subject_id = _key_subject(case_id, entry["victim_id"])
    await runtime.access_log.record(
        principal=principal,
        subject_type=subject_type,
        subject_id=subject_id,
        purpose="case_work",
        fields=["route_stage_note"],
        case_id=case_id,
    )
    key = await runtime.keys.get(subject_type, subject_id)
    return StageDetails(
        stage_occurrence_id=occurrence_id,
        note=key.decrypt(note_field(occurrence_id), entry["note"]),
    )


async def mark_stages_overdue(*, runtime: Runtime, now: datetime, actor: Actor) -> list[Document]:
    """Publish `route_stage.overdue` once for every open occurrence past its target."""
    return await mark_entries_overdue(
        runtime=runtime, field="stages", now=now, actor=actor, mark=overdue_change
    )


async def overdue_stages(*, runtime: Runtime, principal: Principal | None) -> list[StageRead]:
    """Open stage occurrences past their target, of the caller's offices (every office: None)."""
    query = {"stages.overdue_since": {"$ne": None}}
    if principal is not None:
        query = {**office_query(principal), **query}
    return [
        stage_read(case, entry)
        async for case in runtime.cases.collection.find(query, {"_outbox": 0})
        for entry in case.get("stages") or []
        if is_overdue(entry)
    ]
