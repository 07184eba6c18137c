"""Certificates: issued to participants who attended enough hours; checked by a public code.

The verification code itself is kept encrypted with the participant's data key (to print
it again on the PDF), so erasing the person leaves a certificate that still verifies but
can no longer be printed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Final

from ruta_shared.api import problem
from ruta_shared.lima import today_lima
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_training.certificates.models import (
    HOLDER_ERASED,
    ISSUED,
    CertificateIssued,
    CertificateVerification,
    PrintableCertificate,
)
from ruta_training.certificates.rules import (
    check_eligible,
    code_hash,
    new_code,
    normalise_code,
    plan_issue,
    verification_url,
)
from ruta_training.participants.records import current_id, decrypt_names, find_record
from ruta_training.participants.rules import SUBJECT_TYPE
from ruta_training.runtime import Runtime
from ruta_training.sessions.service import change_session, load_session

Document = dict[str, Any]
CODE_FIELD: Final = "certificate_code"


async def issue(
    *, runtime: Runtime, principal: Principal, session_id: str, participant_id: str
) -> CertificateIssued:
    """Issue a participant's certificate for a held session (once; repeats return it)."""
    session = await load_session(runtime=runtime, principal=principal, session_id=session_id)
    participant_id = await current_id(runtime, participant_id)
    existing = session.get("certificates", {}).get(participant_id)
    if existing is not None:
        return await _issued(runtime, session_id, participant_id, existing, created=False)
    check_eligible(session, participant_id)
    code = new_code()
    digest = code_hash(normalise_code(code) or "")
    certificate_id = str(uuid7())
    key = await runtime.data_keys.get(SUBJECT_TYPE, participant_id)
    await runtime.certificate_codes.insert_one(
        {
            "_id": digest,
            "certificate_id": certificate_id,
            "session_id": session_id,
            "participant_id": participant_id,
            "code": key.encrypt(CODE_FIELD, code),
            "created_at": datetime.now(UTC),
        }
    )
    today = today_lima()  # dates of sessions are Peruvian dates
    try:
        entry = await change_session(
            runtime=runtime,
            principal=principal,
            session_id=session_id,
            apply=lambda doc: plan_issue(
                doc,
                participant_id=participant_id,
                certificate_id=certificate_id,
                digest=digest,
                today=today,
            ),
        )
    except BaseException:
        await runtime.certificate_codes.delete_one({"_id": digest})
        raise
    if entry["code_hash"] != digest:
        await runtime.certificate_codes.delete_one({"_id": digest})
        return await _issued(runtime, session_id, participant_id, entry, created=False)
    return CertificateIssued(
        certificate_id=certificate_id,
        session_id=session_id,
        participant_id=participant_id,
        hours=entry["hours"],
        issued_on=today,
        verification_code=code,
        verification_url=verification_url(runtime.settings.certificate_verify_url, code),
        created=True,
    )


async def _issued(
    runtime: Runtime,
    session_id: str,
    participant_id: str,
    entry: Document,
    *,
    created: bool,
) -> CertificateIssued:
    """A certificate already on the session, with its code decrypted again."""
    code = await _stored_code(runtime, entry["code_hash"])
    return CertificateIssued(
        certificate_id=entry["certificate_id"],
        session_id=session_id,
        participant_id=participant_id,
        hours=entry["hours"],
        issued_on=date.fromisoformat(entry["issued_on"]),
        verification_code=code,
        verification_url=verification_url(runtime.settings.certificate_verify_url, code),
        created=created,
    )


async def _stored_code(runtime: Runtime, digest: str) -> str:
    """The verification code kept for a certificate, decrypted with its holder's key (404 when
    it is gone, 410 when the holder was erased)."""
    record = await runtime.certificate_codes.find_one({"_id": digest})
    if record is None:
        raise problem(404, "No encontrado.")
    key = await runtime.data_keys.get(SUBJECT_TYPE, record["participant_id"])
    return key.decrypt(CODE_FIELD, record["code"])


async def verify(*, runtime: Runtime, code: str) -> CertificateVerification:
    """Validity, course and date of a code; nothing else, and the same answer for any bad code.

    A certificate of a participant erased since stays valid: "emitido, titular eliminado".
    """
    normalised = normalise_code(code)
    if normalised is None:
        return CertificateVerification(valid=False)
    record = await runtime.certificate_codes.find_one({"_id": code_hash(normalised)})
    if record is None:
        return CertificateVerification(valid=False)
    session = await runtime.sessions.collection.find_one(
        {"_id": record["session_id"]}, {"title": 1, "held_on": 1, "ends_on": 1, "certificates": 1}
    )
    # The entry naming this code (a merge may have moved it to the participant kept); an
    # orphan record (the session update never happened) is not a certificate.
    holder = next(
        (
            pid
            for pid, entry in (session or {}).get("certificates", {}).items()
            if entry.get("code_hash") == record["_id"]
        ),
        None,
    )
    if session is None or holder is None:
        return CertificateVerification(valid=False)
    person = await find_record(runtime, holder)
    erased = person is None or person.get("erased_at") is not None
    return CertificateVerification(
        valid=True,
        status=HOLDER_ERASED if erased else ISSUED,
        holder_erased=erased,
        course=session["title"],
        date=session.get("held_on") or session["ends_on"],
    )


async def printable(
    *, runtime: Runtime, principal: Principal, session_id: str, participant_id: str
) -> PrintableCertificate:
    """The certificate's content, names decrypted (the read is recorded; 410 if erased)."""
    settings = runtime.settings
    session = await load_session(runtime=runtime, principal=principal, session_id=session_id)
    participant_id = await current_id(runtime, participant_id)
    entry = session.get("certificates", {}).get(participant_id)
    if entry is None:
        raise problem(404, "No encontrado.")
    names = await decrypt_names(
        runtime=runtime,
        principal=principal,
        participant_id=participant_id,
        purpose_fields=("given_names", "family_names"),
    )
    code = await _stored_code(runtime, entry["code_hash"])
    return PrintableCertificate(
        full_name=f"{names['given_names']} {names['family_names']}",
        course=session["title"],
        format=session["format"],
        region=session["region"],
        starts_on=date.fromisoformat(session["starts_on"]),
        ends_on=date.fromisoformat(session["ends_on"]),
        hours=float(entry["hours"]),
        issued_on=date.fromisoformat(entry["issued_on"]),
        code=code,
        verification_url=verification_url(settings.certificate_verify_url, code),
        organisation=settings.organisation_name,
    )
