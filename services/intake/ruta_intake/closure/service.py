"""Closure requests of a case: asking, approving (the case closes), returning, the queue."""

from __future__ import annotations

from typing import Any

from ruta_shared.aggregate import Change
from ruta_shared.rerun import Transition, earlier_attempt, operation_marker
from ruta_shared.security.permissions import OFFICE_SCOPE
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_intake.cases.aggregate import change_case, load_case
from ruta_intake.cases.rules import utc_now
from ruta_intake.closure.models import (
    ClosureRequestCreate,
    ClosureRequestDetails,
    ClosureRequestRead,
)
from ruta_intake.closure.rules import (
    closing,
    decide,
    find_request,
    new_request,
    note_field,
    request_read,
)
from ruta_intake.runtime import Runtime

Document = dict[str, Any]


async def request_closure(
    *, runtime: Runtime, principal: Principal, case_id: str, body: ClosureRequestCreate
) -> tuple[ClosureRequestRead, int]:
    """Ask a coordinator to close the case; the note is sealed with the case's key."""
    await load_case(runtime=runtime, principal=principal, case_id=case_id)
    request_id = str(uuid7())
    note = None
    if body.note is not None:
        key = await runtime.data_keys.create("case", case_id)
        note = key.encrypt(note_field(request_id, "note"), body.note)
    now = utc_now()
    # Under an Idempotency-Key a re-run (after a crash) finds the request it already made.
    marker = operation_marker("closure_request")

    def apply(case: Document) -> Change[ClosureRequestRead]:
        if (written := earlier_attempt(case.get("closure_requests") or [], marker)) is not None:
            return Change(result=request_read(case, written))
        request, event = new_request(
            case,
            request_id=request_id,
            reason=body.closure_reason,
            note=note,
            author=principal.id,
            now=now,
        )
        stored = {**request, **marker}
        return Change({"$push": {"closure_requests": stored}}, [event], request_read(case, request))

    return await change_case(runtime=runtime, principal=principal, case_id=case_id, apply=apply)


async def approve_closure(
    *, runtime: Runtime, principal: Principal, case_id: str, request_id: str
) -> tuple[ClosureRequestRead, int]:
    """Approve a pending request: the case closes with its reason, in the same write."""
    now = utc_now()
    # Under an Idempotency-Key a re-run (after a crash) finds the request it already decided.
    transition = Transition("closure_decision")

    def apply(case: Document) -> Change[ClosureRequestRead]:
        index, request = find_request(case, request_id)
        if transition.done_in(request):
            return Change(result=request_read(case, request))
        decided, approved = decide(
            case, request, approve=True, comment=None, author=principal.id, now=now
        )
        decided.update(transition.stamp(request))
        changes, events = closing(case, reason=request["closure_reason"], closed_at=now, now=now)
        update = {"$set": {**changes, f"closure_requests.{index}": decided}}
        return Change(update, [approved, *events], request_read(case, decided))

    return await change_case(runtime=runtime, principal=principal, case_id=case_id, apply=apply)


async def return_closure(
    *, runtime: Runtime, principal: Principal, case_id: str, request_id: str, comment: str
) -> tuple[ClosureRequestRead, int]:
    """Send a pending request back with a comment (sealed with the case's key); the case stays."""
    await load_case(runtime=runtime, principal=principal, case_id=case_id)
    key = await runtime.data_keys.create("case", case_id)
    sealed = key.encrypt(note_field(request_id, "comment"), comment)
    now = utc_now()
    transition = Transition("closure_decision")  # as in `approve_closure`

    def apply(case: Document) -> Change[ClosureRequestRead]:
        index, request = find_request(case, request_id)
        if transition.done_in(request):
            return Change(result=request_read(case, request))
        decided, returned = decide(
            case, request, approve=False, comment=sealed, author=principal.id, now=now
        )
        decided.update(transition.stamp(request))
        update = {"$set": {f"closure_requests.{index}": decided}}
        return Change(update, [returned], request_read(case, decided))

    return await change_case(runtime=runtime, principal=principal, case_id=case_id, apply=apply)


async def case_closure_requests(
    *, runtime: Runtime, principal: Principal, case_id: str
) -> list[ClosureRequestRead]:
    """Every closure request of the case, oldest first."""
    case = (await load_case(runtime=runtime, principal=principal, case_id=case_id)).doc
    return [request_read(case, r) for r in case.get("closure_requests") or []]


async def closure_details(
    *, runtime: Runtime, principal: Principal, case_id: str, request_id: str
) -> ClosureRequestDetails:
    """A request's decrypted note and comment, the read recorded in the access log first."""
    case = (await load_case(runtime=runtime, principal=principal, case_id=case_id)).doc
    request = find_request(case, request_id)[1]
    await runtime.access_log.record(
        principal=principal,
        subject_type="case",
        subject_id=case_id,
        purpose="supervision",
        fields=["closure_note", "closure_comment"],
        case_id=case_id,
    )
    texts: dict[str, str | None] = {"note": None, "comment": None}
    for part in texts:
        if request.get(part) is not None:
            key = await runtime.data_keys.get("case", case_id)
            texts[part] = key.decrypt(note_field(request_id, part), request[part])
    return ClosureRequestDetails(request_id=request_id, **texts)


async def pending_closures(*, runtime: Runtime, principal: Principal) -> list[ClosureRequestRead]:
    """The approval queue: pending requests of the caller's offices (coordinators: all)."""
    query: Document = {"closure_requests.status": "pending"}
    if OFFICE_SCOPE.get(principal.role) != "all":
        query["office"] = {"$in": sorted(principal.offices)}
    projection = {"office": 1, "closure_requests": 1}
    return [
        request_read(case, request)
        async for case in runtime.cases.collection.find(query, projection, sort=[("_id", 1)])
        for request in case.get("closure_requests") or []
        if request["status"] == "pending"
    ]
