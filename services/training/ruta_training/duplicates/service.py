"""Suspected duplicates across offices: listed for coordinators, merged into one participant
or confirmed as two people.

A merge marks the duplicate as merged first (from then on every read, attendance or
registration naming it reaches the participant kept), then moves its offices, keys and
attendance to the one kept, and erases its personal data (its data key is destroyed). Each
step can run again, so a merge that stopped half way is finished by repeating it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from ruta_shared.api import PageParams, problem
from ruta_shared.security.crypto import DataErasedError, SubjectKey
from ruta_shared.security.principal import Principal

from ruta_training.certificates.service import CODE_FIELD
from ruta_training.duplicates.models import DuplicateParticipant, DuplicateRead
from ruta_training.duplicates.rules import plan_merged, plan_move, plan_resolve
from ruta_training.participants.records import find_record
from ruta_training.participants.rules import SUBJECT_TYPE, claim_ids
from ruta_training.rights.export import sessions_of
from ruta_training.runtime import Runtime
from ruta_training.sessions.rules import conflict, invalid
from ruta_training.sessions.service import change_session

log = logging.getLogger(__name__)

Document = dict[str, Any]


async def list_duplicates(
    *, runtime: Runtime, status: str, page: PageParams
) -> tuple[list[DuplicateRead], int]:
    """Suspected duplicates in one status, oldest first, with both participants as they are."""
    collection = runtime.duplicates.collection
    total = await collection.count_documents({"status": status})
    docs = await (
        collection.find({"status": status}, sort=[("suspected_at", 1), ("_id", 1)])
        .skip(page.offset)
        .limit(page.limit)
        .to_list()
    )
    people = await _people(runtime, [pid for doc in docs for pid in doc["participant_ids"]])
    return [_read(doc, people) for doc in docs], total


async def _people(runtime: Runtime, participant_ids: list[str]) -> dict[str, Document]:
    """The participants of some duplicates as they are now (offices, erased, merged)."""
    found = await runtime.participants.find(
        {"_id": {"$in": sorted(set(participant_ids))}},
        {"offices": 1, "erased_at": 1, "merged_into": 1},
    ).to_list()
    return {doc["_id"]: doc for doc in found}


def _read(doc: Document, people: dict[str, Document]) -> DuplicateRead:
    """A duplicate with its two participants (unknown ones shown without offices)."""
    return DuplicateRead(
        id=doc["_id"],
        participants=[
            DuplicateParticipant(
                id=pid,
                offices=sorted(people.get(pid, {}).get("offices", [])),
                erased=people.get(pid, {}).get("erased_at") is not None,
                merged_into=people.get(pid, {}).get("merged_into"),
            )
            for pid in doc["participant_ids"]
        ],
        matched_on=doc["matched_on"],
        status=doc["status"],
        suspected_at=doc["suspected_at"],
        resolved_at=doc.get("resolved_at"),
        kept_participant_id=doc.get("kept_participant_id"),
    )


async def _reload(runtime: Runtime, duplicate_id: str) -> DuplicateRead:
    """A duplicate as it is now."""
    doc = await runtime.duplicates.load(duplicate_id)
    return _read(doc, await _people(runtime, doc["participant_ids"]))


async def confirm_distinct(
    *, runtime: Runtime, principal: Principal, duplicate_id: str
) -> DuplicateRead:
    """Confirm the pair are two people: nothing moves, and registrations stop the notice."""
    now = datetime.now(UTC)
    await runtime.duplicates.change(
        duplicate_id,
        apply=lambda doc: plan_resolve(doc, "distinct", None, principal.id, now),
        actor=principal.actor,
    )
    return await _reload(runtime, duplicate_id)


async def merge(
    *, runtime: Runtime, principal: Principal, duplicate_id: str, keep: str
) -> DuplicateRead:
    """Merge the pair into `keep`: attendance moves, the other's personal data is erased."""
    dup = await runtime.duplicates.load(duplicate_id)
    if keep not in dup["participant_ids"]:
        raise invalid("keep", "debe ser uno de los dos participantes del posible duplicado")
    if dup["status"] == "distinct":
        raise conflict("Ya se confirmó que son dos personas distintas.")
    [other] = [pid for pid in dup["participant_ids"] if pid != keep]
    kept = await find_record(runtime, keep)
    merged = await runtime.participants.find_one({"_id": other})
    if kept is None or merged is None:
        raise problem(404, "No encontrado.")
    target = kept["_id"]  # `keep` itself may have been merged into a third record since
    if kept.get("erased_at") is not None or merged.get("erased_at") is not None:
        raise conflict("Los datos de uno de los participantes fueron eliminados: no se unen.")
    now = datetime.now(UTC)
    if target != other:
        await _merge_into(
            runtime, principal, merged=merged, target=target, duplicate_id=duplicate_id, now=now
        )
    await runtime.duplicates.change(
        duplicate_id,
        apply=lambda doc: plan_resolve(doc, "merged", keep, principal.id, now),
        actor=principal.actor,
    )
    log.info("participants merged", extra={"duplicate_id": duplicate_id})
    return await _reload(runtime, duplicate_id)


