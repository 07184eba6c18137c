"""Data subjects' rights over intake's records: rectify, erase a relative, export a victim."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from ruta_shared.aggregate import Change, RuleViolationError
from ruta_shared.api import version_conflict
from ruta_shared.events import EventData
from ruta_shared.events.catalog.intake import (
    RelativeDataErased,
    RelativePersonalDataRectified,
    VictimAttributesCorrected,
    VictimPersonalDataRectified,
)
from ruta_shared.lima import lima_date
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_intake.cases.aggregate import LoadedCase, change_case, find_item, load_case
from ruta_intake.cases.rules import field_prefix, utc_now
from ruta_intake.duplicates.screening import (
    Candidate,
    Screened,
    record_possible_duplicates,
    screen,
)
from ruta_intake.rights.models import (
    PersonalDataPatch,
    RectificationRead,
    RelativeErasureRead,
    VictimDataPatch,
)
from ruta_intake.rights.rules import changed_fields, merge_personal_data
from ruta_intake.runtime import Runtime
from ruta_intake.victims.models import PersonalDataIn
from ruta_intake.victims.personal_data import (
    PENDING,
    SubjectType,
    document_index,
    encrypt_personal_data,
    load_personal_data,
    load_plaintext,
    personal_data_collection,
    shred_personal_data,
)
from ruta_intake.victims.rules import (
    ERASED_MESSAGE,
    attributes_of,
    check_birth_date_not_future,
    check_not_erased,
    check_personal_data,
    derive_age,
    intake_date_of,
)

Document = dict[str, Any]
ERASED: Final = {"victim": ERASED_MESSAGE, "relative": "los datos de este familiar fueron borrados"}


def _listed(subject_type: SubjectType) -> tuple[str, str]:
    """Where the case lists a kind of person, and the key of its id."""
    return f"{subject_type}s", f"{subject_type}_id"


def _checked(
    subject_type: SubjectType,
    *,
    loaded: LoadedCase,
    person: Document,
    data: PersonalDataIn,
    changed: list[str],
    now: datetime,
) -> Document | None:
    """Check the data after the patch; a victim's new attributes if her age group moves."""
    with field_prefix("body"):
        check_personal_data(data)
        if subject_type == "relative":
            check_birth_date_not_future(data, lima_date(now))
        elif "birth_date" in changed:
            return _derived_age(loaded, person, data)
    return None


def rectification_events(
    subject_type: SubjectType, *, case_id: str, person: Document, fields: list[str], now: datetime
) -> list[EventData]:
    """The event of a rectification: which fields changed, never their values."""
    if subject_type == "victim":
        return [
            VictimPersonalDataRectified(
                case_id=case_id, victim_id=person["victim_id"], fields=fields, rectified_at=now
            )
        ]
    return [
        RelativePersonalDataRectified(
            case_id=case_id,
            victim_id=person["victim_id"],
            relative_id=person["relative_id"],
            fields=fields,
            rectified_at=now,
        )
    ]


def _derived_age(loaded: LoadedCase, person: Document, data: PersonalDataIn) -> Document | None:
    """A victim's attributes after a new birth date, when they change (the birth date wins)."""
    if data.birth_date is None:
        return None
    age, group = derive_age(
        birth_date=data.birth_date,
        stated_age=None,
        stated_group=None,
        intake_date=intake_date_of(loaded.doc, person),
    )
    if (age, group) == (person["age_at_intake"], person["age_group"]):
        return None
    return {**attributes_of(person), "age_at_intake": age, "age_group": group}


