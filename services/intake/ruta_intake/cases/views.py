"""Every intake route, registered in one place; each is a thin shell over a service function."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from ruta_shared.api import Page, PageParams, etag, if_match_version, page_params
from ruta_shared.events.catalog.security import AccessPurpose
from ruta_shared.reference import UBIGEO_PATTERN, CareType, CaseStatus, CrimeType, Office
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_intake import care, cases, consent, people
from ruta_intake.catalogue import build_catalogue
from ruta_intake.deps import IdempotencyKey, IntakeDep
from ruta_intake.models import (
    AccessRecord,
    BreakGlassCreate,
    BreakGlassRead,
    CareCreate,
    CareRead,
    CaseClose,
    CaseCreate,
    CaseRead,
    CaseReopen,
    CaseSummary,
    CaseUpdate,
    Catalogue,
    ConsentCreate,
    ConsentRead,
    ConsentWithdraw,
    ErasureRead,
    PersonalDataRead,
    Problem,
    RelativeCreate,
    RelativeRead,
    StatusChange,
    VictimCreate,
    VictimRead,
)
from ruta_intake.store import load_case, not_found

ID_PATTERN: Final = r"^[A-Za-z0-9_-]+$"
CaseId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
VictimId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
RelativeId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
ConsentId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
IfMatch = Annotated[int, Depends(if_match_version)]
Paging = Annotated[PageParams, Depends(page_params)]
Purpose = Annotated[
    AccessPurpose, Query(description="Para qué se leen los datos (queda registrado).")
]

_PROBLEM: Final[dict[int | str, dict[str, Any]]] = {
    status: {"model": Problem} for status in (401, 403, 404, 409, 410, 412, 422, 428)
}

router = APIRouter(responses=_PROBLEM)


async def _idempotent(
    intake: IntakeDep,
    *,
    principal: Principal,
    key: str | None,
    scope: str,
    request: Any,
    run: Callable[[], Awaitable[tuple[BaseModel, int]]],
    status: int = 201,
) -> JSONResponse:
    """Run a POST once per Idempotency-Key (replaying its answer) and add the case's ETag."""
    versions: list[int] = []

    async def operation() -> tuple[int, Any]:
        result, version = await run()
        versions.append(version)
        return status, result.model_dump(mode="json")

    response = await intake.idempotency.run(
        scope=f"{principal.id}:{scope}", key=key, request=request, operation=operation
    )
    if versions:
        response.headers["ETag"] = etag(versions[0])
    return response


def _body(model: BaseModel | None) -> Any:
    return model.model_dump(mode="json", exclude_unset=True) if model is not None else None


# --- catalogue ---


@router.get("/catalogue", response_model=Catalogue, tags=["catálogo"])
async def get_catalogue(_: Annotated[Principal, require("case:read")]) -> Catalogue:
    """Every code with its Spanish label (offices, regions, crime types, care types, ...)."""
    return build_catalogue()


# --- cases ---


@router.post("/cases", response_model=CaseRead, status_code=201, tags=["casos"])
async def open_case(
    *,
    body: CaseCreate,
    intake: IntakeDep,
    principal: Annotated[Principal, require("case:write")],
    key: IdempotencyKey,
) -> JSONResponse:
    """Open a case with its first victims (409 when a document number is already registered)."""

    async def run() -> tuple[BaseModel, int]:
        read = await cases.open_case(intake, principal=principal, body=body)
        return read, read.version

    return await _idempotent(
        intake,
        principal=principal,
        key=key,
        scope="open_case",
        request=_body(body),
        run=run,
    )


@router.get("/cases", response_model=Page[CaseSummary], tags=["casos"])
async def list_cases(
    *,
    intake: IntakeDep,
    principal: Annotated[Principal, require("case:read")],
    page: Paging,
    office: Office | None = None,
    status: CaseStatus | None = None,
    region: Annotated[str | None, Query(pattern=UBIGEO_PATTERN)] = None,
    crime_type: CrimeType | None = None,
    opened_from: date | None = None,
    opened_to: date | None = None,
) -> Page[CaseSummary]:
    """Cases the caller may see, newest first, with filters (dates are days in Peru)."""
    return await cases.list_cases(
        intake,
        principal=principal,
        page=page,
        office=office,
        status=status,
        region=region,
        crime_type=crime_type,
        opened_from=opened_from,
        opened_to=opened_to,
    )


@router.get("/cases/{case_id}", response_model=CaseRead, tags=["casos"])
async def read_case(
    *,
    case_id: CaseId,
    intake: IntakeDep,
    principal: Annotated[Principal, require("case:read")],
    response: Response,
) -> CaseRead:
    """A case with its victims, relatives and consents (no personal data); ETag is its version."""
    loaded = await load_case(intake, case_id=case_id, principal=principal)
    response.headers["ETag"] = etag(loaded.version)
    return cases.case_read(loaded.doc)


