"""Personal data of victims and relatives: encrypted per person, blind-indexed, never in events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Final, Literal

from pymongo.asynchronous.collection import AsyncCollection
from ruta_shared.aggregate import RuleViolationError
from ruta_shared.api import problem
from ruta_shared.security.crypto import SubjectKey

from ruta_intake.runtime import Runtime
from ruta_intake.victims.models import PersonalDataIn, VictimCreate

Document = dict[str, Any]
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
DUPLICATE_DETAIL: Final = (
    "Ya hay una víctima registrada con ese número de documento: revise `existing_victim_id` "
    "o, si es otra persona, repita la solicitud con `allow_duplicate: true`."
)


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
    """Write a person's encrypted data; invisible until the case references the person."""
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


async def find_registered_victim(*, runtime: Runtime, index: str) -> str | None:
    """The id of a registered (not erased) victim with this document index, if any.

    Personal data written for a case that was then never stored is ignored: only victims
    their case really lists count.
    """
    entry = await runtime.document_index.find_one({"_id": index})
    for victim_id in (entry or {}).get("victim_ids", [])[-20:]:
        candidate = await runtime.victim_data.find_one(
            {"_id": victim_id}, {"case_id": 1, "erased_at": 1}
        )
        if candidate is None or candidate.get("erased_at") is not None:
            continue
        case = await runtime.cases.collection.find_one(
            {"_id": candidate["case_id"]}, {"victims": 1}
        )
        if case is None:
            continue
        for victim in case.get("victims", []):
            if victim["victim_id"] == candidate["_id"] and victim.get("erased_at") is None:
                return str(candidate["_id"])
    return None


async def check_duplicates(
    *, runtime: Runtime, victims: list[VictimCreate], prefix: str
) -> list[str | None]:
    """Blind indexes of the victims' documents; 409 naming an already registered victim.

    A victim marked `allow_duplicate` is registered anyway (after a person checked the warning).
    """
    indexes = [document_index(runtime=runtime, data=v.personal_data) for v in victims]
    seen: set[str] = set()
    for position, (victim, index) in enumerate(zip(victims, indexes, strict=True)):
        field = f"{prefix}{position}.personal_data.document_number".lstrip(".")
        if index is None:
            continue
        if index in seen:
            raise RuleViolationError(field, "el mismo documento aparece dos veces en la solicitud")
        seen.add(index)
        if victim.allow_duplicate:
            continue
        existing = await find_registered_victim(runtime=runtime, index=index)
        if existing is not None:
            raise problem(
                409,
                DUPLICATE_DETAIL,
                existing_victim_id=existing,
                errors=[
                    {
                        "field": field,
                        "type": "duplicate",
                        "message": "ya registrado para otra víctima",
                    }
                ],
            )
    return indexes
