"""Pure rules of the participant registry: how a person is found again and what may change."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any, Final

from ruta_shared.security.crypto import BlindIndex
from ruta_shared.security.permissions import in_office_scope
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_training.participants.models import ParticipantCreate, ParticipantRead

Document = dict[str, Any]
SUBJECT_TYPE: Final = "participant"
PERSONAL_FIELDS: Final = ("given_names", "family_names", "document_number", "email", "phone")
ATTRIBUTES: Final = ("sex", "audience", "institution_kind", "role", "region")


def normalise_email(value: str) -> str:
    """Emails compare case-insensitively, without surrounding spaces."""
    return unicodedata.normalize("NFKC", value).strip().lower()


def lookup_keys(index: BlindIndex, person: ParticipantCreate) -> list[str]:
    """The blind-index keys a person is found by (document number first, then email)."""
    keys = []
    if person.document_number:
        keys.append("doc:" + index.document_number(person.document_number))
    if person.email:
        keys.append("email:" + index.compute("email", normalise_email(person.email)))
    return keys


def known_attributes(person: ParticipantCreate) -> dict[str, Any]:
    """The attributes this registration states (an unstated sex does not erase a known one)."""
    values = person.model_dump(include=set(ATTRIBUTES))
    return {
        name: value
        for name, value in values.items()
        if value is not None and not (name == "sex" and value == "unknown")
    }


def resolve(person_keys: Sequence[Sequence[str]], claimed: dict[str, str]) -> list[str]:
    """Each person's id: a known key wins; otherwise a new id, shared with later inputs that
    name the same person by either key. `claimed` gains every key newly assigned."""
    chosen: list[str] = []
    for keys in person_keys:
        participant_id = next((claimed[k] for k in keys if k in claimed), None) or str(uuid7())
        for key in keys:
            claimed.setdefault(key, participant_id)
        chosen.append(participant_id)
    return chosen


def visible(principal: Principal, doc: Document) -> bool:
    """Whether the participant was ever seen in one of the caller's offices."""
    return any(in_office_scope(principal, office) for office in doc.get("offices", []))


def to_read(doc: Document) -> ParticipantRead:
    """A participant's countable attributes."""
    return ParticipantRead(
        id=doc["_id"],
        offices=sorted(doc.get("offices", [])),
        **{name: doc.get(name) for name in ATTRIBUTES},
    )
