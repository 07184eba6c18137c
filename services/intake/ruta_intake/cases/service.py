"""Cases: opening (with the first victims), lists with filters, corrections and status changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fastapi import HTTPException
from pymongo.errors import DuplicateKeyError
from ruta_shared.aggregate import Change, RuleViolationError
from ruta_shared.api import Page, PageParams, operation_derived_id, problem
from ruta_shared.events.catalog.intake import (
    CaseDetailsUpdated,
    CaseOpened,
    CaseReopened,
    CaseStatusChanged,
)
from ruta_shared.lima import lima_date, lima_day_start
from ruta_shared.outbox import SEQUENCE_FIELD
from ruta_shared.reference import CaseStatus, CrimeType
from ruta_shared.rerun import Transition, stale_rerun
from ruta_shared.security.permissions import OFFICE_SCOPE, in_office_scope
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_intake.cases.aggregate import change_case, load_case
from ruta_intake.cases.counter import next_case_code
from ruta_intake.cases.models import (
    BreakGlassCreate,
    BreakGlassRead,
    CaseClose,
    CaseCreate,
    CaseRead,
    CaseReopen,
    CaseSummary,
    CaseUpdate,
    StatusChange,
)
from ruta_intake.cases.rules import (
    check_arrival,
    check_instant,
    check_status_move,
    dedupe,
    justification_long_enough,
    utc_now,
)
from ruta_intake.closure.rules import closing
from ruta_intake.consent.rules import consent_reads
from ruta_intake.runtime import Runtime, not_found
from ruta_intake.victims.models import RelativeRead
from ruta_intake.victims.registration import prepare_victims
from ruta_intake.victims.rules import victim_read, victim_registered

Document = dict[str, Any]

CODE_ATTEMPTS = 20


def case_read(doc: Document) -> CaseRead:
    """A stored case as the API shows it (no personal data is in the case document)."""
    case_id = str(doc["_id"])
    return CaseRead(
        case_id=case_id,
        case_code=doc["case_code"],
        office=doc["office"],
        opened_at=doc["opened_at"],
        crime_types=doc["crime_types"],
        exploitation_purposes=doc["exploitation_purposes"],
        region_of_exploitation=doc["region_of_exploitation"],
        arrival_channel=doc["arrival_channel"],
        referring_institution_kind=doc["referring_institution_kind"],
        status=doc["status"],
        closure_reason=doc.get("closure_reason"),
        project_code=doc.get("project_code"),
        closed_at=doc.get("closed_at"),
        reopened_at=doc.get("reopened_at"),
        victims=[victim_read(case_id, v) for v in doc.get("victims", [])],
        relatives=[RelativeRead(**r) for r in doc.get("relatives", [])],
        consents=consent_reads(doc.get("consents", [])),
        care_count=len(doc.get("care", [])),
        created_by=doc["created_by"],
        updated_at=doc["updated_at"],
        version=int(doc[SEQUENCE_FIELD]),
    )


async def read_case(*, runtime: Runtime, principal: Principal, case_id: str) -> CaseRead:
    """A case the caller may see, as the API shows it (its version is its ETag)."""
    loaded = await load_case(runtime=runtime, principal=principal, case_id=case_id)
    return case_read(loaded.doc)


async def open_case(*, runtime: Runtime, principal: Principal, body: CaseCreate) -> CaseRead:
    """Open a case with its first victims: personal data first, then the case and its events."""
    if not in_office_scope(principal, body.office):
        raise RuleViolationError(
            "body.office", "no puede abrir casos en otra oficina", status_code=403
        )
    now = utc_now()
    opened_at = check_instant("body.opened_at", body.opened_at or now, now)
    check_arrival(body.arrival_channel, body.referring_institution_kind)
    # Under an Idempotency-Key the case id comes from the key: a retry after a crash or a
    # lost answer finds the case the first attempt wrote instead of opening a second one.
    derived = operation_derived_id("case")
    case_id = derived or str(uuid7())
    if derived is not None and (written := await runtime.cases.get(case_id)) is not None:
        return case_read(written)
    year = lima_date(opened_at).year
    new = await prepare_victims(
        runtime=runtime,
        principal=principal,
        case_id=case_id,
        office=body.office,
        bodies=body.victims,
        prefixes=[f"body.victims.{position}" for position in range(len(body.victims))],
        intake_date=lima_date(opened_at),
        now=now,
    )
    code = await next_case_code(runtime=runtime, office=body.office, year=year)
    doc: Document = {
        "_id": case_id,
        "case_code": code,
        "office": body.office,
        "opened_at": opened_at,
        "crime_types": dedupe(list(body.crime_types)),
        "exploitation_purposes": dedupe(list(body.exploitation_purposes)),
        "region_of_exploitation": body.region_of_exploitation,
        "arrival_channel": body.arrival_channel,
        "referring_institution_kind": body.referring_institution_kind,
        "status": "open",
        "closure_reason": None,
        "closed_at": None,
        "reopened_at": None,
        "victims": new.victims,
        "relatives": [],
        "consents": [],
        "care": [],
        "created_by": principal.id,
        "created_at": now,
        "updated_at": now,
    }
    opened = CaseOpened(
        case_id=case_id,
        case_code=code,
        office=body.office,
        opened_at=opened_at,
        crime_types=doc["crime_types"],
        exploitation_purposes=doc["exploitation_purposes"],
        region_of_exploitation=body.region_of_exploitation,
        arrival_channel=body.arrival_channel,
        referring_institution_kind=body.referring_institution_kind,
    )
    registered = [victim_registered(case_id, body.office, v) for v in new.victims]
    for _ in range(CODE_ATTEMPTS):
        try:
            version = await runtime.cases.insert(
                doc, events=[opened, *registered, *new.detected], actor=principal.actor
            )
        except DuplicateKeyError:
            if derived is not None and (written := await runtime.cases.get(case_id)) is not None:
                return case_read(written)  # a concurrent attempt under the same key won
            # The counter's increments are not isolated on FerretDB: the unique index on
            # case_code is what guarantees a number is used once; take the next one.
            doc["case_code"] = await next_case_code(runtime=runtime, office=body.office, year=year)
            opened = opened.model_copy(update={"case_code": doc["case_code"]})
            continue
        read = case_read({**doc, SEQUENCE_FIELD: version})
        victims = [
            victim.model_copy(update={"duplicate_notice": notice})
            for victim, notice in zip(read.victims, new.notices, strict=True)
        ]
        return read.model_copy(update={"victims": victims})
    raise problem(409, "No se pudo asignar un código de caso: intente de nuevo.")


async def list_cases(
    *,
    runtime: Runtime,
    principal: Principal,
    page: PageParams,
    office: str | None = None,
    status: CaseStatus | None = None,
    region: str | None = None,
    crime_type: CrimeType | None = None,
    opened_from: date | None = None,
    opened_to: date | None = None,
    code: str | None = None,
) -> Page[CaseSummary]:
    """Cases the caller may see, newest first, filtered; case workers see their offices only."""
    query: Document = {} if code is None else {"case_code": code}
    if OFFICE_SCOPE.get(principal.role) != "all":
        offices = sorted(principal.offices)
        if office is not None:
            offices = [office] if office in offices else []
        query["office"] = {"$in": offices}
    elif office is not None:
        query["office"] = office
    if status is not None:
        query["status"] = status
    if region is not None:
        query["region_of_exploitation"] = region
    if crime_type is not None:
        query["crime_types"] = crime_type
    if opened_from is not None and opened_to is not None and opened_from > opened_to:
        raise RuleViolationError("query.opened_to", "es anterior a opened_from")
    opened: Document = {}
    if opened_from is not None:
        opened["$gte"] = lima_day_start(opened_from)
    if opened_to is not None:
        opened["$lt"] = lima_day_start(opened_to + timedelta(days=1))
    if opened:
        query["opened_at"] = opened
    cases = runtime.cases.collection
    total = await cases.count_documents(query)
    cursor = cases.find(
        query,
        {"_outbox": 0, "relatives": 0, "consents": 0, "care": 0},
        sort=[("opened_at", -1), ("_id", -1)],
        skip=page.offset,
        limit=page.limit,
    )
    items = [
        CaseSummary(
            case_id=str(doc["_id"]),
            case_code=doc["case_code"],
            office=doc["office"],
            opened_at=doc["opened_at"],
            status=doc["status"],
            crime_types=doc["crime_types"],
            region_of_exploitation=doc["region_of_exploitation"],
            victim_count=len(doc.get("victims", [])),
            version=int(doc[SEQUENCE_FIELD]),
        )
        async for doc in cursor
    ]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


async def _change(
    *,
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    if_match: int,
    apply: Callable[[Document], Change[CaseRead]],
) -> tuple[CaseRead, int]:
    """A change of the case itself at the version the caller read; the read shows the new one."""
    try:
        read, version = await change_case(
            runtime=runtime, principal=principal, case_id=case_id, apply=apply, if_match=if_match
        )
    except HTTPException as exc:
        if (transition := stale_rerun(exc, apply)) is None:
            raise
        # A keyed re-run after a crash: its first attempt moved the case past the If-Match.
        loaded = await load_case(runtime=runtime, principal=principal, case_id=case_id)
        if not transition.done_in(loaded.doc):
            raise
        return case_read(loaded.doc), loaded.version
    return read.model_copy(update={"version": version}), version


async def update_case(
    *, runtime: Runtime, principal: Principal, case_id: str, body: CaseUpdate, if_match: int
) -> tuple[CaseRead, int]:
    """Correct a case's facts at the version the caller read (412 if it moved on)."""
    given = body.model_dump(exclude_unset=True)
    if not given:
        raise RuleViolationError("body", "indique al menos un dato que cambiar")
    if given.get("crime_types", ()) is None:
        raise RuleViolationError("body.crime_types", "un caso tiene al menos un tipo de delito")
    if "arrival_channel" in given and given["arrival_channel"] is None:
        raise RuleViolationError("body.arrival_channel", "no puede quedar vacío")
    now = utc_now()

    def apply(case: Document) -> Change[CaseRead]:
        merged = {
            key: case[key]
            for key in (
                "crime_types",
                "exploitation_purposes",
                "region_of_exploitation",
                "arrival_channel",
                "referring_institution_kind",
            )
        }
        merged.update(given)
        merged["crime_types"] = dedupe(list(merged["crime_types"]))
        merged["exploitation_purposes"] = dedupe(list(merged["exploitation_purposes"] or []))
        check_arrival(merged["arrival_channel"], merged["referring_institution_kind"])
        updated = {**case, **merged, "updated_at": now}
        return Change(
            update={"$set": {**merged, "updated_at": now}},
            events=[CaseDetailsUpdated(case_id=case_id, updated_at=now, **merged)],
            result=case_read(updated),
        )

    return await _change(
        runtime=runtime, principal=principal, case_id=case_id, if_match=if_match, apply=apply
    )


