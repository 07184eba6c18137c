"""The participant registry: one record per person, found again by blind index, data encrypted.

A person is found by the keyed hash of their normalised document number or email, never
by the plain value. Each blind index is claimed in `participant_keys` (its `_id`), so two
registrations of the same person racing each other end with one participant. The claim
is written before the participant record; a record missing behind a claim (a crash in
between) is made again by the next registration of that person.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError
from ruta_shared.api import PageParams, problem
from ruta_shared.security.crypto import (
    DATA_KEYS_COLLECTION,
    new_key_record,
    subject_key_from_record,
)
from ruta_shared.security.principal import Principal

from ruta_training.participants.models import ParticipantCreate, ParticipantPersonalRead
from ruta_training.participants.rules import (
    ATTRIBUTES,
    PERSONAL_FIELDS,
    SUBJECT_TYPE,
    known_attributes,
    lookup_keys,
    resolve,
    to_read,
    visible,
)
from ruta_training.runtime import Runtime
from ruta_training.sessions.rules import invalid, visible_offices

log = logging.getLogger(__name__)

Document = dict[str, Any]
DUPLICATE_KEY: Final = 11000


@dataclass(frozen=True)
class Registered:
    """The outcome of one registration: who, whether new, and their attributes now."""

    participant_id: str
    created: bool
    attributes: dict[str, Any]


async def register_many(
    *, runtime: Runtime, principal: Principal, people: Sequence[ParticipantCreate]
) -> list[Registered]:
    """Register people in bulk, each found again when known; one result per input, in order."""
    if not people:
        return []
    person_keys = [lookup_keys(runtime.blind_index, person) for person in people]
    if any(not keys for keys in person_keys):
        msg = "every participant needs a document number or an email"
        raise ValueError(msg)
    wanted = sorted({key for keys in person_keys for key in keys})
    claimed = {
        doc["_id"]: doc["participant_id"]
        for doc in await runtime.participant_keys.find({"_id": {"$in": wanted}}).to_list()
    }
    owner = dict(claimed)
    chosen = resolve(person_keys, owner)
    claims = [{"_id": k, "participant_id": p} for k, p in owner.items() if k not in claimed]
    lost = await _claim(runtime, claims)
    if lost:
        # Someone registered the same person meanwhile: theirs is the participant.
        chosen = [
            next((lost[k] for k in keys if k in lost), p)
            for keys, p in zip(person_keys, chosen, strict=True)
        ]
    existing = {
        doc["_id"]: doc
        for doc in await runtime.participants.find(
            {"_id": {"$in": sorted(set(chosen))}}, {"pii": 0}
        ).to_list()
    }
    # The first input naming a person who has no record yet makes the record.
    to_create: dict[str, ParticipantCreate] = {}
    for participant_id, person in zip(chosen, people, strict=True):
        if participant_id not in existing and participant_id not in to_create:
            to_create[participant_id] = person
    await _create_records(runtime, principal, to_create)
    attributes = await _update_known(runtime, chosen, people, existing, to_create)
    return [
        Registered(participant_id=pid, created=pid in to_create, attributes=dict(attributes[pid]))
        for pid in chosen
    ]


async def _update_known(
    runtime: Runtime,
    chosen: Sequence[str],
    people: Sequence[ParticipantCreate],
    existing: dict[str, Document],
    created: dict[str, ParticipantCreate],
) -> dict[str, dict[str, Any]]:
    """Later inputs update what can be counted (latest stated wins) and add their office."""
    attributes: dict[str, dict[str, Any]] = {
        pid: {name: doc.get(name) for name in ATTRIBUTES} for pid, doc in existing.items()
    }
    known_offices: dict[str, set[str]] = {
        pid: set(doc.get("offices", [])) for pid, doc in existing.items()
    }
    for pid, person in created.items():
        attributes[pid] = person.model_dump(include=set(ATTRIBUTES))
        known_offices[pid] = {person.office}
    updates: dict[str, dict[str, Any]] = {}
    offices: dict[str, set[str]] = {}
    first_use = set(created)
    for participant_id, person in zip(chosen, people, strict=True):
        offices.setdefault(participant_id, set()).add(person.office)
        if participant_id in first_use:
            first_use.discard(participant_id)
            continue
        stated = known_attributes(person)
        changed = {k: v for k, v in stated.items() if attributes[participant_id].get(k) != v}
        if changed:
            attributes[participant_id].update(changed)
            updates.setdefault(participant_id, {}).update(changed)
    operations = []
    for pid, named_offices in sorted(offices.items()):
        if pid not in updates and named_offices <= known_offices[pid]:
            continue
        update: dict[str, Any] = {"$addToSet": {"offices": {"$each": sorted(named_offices)}}}
        if pid in updates:
            update["$set"] = updates[pid]
        operations.append(UpdateOne({"_id": pid}, update))
    if operations:
        await runtime.participants.bulk_write(operations, ordered=False)
    return attributes


async def _claim(runtime: Runtime, claims: list[Document]) -> dict[str, str]:
    """Claim blind-index keys; returns the keys someone else claimed first, with their owner."""
    if not claims:
        return {}
    try:
        await runtime.participant_keys.insert_many(claims, ordered=False)
    except BulkWriteError as exc:
        failed = [e for e in exc.details.get("writeErrors", []) if e.get("code") == DUPLICATE_KEY]
        if len(failed) != len(exc.details.get("writeErrors", [])):
            raise
        keys = [claims[e["index"]]["_id"] for e in failed]
        winners = await runtime.participant_keys.find({"_id": {"$in": keys}}).to_list()
        return {doc["_id"]: doc["participant_id"] for doc in winners}
    return {}


async def _create_records(
    runtime: Runtime, principal: Principal, people: dict[str, ParticipantCreate]
) -> None:
    """Data keys, then encrypted participant records."""
    if not people:
        return
    keyring = runtime.keyring
    records = {pid: new_key_record(SUBJECT_TYPE, pid, keyring) for pid in people}
    order = list(records)
    had_key: set[str] = set()
    try:
        await runtime.db[DATA_KEYS_COLLECTION].insert_many(list(records.values()), ordered=False)
    except BulkWriteError as exc:
        # A registration retried after a crash: that person's key exists already.
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        had_key = {order[e["index"]] for e in errors}
    now = datetime.now(UTC)
    documents = []
    for pid, person in people.items():
        if pid in had_key:
            key = await runtime.data_keys.get(SUBJECT_TYPE, pid)
        else:
            key = subject_key_from_record(records[pid], keyring)
        values = person.model_dump(include=set(PERSONAL_FIELDS))
        documents.append(
            {
                "_id": pid,
                "offices": [person.office],
                **person.model_dump(include=set(ATTRIBUTES)),
                "document_type": person.document_type,
                "pii": {
                    name: key.encrypt(name, value)
                    for name, value in values.items()
                    if value is not None
                },
                "registered_at": now,
                "registered_by": principal.id,
            }
        )
    try:
        await runtime.participants.insert_many(documents, ordered=False)
    except BulkWriteError as exc:
        if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
            raise
    log.info("participants registered", extra={"count": len(documents)})


async def register(
    *, runtime: Runtime, principal: Principal, person: ParticipantCreate
) -> Registered:
    """Register one person (or find them again)."""
    if not person.document_number and not person.email:
        raise invalid(
            "document_number", "indique el número de documento o el correo para no duplicar"
        )
    [result] = await register_many(runtime=runtime, principal=principal, people=[person])
    return result


async def load_participant(
    *, runtime: Runtime, principal: Principal, participant_id: str
) -> Document:
    """A participant record; 404 when unknown or never seen in the caller's offices."""
    doc = await runtime.participants.find_one({"_id": participant_id})
    if doc is None or not visible(principal, doc):
        raise problem(404, "No encontrado.")
    return doc