@router.patch("/cases/{case_id}", response_model=CaseRead, tags=["casos"])
async def update_case(
    *,
    case_id: CaseId,
    body: CaseUpdate,
    intake: IntakeDep,
    principal: Annotated[Principal, require("case:write")],
    if_match: IfMatch,
    response: Response,
) -> CaseRead:
    """Correct a case's facts; send If-Match with the ETag you read (412 if it changed)."""
    read, version = await cases.update_case(
        intake, principal=principal, case_id=case_id, body=body, if_match=if_match
    )
    response.headers["ETag"] = etag(version)
    return read


@router.post("/cases/{case_id}/status", response_model=CaseRead, tags=["casos"])
async def change_status(
    *,
    case_id: CaseId,
    body: StatusChange,
    intake: IntakeDep,
    principal: Annotated[Principal, require("case:write")],
    if_match: IfMatch,
    key: IdempotencyKey,
) -> JSONResponse:
    """Move a case between open and in care (If-Match required)."""
    return await _idempotent(
        intake,
        principal=principal,
        key=key,
        scope=f"status:{case_id}",
        request={"body": _body(body), "if_match": if_match},
        run=lambda: cases.change_status(
            intake, principal=principal, case_id=case_id, body=body, if_match=if_match
        ),
        status=200,
    )


@router.post("/cases/{case_id}/closure", response_model=CaseRead, tags=["casos"])
async def close_case(
    *,
    case_id: CaseId,
    body: CaseClose,
    intake: IntakeDep,
    principal: Annotated[Principal, require("case:approve")],
    if_match: IfMatch,
    key: IdempotencyKey,
) -> JSONResponse:
    """Close a case with a reason (coordinators approve closures; If-Match required)."""
    return await _idempotent(
        intake,
        principal=principal,
        key=key,
        scope=f"close:{case_id}",
        request={"body": _body(body), "if_match": if_match},
        run=lambda: cases.close_case(
            intake, principal=principal, case_id=case_id, body=body, if_match=if_match
        ),
        status=200,
    )


@router.post("/cases/{case_id}/reopening", response_model=CaseRead, tags=["casos"])
async def reopen_case(
    *,
    case_id: CaseId,
    body: CaseReopen,
    intake: IntakeDep,
    principal: Annotated[Principal, require("case:write")],
    if_match: IfMatch,
    key: IdempotencyKey,
) -> JSONResponse:
    """Reopen a closed case (If-Match required)."""
    return await _idempotent(
        intake,
        principal=principal,
        key=key,
        scope=f"reopen:{case_id}",
        request={"body": _body(body), "if_match": if_match},
        run=lambda: cases.reopen_case(
            intake, principal=principal, case_id=case_id, body=body, if_match=if_match
        ),
        status=200,
    )


@router.post(
    "/cases/{case_id}/break-glass", response_model=BreakGlassRead, status_code=201, tags=["casos"]
)
async def break_glass(
    *,
    case_id: CaseId,
    body: BreakGlassCreate,
    intake: IntakeDep,
    principal: Annotated[Principal, require("case:break_glass")],
) -> BreakGlassRead:
    """Time-limited access to a case of another office, with a justification (logged, published)."""
    doc = await intake.cases.find_one({"_id": case_id}, {"office": 1})
    if doc is None:
        raise not_found()
    grant = await intake.break_glass.grant(
        principal=principal,
        case_id=case_id,
        office=str(doc["office"]),
        justification=body.justification,
    )
    return BreakGlassRead(grant_id=grant.id, case_id=case_id, expires_at=grant.expires_at)


# --- victims and relatives ---


@router.post(
    "/cases/{case_id}/victims", response_model=VictimRead, status_code=201, tags=["víctimas"]
)
async def register_victim(
    *,
    case_id: CaseId,
    body: VictimCreate,
    intake: IntakeDep,
    principal: Annotated[Principal, require("victim_pii:write")],
    key: IdempotencyKey,
) -> JSONResponse:
    """Register a victim in a case (409 with `existing_victim_id` when the document exists)."""
    return await _idempotent(
        intake,
        principal=principal,
        key=key,
        scope=f"victim:{case_id}",
        request=_body(body),
        run=lambda: people.register_victim(intake, principal=principal, case_id=case_id, body=body),
    )


@router.get("/cases/{case_id}/victims/{victim_id}", response_model=VictimRead, tags=["víctimas"])
async def read_victim(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    intake: IntakeDep,
    principal: Annotated[Principal, require("case:read")],
) -> VictimRead:
    """A victim's non-identifying attributes."""
    return await people.read_victim(
        intake, principal=principal, case_id=case_id, victim_id=victim_id
    )


@router.get(
    "/cases/{case_id}/victims/{victim_id}/personal-data",
    response_model=PersonalDataRead,
    tags=["víctimas"],
)
async def read_victim_personal_data(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    purpose: Purpose,
    intake: IntakeDep,
    principal: Annotated[Principal, require("victim_pii:read")],
) -> PersonalDataRead:
    """A victim's decrypted personal data; the read is recorded and published (410 if erased)."""
    return await people.read_personal_data(
        intake,
        principal=principal,
        case_id=case_id,
        subject_type="victim",
        subject_id=victim_id,
        purpose=purpose,
    )


