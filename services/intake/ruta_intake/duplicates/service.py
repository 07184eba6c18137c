"""Possible duplicates for coordinators: the pending ones in their offices, and resolving one."""

from __future__ import annotations

from typing import Any

from ruta_shared.aggregate import Change
from ruta_shared.api import Page, PageParams
from ruta_shared.events.catalog.intake import VictimDuplicateResolved
from ruta_shared.security.permissions import OFFICE_SCOPE
from ruta_shared.security.principal import Principal

from ruta_intake.cases.rules import utc_now
from ruta_intake.duplicates.models import (
    DuplicateResolution,
    DuplicateStatus,
    PossibleDuplicateRead,
    VictimRecordRef,
)
from ruta_intake.duplicates.rules import check_resolvable, kept_record, sees_both
from ruta_intake.runtime import Runtime, not_found

Document = dict[str, Any]


async def _case_codes(runtime: Runtime, duplicate: Document) -> dict[str, str] | None:
    """The two cases' codes by id; None when the record that raised it was never registered.

    A possible duplicate is written before its case change, and counts only once the case
    lists its id in the victim's `duplicate_ids` (a refused or interrupted registration
    leaves one behind that never happened).
    """
    codes: dict[str, str] = {}
    for case_id in (duplicate["case_id"], duplicate["other_case_id"]):
        case = await runtime.cases.collection.find_one(
            {"_id": case_id}, {"case_code": 1, "victims": 1}
        )
        if case is None:
            continue
        codes[case_id] = str(case["case_code"])
        if case_id == duplicate["case_id"] and not any(
            v["victim_id"] == duplicate["victim_id"]
            and duplicate["_id"] in v.get("duplicate_ids", [])
            for v in case.get("victims", [])
        ):
            return None
    return codes if duplicate["case_id"] in codes else None


def duplicate_read(duplicate: Document, codes: dict[str, str]) -> PossibleDuplicateRead:
    """A stored possible duplicate as a coordinator sees it (ids and codes, no personal data)."""
    return PossibleDuplicateRead(
        duplicate_id=str(duplicate["_id"]),
        status=duplicate["status"],
        detected_at=duplicate["detected_at"],
        record=VictimRecordRef(
            case_id=duplicate["case_id"],
            case_code=codes.get(duplicate["case_id"]),
            office=duplicate["office"],
            victim_id=duplicate["victim_id"],
        ),
        other=VictimRecordRef(
            case_id=duplicate["other_case_id"],
            case_code=codes.get(duplicate["other_case_id"]),
            office=duplicate["other_office"],
            victim_id=duplicate["other_victim_id"],
        ),
        kept_victim_id=duplicate.get("kept_victim_id"),
        resolved_at=duplicate.get("resolved_at"),
        resolved_by=duplicate.get("resolved_by"),
    )


async def list_duplicates(
    *, runtime: Runtime, principal: Principal, page: PageParams, status: DuplicateStatus
) -> Page[PossibleDuplicateRead]:
    """Possible duplicates with both records in the caller's offices, oldest first."""
    query: Document = {"status": status}
    if OFFICE_SCOPE.get(principal.role) != "all":
        offices = sorted(principal.offices)
        query.update({"office": {"$in": offices}, "other_office": {"$in": offices}})
    collection = runtime.duplicates.collection
    total = await collection.count_documents(query)
    cursor = collection.find(
        query,
        {"_outbox": 0, "_outbox_pending": 0},
        sort=[("detected_at", 1), ("_id", 1)],
        skip=page.offset,
        limit=page.limit,
    )
    items = []
    async for duplicate in cursor:
        codes = await _case_codes(runtime, duplicate)
        if codes is not None and sees_both(principal, duplicate):
            items.append(duplicate_read(duplicate, codes))
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


async def resolve_duplicate(
    *, runtime: Runtime, principal: Principal, duplicate_id: str, body: DuplicateResolution
) -> PossibleDuplicateRead:
    """Decide a possible duplicate: link the two records as one person, or as two people.

    Idempotent: resolving it again the same way answers the first resolution (and finishes
    linking the records, if an interruption left that undone).
    """
    found = await runtime.duplicates.load(duplicate_id)
    if not sees_both(principal, found) or await _case_codes(runtime, found) is None:
        raise not_found()
    kept = kept_record(found, body)
    now = utc_now()

    def apply(duplicate: Document) -> Change[Document]:
        if not check_resolvable(duplicate, outcome=body.outcome, kept=kept):
            return Change(result=duplicate)
        changes = {
            "status": body.outcome,
            "kept_victim_id": kept,
            "resolved_at": now,
            "resolved_by": principal.id,
        }
        return Change(
            update={"$set": changes},
            events=[
                VictimDuplicateResolved(
                    case_id=duplicate["case_id"],
                    victim_id=duplicate["victim_id"],
                    duplicate_id=duplicate_id,
                    other_case_id=duplicate["other_case_id"],
                    other_victim_id=duplicate["other_victim_id"],
                    outcome=body.outcome,
                    kept_victim_id=kept,
                    resolved_at=now,
                )
            ],
            result={**duplicate, **changes},
        )

    changed = await runtime.duplicates.change(duplicate_id, apply=apply, actor=principal.actor)
    resolved = changed.result
    if resolved["status"] == "same_person":
        await link_records(runtime=runtime, duplicate=resolved)
    codes = await _case_codes(runtime, resolved)
    return duplicate_read(resolved, codes or {})


async def link_records(*, runtime: Runtime, duplicate: Document) -> None:
    """Note on both victim records that they are one person, and which record counts her."""
    records = [
        (duplicate["victim_id"], duplicate["case_id"]),
        (duplicate["other_victim_id"], duplicate["other_case_id"]),
    ]
    for (victim_id, case_id), (other_id, other_case) in (records, records[::-1]):
        await runtime.victim_links.update_one(
            {"_id": victim_id},
            {
                "$set": {"case_id": case_id, "kept_victim_id": duplicate["kept_victim_id"]},
                "$addToSet": {
                    "same_person": {"victim_id": other_id, "case_id": other_case},
                    "duplicate_ids": duplicate["_id"],
                },
            },
            upsert=True,
        )


async def linked_records(*, runtime: Runtime, victim_id: str) -> list[Document]:
    """The other records a coordinator found to be the same person as this victim."""
    links = await runtime.victim_links.find_one({"_id": victim_id})
    return list((links or {}).get("same_person", []))