async def read_personal(
    *, runtime: Runtime, principal: Principal, participant_id: str
) -> ParticipantPersonalRead:
    """A participant's decrypted personal data; the read is recorded first."""
    doc = await load_participant(
        runtime=runtime, principal=principal, participant_id=participant_id
    )
    plain = await _decrypt(runtime, principal, doc, sorted(doc.get("pii", {})))
    return ParticipantPersonalRead(
        **to_read(doc).model_dump(),
        given_names=plain["given_names"],
        family_names=plain["family_names"],
        document_type=doc.get("document_type"),
        document_number=plain.get("document_number"),
        email=plain.get("email"),
        phone=plain.get("phone"),
    )


async def decrypt_names(
    *,
    runtime: Runtime,
    principal: Principal,
    participant_id: str,
    purpose_fields: Sequence[str],
) -> dict[str, str]:
    """Decrypt some personal fields of a participant (recorded), e.g. names for a certificate."""
    doc = await runtime.participants.find_one({"_id": participant_id})
    if doc is None:
        raise problem(404, "No encontrado.")
    fields = [name for name in purpose_fields if name in doc.get("pii", {})]
    return await _decrypt(runtime, principal, doc, fields)


async def _decrypt(
    runtime: Runtime, principal: Principal, doc: Document, fields: Sequence[str]
) -> dict[str, str]:
    """Record the read of some encrypted fields of a participant, then decrypt them."""
    encrypted: dict[str, str] = doc.get("pii", {})
    await runtime.access_log.record(
        principal=principal,
        subject_type=SUBJECT_TYPE,
        subject_id=doc["_id"],
        purpose="training",
        fields=list(fields),
    )
    key = await runtime.data_keys.get(SUBJECT_TYPE, doc["_id"])
    return {name: key.decrypt(name, encrypted[name]) for name in fields}


async def list_participants(
    *, runtime: Runtime, principal: Principal, page: PageParams
) -> tuple[list[Document], int]:
    """Participants seen in the caller's offices (attributes only)."""
    query: dict[str, Any] = {}
    offices = visible_offices(principal)
    if offices is not None:
        query["offices"] = {"$in": offices}
    total = await runtime.participants.count_documents(query)
    docs = await (
        runtime.participants.find(query, {"pii": 0}, sort=[("_id", 1)])
        .skip(page.offset)
        .limit(page.limit)
        .to_list()
    )
    return docs, total
