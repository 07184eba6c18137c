"""Data subjects' rights over the participant registry (Ley 29733): rectification, erasure
(crypto-shredding: the data key is destroyed, attendance figures stay) and the access export.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import BulkWriteError
from ruta_shared.aggregate import RuleViolationError
from ruta_shared.api import problem
from ruta_shared.events.catalog.training import MatchedOn
from ruta_shared.outbox import SEQUENCE_FIELD
from ruta_shared.security.permissions import in_office_scope
from ruta_shared.security.principal import Principal

from ruta_training.participants.models import DUPLICATE_NOTICE
from ruta_training.participants.records import (
    decrypt,
    ensure_not_erased,
    find_record,
    load_participant,
)
from ruta_training.participants.rules import (
    ATTRIBUTES,
    PERSONAL_FIELDS,
    SUBJECT_TYPE,
    claim_id,
    claim_ids,
    lookup_keys,
    matched_on,
    personal_read,
    visible,
)
from ruta_training.participants.service import DUPLICATE_KEY, claims_of, record_suspected
from ruta_training.rights.export import sessions_of
from ruta_training.rights.models import ErasureRead, ParticipantRectified, ParticipantRectify
from ruta_training.rights.rules import changed_fields, plan_erase, plan_reattribute, plan_rectify
from ruta_training.runtime import Runtime

log = logging.getLogger(__name__)

Document = dict[str, Any]


async def rectify(
    *,
    runtime: Runtime,
    principal: Principal,
    participant_id: str,
    body: ParticipantRectify,
    expected_version: int,
) -> tuple[ParticipantRectified, int]:
    """Correct a participant's data under If-Match; the event names the fields, not values.

    A new document number or email is claimed in each of the participant's offices before
    the change (and released if the change fails); one held by another participant the
    caller can see is refused (409), one held only in offices the caller cannot see is
    recorded as a suspected duplicate, answered with the neutral notice.
    """
    doc = await load_participant(
        runtime=runtime, principal=principal, participant_id=participant_id
    )
    ensure_not_erased(doc)
    pid = doc["_id"]
    plain = await decrypt(runtime, principal, doc, sorted(doc.get("pii", {})), "training")
    changes = changed_fields(doc, plain, body.model_dump(exclude_unset=True))
    if not changes:
        read = ParticipantRectified(**personal_read(doc, plain).model_dump(), fields_changed=[])
        return read, int(doc.get(SEQUENCE_FIELD, 0))
    after = {**plain, **{k: v for k, v in changes.items() if k in PERSONAL_FIELDS}}
    index = runtime.blind_index
    before_keys = set(lookup_keys(index, plain.get("document_number"), plain.get("email")))
    after_keys = set(lookup_keys(index, after.get("document_number"), after.get("email")))
    added, removed = after_keys - before_keys, before_keys - after_keys
    claimed, hidden = await _claim_new_keys(runtime, principal, doc, sorted(added))
    key = await runtime.data_keys.get(SUBJECT_TYPE, pid)
    encrypted = {
        name: key.encrypt(name, value)
        for name, value in changes.items()
        if name in PERSONAL_FIELDS and value is not None
    }
    lookup = (set(doc.get("lookup", [])) - removed) | added

    async def still_visible(current: Document) -> None:
        if not visible(principal, current) or current.get("erased_at") is not None:
            raise problem(404, "No encontrado.")

    now = datetime.now(UTC)
    try:
        changed = await runtime.registry.change(
            pid,
            apply=lambda current: plan_rectify(
                current, changes=changes, encrypted=encrypted, lookup=sorted(lookup), now=now
            ),
            actor=principal.actor,
            expected_version=expected_version,
            check=still_visible,
        )
    except BaseException:
        if claimed:
            await runtime.participant_keys.delete_many({"_id": {"$in": claimed}})
        raise
    corrected = {k: v for k, v in changes.items() if k in ATTRIBUTES}
    if corrected:
        await _reattribute(runtime, principal, doc, corrected)
    if removed:
        await runtime.participant_keys.delete_many(
            {"_id": {"$in": claim_ids(sorted(removed))}, "participant_id": pid}
        )
    pending = await record_suspected(runtime, principal, hidden)
    updated = {**doc, **{k: v for k, v in changes.items() if k not in PERSONAL_FIELDS}}
    shown = {k: v for k, v in after.items() if v is not None}
    read = ParticipantRectified(
        **personal_read(updated, shown).model_dump(),
        fields_changed=sorted(changes),
        notice=DUPLICATE_NOTICE if pid in pending else None,
    )
    log.info("participant rectified", extra={"participant_id": pid, "fields": sorted(changes)})
    return read, changed.version


async def _reattribute(
    runtime: Runtime, principal: Principal, doc: Document, corrected: dict[str, Any]
) -> None:
    """Corrected attributes reach the attendance already recorded, in every session the
    person attended (whatever office: nothing of it is shown to the caller)."""
    for session in await sessions_of(runtime, doc):
        await runtime.sessions.change(
            session["_id"],
            apply=lambda current: plan_reattribute(current, doc["_id"], corrected),
            actor=principal.actor,
        )


async def _claim_new_keys(
    runtime: Runtime, principal: Principal, doc: Document, keys: list[str]
) -> tuple[list[str], dict[tuple[str, str], frozenset[MatchedOn]]]:
    """Claim new keys in the participant's offices; the claims made and hidden matches."""
    if not keys:
        return [], {}
    pid = doc["_id"]
    claims, offices_of = await claims_of(runtime, keys)
    hidden: dict[tuple[str, str], set[MatchedOn]] = {}
    for claim, holder in sorted(claims.items()):
        if holder == pid:
            continue
        key = claim.rpartition("|")[0] if "|" in claim else claim
        field = matched_on(key)
        if any(in_office_scope(principal, o) for o in offices_of.get(holder, ())):
            raise RuleViolationError(
                field, "otro participante de sus oficinas ya tiene este dato", status_code=409
            )
        hidden.setdefault((pid, holder), set()).add(field)
    wanted = [
        {"_id": claim_id(k, office), "participant_id": pid, "office": office}
        for k in keys
        for office in doc.get("offices", [])
        if claim_id(k, office) not in claims
    ]
    made = [c["_id"] for c in wanted]
    if wanted:
        try:
            await runtime.participant_keys.insert_many(wanted, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            # Claimed meanwhile by a registration: that one keeps it; ours are the others.
            lost = {wanted[e["index"]]["_id"] for e in errors}
            made = [c for c in made if c not in lost]
    return made, {pair: frozenset(kinds) for pair, kinds in hidden.items()}


async def erase(*, runtime: Runtime, principal: Principal, participant_id: str) -> ErasureRead:
    """Erase a participant's personal data for good (crypto-shredding); repeats answer the
    first erasure. Attendance, scores and certificates stay (certificates verify as
    "emitido, titular eliminado"); the person is not found again by document or email."""
    doc = await find_record(runtime, participant_id)
    if doc is None:
        raise problem(404, "No encontrado.")
    pid = doc["_id"]
    if doc.get("erased_at") is not None:
        return ErasureRead(participant_id=pid, erased_at=doc["erased_at"])
    # Claims first: from here on nobody is matched to this person.
    await runtime.participant_keys.delete_many(
        {"_id": {"$in": claim_ids(doc.get("lookup", []))}, "participant_id": pid}
    )
    await runtime.data_keys.destroy(SUBJECT_TYPE, pid)
    now = _stored_precision(datetime.now(UTC))
    changed = await runtime.registry.change(
        pid, apply=lambda current: plan_erase(current, now), actor=principal.actor
    )
    log.info("participant erased", extra={"participant_id": pid})
    return ErasureRead(participant_id=pid, erased_at=changed.result)


def _stored_precision(moment: datetime) -> datetime:
    """A time as the database keeps it (milliseconds), so a repeat answers the same."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
