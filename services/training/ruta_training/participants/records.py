"""Reads of the participant registry: records by id (merges followed), audited personal reads.

A merged participant answers as the one it was merged into; an erased one keeps its
countable attributes, and its personal data answers 410.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from ruta_shared.aggregate import HIDDEN_FIELDS
from ruta_shared.api import PageParams, problem
from ruta_shared.events.catalog.security import AccessPurpose
from ruta_shared.security.crypto import DataErasedError
from ruta_shared.security.principal import Principal

from ruta_training.participants.models import ParticipantPersonalRead
from ruta_training.participants.rules import SUBJECT_TYPE, personal_read, visible
from ruta_training.runtime import Runtime
from ruta_training.sessions.rules import visible_offices

Document = dict[str, Any]
MAX_MERGE_HOPS: Final = 5  # a merged participant merged again: followed this far
NO_PII: Final = {"pii": 0, **HIDDEN_FIELDS}


async def live_records(
    runtime: Runtime, participant_ids: Sequence[str], projection: Document | None = None
) -> dict[str, Document]:
    """Each id's participant record, following merges (a merged id answers with the one it
    was merged into); erased and unknown ids are left out."""
    wanted = sorted(set(participant_ids))
    found: dict[str, Document] = {}
    redirect: dict[str, str] = {}
    for _ in range(MAX_MERGE_HOPS):
        if not wanted:
            break
        docs = await runtime.participants.find({"_id": {"$in": wanted}}, projection).to_list()
        wanted = []
        for doc in docs:
            if doc.get("merged_into"):
                redirect[doc["_id"]] = doc["merged_into"]
                wanted.append(doc["merged_into"])
            elif doc.get("erased_at") is None:
                found[doc["_id"]] = doc
    result: dict[str, Document] = {}
    for pid in participant_ids:
        target, hops = pid, 0
        while target in redirect and hops < MAX_MERGE_HOPS:
            target, hops = redirect[target], hops + 1
        if target in found:
            result[pid] = found[target]
    return result


async def find_record(runtime: Runtime, participant_id: str) -> Document | None:
    """A participant record by id, following merges; erased ones too (None: unknown)."""
    doc = await runtime.participants.find_one({"_id": participant_id}, HIDDEN_FIELDS)
    for _ in range(MAX_MERGE_HOPS):
        if doc is None or not doc.get("merged_into"):
            break
        doc = await runtime.participants.find_one({"_id": doc["merged_into"]}, HIDDEN_FIELDS)
    return doc


async def load_participant(
    *, runtime: Runtime, principal: Principal, participant_id: str
) -> Document:
    """A participant record; 404 when unknown or never seen in the caller's offices."""
    doc = await find_record(runtime, participant_id)
    if doc is None or doc.get("merged_into") or not visible(principal, doc):
        raise problem(404, "No encontrado.")
    return doc


async def current_id(runtime: Runtime, participant_id: str) -> str:
    """The id a participant is known by now (the one it was merged into, if any)."""
    doc = await find_record(runtime, participant_id)
    return participant_id if doc is None else str(doc["_id"])


def ensure_not_erased(doc: Document) -> None:
    """410 for a participant whose personal data was erased."""
    if doc.get("erased_at") is not None:
        raise DataErasedError(SUBJECT_TYPE, doc["_id"])


async def personal_of(
    *, runtime: Runtime, principal: Principal, doc: Document, purpose: AccessPurpose
) -> ParticipantPersonalRead:
    """The personal read of a loaded record, recorded with its purpose (410 if erased)."""
    ensure_not_erased(doc)
    plain = await decrypt(runtime, principal, doc, sorted(doc.get("pii", {})), purpose)
    return personal_read(doc, plain)


async def decrypt_names(
    *,
    runtime: Runtime,
    principal: Principal,
    participant_id: str,
    purpose_fields: Sequence[str],
) -> dict[str, str]:
    """Decrypt some personal fields of a participant (recorded), e.g. names for a certificate."""
    doc = await find_record(runtime, participant_id)
    if doc is None:
        raise problem(404, "No encontrado.")
    ensure_not_erased(doc)
    fields = [name for name in purpose_fields if name in doc.get("pii", {})]
    return await decrypt(runtime, principal, doc, fields, "training")


async def decrypt(
    runtime: Runtime,
    principal: Principal,
    doc: Document,
    fields: Sequence[str],
    purpose: AccessPurpose,
) -> dict[str, str]:
    """Record the read of some encrypted fields of a participant, then decrypt them."""
    encrypted: dict[str, str] = doc.get("pii", {})
    if fields:
        await runtime.access_log.record(
            principal=principal,
            subject_type=SUBJECT_TYPE,
            subject_id=doc["_id"],
            purpose=purpose,
            fields=list(fields),
        )
    key = await runtime.data_keys.get(SUBJECT_TYPE, doc["_id"])
    return {name: key.decrypt(name, encrypted[name]) for name in fields}


async def list_participants(
    *, runtime: Runtime, principal: Principal, page: PageParams
) -> tuple[list[Document], int]:
    """Participants seen in the caller's offices (attributes only; merged ones left out)."""
    query: dict[str, Any] = {"merged_into": None}
    offices = visible_offices(principal)
    if offices is not None:
        query["offices"] = {"$in": offices}
    total = await runtime.participants.count_documents(query)
    docs = await (
        runtime.participants.find(query, NO_PII, sort=[("_id", 1)])
        .skip(page.offset)
        .limit(page.limit)
        .to_list()
    )
    return docs, total
