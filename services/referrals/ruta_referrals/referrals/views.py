"""Staff routes of referrals: create, list, read, answer on an institution's behalf, revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from ruta_shared.api import Page, etag, problem
from ruta_shared.security.permissions import OFFICE_SCOPE, allowed, in_office_scope, require
from ruta_shared.security.principal import Principal

from ruta_referrals.deps import (
    CaseIdPath,
    IdempotencyKeyDep,
    IfMatchDep,
    PageDep,
    ReferralIdPath,
    RuntimeDep,
)
from ruta_referrals.intake.projection import consent_allows
from ruta_referrals.referrals.models import (
    DeclineBody,
    ProgressNoteCreate,
    ReferralCreate,
    ReferralDetails,
    ReferralRead,
)
from ruta_referrals.referrals.rules import Action, Status, is_overdue
from ruta_referrals.referrals.service import NOT_FOUND, CaseRouteStore, to_staff_read
from ruta_referrals.runtime import Runtime

router = APIRouter(tags=["derivaciones"])

Document = dict[str, Any]


async def logged_details(
    runtime: Runtime,
    principal: Principal,
    case: dict[str, Any],
    referral: dict[str, Any],
    response: Response,
) -> ReferralDetails:
    """A referral's decrypted free text, the read recorded in the access log (staff or partner)."""
    await runtime.access_log.record(
        principal=principal,
        subject_type="victim",
        subject_id=referral["victim_id"],
        purpose="referral",
        fields=["referral_reason", "shared_facts", "progress_notes"],
        case_id=case["_id"],
    )
    response.headers["Cache-Control"] = "no-store"
    return await store(runtime).details(referral)


def store(runtime: Runtime) -> CaseRouteStore:
    """The case-route store of this app."""
    return CaseRouteStore(
        runtime.db,
        outbox=runtime.context.outbox,
        keys=runtime.keys,
        deadlines=runtime.deadlines,
    )


def staff_visible(principal: Principal) -> Any:
    """A visibility check: the case's office is within the caller's scope."""

    def check(case: Document, _referral: Document) -> bool:
        return in_office_scope(principal, case["office"])

    return check


def office_query(principal: Principal) -> Document:
    """The Mongo filter of the cases the caller may see."""
    if OFFICE_SCOPE.get(principal.role) == "all":  # coordinators: every office
        return {}
    return {"office": {"$in": sorted(principal.offices)}}


def with_etag(response: Response, read: ReferralRead) -> ReferralRead:
    """Set the referral's ETag on the response."""
    response.headers["ETag"] = etag(read.version)
    return read


@router.post("/cases/{case_id}/referrals", response_model=ReferralRead, status_code=201)
async def create_referral(
    *,
    case_id: CaseIdPath,
    body: ReferralCreate,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    key: IdempotencyKeyDep,
) -> JSONResponse:
    """Refer a victim of the case to an institution (needs the victim's consent for its kind)."""
    routes = store(runtime)
    case = await routes.get_case(case_id)
    if case is None or not in_office_scope(principal, case["office"]):
        raise problem(404, "Caso no encontrado.")
    institution = await runtime.institutions.get(body.institution_id)
    if institution is None or not institution.get("active", True):
        raise problem(422, "La institución no existe o no está activa.")

    async def operation() -> tuple[int, Any]:
        stored_case, referral = await routes.create(
            case_id=case_id,
            body=body,
            institution=institution,
            principal=principal,
            override_allowed=allowed(principal.role, "case:approve"),
        )
        return 201, to_staff_read(stored_case, referral).model_dump(mode="json")

    response = await runtime.idempotency.run(
        scope=f"{principal.id}:create_referral:{case_id}",
        key=key,
        request=body.model_dump(mode="json"),
        operation=operation,
    )
    if response.status_code == 201:
        response.headers["ETag"] = etag(1)
    return response


@router.get("/cases/{case_id}/referrals", response_model=list[ReferralRead])
async def list_case_referrals(
    *,
    case_id: CaseIdPath,
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
) -> list[ReferralRead]:
    """Every referral of one case, newest first."""
    case = await store(runtime).get_case(case_id)
    if case is None or not in_office_scope(principal, case["office"]):
        raise problem(404, "Caso no encontrado.")
    referrals = sorted(case.get("referrals") or [], key=lambda r: r["referral_id"], reverse=True)
    return [to_staff_read(case, r) for r in referrals]


