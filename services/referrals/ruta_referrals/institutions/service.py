"""Registry operations: seed, list, register, change institutions; webhook secrets encrypted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError
from ruta_shared.api import FieldError
from uuid6 import uuid7

from ruta_referrals.institutions.models import InstitutionCreate, InstitutionUpdate
from ruta_referrals.institutions.rules import (
    SECRET_FIELD,
    SEED,
    new_webhook_secret,
)
from ruta_referrals.runtime import Runtime
from ruta_referrals.webhooks.targets import check_target

Document = dict[str, Any]


async def ensure_institution_indexes(*, runtime: Runtime) -> None:
    """Lists are filtered by kind."""
    await runtime.institutions.create_index([("kind", ASCENDING)], name="kind")


async def seed_institutions(*, runtime: Runtime) -> int:
    """Add the seed institutions that are missing; returns how many were added."""
    added = 0
    now = datetime.now(UTC)
    for entry in SEED:
        result = await runtime.institutions.update_one(
            {"_id": entry["_id"]},
            {
                "$setOnInsert": {
                    **{k: v for k, v in entry.items() if k != "_id"},
                    "contact": None,
                    "integration": "manual",
                    "webhook_url": None,
                    SECRET_FIELD: None,
                    "active": True,
                    "version": 1,
                    "created_at": now,
                }
            },
            upsert=True,
        )
        added += 1 if result.upserted_id is not None else 0
    return added


async def get_institution(*, runtime: Runtime, institution_id: str) -> Document | None:
    """One institution, or None."""
    return await runtime.institutions.find_one({"_id": institution_id})


async def list_institutions(
    *, runtime: Runtime, kind: str | None, limit: int, offset: int
) -> tuple[list[Document], int]:
    """A page of institutions (by name) and how many match."""
    query: Document = {} if kind is None else {"kind": kind}
    total = await runtime.institutions.count_documents(query)
    docs = await runtime.institutions.find(
        query, sort=[("name", ASCENDING), ("_id", ASCENDING)], skip=offset, limit=limit
    ).to_list()
    return docs, total


async def create_institution(*, runtime: Runtime, body: InstitutionCreate) -> Document:
    """Register an institution (409 when its id is taken)."""
    await check_target(body.webhook_url, runtime.webhook_targets)
    doc = {
        "_id": body.id or str(uuid7()),
        **body.model_dump(exclude={"id"}),
        SECRET_FIELD: None,
        "active": True,
        "version": 1,
        "created_at": datetime.now(UTC),
    }
    try:
        await runtime.institutions.insert_one(doc)
    except DuplicateKeyError:
        raise FieldError("id", "ya existe una institución con este id", status_code=409) from None
    return doc


async def update_institution(
    *, runtime: Runtime, institution_id: str, body: InstitutionUpdate, expected_version: int
) -> Document | None:
    """Apply the sent fields if nobody changed the institution since; None on a conflict."""
    changes = body.model_dump(exclude_unset=True)
    if "webhook_url" in changes:
        await check_target(changes["webhook_url"], runtime.webhook_targets)
    for required in ("name", "integration", "active"):
        if required in changes and changes[required] is None:
            raise FieldError(required, "no puede quedar vacío")
    return await runtime.institutions.find_one_and_update(
        {"_id": institution_id, "version": expected_version},
        {"$set": {**changes, "version": expected_version + 1, "updated_at": datetime.now(UTC)}},
        return_document=True,
    )


async def rotate_webhook_secret(*, runtime: Runtime, institution_id: str) -> str | None:
    """A new signing secret, stored encrypted; None when the institution does not exist."""
    secret = new_webhook_secret()
    key = await runtime.keys.create("institution", institution_id)
    result = await runtime.institutions.update_one(
        {"_id": institution_id},
        {"$set": {SECRET_FIELD: key.encrypt(SECRET_FIELD, secret)}, "$inc": {"version": 1}},
    )
    return secret if result.matched_count == 1 else None


async def webhook_secret(*, runtime: Runtime, institution: Document) -> str | None:
    """The institution's plain signing secret (only the dispatcher needs it)."""
    token = institution.get(SECRET_FIELD)
    if token is None:
        return None
    key = await runtime.keys.get("institution", institution["_id"])
    return key.decrypt(SECRET_FIELD, token)
