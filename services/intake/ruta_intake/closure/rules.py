"""Pure rules of closing a case: the closure itself, requests, approval and return."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ruta_shared.aggregate import RuleViolationError
from ruta_shared.events import EventData
from ruta_shared.events.catalog.intake import (
    CaseClosed,
    CaseClosureApproved,
    CaseClosureRequested,
    CaseClosureReturned,
    CaseStatusChanged,
    ClosureReason,
)

from ruta_intake.closure.models import ClosureRequestRead

Document = dict[str, Any]


def closing(
    case: Document, *, reason: ClosureReason, closed_at: datetime, now: datetime
) -> tuple[Document, list[EventData]]:
    """The fields and events of closing a case (409 if closed, 422 if before its opening)."""
    if case["status"] == "closed":
        raise RuleViolationError("case_id", "el caso ya está cerrado", status_code=409)
    if closed_at < case["opened_at"]:
        raise RuleViolationError("body.closed_at", "es anterior a la apertura del caso")
    case_id = str(case["_id"])
    changes = {
        "status": "closed",
        "closure_reason": reason,
        "closed_at": closed_at,
        "updated_at": now,
    }
    events: list[EventData] = [
        CaseStatusChanged(
            case_id=case_id, from_status=case["status"], to_status="closed", changed_at=now
        ),
        CaseClosed(case_id=case_id, closure_reason=reason, closed_at=closed_at),
    ]
    return changes, events


def note_field(request_id: str, part: str) -> str:
    """The encryption field name of a request's note or comment (binds it to the request)."""
    return f"closure_request.{request_id}.{part}"


def pending_index(case: Document) -> int | None:
    """The position of the case's pending closure request, if any."""
    for index, request in enumerate(case.get("closure_requests") or []):
        if request["status"] == "pending":
            return index
    return None


def new_request(
    case: Document,
    *,
    request_id: str,
    reason: ClosureReason,
    note: str | None,
    author: str,
    now: datetime,
) -> tuple[Document, CaseClosureRequested]:
    """A pending request and its event (409 if the case is closed or one is pending)."""
    if case["status"] == "closed":
        raise RuleViolationError("case_id", "el caso ya está cerrado", status_code=409)
    if pending_index(case) is not None:
        raise RuleViolationError(
            "case_id", "ya hay una solicitud de cierre pendiente", status_code=409
        )
    request = {
        "request_id": request_id,
        "status": "pending",
        "closure_reason": reason,
        "note": note,
        "comment": None,
        "requested_by": author,
        "requested_at": now,
        "decided_by": None,
        "decided_at": None,
    }
    return request, CaseClosureRequested(**_event_fields(case, request))


def find_request(case: Document, request_id: str) -> tuple[int, Document]:
    """The position and the request; 404 when the case has no such request."""
    for index, request in enumerate(case.get("closure_requests") or []):
        if request["request_id"] == request_id:
            return index, request
    raise RuleViolationError(None, "Solicitud de cierre no encontrada.", status_code=404)


def decide(
    case: Document,
    request: Document,
    *,
    approve: bool,
    comment: str | None,
    author: str,
    now: datetime,
) -> tuple[Document, EventData]:
    """The request approved or returned, and its event; 409 unless it is pending."""
    if request["status"] != "pending":
        raise RuleViolationError(None, "la solicitud de cierre ya fue resuelta", status_code=409)
    decided = {
        **request,
        "status": "approved" if approve else "returned",
        "comment": comment,
        "decided_by": author,
        "decided_at": now,
    }
    fields = _event_fields(case, request)
    if approve:
        return decided, CaseClosureApproved(**fields, approved_at=now)
    return decided, CaseClosureReturned(**fields, returned_at=now)


def _event_fields(case: Document, request: Document) -> dict[str, Any]:
    return {
        "case_id": str(case["_id"]),
        "request_id": request["request_id"],
        "office": case["office"],
        "closure_reason": request["closure_reason"],
        "requested_at": request["requested_at"],
    }


def request_read(case: Document, request: Document) -> ClosureRequestRead:
    """The read model of a stored request."""
    return ClosureRequestRead(
        request_id=request["request_id"],
        case_id=str(case["_id"]),
        office=case["office"],
        status=request["status"],
        closure_reason=request["closure_reason"],
        requested_by=request["requested_by"],
        requested_at=request["requested_at"],
        decided_by=request.get("decided_by"),
        decided_at=request.get("decided_at"),
        has_note=request.get("note") is not None,
        has_comment=request.get("comment") is not None,
    )
