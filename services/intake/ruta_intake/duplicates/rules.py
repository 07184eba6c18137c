"""Pure rules of possible duplicates: notices, records, who may see them, resolutions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from ruta_shared.aggregate import RuleViolationError
from ruta_shared.security.permissions import in_office_scope
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_intake.duplicates.models import DuplicateResolution

Document = dict[str, Any]

# What a registering user learns of a match they may not see: no id, office or date.
NEUTRAL_NOTICE: Final = "posible duplicado en otra oficina; un coordinador puede revisarlo"
DUPLICATE_DETAIL: Final = (
    "Ya hay una víctima registrada con ese número de documento: revise `existing_victim_id` "
    "o, si es otra persona, repita la solicitud con `allow_duplicate: true`."
)


def new_possible_duplicate(
    *,
    case_id: str,
    office: str,
    victim_id: str,
    other_case_id: str,
    other_office: str,
    other_victim_id: str,
    now: datetime,
) -> Document:
    """The stored record of a new victim matching one of an office its registrar cannot see."""
    return {
        "_id": str(uuid7()),
        "status": "pending",
        "detected_at": now,
        "case_id": case_id,
        "office": office,
        "victim_id": victim_id,
        "other_case_id": other_case_id,
        "other_office": other_office,
        "other_victim_id": other_victim_id,
        "kept_victim_id": None,
        "resolved_at": None,
        "resolved_by": None,
    }


def sees_both(principal: Principal, duplicate: Document) -> bool:
    """Whether the caller's offices cover both records (else the duplicate is not found)."""
    return in_office_scope(principal, duplicate["office"]) and in_office_scope(
        principal, duplicate["other_office"]
    )


def kept_record(duplicate: Document, body: DuplicateResolution) -> str | None:
    """The record that counts the person: one of the two, the older one unless named."""
    if body.outcome == "different_people":
        if body.kept_victim_id is not None:
            raise RuleViolationError(
                "body.kept_victim_id", "solo se indica cuando es la misma persona"
            )
        return None
    if body.kept_victim_id is None:
        return str(duplicate["other_victim_id"])
    if body.kept_victim_id not in (duplicate["victim_id"], duplicate["other_victim_id"]):
        raise RuleViolationError("body.kept_victim_id", "no es uno de los dos registros")
    return body.kept_victim_id


def check_resolvable(duplicate: Document, *, outcome: str, kept: str | None) -> bool:
    """True to resolve now, False when it is already resolved the same way; 409 otherwise."""
    if duplicate["status"] == "pending":
        return True
    if duplicate["status"] == outcome and duplicate.get("kept_victim_id") == kept:
        return False
    raise RuleViolationError(
        "duplicate_id", "este posible duplicado ya fue resuelto de otra manera", status_code=409
    )
