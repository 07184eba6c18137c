"""Reading and changing case aggregates (scope, versions, retries) and encrypted personal data."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, Generic, Literal, TypeVar

from fastapi import HTTPException
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError
from ruta_shared.api import problem, version_conflict
from ruta_shared.events import EventData
from ruta_shared.outbox import OUTBOX_FIELD, PENDING_FIELD, SEQUENCE_FIELD, ConcurrencyConflictError
from ruta_shared.security.break_glass import Grant
from ruta_shared.security.crypto import SubjectKey
from ruta_shared.security.permissions import NOT_FOUND_DETAIL
from ruta_shared.security.principal import Principal

from ruta_intake.deps import Intake
from ruta_intake.models import PersonalDataIn
from ruta_intake.rules import case_code

log = logging.getLogger(__name__)

Document = dict[str, Any]
T = TypeVar("T")
SubjectType = Literal["victim", "relative"]

PERSONAL_FIELDS: Final = (
    "given_names",
    "family_names",
    "document_type",
    "document_number",
    "birth_date",
    "phone",
    "address",
    "notes",
)
# Appends (a victim, a care record) retry on a concurrent change; edits answer 412 instead.
MAX_ATTEMPTS: Final = 5
_HIDDEN: Final = {OUTBOX_FIELD: 0, PENDING_FIELD: 0}


def not_found() -> HTTPException:
    """404, the same for "does not exist" and "outside your offices"."""
    return HTTPException(status_code=404, detail=NOT_FOUND_DETAIL)


@dataclass(frozen=True)
class LoadedCase:
    """A case document the caller may see, and the break-glass grant that allowed it, if any."""

    doc: Document
    grant: Grant | None

    @property
    def version(self) -> int:
        """The case's event sequence, its ETag."""
        return int(self.doc[SEQUENCE_FIELD])


async def load_case(intake: Intake, *, case_id: str, principal: Principal) -> LoadedCase:
    """The case if it exists and the caller may see it (office scope or break-glass); 404 else."""
    doc = await intake.cases.find_one({"_id": case_id}, _HIDDEN)
    if doc is None:
        raise not_found()
    grant = await intake.break_glass.ensure_case_access(
        principal=principal, case_id=case_id, office=str(doc["office"])
    )
    return LoadedCase(doc, grant)


@dataclass(frozen=True)
class Change(Generic[T]):
    """What one change does to a case: the update, its events, and what the route returns."""

    update: dict[str, dict[str, Any]]
    payloads: Sequence[EventData]
    result: T


async def change_case(
    intake: Intake,
    *,
    case_id: str,
    principal: Principal,
    build: Callable[[Document], Change[T]],
    if_match: int | None = None,
) -> tuple[T, int]:
    """Apply `build(case)` with its events in one atomic update; returns (result, new version).

    With `if_match` (an edit) the case must still be at that version, else 412. Without it
    (an append that does not overwrite anyone) a concurrent change is retried on the fresh
    document, whose rules `build` checks again.
    """
    async with intake.case_lock(case_id):
        return await _change_case(
            intake, case_id=case_id, principal=principal, build=build, if_match=if_match
        )


async def _change_case(
    intake: Intake,
    *,
    case_id: str,
    principal: Principal,
    build: Callable[[Document], Change[T]],
    if_match: int | None,
) -> tuple[T, int]:
    for _ in range(MAX_ATTEMPTS):
        loaded = await load_case(intake, case_id=case_id, principal=principal)
        if if_match is not None and loaded.version != if_match:
            raise version_conflict()
        change = build(loaded.doc)
        try:
            envelopes = await intake.outbox.update(
                intake.cases,
                doc_id=case_id,
                expected_sequence=loaded.version,
                update=change.update,
                subject=case_id,
                payloads=change.payloads,
                actor=principal.actor,
            )
        except ConcurrencyConflictError:
            if if_match is not None:
                raise version_conflict() from None
            continue
        return change.result, envelopes[-1].sequence
    raise problem(409, "El caso está recibiendo muchos cambios a la vez: intente de nuevo.")


