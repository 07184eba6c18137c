"""Victims and relatives: registration with encrypted personal data, audited reads, erasure."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any

from ruta_shared.api import problem
from ruta_shared.events.catalog.intake import RelativeRegistered, VictimDataErased, VictimRegistered
from ruta_shared.events.catalog.security import AccessPurpose
from ruta_shared.lima import lima_date
from ruta_shared.reference import Office
from ruta_shared.security.crypto import DataErasedError
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_intake.deps import Intake
from ruta_intake.models import (
    AccessRecord,
    ErasureRead,
    PersonalDataIn,
    PersonalDataRead,
    RelativeCreate,
    RelativeRead,
    VictimCreate,
    VictimRead,
)
from ruta_intake.rules import RuleError, check_not_closed, derive_age, field_prefix, utc_now
from ruta_intake.store import (
    Change,
    SubjectType,
    change_case,
    decrypt_personal_data,
    document_index,
    find_item,
    find_registered_victim,
    load_case,
    not_found,
    personal_data_collection,
    store_personal_data,
)

Document = dict[str, Any]

DUPLICATE_DETAIL = (
    "Ya hay una víctima registrada con ese número de documento: revise `existing_victim_id` "
    "o, si es otra persona, repita la solicitud con `allow_duplicate: true`."
)


def check_personal_data(data: PersonalDataIn) -> None:
    """A document number needs its type (numbers are compared per type)."""
    if data.document_number is not None and data.document_type is None:
        raise RuleError("personal_data.document_type", "indique el tipo de documento")


def victim_attributes(body: VictimCreate, *, intake_date: date, now: datetime) -> Document:
    """The non-identifying attributes of a new victim, checked and derived (age group)."""
    check_personal_data(body.personal_data)
    age, group = derive_age(
        birth_date=body.personal_data.birth_date,
        stated_age=body.age_at_intake,
        stated_group=body.age_group,
        intake_date=intake_date,
    )
    detail = body.trafficking
    if (
        detail is not None
        and detail.exploitation_region is not None
        and detail.exploitation_country not in (None, "PE")
    ):
        raise RuleError(
            "trafficking.exploitation_country", "una región del Perú solo corresponde al país PE"
        )
    return {
        "victim_id": str(uuid7()),
        "sex": body.sex,
        "age_at_intake": age,
        "age_group": group,
        "nationality": body.nationality,
        "region_of_origin": body.region_of_origin,
        "indigenous_people": body.indigenous_people,
        "disability": body.disability,
        "trafficking": detail.model_dump(mode="json") if detail is not None else None,
        "registered_at": now,
        "erased_at": None,
    }


def victim_registered(case_id: str, office: Office, victim: Document) -> VictimRegistered:
    """The victim.registered event of a victim's stored attributes."""
    return VictimRegistered(
        case_id=case_id,
        victim_id=victim["victim_id"],
        office=office,
        sex=victim["sex"],
        age_group=victim["age_group"],
        age_at_intake=victim["age_at_intake"],
        nationality=victim["nationality"],
        region_of_origin=victim["region_of_origin"],
        indigenous_people=victim["indigenous_people"],
        disability=victim["disability"],
        registered_at=victim["registered_at"],
    )


def victim_read(case_id: str, victim: Document) -> VictimRead:
    """A stored victim as the API shows it."""
    return VictimRead(case_id=case_id, **victim)


async def check_duplicates(
    intake: Intake, victims: list[VictimCreate], *, prefix: str
) -> list[str | None]:
    """Blind indexes of the victims' documents; 409 naming an already registered victim.

    A victim marked `allow_duplicate` is registered anyway (after a person checked the warning).
    """
    indexes = [document_index(intake, v.personal_data) for v in victims]
    seen: set[str] = set()
    for position, (victim, index) in enumerate(zip(victims, indexes, strict=True)):
        field = f"{prefix}{position}.personal_data.document_number".lstrip(".")
        if index is None:
            continue
        if index in seen:
            raise RuleError(field, "el mismo documento aparece dos veces en la solicitud")
        seen.add(index)
        if victim.allow_duplicate:
            continue
        existing = await find_registered_victim(intake, index)
        if existing is not None:
            raise problem(
                409,
                DUPLICATE_DETAIL,
                existing_victim_id=existing,
                errors=[
                    {
                        "field": field,
                        "type": "duplicate",
                        "message": "ya registrado para otra víctima",
                    }
                ],
            )
    return indexes


async def register_victim(
    intake: Intake, *, principal: Principal, case_id: str, body: VictimCreate
) -> tuple[VictimRead, int]:
    """Add a victim to a case: encrypted personal data first, then the case with its event."""
    loaded = await load_case(intake, case_id=case_id, principal=principal)
    check_not_closed(loaded.doc["status"])
    now = utc_now()
    with field_prefix("body"):
        victim = victim_attributes(body, intake_date=lima_date(now), now=now)
    (index,) = await check_duplicates(intake, [body], prefix="body.")
    await store_personal_data(
        intake,
        subject_type="victim",
        subject_id=victim["victim_id"],
        case_id=case_id,
        data=body.personal_data,
        document_index=index,
    )

    def build(case: Document) -> Change[VictimRead]:
        check_not_closed(case["status"])
        return Change(
            update={"$push": {"victims": victim}, "$set": {"updated_at": now}},
            payloads=[victim_registered(case_id, case["office"], victim)],
            result=victim_read(case_id, victim),
        )

    return await change_case(intake, case_id=case_id, principal=principal, build=build)


async def read_victim(
    intake: Intake, *, principal: Principal, case_id: str, victim_id: str
) -> VictimRead:
    """A victim's non-identifying attributes."""
    loaded = await load_case(intake, case_id=case_id, principal=principal)
    victim = find_item(loaded.doc.get("victims", []), "victim_id", victim_id)
    return victim_read(case_id, victim)