async def change_status(
    *, runtime: Runtime, principal: Principal, case_id: str, body: StatusChange, if_match: int
) -> tuple[CaseRead, int]:
    """Move a case between open and in care."""
    now = utc_now()

    @Transition("status").stamped
    def apply(case: Document) -> Change[CaseRead]:
        check_status_move(case["status"], body.status)
        return Change(
            update={"$set": {"status": body.status, "updated_at": now}},
            events=[
                CaseStatusChanged(
                    case_id=case_id,
                    from_status=case["status"],
                    to_status=body.status,
                    changed_at=now,
                )
            ],
            result=case_read({**case, "status": body.status, "updated_at": now}),
        )

    return await _change(
        runtime=runtime, principal=principal, case_id=case_id, if_match=if_match, apply=apply
    )


async def close_case(
    *, runtime: Runtime, principal: Principal, case_id: str, body: CaseClose, if_match: int
) -> tuple[CaseRead, int]:
    """Close a case with a reason (a coordinator approves closures)."""
    now = utc_now()
    closed_at = check_instant("body.closed_at", body.closed_at or now, now)

    @Transition("close").stamped
    def apply(case: Document) -> Change[CaseRead]:
        changes, events = closing(case, reason=body.closure_reason, closed_at=closed_at, now=now)
        return Change(
            update={"$set": changes}, events=events, result=case_read({**case, **changes})
        )

    return await _change(
        runtime=runtime, principal=principal, case_id=case_id, if_match=if_match, apply=apply
    )


