"""Pure rules of certificates: verification codes, who may get one, and the issuing change.

A verification code is 160 random bits written as 32 base32 characters in groups of
four, so guessing one is hopeless and the public endpoint cannot be used to enumerate
certificates. Only the code's SHA-256 is searchable.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from datetime import date
from typing import Any, Final

from ruta_shared.aggregate import Change
from ruta_shared.events.catalog.training import TrainingCertificateIssued

from ruta_training.sessions.rules import conflict, invalid

Document = dict[str, Any]
CODE_BYTES: Final = 20
CODE_LENGTH: Final = 32  # base32 characters of 20 bytes
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


def check_eligible(session: Document, participant_id: str) -> None:
    """A certificate is for a held session the participant attended long enough."""
    if session["status"] != "held":
        raise conflict("Solo se emiten certificados de sesiones realizadas.")
    attendance = session.get("attendance", {}).get(participant_id)
    if attendance is None:
        raise invalid("participant_id", "no tiene asistencia registrada en la sesión")
    needed = float(session["certificate_min_hours"])
    if float(attendance["hours"]) < needed:
        raise invalid(
            "participant_id",
            f"asistió {float(attendance['hours']):g} de las {needed:g} horas que exige el "
            "certificado",
        )


def plan_issue(
    doc: Document, *, participant_id: str, certificate_id: str, digest: str, today: date
) -> Change[Document]:
    """Record the certificate on the session (training.certificate_issued); its entry.

    When someone issued it meanwhile, nothing is written and their entry comes back.
    """
    current = doc.get("certificates", {}).get(participant_id)
    if current is not None:
        return Change(result=current)
    check_eligible(doc, participant_id)
    hours = float(doc["attendance"][participant_id]["hours"])
    entry = {
        "certificate_id": certificate_id,
        "code_hash": digest,
        "hours": hours,
        "issued_on": today.isoformat(),
    }
    event = TrainingCertificateIssued(
        session_id=doc["_id"],
        participant_id=participant_id,
        certificate_id=certificate_id,
        hours=hours,
        issued_on=today,
    )
    return Change({"$set": {f"certificates.{participant_id}": entry}}, [event], entry)
