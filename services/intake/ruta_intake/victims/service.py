"""Victims and relatives: registration with encrypted personal data, audited reads, erasure."""

from __future__ import annotations

import asyncio
from typing import Any

from ruta_shared.aggregate import Change, RuleViolationError
from ruta_shared.events.catalog.intake import (
    RelativeRegistered,
    VictimAttributesCorrected,
    VictimDataErased,
)
from ruta_shared.events.catalog.security import AccessPurpose
from ruta_shared.lima import lima_date
from ruta_shared.rerun import earlier_attempt, operation_marker
from ruta_shared.security.crypto import DataErasedError
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_intake.cases.aggregate import LoadedCase, change_case, find_item, load_case
from ruta_intake.cases.rules import check_not_closed, field_prefix, utc_now
from ruta_intake.runtime import Runtime
from ruta_intake.victims.models import (
    AccessRecord,
    ErasureRead,
    PersonalDataRead,
    RelativeCreate,
    RelativeRead,
    VictimAttributesUpdate,
    VictimCreate,
    VictimRead,
)
from ruta_intake.victims.personal_data import (
    SubjectType,
    document_index,
    load_personal_data,
    load_plaintext,
    shred_personal_data,
    store_personal_data,
)
from ruta_intake.victims.registration import prepare_victims
from ruta_intake.victims.rules import (
    attributes_of,
    check_birth_date_not_future,
    check_not_erased,
    check_personal_data,
    corrected_attributes,
    intake_date_of,
    victim_read,
    victim_registered,
)

Document = dict[str, Any]


async def register_victim(
    *, runtime: Runtime, principal: Principal, case_id: str, body: VictimCreate
) -> tuple[VictimRead, int]:
    """Add a victim to a case: encrypted personal data first, then the case with its events."""
    loaded = await load_case(runtime=runtime, principal=principal, case_id=case_id)
    check_not_closed(loaded.doc["status"])
    now = utc_now()
    new = await prepare_victims(
        runtime=runtime,
        principal=principal,
        case_id=case_id,
        office=str(loaded.doc["office"]),
        bodies=[body],
        prefixes=["body"],
        intake_date=lima_date(now),
        now=now,
    )
    (victim,), (notice,) = new.victims, new.notices
    # Under an Idempotency-Key a re-run (after a crash) finds the victim it already added
    # (the personal data this attempt stored is then an orphan, swept like any other).
    marker = operation_marker("victim")

    def apply(case: Document) -> Change[VictimRead]:
        if (written := earlier_attempt(case.get("victims") or [], marker)) is not None:
            return Change(result=victim_read(case_id, written, notice=notice))
        check_not_closed(case["status"])
        return Change(
            update={"$push": {"victims": {**victim, **marker}}, "$set": {"updated_at": now}},
            events=[victim_registered(case_id, case["office"], victim), *new.detected],
            result=victim_read(case_id, victim, notice=notice),
        )

    return await change_case(runtime=runtime, principal=principal, case_id=case_id, apply=apply)


async def read_victim(
    *, runtime: Runtime, principal: Principal, case_id: str, victim_id: str
) -> VictimRead:
    """A victim's non-identifying attributes."""
    loaded = await load_case(runtime=runtime, principal=principal, case_id=case_id)
    victim = find_item(loaded.doc.get("victims", []), "victim_id", victim_id)
    return victim_read(case_id, victim)


async def correct_attributes(
    *,
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    victim_id: str,
    body: VictimAttributesUpdate,
    if_match: int,
) -> tuple[VictimRead, int]:
    """Correct a victim's non-identifying attributes at the case version the caller read.

    The event carries the new values (analytics moves the victim's counts); a correction
    that changes nothing writes nothing.
    """
    given = body.model_dump(exclude_unset=True)
    if not given:
        raise RuleViolationError("body", "indique al menos un dato que corregir")
    loaded = await load_case(runtime=runtime, principal=principal, case_id=case_id)
    person = find_item(loaded.doc.get("victims", []), "victim_id", victim_id)
    stored = await load_personal_data(runtime=runtime, subject_type="victim", person=person)
    # Only whether a birth date is on record: nothing is decrypted.
    birth_date_known = "birth_date" in ((stored or {}).get("fields") or {})
    now = utc_now()

    def apply(case: Document) -> Change[VictimRead]:
        victims = [dict(v) for v in case.get("victims", [])]
        victim = find_item(victims, "victim_id", victim_id)
        with field_prefix("body"):
            new = corrected_attributes(
                victim,
                given,
                birth_date_known=birth_date_known,
                intake_date=intake_date_of(case, victim),
            )
        if new == attributes_of(victim):
            return Change(result=victim_read(case_id, victim))
        victim.update(new)
        return Change(
            update={"$set": {"victims": victims, "updated_at": now}},
            events=[
                VictimAttributesCorrected(
                    case_id=case_id, victim_id=victim_id, corrected_at=now, **new
                )
            ],
            result=victim_read(case_id, victim),
        )

    return await change_case(
        runtime=runtime, principal=principal, case_id=case_id, apply=apply, if_match=if_match
    )


async def read_personal_data(
    *,
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    subject_type: SubjectType,
    subject_id: str,
    purpose: AccessPurpose,
) -> PersonalDataRead:
    """Decrypt one person's data, record (and publish) the read, return it; 410 if erased."""
    loaded = await load_case(runtime=runtime, principal=principal, case_id=case_id)
    listed = "victims" if subject_type == "victim" else "relatives"
    person = find_item(loaded.doc.get(listed, []), f"{subject_type}_id", subject_id)
    return await audited_read(
        runtime=runtime,
        principal=principal,
        loaded=loaded,
        subject_type=subject_type,
        person=person,
        purpose=purpose,
    )


