"""The case pages' calls to intake (and to referrals for a case's route), one function each."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any, Final

from ruta_console.auth.models import Session
from ruta_console.calls import call, fetch
from ruta_console.cases.rules import PAGE_SIZE, Moment, route_of_care
from ruta_console.errors import RefusedError
from ruta_console.runtime import Runtime
from ruta_console.upstream import Answer, Service

# A case code as intake writes it (LIM-2026-0001); anything else cannot match a case.
CASE_CODE: Final = re.compile(r"^[A-Z]{3}-\d{4}-\d{4,}$")


@dataclass(frozen=True)
class CaseList:
    """One page of cases (or of overdue referrals' cases) and where it is."""

    items: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    overdue: bool = False


async def list_cases(
    *,
    runtime: Runtime,
    session: Session,
    code: str | None,
    status: str | None,
    office: str | None,
    overdue: bool,
    page: int,
) -> CaseList:
    """My cases, newest first: by code, status and office, or those with overdue referrals."""
    if overdue:
        return await _overdue_cases(runtime=runtime, session=session, office=office, page=page)
    params: dict[str, Any] = {"limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}
    if status:
        params["status"] = status
    if office:
        params["office"] = office
    if code:
        return await _find_code(runtime=runtime, session=session, code=code, params=params)
    body = await fetch(
        runtime=runtime, session=session, service=Service.INTAKE, path="/cases", params=params
    )
    total = int(body["total"])
    return CaseList(body["items"], total, page, max(1, -(-total // PAGE_SIZE)))


async def _find_code(
    *, runtime: Runtime, session: Session, code: str, params: dict[str, Any]
) -> CaseList:
    """intake's exact-code filter (within the caller's offices): one case or none."""
    wanted = code.strip().upper()
    if not CASE_CODE.match(wanted):
        return CaseList([], 0, 1, 1)
    body = await fetch(
        runtime=runtime,
        session=session,
        service=Service.INTAKE,
        path="/cases",
        params={**params, "code": wanted, "offset": 0},
    )
    return CaseList(body["items"], len(body["items"]), 1, 1)


async def _overdue_cases(
    *, runtime: Runtime, session: Session, office: str | None, page: int
) -> CaseList:
    params = {"limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}
    body = await fetch(
        runtime=runtime,
        session=session,
        service=Service.REFERRALS,
        path="/referrals/overdue",
        params=params,
    )
    items = [
        {
            "case_id": r["case_id"],
            "case_code": r["case_code"],
            "office": r["office"],
            "referral_id": r["referral_id"],
            "status_label": r["status_label"],
            "overdue_since": r.get("overdue_since"),
            "institution_kind": r["institution_kind"],
        }
        for r in body["items"]
        if office is None or r["office"] == office
    ]
    total = int(body["total"])
    return CaseList(items, total, page, max(1, -(-total // PAGE_SIZE)), overdue=True)


async def open_case(
    *, runtime: Runtime, session: Session, body: dict[str, Any], headers: dict[str, str]
) -> Answer:
    """POST /cases with its first victim."""
    return await call(
        runtime=runtime,
        session=session,
        service=Service.INTAKE,
        method="POST",
        path="/cases",
        json=body,
        headers=headers,
    )


@dataclass(frozen=True)
class CaseView:
    """Everything the case page shows."""

    case: dict[str, Any]
    care: list[dict[str, Any]]
    route: dict[str, Any] | None
    timeline: list[Moment]


async def read_case(*, runtime: Runtime, session: Session, case_id: str) -> CaseView:
    """The case (intake), its care (intake) and its route (referrals), read together."""
    case_answer, care_answer, route_answer = await asyncio.gather(
        call(
            runtime=runtime,
            session=session,
            service=Service.INTAKE,
            method="GET",
            path=f"/cases/{case_id}",
        ),
        call(
            runtime=runtime,
            session=session,
            service=Service.INTAKE,
            method="GET",
            path=f"/cases/{case_id}/care",
            params={"limit": 100},
        ),
        call(
            runtime=runtime,
            session=session,
            service=Service.REFERRALS,
            method="GET",
            path=f"/cases/{case_id}/route",
        ),
    )
    if not case_answer.ok:
        raise RefusedError(case_answer)
    case = case_answer.body
    care = care_answer.body["items"] if care_answer.ok else []
    # referrals learns of a case from intake's events: a new case may not be there yet.
    route = route_answer.body if route_answer.ok else None
    return CaseView(case, care, route, route_of_care(case, route, care))


async def write(
    *,
    runtime: Runtime,
    session: Session,
    service: Service,
    path: str,
    body: dict[str, Any] | None,
    headers: dict[str, str],
) -> Answer:
    """POST one change (the body is already checked for shape by its rule)."""
    return await call(
        runtime=runtime,
        session=session,
        service=service,
        method="POST",
        path=path,
        json=body,
        headers=headers,
    )


async def read_personal_data(
    *, runtime: Runtime, session: Session, case_id: str, subject: str, subject_id: str, purpose: str
) -> Answer:
    """A victim's or relative's personal data for a purpose (intake logs the access)."""
    path = f"/cases/{case_id}/{subject}/{subject_id}/personal-data"
    return await call(
        runtime=runtime,
        session=session,
        service=Service.INTAKE,
        method="GET",
        path=path,
        params={"purpose": purpose},
    )