async def rectify_personal_data(
    *,
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    subject_type: SubjectType,
    subject_id: str,
    body: PersonalDataPatch,
    if_match: int,
) -> tuple[RectificationRead, int]:
    """Rectify a victim's or relative's personal data at the case version the caller read.

    The new ciphertexts are stored as pending, the case change (the commit: the person
    names the pending id, the event names the changed fields) follows, then they replace
    the old ones, which are not kept. A new birth date re-derives a victim's age group.
    """
    given = body.personal_data.model_dump(exclude_unset=True)
    if not given:
        raise RuleViolationError("body.personal_data", "indique al menos un dato que rectificar")
    listed, id_key = _listed(subject_type)
    loaded = await load_case(runtime=runtime, principal=principal, case_id=case_id)
    if loaded.version != if_match:
        raise version_conflict()
    person = find_item(loaded.doc.get(listed, []), id_key, subject_id)
    check_not_erased(person, field=id_key, message=ERASED[subject_type])
    stored, key, current = await load_plaintext(
        runtime=runtime, subject_type=subject_type, person=person
    )
    merged = merge_personal_data(current, given)
    changed = changed_fields(current, merged)
    outcome = RectificationRead(
        case_id=case_id,
        subject_type=subject_type,
        subject_id=subject_id,
        fields=changed,
        rectified_at=None,
        version=loaded.version,
    )
    if not changed:
        return outcome, loaded.version
    data = PersonalDataIn(**merged)
    now = utc_now()
    attributes = _checked(
        subject_type, loaded=loaded, person=person, data=data, changed=changed, now=now
    )
    index = document_index(runtime=runtime, data=data)
    screened = Screened(index)
    if subject_type == "victim" and index is not None and index != stored.get("document_index"):
        allow = isinstance(body, VictimDataPatch) and body.allow_duplicate
        (screened,) = await screen(
            runtime=runtime,
            principal=principal,
            candidates=[Candidate("body.personal_data.document_number", index, allow)],
            exclude=subject_id,
        )
    rectification_id = str(uuid7())
    collection = personal_data_collection(runtime=runtime, subject_type=subject_type)
    pending = {
        "id": rectification_id,
        "fields": encrypt_personal_data(key, data),
        "document_index": index,
    }
    await collection.update_one({"_id": subject_id}, {"$set": {PENDING: pending}})
    detected = await record_possible_duplicates(
        runtime=runtime,
        principal=principal,
        case_id=case_id,
        office=str(loaded.doc["office"]),
        victim_id=subject_id,
        screened=screened,
        now=now,
    )

    def apply(case: Document) -> Change[RectificationRead]:
        people = [dict(p) for p in case.get(listed, [])]
        target = find_item(people, id_key, subject_id)
        check_not_erased(target, field=id_key, message=ERASED[subject_type])
        target["rectification_id"] = rectification_id
        events = rectification_events(
            subject_type, case_id=case_id, person=target, fields=changed, now=now
        )
        if attributes is not None:
            target.update(attributes)
            events.append(
                VictimAttributesCorrected(
                    case_id=case_id, victim_id=subject_id, corrected_at=now, **attributes
                )
            )
        if detected:
            target["duplicate_ids"] = [
                *target.get("duplicate_ids", []),
                *(event.duplicate_id for event in detected),
            ]
            events += detected
        return Change(
            update={"$set": {listed: people, "updated_at": now}},
            events=events,
            result=outcome.model_copy(
                update={"rectified_at": now, "duplicate_notice": screened.notice}
            ),
        )

    try:
        result, version = await change_case(
            runtime=runtime, principal=principal, case_id=case_id, apply=apply, if_match=if_match
        )
    except Exception:
        # Not committed: no uncommitted value may linger beside the current ones.
        await collection.update_one(
            {"_id": subject_id, f"{PENDING}.id": rectification_id}, {"$unset": {PENDING: ""}}
        )
        raise
    committed = {**person, "rectification_id": rectification_id}
    await load_personal_data(runtime=runtime, subject_type=subject_type, person=committed)
    return result.model_copy(update={"version": version}), version


async def erase_relative(
    *, runtime: Runtime, principal: Principal, case_id: str, relative_id: str
) -> RelativeErasureRead:
    """Crypto-shred one relative's personal data; the relative stays as a pseudonymous record.

    Idempotent: erasing an erased relative answers the first erasure again, with no event.
    """
    loaded = await load_case(runtime=runtime, principal=principal, case_id=case_id)
    relative = find_item(loaded.doc.get("relatives", []), "relative_id", relative_id)

    def erasure(person: Document, version: int) -> RelativeErasureRead:
        return RelativeErasureRead(
            case_id=case_id,
            victim_id=person["victim_id"],
            relative_id=relative_id,
            erased_at=person["erased_at"],
            version=version,
        )

    if relative.get("erased_at") is not None:
        return erasure(relative, loaded.version)
    now = utc_now()
    await shred_personal_data(
        runtime=runtime, subject_type="relative", subject_ids=[relative_id], now=now
    )

    def apply(case: Document) -> Change[RelativeErasureRead]:
        relatives = [dict(r) for r in case.get("relatives", [])]
        current = find_item(relatives, "relative_id", relative_id)
        if current.get("erased_at") is not None:  # erased meanwhile (with the victim)
            return Change(result=erasure(current, 0))
        current["erased_at"] = now
        return Change(
            update={"$set": {"relatives": relatives, "updated_at": now}},
            events=[
                RelativeDataErased(
                    case_id=case_id,
                    victim_id=current["victim_id"],
                    relative_id=relative_id,
                    erased_at=now,
                )
            ],
            result=erasure(current, 0),
        )

    result, version = await change_case(
        runtime=runtime, principal=principal, case_id=case_id, apply=apply
    )
    return result.model_copy(update={"version": version})