async def audited_read(
    *,
    runtime: Runtime,
    principal: Principal,
    loaded: LoadedCase,
    subject_type: SubjectType,
    person: Document,
    purpose: AccessPurpose,
) -> PersonalDataRead:
    """A listed person's decrypted data, its read recorded before it is returned; 410 if erased."""
    subject_id = person[f"{subject_type}_id"]
    if person.get("erased_at") is not None:
        raise DataErasedError(subject_type, subject_id)
    _, _, plain = await load_plaintext(runtime=runtime, subject_type=subject_type, person=person)
    access_id = None
    if plain:
        access_id = await runtime.access_log.record(
            principal=principal,
            subject_type=subject_type,
            subject_id=subject_id,
            purpose=purpose,
            fields=list(plain),
            case_id=str(loaded.doc["_id"]),
            break_glass_grant_id=loaded.grant.id if loaded.grant else None,
        )
    return PersonalDataRead(
        subject_type=subject_type,
        subject_id=subject_id,
        case_id=str(loaded.doc["_id"]),
        access_id=access_id,
        **plain,
    )


async def access_records(
    *, runtime: Runtime, principal: Principal, case_id: str, victim_id: str
) -> list[AccessRecord]:
    """Who read a victim's personal data, newest first."""
    loaded = await load_case(runtime=runtime, principal=principal, case_id=case_id)
    find_item(loaded.doc.get("victims", []), "victim_id", victim_id)
    records = await runtime.access_log.for_subject("victim", victim_id)
    return [AccessRecord(access_id=str(r["_id"]), **r) for r in records]


async def erase_victim(
    *, runtime: Runtime, principal: Principal, case_id: str, victim_id: str
) -> ErasureRead:
    """Crypto-shred a victim's (and their relatives') personal data; the statistics stay.

    Idempotent: erasing an erased victim answers the first erasure again, with no new event.
    """
    loaded = await load_case(runtime=runtime, principal=principal, case_id=case_id)
    victim = find_item(loaded.doc.get("victims", []), "victim_id", victim_id)
    relatives = [r for r in loaded.doc.get("relatives", []) if r["victim_id"] == victim_id]
    relative_ids = [r["relative_id"] for r in relatives]
    if victim.get("erased_at") is not None:
        return ErasureRead(
            case_id=case_id,
            victim_id=victim_id,
            erased_at=victim["erased_at"],
            relative_ids=relative_ids,
            version=loaded.version,
        )
    now = utc_now()
    await asyncio.gather(
        shred_personal_data(
            runtime=runtime, subject_type="victim", subject_ids=[victim_id], now=now
        ),
        shred_personal_data(
            runtime=runtime, subject_type="relative", subject_ids=relative_ids, now=now
        ),
    )

    def apply(case: Document) -> Change[ErasureRead]:
        victims = [dict(v) for v in case.get("victims", [])]
        current = find_item(victims, "victim_id", victim_id)
        if current.get("erased_at") is not None:
            raise RuleViolationError("victim_id", "los datos ya fueron borrados", status_code=409)
        current["erased_at"] = now
        updated_relatives = [
            {**r, "erased_at": r.get("erased_at") or now} if r["victim_id"] == victim_id else r
            for r in case.get("relatives", [])
        ]
        return Change(
            update={
                "$set": {"victims": victims, "relatives": updated_relatives, "updated_at": now}
            },
            events=[
                VictimDataErased(
                    case_id=case_id, victim_id=victim_id, erased_at=now, relative_ids=relative_ids
                )
            ],
            result=ErasureRead(
                case_id=case_id,
                victim_id=victim_id,
                erased_at=now,
                relative_ids=relative_ids,
                version=0,
            ),
        )

    result, version = await change_case(
        runtime=runtime, principal=principal, case_id=case_id, apply=apply
    )
    return result.model_copy(update={"version": version})


async def register_relative(
    *, runtime: Runtime, principal: Principal, case_id: str, victim_id: str, body: RelativeCreate
) -> tuple[RelativeRead, int]:
    """Register a relative of a victim, with their own encrypted personal data."""
    loaded = await load_case(runtime=runtime, principal=principal, case_id=case_id)
    check_not_closed(loaded.doc["status"])
    check_not_erased(find_item(loaded.doc.get("victims", []), "victim_id", victim_id))
    with field_prefix("body"):
        check_personal_data(body.personal_data)
        check_birth_date_not_future(body.personal_data, lima_date(utc_now()))
    now = utc_now()
    relative_id = str(uuid7())
    # Under an Idempotency-Key a re-run (after a crash) finds the relative it already added.
    marker = operation_marker("relative")
    relative: Document = {
        "relative_id": relative_id,
        "victim_id": victim_id,
        "relationship": body.relationship,
        "registered_at": now,
        "erased_at": None,
    }
    await store_personal_data(
        runtime=runtime,
        subject_type="relative",
        subject_id=relative_id,
        case_id=case_id,
        data=body.personal_data,
        document_index=document_index(runtime=runtime, data=body.personal_data),
        victim_id=victim_id,
    )

    def apply(case: Document) -> Change[RelativeRead]:
        if (written := earlier_attempt(case.get("relatives") or [], marker)) is not None:
            return Change(result=RelativeRead(**written))
        check_not_closed(case["status"])
        check_not_erased(find_item(case.get("victims", []), "victim_id", victim_id))
        return Change(
            update={"$push": {"relatives": {**relative, **marker}}, "$set": {"updated_at": now}},
            events=[
                RelativeRegistered(
                    case_id=case_id,
                    victim_id=victim_id,
                    relative_id=relative_id,
                    relationship=body.relationship,
                    registered_at=now,
                )
            ],
            result=RelativeRead(**relative),
        )

    return await change_case(runtime=runtime, principal=principal, case_id=case_id, apply=apply)
