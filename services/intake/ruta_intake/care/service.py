"""Care given to victims (legal, psychological, social, ...): recording and listing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ruta_shared.aggregate import Change
from ruta_shared.api import Page, PageParams
from ruta_shared.events.catalog.intake import CareProvided
from ruta_shared.lima import lima_date
from ruta_shared.projects import check_project_fits
from ruta_shared.reference import CareType
from ruta_shared.rerun import earlier_attempt, operation_marker
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_intake.care.models import CareCreate, CareRead
from ruta_intake.care.rules import check_day
from ruta_intake.cases.aggregate import change_case, find_item, load_case
from ruta_intake.cases.rules import check_not_closed, utc_now
from ruta_intake.runtime import Runtime

Document = dict[str, Any]


def care_read(case_id: str, care: Document) -> CareRead:
    """A stored care record as the API shows it (dates and amounts are stored as text)."""
    amount = care.get("amount_pen")
    return CareRead(
        care_id=care["care_id"],
        case_id=case_id,
        victim_id=care["victim_id"],
        care_type=care["care_type"],
        provided_on=date.fromisoformat(care["provided_on"]),
        professional_id=care["professional_id"],
        duration_minutes=care.get("duration_minutes"),
        amount_pen=Decimal(amount) if amount is not None else None,
        project_code=care.get("project_code"),
        recorded_at=care["recorded_at"],
    )


async def provide_care(
    *, runtime: Runtime, principal: Principal, case_id: str, victim_id: str, body: CareCreate
) -> tuple[CareRead, int]:
    """Record care given to a victim of an open case (in a project of its office, if named)."""
    now = utc_now()
    project = None if body.project_code is None else await runtime.projects.get(body.project_code)
    # Under an Idempotency-Key a re-run (after a crash) finds the care it already recorded.
    marker = operation_marker("care")

    def apply(case: Document) -> Change[CareRead]:
        if (written := earlier_attempt(case.get("care") or [], marker)) is not None:
            return Change(result=care_read(case_id, written))
        check_not_closed(case["status"])
        if body.project_code is not None:
            check_project_fits(project, office=case["office"], field="body.project_code")
        find_item(case.get("victims", []), "victim_id", victim_id)
        provided_on = check_day(
            "body.provided_on",
            body.provided_on,
            today=lima_date(now),
            not_before=lima_date(case["opened_at"]),
        )
        care = {
            "care_id": str(uuid7()),
            "victim_id": victim_id,
            "care_type": body.care_type,
            "provided_on": provided_on.isoformat(),
            "professional_id": body.professional_id or principal.id,
            "duration_minutes": body.duration_minutes,
            "amount_pen": str(body.amount_pen) if body.amount_pen is not None else None,
            "project_code": body.project_code,
            "recorded_at": now,
            "recorded_by": principal.id,
            **marker,
        }
        return Change(
            update={"$push": {"care": care}, "$set": {"updated_at": now}},
            events=[
                CareProvided(
                    case_id=case_id,
                    victim_id=victim_id,
                    care_id=care["care_id"],
                    care_type=body.care_type,
                    office=case["office"],
                    provided_on=provided_on,
                    professional_id=care["professional_id"],
                    duration_minutes=body.duration_minutes,
                    amount_pen=body.amount_pen,
                    project_code=body.project_code,
                )
            ],
            result=care_read(case_id, care),
        )

    return await change_case(runtime=runtime, principal=principal, case_id=case_id, apply=apply)


async def list_care(
    *,
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    page: PageParams,
    victim_id: str | None = None,
    care_type: CareType | None = None,
) -> Page[CareRead]:
    """A case's care records, newest first, optionally for one victim or one type of care."""
    loaded = await load_case(runtime=runtime, principal=principal, case_id=case_id)
    records = [
        c
        for c in loaded.doc.get("care", [])
        if (victim_id is None or c["victim_id"] == victim_id)
        and (care_type is None or c["care_type"] == care_type)
    ]
    records.sort(key=lambda c: (c["provided_on"], c["recorded_at"]), reverse=True)
    window = records[page.offset : page.offset + page.limit]
    return Page(
        items=[care_read(case_id, c) for c in window],
        total=len(records),
        limit=page.limit,
        offset=page.offset,
    )
