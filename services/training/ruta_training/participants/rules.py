"""Pure rules of the participant registry: how a person is found again and what may change."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ruta_shared.events.catalog.training import MatchedOn
from ruta_shared.reference import OFFICES
from ruta_shared.security.crypto import BlindIndex, SubjectKey
from ruta_shared.security.permissions import in_office_scope
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_training.participants.models import (
    ParticipantCreate,
    ParticipantPersonalRead,
    ParticipantRead,
)

Document = dict[str, Any]
SUBJECT_TYPE: Final = "participant"
PERSONAL_FIELDS: Final = ("given_names", "family_names", "document_number", "email", "phone")
ATTRIBUTES: Final = ("sex", "audience", "institution_kind", "role", "region")


def normalise_email(value: str) -> str:
    """Emails compare case-insensitively, without surrounding spaces."""
    return unicodedata.normalize("NFKC", value).strip().lower()


def lookup_keys(index: BlindIndex, document_number: str | None, email: str | None) -> list[str]:
    """The blind-index keys a person is found by (document number first, then email)."""
    keys = []
    if document_number:
        keys.append("doc:" + index.document_number(document_number))
    if email:
        keys.append("email:" + index.compute("email", normalise_email(email)))
    return keys


def known_attributes(person: ParticipantCreate) -> dict[str, Any]:
    """The attributes this registration states (an unstated sex does not erase a known one)."""
    values = person.model_dump(include=set(ATTRIBUTES))
    return {
        name: value
        for name, value in values.items()
        if value is not None and not (name == "sex" and value == "unknown")
    }


def claim_id(key: str, office: str) -> str:
    """The `participant_keys` id of a blind-index key claimed in one office."""
    return f"{key}|{office}"


def matched_on(key: str) -> MatchedOn:
    """Which field a blind-index key was computed from."""
    return "document_number" if key.startswith("doc:") else "email"


@dataclass(frozen=True)
class Wanted:
    """One registration to resolve: its blind-index keys and the office registering it."""

    keys: Sequence[str]
    office: str


@dataclass(frozen=True)
class Resolution:
    """Who a registration is: a participant of the caller's offices, or a new one.

    `hidden` are the participants of offices the caller cannot see that share a key with
    the registration (by participant id, with what they share): never shown to the caller,
    only recorded as suspected duplicates for a coordinator.
    """

    participant_id: str
    new: bool
    hidden: Mapping[str, frozenset[MatchedOn]] = field(default_factory=dict)


def resolve(
    wanted: Sequence[Wanted],
    claims: dict[str, str],
    offices_of: Mapping[str, frozenset[str]],
    can_see: Callable[[str], bool],
) -> list[Resolution]:
    """Each registration's participant. A key claimed in the registering office wins; then a
    participant the caller can see (by key order, then oldest id); otherwise a new id. A match
    only in offices the caller cannot see never becomes the answer: it is reported in
    `hidden`. `claims` (claim id -> participant id, including bare legacy keys) gains every
    claim newly assigned, so later inputs naming the same person share the id."""
    known = {pid: frozenset(offices) for pid, offices in offices_of.items()}
    resolutions: list[Resolution] = []
    for item in wanted:
        matches: dict[str, set[MatchedOn]] = {}
        for key in item.keys:
            for pid in _claimed_by(key, claims):
                if pid in known:  # a claim without its record (a crash) is nobody yet
                    matches.setdefault(pid, set()).add(matched_on(key))
        own = next(
            (claims[c] for c in (claim_id(k, item.office) for k in item.keys) if c in claims),
            None,
        )
        seen = [
            pid for pid in _in_key_order(item.keys, claims) if any(map(can_see, known.get(pid, ())))
        ]
        participant_id = own or (seen[0] if seen else None) or str(uuid7())
        new = participant_id not in known  # no record yet: the first input makes it
        if new:
            known[participant_id] = frozenset({item.office})
        for key in item.keys:
            claims.setdefault(claim_id(key, item.office), participant_id)
        hidden = {
            pid: frozenset(kinds)
            for pid, kinds in sorted(matches.items())
            if pid != participant_id and not any(map(can_see, known[pid]))
        }
        resolutions.append(Resolution(participant_id, new, hidden))
    return resolutions


def _claimed_by(key: str, claims: Mapping[str, str]) -> list[str]:
    """Every participant holding `key` in some office (or as a bare legacy claim)."""
    ids = [key, *(claim_id(key, office) for office in OFFICES)]
    return sorted({claims[i] for i in ids if i in claims})


def _in_key_order(keys: Sequence[str], claims: Mapping[str, str]) -> list[str]:
    """Participants holding the keys: the first key's first (oldest id first), no repeats."""
    ordered: list[str] = []
    for key in keys:
        ordered += [pid for pid in _claimed_by(key, claims) if pid not in ordered]
    return ordered


def claim_ids(keys: Sequence[str]) -> list[str]:
    """Every claim id under which any of `keys` may be held (all offices, and legacy)."""
    return sorted({i for key in keys for i in (key, *(claim_id(key, o) for o in OFFICES))})


def visible(principal: Principal, doc: Document) -> bool:
    """Whether the participant was ever seen in one of the caller's offices."""
    return any(in_office_scope(principal, office) for office in doc.get("offices", []))


def duplicate_id(first: str, second: str) -> str:
    """The id of a suspected pair, the same whichever was registered first."""
    low, high = sorted((first, second))
    return hashlib.sha256(f"{low}|{high}".encode()).hexdigest()[:32]


def encrypt_personal(key: SubjectKey, values: Mapping[str, str | None]) -> dict[str, str]:
    """The encrypted personal fields that have a value."""
    return {name: key.encrypt(name, value) for name, value in values.items() if value is not None}


def personal_read(doc: Document, plain: Mapping[str, str]) -> ParticipantPersonalRead:
    """A participant with their decrypted personal data."""
    return ParticipantPersonalRead(
        **to_read(doc).model_dump(),
        given_names=plain["given_names"],
        family_names=plain["family_names"],
        document_type=doc.get("document_type"),
        document_number=plain.get("document_number"),
        email=plain.get("email"),
        phone=plain.get("phone"),
    )


def to_read(doc: Document) -> ParticipantRead:
    """A participant's countable attributes."""
    return ParticipantRead(
        id=doc["_id"],
        offices=sorted(doc.get("offices", [])),
        **{name: doc.get(name) for name in ATTRIBUTES},
        erased=doc.get("erased_at") is not None,
    )
