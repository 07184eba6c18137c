"""Routes for a victim's return home and reintegration milestones, and a case's whole route."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from ruta_shared.api import problem
from ruta_shared.events.catalog.referrals import ReintegrationMilestoneReached, VictimReturnedHome
from ruta_shared.reference import (
    REGION_OR_COUNTRY_PATTERN,
    REINTEGRATION_MILESTONES,
    ReintegrationMilestone,
)
from ruta_shared.security.permissions import in_office_scope, require
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_referrals.deps import CaseIdPath, IdempotencyKeyDep, RuntimeDep, VictimIdPath
from ruta_referrals.referrals.models import ReferralRead
from ruta_referrals.referrals.service import CaseRouteStore, Mutation, to_staff_read
from ruta_referrals.referrals.views import store
from ruta_referrals.runtime import Runtime

router = APIRouter(tags=["retorno y reintegración"])

Document = dict[str, Any]


class ReturnHomeCreate(BaseModel):
    """A victim's return to their place of origin."""

    model_config = ConfigDict(extra="forbid")

    region_of_origin: str = Field(
        pattern=REGION_OR_COUNTRY_PATTERN, description="Departamento (ubigeo) o país (ISO 3166)."
    )
    returned_on: date
    funded: bool = Field(description="Si la organización financió el retorno.")


class ReturnHomeRead(ReturnHomeCreate):
    """A recorded return home."""

    return_id: str
    victim_id: str
    recorded_at: datetime


class MilestoneCreate(BaseModel):
    """A reintegration milestone the victim reached."""

    model_config = ConfigDict(extra="forbid")

    milestone: ReintegrationMilestone
    reached_on: date
    region: str | None = Field(default=None, pattern=REGION_OR_COUNTRY_PATTERN)


class MilestoneRead(MilestoneCreate):
    """A recorded milestone."""

    milestone_id: str
    milestone_label: str
    victim_id: str
    recorded_at: datetime


class CaseRouteRead(BaseModel):
    """A case's route of care as referrals knows it."""

    case_id: str
    case_code: str
    referrals: list[ReferralRead]
    returns: list[ReturnHomeRead]
    milestones: list[MilestoneRead]


async def _case_and_victim(
    routes: CaseRouteStore, principal: Principal, case_id: str, victim_id: str
) -> Document:
    case = await routes.get_case(case_id)
    if case is None or not in_office_scope(principal, case["office"]):
        raise problem(404, "Caso no encontrado.")
    victim = await routes.get_victim(victim_id)
    if victim is None or victim.get("case_id") != case_id:
        raise problem(404, "La víctima no está registrada en este caso.")
    return case


def _return_read(entry: Document) -> ReturnHomeRead:
    return ReturnHomeRead(
        return_id=entry["return_id"],
        victim_id=entry["victim_id"],
        region_of_origin=entry["region_of_origin"],
        returned_on=entry["returned_on"],
        funded=entry["funded"],
        recorded_at=entry["recorded_at"],
    )


def _milestone_read(entry: Document) -> MilestoneRead:
    return MilestoneRead(
        milestone_id=entry["milestone_id"],
        milestone=entry["milestone"],
        milestone_label=REINTEGRATION_MILESTONES[entry["milestone"]],
        victim_id=entry["victim_id"],
        reached_on=entry["reached_on"],
        region=entry.get("region"),
        recorded_at=entry["recorded_at"],
    )


async def _record(
    runtime: Runtime,
    principal: Principal,
    *,
    case_id: str,
    victim_id: str,
    key: str | None,
    body: BaseModel,
    build: Any,
) -> JSONResponse:
    routes = store(runtime)
    await _case_and_victim(routes, principal, case_id, victim_id)

    async def operation() -> tuple[int, Any]:
        async def rule(case: Document) -> Mutation:
            field, entry, payload, read = build(case)
            return Mutation({"$push": {field: entry}}, [payload], read)

        read = await routes.mutate(case_id, rule, actor=principal.actor)
        return 201, read.model_dump(mode="json")

    return await runtime.idempotency.run(
        scope=f"{principal.id}:{type(body).__name__}:{case_id}:{victim_id}",
        key=key,
        request=body.model_dump(mode="json"),
        operation=operation,
    )


@router.post(
    "/cases/{case_id}/victims/{victim_id}/return-home",
    response_model=ReturnHomeRead,
    status_code=201,
)
async def record_return_home(
    *,
    case_id: CaseIdPath,
    victim_id: VictimIdPath,
    body: ReturnHomeCreate,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    key: IdempotencyKeyDep,
) -> JSONResponse:
    """Record that the victim returned to their place of origin."""

    def build(case: Document) -> tuple[str, Document, Any, ReturnHomeRead]:
        entry = {
            "return_id": str(uuid7()),
            "victim_id": victim_id,
            "region_of_origin": body.region_of_origin,
            "returned_on": body.returned_on.isoformat(),
            "funded": body.funded,
            "recorded_at": datetime.now(UTC),
            "recorded_by": principal.id,
        }
        payload = VictimReturnedHome(
            case_id=case_id,
            victim_id=victim_id,
            office=case["office"],
            region_of_origin=body.region_of_origin,
            returned_on=body.returned_on,
            funded=body.funded,
        )
        return "returns", entry, payload, _return_read(entry)

    return await _record(
        runtime, principal, case_id=case_id, victim_id=victim_id, key=key, body=body, build=build
    )


@router.post(
    "/cases/{case_id}/victims/{victim_id}/reintegration-milestones",
    response_model=MilestoneRead,
    status_code=201,
)
async def record_milestone(
    *,
    case_id: CaseIdPath,
    victim_id: VictimIdPath,
    body: MilestoneCreate,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    key: IdempotencyKeyDep,
) -> JSONResponse:
    """Record a reintegration milestone (job training, employment, seed funds, follow-up...)."""

    def build(case: Document) -> tuple[str, Document, Any, MilestoneRead]:
        entry = {
            "milestone_id": str(uuid7()),
            "victim_id": victim_id,
            "milestone": body.milestone,
            "reached_on": body.reached_on.isoformat(),
            "region": body.region,
            "recorded_at": datetime.now(UTC),
            "recorded_by": principal.id,
        }
        payload = ReintegrationMilestoneReached(
            case_id=case_id,
            victim_id=victim_id,
            office=case["office"],
            milestone=body.milestone,
            region=body.region,
            reached_on=body.reached_on,
        )
        return "milestones", entry, payload, _milestone_read(entry)

    return await _record(
        runtime, principal, case_id=case_id, victim_id=victim_id, key=key, body=body, build=build
    )


@router.get("/cases/{case_id}/route", response_model=CaseRouteRead)
async def get_case_route(
    *,
    case_id: CaseIdPath,
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
) -> CaseRouteRead:
    """A case's referrals, returns home and reintegration milestones."""
    case = await store(runtime).get_case(case_id)
    if case is None or not in_office_scope(principal, case["office"]):
        raise problem(404, "Caso no encontrado.")
    return CaseRouteRead(
        case_id=case_id,
        case_code=case["case_code"],
        referrals=[to_staff_read(case, r) for r in case.get("referrals") or []],
        returns=[_return_read(e) for e in case.get("returns") or []],
        milestones=[_milestone_read(e) for e in case.get("milestones") or []],
    )
