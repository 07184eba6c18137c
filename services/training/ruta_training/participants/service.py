"""Registration in the participant registry: found again by blind index within the caller's
offices, data encrypted, matches in other offices recorded for a coordinator, never shown.

A person is found by the keyed hash of their normalised document number or email, never
by the plain value. Each key is claimed per office in `participant_keys` (`_id` is the key
and the office), so two registrations of the same person in one office racing each other
end with one participant, and a registration never learns whom another office holds. The
claim is written before the participant record; a record missing behind a claim (a crash
in between) is made again by the next registration of that person.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError
from ruta_shared.events.catalog.training import MatchedOn, TrainingDuplicateSuspected
from ruta_shared.outbox import OUTBOX_FIELD, PENDING_FIELD, SEQUENCE_FIELD
from ruta_shared.rerun import OPERATION_FIELD, earlier_attempt, operation_marker
from ruta_shared.security.crypto import (
    DATA_KEYS_COLLECTION,
    new_key_record,
    subject_key_from_record,
)
from ruta_shared.security.permissions import in_office_scope
from ruta_shared.security.principal import Principal

from ruta_training.participants.models import ParticipantCreate
from ruta_training.participants.records import live_records
from ruta_training.participants.rules import (
    ATTRIBUTES,
    PERSONAL_FIELDS,
    SUBJECT_TYPE,
    Wanted,
    claim_id,
    claim_ids,
    duplicate_id,
    encrypt_personal,
    known_attributes,
    lookup_keys,
    resolve,
)
from ruta_training.runtime import Runtime
from ruta_training.sessions.rules import invalid

log = logging.getLogger(__name__)

Document = dict[str, Any]
DUPLICATE_KEY: Final = 11000


@dataclass(frozen=True)
class Registered:
    """The outcome of one registration: who, whether new, their attributes now, and whether
    the person may also be registered by an office the caller cannot see (never which)."""

    participant_id: str
    created: bool
    attributes: dict[str, Any]
    possible_duplicate: bool = False


async def register_many(
    *, runtime: Runtime, principal: Principal, people: Sequence[ParticipantCreate]
) -> list[Registered]:
    """Register people in bulk, each found again when known; one result per input, in order.

    A person is found again only among the participants the caller can see; a match in an
    office the caller cannot see is never disclosed: a participant of the caller's office
    is made and the pair is recorded for a coordinator (`participant_duplicates`).
    """
    if not people:
        return []
    for person in people:
        if not in_office_scope(principal, person.office):
            raise invalid("office", "no es una de sus oficinas")
    wanted = [
        Wanted(lookup_keys(runtime.blind_index, p.document_number, p.email), p.office)
        for p in people
    ]
    if any(not item.keys for item in wanted):
        msg = "every participant needs a document number or an email"
        raise ValueError(msg)
    claims, offices_of = await claims_of(runtime, [k for item in wanted for k in item.keys])
    before = dict(claims)
    resolutions = resolve(wanted, claims, offices_of, lambda o: in_office_scope(principal, o))
    new_claims = [
        {"_id": c, "participant_id": p, "office": c.rpartition("|")[2]}
        for c, p in claims.items()
        if c not in before
    ]
    lost = await _claim(runtime, new_claims)
    chosen = [r.participant_id for r in resolutions]
    if lost:
        chosen = await _yield_to_winners(runtime, wanted, chosen, new_claims, lost)
    existing = {
        doc["_id"]: doc
        for doc in await runtime.participants.find(
            {"_id": {"$in": sorted(set(chosen))}}, {"pii": 0}
        ).to_list()
    }
    # The first input naming a person who has no record yet makes the record.
    to_create: dict[str, tuple[ParticipantCreate, Sequence[str]]] = {}
    for participant_id, person, item in zip(chosen, people, wanted, strict=True):
        if participant_id not in existing and participant_id not in to_create:
            to_create[participant_id] = (person, item.keys)
    await _create_records(runtime, principal, to_create)
    created = {pid: person for pid, (person, _) in to_create.items()}
    attributes = await _update_known(
        runtime, chosen=chosen, people=people, wanted=wanted, existing=existing, created=created
    )
    suspected = {
        (pid, other): kinds
        for pid, resolution in zip(chosen, resolutions, strict=True)
        if pid == resolution.participant_id  # a registration that lost a race has the winner's
        for other, kinds in resolution.hidden.items()
    }
    pending = await record_suspected(runtime, principal, suspected)
    return [
        Registered(
            participant_id=pid,
            created=pid in to_create,
            attributes=dict(attributes[pid]),
            possible_duplicate=pid in pending,
        )
        for pid in chosen
    ]


async def claims_of(
    runtime: Runtime, keys: Sequence[str]
) -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """Claims of the keys in every office (merges followed) and their participants' offices.

    Claims left behind on an erased participant (a crash during its erasure) are dropped.
    """
    docs = await runtime.participant_keys.find({"_id": {"$in": claim_ids(keys)}}).to_list()
    raw = {doc["_id"]: doc["participant_id"] for doc in docs}
    live = await live_records(runtime, list(raw.values()), {"offices": 1, "merged_into": 1})
    missing = sorted({pid for pid in raw.values() if pid not in live})
    if missing:
        # A claim whose record does not exist yet may be another registration in flight:
        # only claims of erased participants are stale.
        erased = {
            doc["_id"]
            for doc in await runtime.participants.find(
                {"_id": {"$in": missing}, "erased_at": {"$ne": None}}, {"_id": 1}
            ).to_list()
        }
        stale = [c for c, pid in raw.items() if pid in erased]
        if stale:
            await runtime.participant_keys.delete_many({"_id": {"$in": stale}})
    claims = {c: live[pid]["_id"] for c, pid in raw.items() if pid in live}
    offices = {doc["_id"]: frozenset(doc.get("offices", [])) for doc in live.values()}
    return claims, offices


async def _yield_to_winners(
    runtime: Runtime,
    wanted: Sequence[Wanted],
    chosen: Sequence[str],
    new_claims: Sequence[Document],
    lost: dict[str, str],
) -> list[str]:
    """Someone registered the same person in the same office meanwhile: theirs is the
    participant, and the claims this registration did win name it too."""
    replaced: dict[str, str] = {}
    for item, pid in zip(wanted, chosen, strict=True):
        ids = [claim_id(k, item.office) for k in item.keys]
        winner = next((lost[c] for c in ids if c in lost), None)
        if winner is not None and winner != pid:
            replaced[pid] = winner
    for claim in new_claims:
        if claim["_id"] not in lost and claim["participant_id"] in replaced:
            await runtime.participant_keys.update_one(
                {"_id": claim["_id"], "participant_id": claim["participant_id"]},
                {"$set": {"participant_id": replaced[claim["participant_id"]]}},
            )
    return [replaced.get(pid, pid) for pid in chosen]


async def record_suspected(
    runtime: Runtime,
    principal: Principal,
    pairs: dict[tuple[str, str], frozenset[MatchedOn]],
) -> set[str]:
    """Record each (registered, hidden) pair once as a suspected duplicate, with its event;
    returns the registered ids that have a duplicate still waiting for a coordinator."""
    if not pairs:
        return set()
    by_id = {duplicate_id(*pair): (pair, kinds) for pair, kinds in pairs.items()}
    known = {
        doc["_id"]: doc
        for doc in await runtime.duplicates.collection.find(
            {"_id": {"$in": sorted(by_id)}}, {"status": 1}
        ).to_list()
    }
    pending: set[str] = set()
    for dup_id, ((pid, other), kinds) in sorted(by_id.items()):
        status = known.get(dup_id, {}).get("status", "pending")
        if status == "pending":
            pending.add(pid)
        if dup_id in known:
            continue
        event = TrainingDuplicateSuspected(
            duplicate_id=dup_id, participant_ids=[pid, other], matched_on=sorted(kinds)
        )
        document = {
            "_id": dup_id,
            "participant_ids": [pid, other],
            "matched_on": sorted(kinds),
            "status": "pending",
            "suspected_at": datetime.now(UTC),
        }
        # Recorded meanwhile by another registration of the same person: theirs stands.
        with contextlib.suppress(DuplicateKeyError):
            await runtime.duplicates.insert(document, events=[event], actor=principal.actor)
    if by_id:
        log.info("possible duplicates across offices", extra={"count": len(pending)})
    return pending


async def _update_known(
    runtime: Runtime,
    *,
    chosen: Sequence[str],
    people: Sequence[ParticipantCreate],
    wanted: Sequence[Wanted],
    existing: dict[str, Document],
    created: dict[str, ParticipantCreate],
) -> dict[str, dict[str, Any]]:
    """Later inputs update what can be counted (latest stated wins), add their office (one
    the caller sees, like the participant) and the keys they were found by."""
    attributes: dict[str, dict[str, Any]] = {
        pid: {name: doc.get(name) for name in ATTRIBUTES} for pid, doc in existing.items()
    }
    known_offices: dict[str, set[str]] = {
        pid: set(doc.get("offices", [])) for pid, doc in existing.items()
    }
    known_keys: dict[str, set[str]] = {
        pid: set(doc.get("lookup", [])) for pid, doc in existing.items()
    }
    for pid, person in created.items():
        attributes[pid] = person.model_dump(include=set(ATTRIBUTES))
        known_offices[pid] = {person.office}
        known_keys[pid] = set(next(w.keys for p, w in zip(chosen, wanted, strict=True) if p == pid))
    updates: dict[str, dict[str, Any]] = {}
    offices: dict[str, set[str]] = {}
    keys: dict[str, set[str]] = {}
    first_use = set(created)
    for participant_id, person, item in zip(chosen, people, wanted, strict=True):
        offices.setdefault(participant_id, set()).add(person.office)
        keys.setdefault(participant_id, set()).update(item.keys)
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
        new_keys = keys[pid] - known_keys[pid]
        if pid not in updates and named_offices <= known_offices[pid] and not new_keys:
            continue
        update: dict[str, Any] = {
            "$addToSet": {
                "offices": {"$each": sorted(named_offices)},
                "lookup": {"$each": sorted(keys[pid])},
            }
        }
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
    runtime: Runtime,
    principal: Principal,
    people: dict[str, tuple[ParticipantCreate, Sequence[str]]],
) -> None:
    """Data keys, then encrypted participant records (aggregates at version 0)."""
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
    for pid, (person, keys) in people.items():
        if pid in had_key:
            key = await runtime.data_keys.get(SUBJECT_TYPE, pid)
        else:
            key = subject_key_from_record(records[pid], keyring)
        documents.append(
            {
                "_id": pid,
                "offices": [person.office],
                **person.model_dump(include=set(ATTRIBUTES)),
                "document_type": person.document_type,
                "pii": encrypt_personal(key, person.model_dump(include=set(PERSONAL_FIELDS))),
                "lookup": sorted(keys),
                "sessions": [],
                "registered_at": now,
                "registered_by": principal.id,
                # Under an Idempotency-Key: which keyed POST made the record (see `register`).
                **operation_marker("participant"),
                "erased_at": None,
                "merged_into": None,
                SEQUENCE_FIELD: 0,
                OUTBOX_FIELD: [],
                PENDING_FIELD: False,
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
    marker = operation_marker("participant")
    if marker and not result.created:
        # A re-run after a crash found the person its first attempt registered: still "created".
        made = await runtime.participants.find_one(
            {"_id": result.participant_id}, {OPERATION_FIELD: 1}
        )
        if earlier_attempt([made or {}], marker) is not None:
            return replace(result, created=True)
    return result