@router.get("/referrals", response_model=Page[ReferralRead])
async def list_referrals(
    *,
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
    page: PageDep,
    status: Annotated[Status | None, Query(description="Estado")] = None,
    institution_id: Annotated[
        str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Institución")
    ] = None,
) -> Page[ReferralRead]:
    """Referrals of the offices the caller sees, optionally by status or institution."""
    query = office_query(principal)
    if institution_id is not None:
        query["referrals.institution_id"] = institution_id

    def keep(case: Document, referral: Document) -> bool:
        return (status is None or referral["status"] == status) and (
            institution_id is None or referral["institution_id"] == institution_id
        )

    rows = await store(runtime).referrals(query, keep)
    chosen = rows[page.offset : page.offset + page.limit]
    return Page(
        items=[to_staff_read(c, r) for c, r in chosen],
        total=len(rows),
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/referrals/overdue", response_model=Page[ReferralRead])
async def list_overdue_referrals(
    *,
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
    page: PageDep,
) -> Page[ReferralRead]:
    """Referrals waiting on an institution past their deadline (acknowledgement or answer)."""
    query = {
        **office_query(principal),
        "referrals.overdue_stage": {"$in": ["acknowledgement", "answer"]},
    }
    rows = await store(runtime).referrals(query, lambda _c, r: is_overdue(r))
    chosen = rows[page.offset : page.offset + page.limit]
    return Page(
        items=[to_staff_read(c, r) for c, r in chosen],
        total=len(rows),
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/referrals/{referral_id}", response_model=ReferralRead)
async def get_referral(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
    response: Response,
) -> ReferralRead:
    """Read one referral (without its free text)."""
    found = await store(runtime).find(referral_id)
    if found is None or not in_office_scope(principal, found[0]["office"]):
        raise problem(404, NOT_FOUND)
    return with_etag(response, to_staff_read(*found))


@router.get("/referrals/{referral_id}/details", response_model=ReferralDetails)
async def get_referral_details(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
    response: Response,
) -> ReferralDetails:
    """Read a referral's reason, shared facts and progress notes (recorded in the access log)."""
    routes = store(runtime)
    found = await routes.find(referral_id)
    if found is None or not in_office_scope(principal, found[0]["office"]):
        raise problem(404, NOT_FOUND)
    case, referral = found
    return await logged_details(runtime, principal, case, referral, response)


async def _act(
    *,
    runtime: Runtime,
    principal: Principal,
    referral_id: str,
    action: Action,
    version: int,
    response: Response,
    **options: Any,
) -> ReferralRead:
    channel = None
    if action == "send":
        routes = store(runtime)
        found = await routes.find(referral_id)
        if found is not None and in_office_scope(principal, found[0]["office"]):
            referral = found[1]
            institution = await runtime.institutions.get(referral["institution_id"])
            if institution is None or not institution.get("active", True):
                raise problem(409, "La institución ya no está activa.")
            # Consent may have been withdrawn since the referral was drafted: sending discloses.
            victim = await routes.get_victim(referral["victim_id"]) or {}
            if not referral.get("consent_override") and not consent_allows(
                victim, referral["institution_kind"]
            ):
                raise problem(
                    409,
                    "La víctima ya no consiente comunicar datos a este tipo de institución.",
                    code="consent_required",
                )
            channel = institution.get("integration", "manual")
    case, referral = await store(runtime).act(
        referral_id=referral_id,
        action=action,
        actor=principal.actor,
        expected_version=version,
        visible=staff_visible(principal),
        channel=channel,
        **options,
    )
    return with_etag(response, to_staff_read(case, referral))


@router.post("/referrals/{referral_id}/send", response_model=ReferralRead)
async def send_referral(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> ReferralRead:
    """Send the referral to the institution (by its integration: webhook, partner API, manual)."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="send",
        version=version,
        response=response,
    )


@router.post("/referrals/{referral_id}/acknowledge", response_model=ReferralRead)
async def acknowledge_referral(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> ReferralRead:
    """Record that the institution acknowledged receipt (or acknowledge an incoming referral)."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="acknowledge",
        version=version,
        response=response,
    )


@router.post("/referrals/{referral_id}/accept", response_model=ReferralRead)
async def accept_referral(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> ReferralRead:
    """Record that the referral was accepted."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="accept",
        version=version,
        response=response,
    )


@router.post("/referrals/{referral_id}/decline", response_model=ReferralRead)
async def decline_referral(
    *,
    referral_id: ReferralIdPath,
    body: DeclineBody,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> ReferralRead:
    """Record that the referral was declined, with a reason."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="decline",
        version=version,
        response=response,
        decline_reason=body.reason,
    )


@router.post("/referrals/{referral_id}/complete", response_model=ReferralRead)
async def complete_referral(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> ReferralRead:
    """Record that what was requested was done."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="complete",
        version=version,
        response=response,
    )


@router.post("/referrals/{referral_id}/progress-notes", response_model=ReferralRead)
async def add_progress_note(
    *,
    referral_id: ReferralIdPath,
    body: ProgressNoteCreate,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> ReferralRead:
    """Add a progress note (stored encrypted)."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="progress",
        version=version,
        response=response,
        note=body.text,
    )


@router.post("/referrals/{referral_id}/revoke", response_model=ReferralRead)
async def revoke_referral(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("case:approve")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> ReferralRead:
    """Revoke an open referral (coordinators only)."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="revoke",
        version=version,
        response=response,
    )
