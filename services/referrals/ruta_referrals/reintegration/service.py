"""Returns home and reintegration milestones, pushed onto the case's route with their events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from ruta_shared.aggregate import Change
from ruta_shared.api import problem
from ruta_shared.events import EventData
from ruta_shared.rerun import earlier_attempt, operation_marker
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_referrals.intake_projection.intake_api import IntakeLookup
from ruta_referrals.intake_projection.service import known_victim
from ruta_referrals.referrals.rules import to_staff_read
from ruta_referrals.referrals.service import visible_case
from ruta_referrals.reintegration.models import (
    CaseRouteRead,
    MilestoneCreate,
    MilestoneRead,
    ReturnHomeCreate,
    ReturnHomeRead,
)
from ruta_referrals.reintegration.rules import (
    milestone_entry,
    milestone_reached,
    milestone_read,
    return_home_entry,
    return_read,
    returned_home,
)
from ruta_referrals.runtime import Runtime

Document = dict[str, Any]
R = TypeVar("R")


async def check_case_and_victim(
    *, runtime: Runtime, principal: Principal, case_id: str, victim_id: str, intake: IntakeLookup
) -> None:
    """404 unless the case is in the caller's offices and the victim belongs to it."""
    await visible_case(runtime=runtime, principal=principal, case_id=case_id, intake=intake)
    victim = await known_victim(
        runtime=runtime, case_id=case_id, victim_id=victim_id, intake=intake
    )
    if victim is None or victim.get("case_id") != case_id:
        raise problem(404, "La víctima no está registrada en este caso.")


async def _push(
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    field: str,
    *,
    build: Callable[[Document], tuple[Document, EventData, R]],
    read: Callable[[Document], R],
) -> R:
    # Under an Idempotency-Key a re-run (after a crash) finds the entry it already pushed.
    marker = operation_marker(field)

    def apply(case: Document) -> Change[R]:
        if (written := earlier_attempt(case.get(field) or [], marker)) is not None:
            return Change(result=read(written))
        entry, payload, result = build(case)
        return Change({"$push": {field: {**entry, **marker}}}, [payload], result)

    changed = await runtime.cases.change(case_id, apply=apply, actor=principal.actor)
    return changed.result


async def record_return_home(
    *,
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    victim_id: str,
    body: ReturnHomeCreate,
) -> ReturnHomeRead:
    """Record that the victim returned to their place of origin."""

    def build(case: Document) -> tuple[Document, EventData, ReturnHomeRead]:
        entry = return_home_entry(
            body,
            return_id=str(uuid7()),
            victim_id=victim_id,
            author_id=principal.id,
            now=datetime.now(UTC),
        )
        return entry, returned_home(body, case=case, victim_id=victim_id), return_read(entry)

    return await _push(runtime, principal, case_id, "returns", build=build, read=return_read)


async def record_milestone(
    *,
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    victim_id: str,
    body: MilestoneCreate,
) -> MilestoneRead:
    """Record a reintegration milestone the victim reached."""

    def build(case: Document) -> tuple[Document, EventData, MilestoneRead]:
        entry = milestone_entry(
            body,
            milestone_id=str(uuid7()),
            victim_id=victim_id,
            author_id=principal.id,
            now=datetime.now(UTC),
        )
        return entry, milestone_reached(body, case=case, victim_id=victim_id), milestone_read(entry)

    return await _push(runtime, principal, case_id, "milestones", build=build, read=milestone_read)


async def case_route(*, runtime: Runtime, principal: Principal, case_id: str) -> CaseRouteRead:
    """A case's referrals, returns home and reintegration milestones."""
    case = await visible_case(runtime=runtime, principal=principal, case_id=case_id)
    return CaseRouteRead(
        case_id=case_id,
        case_code=case["case_code"],
        referrals=[to_staff_read(case, r) for r in case.get("referrals") or []],
        returns=[return_read(e) for e in case.get("returns") or []],
        milestones=[milestone_read(e) for e in case.get("milestones") or []],
    )