async def read_personal_data(
    intake: Intake,
    *,
    principal: Principal,
    case_id: str,
    subject_type: SubjectType,
    subject_id: str,
    purpose: AccessPurpose,
) -> PersonalDataRead:
    """Decrypt one person's data, record (and publish) the read, return it; 410 if erased."""
    loaded = await load_case(intake, case_id=case_id, principal=principal)
    listed = "victims" if subject_type == "victim" else "relatives"
    person = find_item(loaded.doc.get(listed, []), f"{subject_type}_id", subject_id)
    if person.get("erased_at") is not None:
        raise DataErasedError(subject_type, subject_id)
    stored = await personal_data_collection(intake, subject_type).find_one({"_id": subject_id})
    if stored is None:
        raise not_found()
    key = await intake.data_keys.get(subject_type, subject_id)
    plain = decrypt_personal_data(key, stored.get("fields") or {})
    access_id = None
    if plain:
        access_id = await intake.access_log.record(
            principal=principal,
            subject_type=subject_type,
            subject_id=subject_id,
            purpose=purpose,
            fields=list(plain),
            case_id=case_id,
            break_glass_grant_id=loaded.grant.id if loaded.grant else None,
        )
    return PersonalDataRead(
        subject_type=subject_type,
        subject_id=subject_id,
        case_id=case_id,
        access_id=access_id,
        **plain,
    )


async def access_records(
    intake: Intake, *, principal: Principal, case_id: str, victim_id: str
) -> list[AccessRecord]:
    """Who read a victim's personal data, newest first."""
    loaded = await load_case(intake, case_id=case_id, principal=principal)
    find_item(loaded.doc.get("victims", []), "victim_id", victim_id)
    records = await intake.access_log.for_subject("victim", victim_id)
    return [AccessRecord(access_id=str(r["_id"]), **r) for r in records]


async def erase_victim(
    intake: Intake, *, principal: Principal, case_id: str, victim_id: str
) -> ErasureRead:
    """Crypto-shred a victim's (and their relatives') personal data; the statistics stay.

    Idempotent: erasing an erased victim answers the first erasure again, with no new event.
    """
    loaded = await load_case(intake, case_id=case_id, principal=principal)
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
        intake.data_keys.destroy("victim", victim_id),
        *(intake.data_keys.destroy("relative", rid) for rid in relative_ids),
    )
    # The ciphertexts are unreadable now; drop them and the blind index all the same.
    wiped: Document = {"$set": {"fields": {}, "document_index": None, "erased_at": now}}
    stored = await intake.victim_data.find_one({"_id": victim_id}, {"document_index": 1})
    if stored is not None and stored.get("document_index"):
        await intake.document_index.update_one(
            {"_id": stored["document_index"]}, {"$pull": {"victim_ids": victim_id}}
        )
    await intake.victim_data.update_one({"_id": victim_id}, wiped)
    if relative_ids:
        await intake.relative_data.update_many({"_id": {"$in": relative_ids}}, wiped)

    def build(case: Document) -> Change[ErasureRead]:
        victims = [dict(v) for v in case.get("victims", [])]
        current = find_item(victims, "victim_id", victim_id)
        if current.get("erased_at") is not None:
            raise RuleError("victim_id", "los datos ya fueron borrados", status_code=409)
        current["erased_at"] = now
        updated_relatives = [
            {**r, "erased_at": r.get("erased_at") or now} if r["victim_id"] == victim_id else r
            for r in case.get("relatives", [])
        ]
        return Change(
            update={
                "$set": {"victims": victims, "relatives": updated_relatives, "updated_at": now}
            },
            payloads=[
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

    result, version = await change_case(intake, case_id=case_id, principal=principal, build=build)
    return result.model_copy(update={"version": version})


async def register_relative(
    intake: Intake, *, principal: Principal, case_id: str, victim_id: str, body: RelativeCreate
) -> tuple[RelativeRead, int]:
    """Register a relative of a victim, with their own encrypted personal data."""
    loaded = await load_case(intake, case_id=case_id, principal=principal)
    check_not_closed(loaded.doc["status"])
    victim = find_item(loaded.doc.get("victims", []), "victim_id", victim_id)
    if victim.get("erased_at") is not None:
        raise RuleError("victim_id", "los datos de esta víctima fueron borrados", status_code=409)
    with field_prefix("body"):
        check_personal_data(body.personal_data)
    if body.personal_data.birth_date is not None and body.personal_data.birth_date > lima_date(
        utc_now()
    ):
        raise RuleError("body.personal_data.birth_date", "la fecha no puede estar en el futuro")
    now = utc_now()
    relative_id = str(uuid7())
    relative: Document = {
        "relative_id": relative_id,
        "victim_id": victim_id,
        "relationship": body.relationship,
        "registered_at": now,
        "erased_at": None,
    }
    await store_personal_data(
        intake,
        subject_type="relative",
        subject_id=relative_id,
        case_id=case_id,
        data=body.personal_data,
        document_index=document_index(intake, body.personal_data),
        victim_id=victim_id,
    )

    def build(case: Document) -> Change[RelativeRead]:
        check_not_closed(case["status"])
        current = find_item(case.get("victims", []), "victim_id", victim_id)
        if current.get("erased_at") is not None:
            raise RuleError(
                "victim_id", "los datos de esta víctima fueron borrados", status_code=409
            )
        return Change(
            update={"$push": {"relatives": relative}, "$set": {"updated_at": now}},
            payloads=[
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

    return await change_case(intake, case_id=case_id, principal=principal, build=build)