async def _merge_into(
    runtime: Runtime,
    principal: Principal,
    *,
    merged: Document,
    target: str,
    duplicate_id: str,
    now: datetime,
) -> None:
    """The steps of a merge, each safe to repeat (see the module docstring)."""
    other = merged["_id"]
    await runtime.registry.change(
        other,
        apply=lambda doc: plan_merged(doc, target, duplicate_id, now),
        actor=principal.actor,
    )
    sessions = await sessions_of(runtime, merged)
    await runtime.participants.update_one(
        {"_id": target},
        {
            "$addToSet": {
                "offices": {"$each": sorted(merged.get("offices", []))},
                "lookup": {"$each": sorted(merged.get("lookup", []))},
                "sessions": {"$each": sorted(s["_id"] for s in sessions)},
                "merged_from": other,
            },
            "$push": {"changes": {"action": "merged", "fields": [], "at": now}},
        },
    )
    await runtime.participant_keys.update_many(
        {"_id": {"$in": claim_ids(merged.get("lookup", []))}, "participant_id": other},
        {"$set": {"participant_id": target}},
    )
    old_key = await _key_or_none(runtime, other)
    new_key = await runtime.data_keys.get(SUBJECT_TYPE, target)
    for session in sessions:
        certificates = session.get("certificates", {})
        if old_key is not None and other in certificates and target not in certificates:
            await _rekey_code(runtime, certificates[other]["code_hash"], old_key, new_key)
        await change_session(
            runtime=runtime,
            principal=principal,
            session_id=session["_id"],
            apply=lambda doc: plan_move(doc, other, target),
        )
    await runtime.data_keys.destroy(SUBJECT_TYPE, other)
    await runtime.participants.update_one(
        {"_id": other}, {"$set": {"pii": {}, "lookup": [], "document_type": None}}
    )


async def _key_or_none(runtime: Runtime, participant_id: str) -> SubjectKey | None:
    """The participant's data key, or None once destroyed (a merge being repeated)."""
    try:
        return await runtime.data_keys.get(SUBJECT_TYPE, participant_id)
    except DataErasedError:
        return None


async def _rekey_code(
    runtime: Runtime, digest: str, old_key: SubjectKey, new_key: SubjectKey
) -> None:
    """A certificate moving to the participant kept: its code re-encrypted with their key."""
    record = await runtime.certificate_codes.find_one({"_id": digest})
    if record is None or record["participant_id"] != old_key.subject_id:
        return
    code = old_key.decrypt(CODE_FIELD, record["code"])
    await runtime.certificate_codes.update_one(
        {"_id": digest, "participant_id": old_key.subject_id},
        {"$set": {"participant_id": new_key.subject_id, "code": new_key.encrypt(CODE_FIELD, code)}},
    )
