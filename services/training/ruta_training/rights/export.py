"""The data-subject access export: everything training holds on one participant, decrypted.

For a coordinator to hand over (coordinators see every office, so one export covers the
person's attendance wherever it was recorded). The read is recorded in the access log with
the purpose `data_subject_request` before anything is decrypted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from ruta_shared.api import problem
from ruta_shared.security.crypto import DataErasedError
from ruta_shared.security.principal import Principal

from ruta_training.certificates.service import CODE_FIELD
from ruta_training.participants.records import ensure_not_erased, find_record
from ruta_training.participants.rules import SUBJECT_TYPE, personal_read
from ruta_training.rights.models import (
    ExportAttendance,
    ExportCertificate,
    ExportChange,
    ExportRead,
    ParticipantExport,
)
from ruta_training.runtime import Runtime

Document = dict[str, Any]
SESSION_FIELDS = ("title", "office", "format", "region", "starts_on", "ends_on", "status")


async def sessions_of(runtime: Runtime, doc: Document) -> list[Document]:
    """The sessions a participant attended, by the `_id`s their record lists.

    Records from before that list existed have none: their sessions are found by a scan.
    """
    pid = doc["_id"]
    projection = {
        **dict.fromkeys(SESSION_FIELDS, 1),
        f"attendance.{pid}": 1,
        f"assessments.{pid}": 1,
        f"certificates.{pid}": 1,
    }
    query: Document = (
        {"_id": {"$in": sorted(doc["sessions"])}}
        if "sessions" in doc
        else {f"attendance.{pid}": {"$exists": True}}
    )
    found = await runtime.sessions.collection.find(query, projection, sort=[("_id", 1)]).to_list()
    return [s for s in found if pid in s.get("attendance", {})]


async def export(
    *, runtime: Runtime, principal: Principal, participant_id: str
) -> ParticipantExport:
    """Personal data, attributes, attendance, scores, certificates (with their codes), who
    read the data (role, purpose, when) and the record's corrections; 410 if erased."""
    doc = await find_record(runtime, participant_id)
    if doc is None:
        raise problem(404, "No encontrado.")
    ensure_not_erased(doc)
    pid = doc["_id"]
    sessions = await sessions_of(runtime, doc)
    held = {s["_id"]: s["certificates"][pid] for s in sessions if pid in s.get("certificates", {})}
    encrypted: dict[str, str] = doc.get("pii", {})
    await runtime.access_log.record(
        principal=principal,
        subject_type=SUBJECT_TYPE,
        subject_id=pid,
        purpose="data_subject_request",
        fields=[*encrypted, *([CODE_FIELD] if held else [])],
    )
    key = await runtime.data_keys.get(SUBJECT_TYPE, pid)
    plain = {name: key.decrypt(name, token) for name, token in encrypted.items()}
    codes = await _codes(runtime, [entry["code_hash"] for entry in held.values()])
    attendance = []
    for session in sessions:
        entry = session["attendance"][pid]
        scores = session.get("assessments", {}).get(pid) or {}
        certificate = held.get(session["_id"])
        attendance.append(
            ExportAttendance(
                session_id=session["_id"],
                **{name: session[name] for name in SESSION_FIELDS},
                hours_attended=entry["hours"],
                modules_attended=entry.get("modules", []),
                pre_score=scores.get("pre"),
                post_score=scores.get("post"),
                certificate=None
                if certificate is None
                else ExportCertificate(
                    certificate_id=certificate["certificate_id"],
                    hours=certificate["hours"],
                    issued_on=date.fromisoformat(certificate["issued_on"]),
                    verification_code=codes.get(certificate["code_hash"]),
                ),
            )
        )
    reads = await runtime.access_log.for_subject(SUBJECT_TYPE, pid)
    return ParticipantExport(
        generated_at=datetime.now(UTC),
        participant=personal_read(doc, plain),
        registered_at=doc.get("registered_at"),
        merged_from=sorted(doc.get("merged_from", [])),
        attendance=attendance,
        reads=[
            ExportRead(
                accessed_at=r["accessed_at"],
                role=r["role"],
                purpose=r["purpose"],
                fields=r["fields"],
            )
            for r in reads
        ],
        changes=[ExportChange(**change) for change in doc.get("changes", [])],
    )


async def _codes(runtime: Runtime, digests: list[str]) -> dict[str, str]:
    """Verification codes by digest, each decrypted with its holder's key (when it has one)."""
    if not digests:
        return {}
    codes: dict[str, str] = {}
    for record in await runtime.certificate_codes.find({"_id": {"$in": digests}}).to_list():
        try:
            key = await runtime.data_keys.get(SUBJECT_TYPE, record["participant_id"])
        except DataErasedError:
            continue  # a duplicate merged into this person kept its own (shredded) code
        codes[record["_id"]] = key.decrypt(CODE_FIELD, record["code"])
    return codes
