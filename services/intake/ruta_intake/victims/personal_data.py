"""Personal data of victims and relatives: encrypted per person, blind-indexed, never in events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Final, Literal, get_args

from pymongo.asynchronous.collection import AsyncCollection
from ruta_shared.events.catalog.intake import PersonalField
from ruta_shared.security.crypto import SubjectKey

from ruta_intake.runtime import Runtime, not_found
from ruta_intake.victims.models import PersonalDataIn

Document = dict[str, Any]
SubjectType = Literal["victim", "relative"]

# The fields of personal data, as the rectification events name them.
PERSONAL_FIELDS: Final[tuple[str, ...]] = get_args(PersonalField)
# A rectification is written here first as `pending` and takes effect once the case lists
# its id as the person's `rectification_id` (the case document is the commit record).
PENDING: Final = "pending"
# People whose data was written but whose case change may not have landed (see orphans.py).
UNCOMMITTED: Final = "uncommitted_personal_data"


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
    *, runtime: Runtime, subject_type: SubjectType
) -> AsyncCollection[Document]:
    """Where a kind of person's encrypted data lives."""
    return runtime.victim_data if subject_type == "victim" else runtime.relative_data


async def note_uncommitted(
    *, runtime: Runtime, subject_type: SubjectType, subject_id: str, case_id: str
) -> None:
    """Note a person whose data is about to be written, for the repair sweep."""
    await runtime.db[UNCOMMITTED].update_one(
        {"_id": f"{subject_type}:{subject_id}"},
        {
            "$setOnInsert": {
                "subject_type": subject_type,
                "subject_id": subject_id,
                "case_id": case_id,
                "at": datetime.now(UTC),
            }
        },
        upsert=True,
    )


async def store_personal_data(
    *,
    runtime: Runtime,
    subject_type: SubjectType,
    subject_id: str,
    case_id: str,
    data: PersonalDataIn,
    document_index: str | None = None,
    victim_id: str | None = None,
) -> None:
    """Write a person's encrypted data; invisible until the case references the person.

    The person is noted first, so that the repair sweep (`victims.orphans`) shreds the key
    and the data if the case change listing the person never lands.
    """
    await note_uncommitted(
        runtime=runtime, subject_type=subject_type, subject_id=subject_id, case_id=case_id
    )
    key = await runtime.data_keys.create(subject_type, subject_id)
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
    await personal_data_collection(runtime=runtime, subject_type=subject_type).insert_one(document)
    if document_index is not None and subject_type == "victim":
        # Looked up by `_id`, which FerretDB finds directly (a field filter scans everything).
        await runtime.document_index.update_one(
            {"_id": document_index}, {"$addToSet": {"victim_ids": subject_id}}, upsert=True
        )


def document_index(*, runtime: Runtime, data: PersonalDataIn) -> str | None:
    """The blind index of a person's document number (None without one)."""
    if data.document_number is None:
        return None
    return runtime.blind_index.document_number(data.document_number, data.document_type or "any")


def committed_pending(stored: Document, person: Document) -> Document | None:
    """The stored rectification the case committed (the person names its id), if any."""
    pending = stored.get(PENDING)
    if pending is not None and pending["id"] == person.get("rectification_id"):
        return dict(pending)
    return None


async def _move_document_index(
    *, runtime: Runtime, subject_id: str, old: str | None, new: str | None
) -> None:
    """Point the blind index of a victim's document from `old` to `new` (idempotent)."""
    if old == new:
        return
    if old is not None:
        await runtime.document_index.update_one({"_id": old}, {"$pull": {"victim_ids": subject_id}})
    if new is not None:
        await runtime.document_index.update_one(
            {"_id": new}, {"$addToSet": {"victim_ids": subject_id}}, upsert=True
        )


async def load_personal_data(
    *, runtime: Runtime, subject_type: SubjectType, person: Document
) -> Document | None:
    """A person's stored (encrypted) data, with a rectification the case committed applied.

    `person` is the victim or relative as the case lists it. A rectification whose case
    change was written but whose data was not yet moved (a crash in between) is finished
    here, so every read sees what the case's events say.
    """
    subject_id = person[f"{subject_type}_id"]
    collection = personal_data_collection(runtime=runtime, subject_type=subject_type)
    stored = await collection.find_one({"_id": subject_id})
    if stored is None:
        return None
    pending = committed_pending(stored, person)
    if pending is None:
        return stored
    await collection.update_one(
        {"_id": subject_id, f"{PENDING}.id": pending["id"]},
        {
            "$set": {"fields": pending["fields"], "document_index": pending["document_index"]},
            "$unset": {PENDING: ""},
        },
    )
    if subject_type == "victim":
        await _move_document_index(
            runtime=runtime,
            subject_id=subject_id,
            old=stored.get("document_index"),
            new=pending["document_index"],
        )
    stored.pop(PENDING)
    return {**stored, "fields": pending["fields"], "document_index": pending["document_index"]}


async def load_plaintext(
    *, runtime: Runtime, subject_type: SubjectType, person: Document
) -> tuple[Document, SubjectKey, Document]:
    """A listed person's stored data, key and plaintext; 404 when nothing was stored.

    The caller logs the read before returning anything decrypted (or returns nothing).
    """
    stored = await load_personal_data(runtime=runtime, subject_type=subject_type, person=person)
    if stored is None:
        raise not_found()
    key = await runtime.data_keys.get(subject_type, person[f"{subject_type}_id"])
    return stored, key, decrypt_personal_data(key, stored.get("fields") or {})


async def shred_personal_data(
    *, runtime: Runtime, subject_type: SubjectType, subject_ids: list[str], now: datetime
) -> None:
    """Destroy the people's keys, then drop their ciphertexts and blind indexes all the same."""
    if not subject_ids:
        return
    for subject_id in subject_ids:
        await runtime.data_keys.destroy(subject_type, subject_id)
    collection = personal_data_collection(runtime=runtime, subject_type=subject_type)
    if subject_type == "victim":
        async for stored in collection.find(
            {"_id": {"$in": subject_ids}}, {"document_index": 1, PENDING: 1}
        ):
            for index in {
                stored.get("document_index"),
                (stored.get(PENDING) or {}).get("document_index"),
            }:
                await _move_document_index(
                    runtime=runtime, subject_id=str(stored["_id"]), old=index, new=None
                )
    await collection.update_many(
        {"_id": {"$in": subject_ids}},
        {
            "$set": {"fields": {}, "document_index": None, "erased_at": now},
            "$unset": {PENDING: ""},
        },
    )
