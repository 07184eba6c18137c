"""Pure rules of consent: purposes, guardians of minors, versions and which one is current."""

from __future__ import annotations

from typing import Any

from ruta_shared.aggregate import RuleViolationError
from ruta_shared.reference import AgeGroup
from uuid6 import uuid7

from ruta_intake.consent.models import ConsentCreate, ConsentRead

Document = dict[str, Any]


def check_purpose(body: ConsentCreate) -> None:
    """An institution kind exactly for disclosure; a guardian's relative only for a guardian."""
    if body.purpose == "disclosure" and body.institution_kind is None:
        raise RuleViolationError(
            "body.institution_kind", "indique a qué tipo de institución se autoriza comunicar datos"
        )
    if body.purpose != "disclosure" and body.institution_kind is not None:
        raise RuleViolationError(
            "body.institution_kind", "solo se indica para comunicar datos a una institución"
        )
    if body.guardian_relative_id is not None and body.given_by != "guardian":
        raise RuleViolationError(
            "body.guardian_relative_id", "solo se indica si consiente un tutor"
        )


def check_guardian(age_group: AgeGroup, given_by: str) -> None:
    """A minor's consent is given by a guardian."""
    if age_group == "minor" and given_by != "guardian":
        raise RuleViolationError(
            "given_by",
            "el consentimiento de una persona menor de edad lo da su madre, padre o tutor",
        )


def check_guardian_relative(case: Document, *, victim_id: str, relative_id: str) -> None:
    """The guardian who consents is a registered relative of this victim."""
    for relative in case.get("relatives", []):
        if relative["relative_id"] == relative_id and relative["victim_id"] == victim_id:
            return
    raise RuleViolationError(
        "body.guardian_relative_id", "no es un familiar registrado de esta víctima"
    )


def new_version(case: Document, *, victim_id: str, body: ConsentCreate) -> tuple[str, int]:
    """The consent id for this victim, purpose and institution kind, and its next version."""
    versions = [
        c
        for c in case.get("consents", [])
        if c["victim_id"] == victim_id
        and c["purpose"] == body.purpose
        and c["institution_kind"] == body.institution_kind
    ]
    if not versions:
        return str(uuid7()), 1
    return versions[0]["consent_id"], max(c["version"] for c in versions) + 1


def consent_read(consent: Document, *, current: bool) -> ConsentRead:
    """A stored consent version as the API shows it (who recorded it stays inside)."""
    return ConsentRead(
        **{k: v for k, v in consent.items() if k != "recorded_by"},
        current=current,
    )


def consent_reads(consents: list[Document]) -> list[ConsentRead]:
    """Every consent version, each marked current when it is its consent's latest."""
    latest: dict[str, int] = {}
    for consent in consents:
        latest[consent["consent_id"]] = max(
            latest.get(consent["consent_id"], 0), consent["version"]
        )
    return [consent_read(c, current=c["version"] == latest[c["consent_id"]]) for c in consents]