@router.get(
    "/cases/{case_id}/victims/{victim_id}/access-log",
    response_model=list[AccessRecord],
    tags=["víctimas"],
)
async def read_access_log(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    intake: IntakeDep,
    principal: Annotated[Principal, require("access_log:read")],
) -> list[AccessRecord]:
    """Who read a victim's personal data, when and why (newest first)."""
    return await people.access_records(
        intake, principal=principal, case_id=case_id, victim_id=victim_id
    )


@router.post(
    "/cases/{case_id}/victims/{victim_id}/erasure", response_model=ErasureRead, tags=["víctimas"]
)
async def erase_victim(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    intake: IntakeDep,
    principal: Annotated[Principal, require("victim:erase")],
) -> ErasureRead:
    """Erase a victim's (and their relatives') personal data for good; statistics stay."""
    return await people.erase_victim(
        intake, principal=principal, case_id=case_id, victim_id=victim_id
    )


@router.post(
    "/cases/{case_id}/victims/{victim_id}/relatives",
    response_model=RelativeRead,
    status_code=201,
    tags=["víctimas"],
)
async def register_relative(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    body: RelativeCreate,
    intake: IntakeDep,
    principal: Annotated[Principal, require("victim_pii:write")],
    key: IdempotencyKey,
) -> JSONResponse:
    """Register a relative of a victim, with their own encrypted personal data."""
    return await _idempotent(
        intake,
        principal=principal,
        key=key,
        scope=f"relative:{case_id}:{victim_id}",
        request=_body(body),
        run=lambda: people.register_relative(
            intake, principal=principal, case_id=case_id, victim_id=victim_id, body=body
        ),
    )


@router.get(
    "/cases/{case_id}/relatives/{relative_id}/personal-data",
    response_model=PersonalDataRead,
    tags=["víctimas"],
)
async def read_relative_personal_data(
    *,
    case_id: CaseId,
    relative_id: RelativeId,
    purpose: Purpose,
    intake: IntakeDep,
    principal: Annotated[Principal, require("victim_pii:read")],
) -> PersonalDataRead:
    """A relative's decrypted personal data; the read is recorded and published (410 if erased)."""
    return await people.read_personal_data(
        intake,
        principal=principal,
        case_id=case_id,
        subject_type="relative",
        subject_id=relative_id,
        purpose=purpose,
    )


# --- consent ---


@router.post(
    "/cases/{case_id}/victims/{victim_id}/consents",
    response_model=ConsentRead,
    status_code=201,
    tags=["consentimiento"],
)
async def record_consent(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    body: ConsentCreate,
    intake: IntakeDep,
    principal: Annotated[Principal, require("case:write")],
    key: IdempotencyKey,
) -> JSONResponse:
    """Record a new version of a victim's (or guardian's) consent for one purpose."""
    return await _idempotent(
        intake,
        principal=principal,
        key=key,
        scope=f"consent:{case_id}:{victim_id}",
        request=_body(body),
        run=lambda: consent.record_consent(
            intake, principal=principal, case_id=case_id, victim_id=victim_id, body=body
        ),
    )


@router.post(
    "/cases/{case_id}/consents/{consent_id}/withdrawal",
    response_model=ConsentRead,
    tags=["consentimiento"],
)
async def withdraw_consent(
    *,
    case_id: CaseId,
    consent_id: ConsentId,
    body: ConsentWithdraw,
    intake: IntakeDep,
    principal: Annotated[Principal, require("case:write")],
    key: IdempotencyKey,
) -> JSONResponse:
    """Withdraw a consent (its current version)."""
    return await _idempotent(
        intake,
        principal=principal,
        key=key,
        scope=f"withdraw:{case_id}:{consent_id}",
        request=_body(body),
        run=lambda: consent.withdraw_consent(
            intake, principal=principal, case_id=case_id, consent_id=consent_id, body=body
        ),
        status=200,
    )


# --- care ---


@router.post(
    "/cases/{case_id}/victims/{victim_id}/care",
    response_model=CareRead,
    status_code=201,
    tags=["atención"],
)
async def provide_care(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    body: CareCreate,
    intake: IntakeDep,
    principal: Annotated[Principal, require("case:write")],
    key: IdempotencyKey,
) -> JSONResponse:
    """Record care given to a victim (date, professional, duration, amount spent)."""
    return await _idempotent(
        intake,
        principal=principal,
        key=key,
        scope=f"care:{case_id}:{victim_id}",
        request=_body(body),
        run=lambda: care.provide_care(
            intake, principal=principal, case_id=case_id, victim_id=victim_id, body=body
        ),
    )


@router.get("/cases/{case_id}/care", response_model=Page[CareRead], tags=["atención"])
async def list_care(
    *,
    case_id: CaseId,
    intake: IntakeDep,
    principal: Annotated[Principal, require("case:read")],
    page: Paging,
    victim_id: Annotated[str | None, Query(max_length=64, pattern=ID_PATTERN)] = None,
    care_type: CareType | None = None,
) -> Page[CareRead]:
    """A case's care records, newest first."""
    return await care.list_care(
        intake,
        principal=principal,
        case_id=case_id,
        page=page,
        victim_id=victim_id,
        care_type=care_type,
    )