async def next_case_code(intake: Intake, *, office: str, year: int) -> str:
    """The next number of an office's year from its counter (numbers lost to failures stay).

    On MongoDB the `$inc` is atomic; on FerretDB v1 it is not, so the unique index on
    `case_code` is the real guarantee and `open_case` asks again on a clash.
    """
    counter: Document | None = None
    counter_id = f"{office}-{year}"
    # Serialised in this process (FerretDB would lose concurrent increments); across
    # processes the unique index still catches a clash.
    async with intake.outbox.locks.hold(("case_counter", counter_id)):
        for _ in range(3):
            try:
                counter = await intake.counters.find_one_and_update(
                    {"_id": counter_id},
                    {"$inc": {"last": 1}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
                break
            except DuplicateKeyError:  # two processes raced to create the counter
                continue
    if counter is None:
        msg = "the case counter was not created"
        raise RuntimeError(msg)
    return case_code(office, year, int(counter["last"]))


def encrypt_personal_data(key: SubjectKey, data: PersonalDataIn) -> Document:
    """Each given field encrypted on its own (names, document, birth date, contacts, notes)."""
    encrypted: Document = {}
    for name in PERSONAL_FIELDS:
        value = getattr(data, name)
        if value is not None:
            text = value.isoformat() if isinstance(value, date) else str(value)
            encrypted[name] = key.encrypt(name, text)
    return encrypted


def decrypt_personal_data(key: SubjectKey, fields: Document) -> Document:
    """The plaintext of every stored field."""
    plain: Document = {}
    for name in PERSONAL_FIELDS:
        token = fields.get(name)
        if token is not None:
            value = key.decrypt(name, token)
            plain[name] = date.fromisoformat(value) if name == "birth_date" else value
    return plain


def personal_data_collection(
    intake: Intake, subject_type: SubjectType
) -> AsyncCollection[Document]:
    """Where a kind of person's encrypted data lives."""
    return intake.victim_data if subject_type == "victim" else intake.relative_data


async def store_personal_data(
    intake: Intake,
    *,
    subject_type: SubjectType,
    subject_id: str,
    case_id: str,
    data: PersonalDataIn,
    document_index: str | None = None,
    victim_id: str | None = None,
) -> None:
    """Write a person's encrypted data; invisible until the case references the person."""
    key = await intake.data_keys.create(subject_type, subject_id)
    document: Document = {
        "_id": subject_id,
        "case_id": case_id,
        "fields": encrypt_personal_data(key, data),
        "document_index": document_index,
        "created_at": datetime.now(UTC),
        "erased_at": None,
    }
    if victim_id is not None:
        document["victim_id"] = victim_id
    await personal_data_collection(intake, subject_type).insert_one(document)
    if document_index is not None and subject_type == "victim":
        # Looked up by `_id`, which FerretDB finds directly (a field filter scans everything).
        await intake.document_index.update_one(
            {"_id": document_index}, {"$addToSet": {"victim_ids": subject_id}}, upsert=True
        )


def document_index(intake: Intake, data: PersonalDataIn) -> str | None:
    """The blind index of a person's document number (None without one)."""
    if data.document_number is None:
        return None
    return intake.blind_index.document_number(data.document_number, data.document_type or "any")


async def find_registered_victim(intake: Intake, index: str) -> str | None:
    """The id of a registered (not erased) victim with this document index, if any.

    Personal data written for a case that was then never stored is ignored: only victims
    their case really lists count.
    """
    entry = await intake.document_index.find_one({"_id": index})
    for victim_id in (entry or {}).get("victim_ids", [])[-20:]:
        candidate = await intake.victim_data.find_one(
            {"_id": victim_id}, {"case_id": 1, "erased_at": 1}
        )
        if candidate is None or candidate.get("erased_at") is not None:
            continue
        case = await intake.cases.find_one({"_id": candidate["case_id"]}, {"victims": 1})
        if case is None:
            continue
        for victim in case.get("victims", []):
            if victim["victim_id"] == candidate["_id"] and victim.get("erased_at") is None:
                return str(candidate["_id"])
    return None


def find_item(items: list[Document], key: str, value: str) -> Document:
    """The element of an embedded list with `key == value`; 404 when absent."""
    for item in items:
        if item.get(key) == value:
            return item
    raise not_found()