async def reopen_case(
    *, runtime: Runtime, principal: Principal, case_id: str, body: CaseReopen, if_match: int
) -> tuple[CaseRead, int]:
    """Reopen a closed case (it becomes open again)."""
    now = utc_now()
    reopened_at = check_instant("body.reopened_at", body.reopened_at or now, now)

    @Transition("reopen").stamped
    def apply(case: Document) -> Change[CaseRead]:
        if case["status"] != "closed":
            raise RuleViolationError("case_id", "solo se reabre un caso cerrado", status_code=409)
        if case.get("closed_at") is not None and reopened_at < case["closed_at"]:
            raise RuleViolationError("body.reopened_at", "es anterior al cierre del caso")
        changes = {
            "status": "open",
            "closure_reason": None,
            "closed_at": None,
            "reopened_at": reopened_at,
            "updated_at": now,
        }
        return Change(
            update={"$set": changes},
            events=[
                CaseStatusChanged(
                    case_id=case_id, from_status="closed", to_status="open", changed_at=now
                ),
                CaseReopened(case_id=case_id, reopened_at=reopened_at),
            ],
            result=case_read({**case, **changes}),
        )

    return await _change(
        runtime=runtime, principal=principal, case_id=case_id, if_match=if_match, apply=apply
    )


async def break_glass(
    *, runtime: Runtime, principal: Principal, case_id: str, body: BreakGlassCreate
) -> BreakGlassRead:
    """Grant time-limited access to a case of another office (logged and published)."""
    doc = await runtime.cases.collection.find_one({"_id": case_id}, {"office": 1})
    if doc is None:
        raise not_found()
    justification_long_enough(body.justification, runtime.security.settings)
    grant = await runtime.break_glass.grant(
        principal=principal,
        case_id=case_id,
        office=str(doc["office"]),
        justification=body.justification,
    )
    return BreakGlassRead(grant_id=grant.id, case_id=case_id, expires_at=grant.expires_at)
