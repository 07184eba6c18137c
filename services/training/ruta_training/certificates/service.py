"""Certificates: issued to participants who attended enough hours; checked by a public code.

A verification code is 160 random bits written as 32 base32 characters in groups of
four, so guessing one is hopeless and the public endpoint cannot be used to enumerate
certificates. Only the code's SHA-256 is searchable; the code itself is kept encrypted
with the participant's data key (to print it again on the PDF), so erasing the person
leaves a certificate that still verifies but can no longer be printed.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from ruta_shared.api import FieldError, problem
from ruta_shared.events.catalog.training import TrainingCertificateIssued
from ruta_shared.lima import today_lima
from ruta_shared.security.principal import Principal
from ruta_shared.service import ServiceContext
from uuid6 import uuid7

from ruta_training.deps import data_keys, settings_of
from ruta_training.models import CertificateIssued, CertificateVerification
from ruta_training.participants import SUBJECT_TYPE, decrypt_names
from ruta_training.sessions import Change, change_session, load_session
from ruta_training.store import CERTIFICATE_CODES

CODE_BYTES: Final = 20
CODE_LENGTH: Final = 32  # base32 characters of 20 bytes
CODE_FIELD: Final = "certificate_code"
_CODE_SHAPE: Final = re.compile(r"^[A-Z2-7]{32}$")


def new_code() -> str:
    """A fresh verification code, e.g. `ABCD-EFGH-…` (8 groups of 4)."""
    raw = base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(text: str) -> str | None:
    """The code as stored (upper case, no dashes or spaces); None when it cannot be one."""
    folded = re.sub(r"[\s-]", "", text).upper()
    return folded if _CODE_SHAPE.match(folded) else None


def code_hash(normalised: str) -> str:
    """What the database is searched by."""
    return hashlib.sha256(normalised.encode()).hexdigest()


def verification_url(base: str, code: str) -> str:
    """Where anyone can check a code."""
    return f"{base.rstrip('/')}/{code}"


async def issue(
    *, context: ServiceContext, principal: Principal, session_id: str, participant_id: str
) -> CertificateIssued:
    """Issue a participant's certificate for a held session (once; repeats return it)."""
    settings = settings_of(context)
    session = await load_session(context, session_id, principal)
    existing = session.get("certificates", {}).get(participant_id)
    if existing is not None:
        return await _issued(context, session_id, participant_id, existing, created=False)
    _check_eligible(session, participant_id)
    code = new_code()
    digest = code_hash(normalise_code(code) or "")
    certificate_id = str(uuid7())
    key = await data_keys(context).get(SUBJECT_TYPE, participant_id)
    await context.db[CERTIFICATE_CODES].insert_one(
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

    def plan(doc: dict[str, Any]) -> Change:
        current = doc.get("certificates", {}).get(participant_id)
        if current is not None:  # issued meanwhile by someone else
            return Change(result=current)
        _check_eligible(doc, participant_id)
        hours = float(doc["attendance"][participant_id]["hours"])
        entry = {
            "certificate_id": certificate_id,
            "code_hash": digest,
            "hours": hours,
            "issued_on": today.isoformat(),
        }
        event = TrainingCertificateIssued(
            session_id=session_id,
            participant_id=participant_id,
            certificate_id=certificate_id,
            hours=hours,
            issued_on=today,
        )
        return Change({"$set": {f"certificates.{participant_id}": entry}}, [event], entry)

    try:
        entry = await change_session(
            context=context, session_id=session_id, principal=principal, plan=plan
        )
    except BaseException:
        await context.db[CERTIFICATE_CODES].delete_one({"_id": digest})
        raise
    if entry["code_hash"] != digest:
        await context.db[CERTIFICATE_CODES].delete_one({"_id": digest})
        return await _issued(context, session_id, participant_id, entry, created=False)
    return CertificateIssued(
        certificate_id=certificate_id,
        session_id=session_id,
        participant_id=participant_id,
        hours=entry["hours"],
        issued_on=today,
        verification_code=code,
        verification_url=verification_url(settings.certificate_verify_url, code),
        created=True,
    )


def _check_eligible(session: dict[str, Any], participant_id: str) -> None:
    if session["status"] != "held":
        raise problem(409, "Solo se emiten certificados de sesiones realizadas.")
    attendance = session.get("attendance", {}).get(participant_id)
    if attendance is None:
        raise FieldError("participant_id", "no tiene asistencia registrada en la sesión")
    needed = float(session["certificate_min_hours"])
    if float(attendance["hours"]) < needed:
        raise FieldError(
            "participant_id",
            f"asistió {float(attendance['hours']):g} de las {needed:g} horas que exige el "
            "certificado",
        )


async def _issued(
    context: ServiceContext,
    session_id: str,
    participant_id: str,
    entry: dict[str, Any],
    *,
    created: bool,
) -> CertificateIssued:
    code = await _stored_code(context, participant_id, entry["code_hash"])
    return CertificateIssued(
        certificate_id=entry["certificate_id"],
        session_id=session_id,
        participant_id=participant_id,
        hours=entry["hours"],
        issued_on=date.fromisoformat(entry["issued_on"]),
        verification_code=code,
        verification_url=verification_url(settings_of(context).certificate_verify_url, code),
        created=created,
    )


async def _stored_code(context: ServiceContext, participant_id: str, digest: str) -> str:
    record = await context.db[CERTIFICATE_CODES].find_one({"_id": digest})
    if record is None:
        raise problem(404, "No encontrado.")
    key = await data_keys(context).get(SUBJECT_TYPE, participant_id)
    return key.decrypt(CODE_FIELD, record["code"])


async def verify(*, context: ServiceContext, code: str) -> CertificateVerification:
    """Validity, course and date of a code; nothing else, and the same answer for any bad code."""
    normalised = normalise_code(code)
    if normalised is None:
        return CertificateVerification(valid=False)
    record = await context.db[CERTIFICATE_CODES].find_one({"_id": code_hash(normalised)})
    if record is None:
        return CertificateVerification(valid=False)
    session = await context.db["sessions"].find_one(
        {"_id": record["session_id"]}, {"title": 1, "held_on": 1, "ends_on": 1, "certificates": 1}
    )
    entry = (session or {}).get("certificates", {}).get(record["participant_id"])
    # An orphan record (the session update never happened) is not a certificate.
    if session is None or entry is None or entry.get("code_hash") != record["_id"]:
        return CertificateVerification(valid=False)
    return CertificateVerification(
        valid=True, course=session["title"], date=session.get("held_on") or session["ends_on"]
    )


@dataclass(frozen=True)
class PrintableCertificate:
    """Everything the PDF shows."""

    full_name: str
    course: str
    format: str
    region: str
    starts_on: date
    ends_on: date
    hours: float
    issued_on: date
    code: str
    verification_url: str
    organisation: str


async def printable(
    *, context: ServiceContext, principal: Principal, session_id: str, participant_id: str
) -> PrintableCertificate:
    """The certificate's content, names decrypted (the read is recorded)."""
    settings = settings_of(context)
    session = await load_session(context, session_id, principal)
    entry = session.get("certificates", {}).get(participant_id)
    if entry is None:
        raise problem(404, "No encontrado.")
    names = await decrypt_names(
        context=context,
        principal=principal,
        participant_id=participant_id,
        purpose_fields=("given_names", "family_names"),
    )
    code = await _stored_code(context, participant_id, entry["code_hash"])
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
