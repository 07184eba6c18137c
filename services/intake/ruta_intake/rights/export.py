"""Data-subject access exports: everything intake holds on one person, decrypted, logged."""

from __future__ import annotations

from typing import Any

from ruta_shared.events.catalog.security import AccessPurpose
from ruta_shared.security.crypto import DataErasedError
from ruta_shared.security.permissions import in_office_scope
from ruta_shared.security.principal import Principal

from ruta_intake.care.service import care_read
from ruta_intake.cases.aggregate import find_item, load_case
from ruta_intake.cases.rules import utc_now
from ruta_intake.consent.rules import consent_reads
from ruta_intake.duplicates.service import linked_records
from ruta_intake.rights.models import (
    ExportCase,
    ExportRelative,
    LinkedRecord,
    RelativeExport,
    VictimExport,
)
from ruta_intake.runtime import Runtime
from ruta_intake.victims.models import AccessRecord, RelativeRead
from ruta_intake.victims.personal_data import SubjectType
from ruta_intake.victims.rules import victim_read
from ruta_intake.victims.service import audited_read

Document = dict[str, Any]


async def _visible_links(
    *, runtime: Runtime, principal: Principal, victim_id: str
) -> list[LinkedRecord]:
    """The victim's other records (same person) in cases of the caller's offices."""
    links = []
    for link in await linked_records(runtime=runtime, victim_id=victim_id):
        case = await runtime.cases.collection.find_one({"_id": link["case_id"]}, {"office": 1})
        if case is not None and in_office_scope(principal, str(case["office"])):
            links.append(LinkedRecord(case_id=link["case_id"], victim_id=link["victim_id"]))
    return links


async def export_victim(
    *,
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    victim_id: str,
    purpose: AccessPurpose,
) -> VictimExport:
    """A victim's record with her relatives, consents, care and reads; every read is logged.

    Each person whose data is decrypted gets an access record (and its pii.accessed event)
    before anything is returned. 410 once the victim's data was erased.
    """
    loaded = await load_case(runtime=runtime, principal=principal, case_id=case_id)
    doc = loaded.doc
    victim = find_item(doc.get("victims", []), "victim_id", victim_id)
    if victim.get("erased_at") is not None:
        raise DataErasedError("victim", victim_id)
    relatives = [r for r in doc.get("relatives", []) if r["victim_id"] == victim_id]
    people: list[tuple[SubjectType, Document]] = [
        ("victim", victim),
        *(("relative", r) for r in relatives),
    ]
    reads = [
        None
        if person.get("erased_at") is not None
        else await audited_read(
            runtime=runtime,
            principal=principal,
            loaded=loaded,
            subject_type=subject_type,
            person=person,
            purpose=purpose,
        )
        for subject_type, person in people
    ]
    victim_data, *relative_data = reads
    assert victim_data is not None  # the victim is not erased (checked above)
    history = await runtime.access_log.for_subject("victim", victim_id)
    return VictimExport(
        exported_at=utc_now(),
        case=ExportCase(
            case_id=case_id, **{k: doc.get(k) for k in ExportCase.model_fields if k != "case_id"}
        ),
        victim=victim_read(case_id, victim),
        personal_data=victim_data,
        relatives=[
            ExportRelative(relative=RelativeRead(**r), personal_data=data)
            for r, data in zip(relatives, relative_data, strict=True)
        ],
        consents=[c for c in consent_reads(doc.get("consents", [])) if c.victim_id == victim_id],
        care=[care_read(case_id, c) for c in doc.get("care", []) if c["victim_id"] == victim_id],
        access_log=[AccessRecord(access_id=str(r["_id"]), **r) for r in history],
        linked_records=await _visible_links(
            runtime=runtime, principal=principal, victim_id=victim_id
        ),
    )


async def export_relative(
    *,
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    relative_id: str,
    purpose: AccessPurpose,
) -> RelativeExport:
    """A relative's own record, data (logged read), consents given as guardian and reads."""
    loaded = await load_case(runtime=runtime, principal=principal, case_id=case_id)
    relative = find_item(loaded.doc.get("relatives", []), "relative_id", relative_id)
    data = None
    if relative.get("erased_at") is None:
        data = await audited_read(
            runtime=runtime,
            principal=principal,
            loaded=loaded,
            subject_type="relative",
            person=relative,
            purpose=purpose,
        )
    consents = consent_reads(loaded.doc.get("consents", []))
    history = await runtime.access_log.for_subject("relative", relative_id)
    return RelativeExport(
        exported_at=utc_now(),
        relative=RelativeRead(**relative),
        personal_data=data,
        consents_given_as_guardian=[c for c in consents if c.guardian_relative_id == relative_id],
        access_log=[AccessRecord(access_id=str(r["_id"]), **r) for r in history],
    )
