"""Stores institutions, seeds the kinds named in the domain, and keeps webhook secrets encrypted."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from ruta_shared.api import FieldError
from ruta_shared.reference import INSTITUTION_KINDS
from ruta_shared.security.crypto import DataKeyStore
from uuid6 import uuid7

from ruta_referrals.institutions.models import (
    INTEGRATIONS,
    InstitutionCreate,
    InstitutionRead,
    InstitutionUpdate,
)

INSTITUTIONS: Final = "institutions"
SECRET_FIELD: Final = "webhook_secret"  # noqa: S105 (a field name)
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 (a format prefix)

Document = dict[str, Any]

# One institution per kind the domain file and the 2017 report name (ids are stable slugs).
SEED: Final[list[Document]] = [
    {"_id": "fistrap-lima", "kind": "prosecutor", "region": "15",
     "name": "Fiscalía Especializada en Trata de Personas (FISTRAP) de Lima"},
    {"_id": "dgdpaj", "kind": "public_defence", "region": "15",
     "name": "Dirección General de Defensa Pública y Acceso a la Justicia (DGDPAJ)"},
    {"_id": "upe-lima", "kind": "child_protection", "region": "15",
     "name": "Unidad de Protección Especial (UPE) de Lima, MIMP"},
    {"_id": "car-lima", "kind": "shelter_car", "region": "15",
     "name": "Centro de Acogida Residencial (CAR)"},
    {"_id": "hrt-loreto", "kind": "refuge_hrt", "region": "16",
     "name": "Hogar de Refugio Temporal (HRT) de Loreto"},
    {"_id": "cem-iquitos", "kind": "cem", "region": "16",
     "name": "Centro Emergencia Mujer (CEM) de Iquitos"},
    {"_id": "pnp-dirintrap", "kind": "police", "region": "15",
     "name": "Policía Nacional del Perú (PNP), División de Trata de Personas"},
    {"_id": "demuna-lima", "kind": "demuna", "region": "15",
     "name": "Defensoría Municipal del Niño y del Adolescente (DEMUNA) de Lima"},
    {"_id": "salud-minsa", "kind": "health", "region": "15",
     "name": "Establecimiento de salud (MINSA)"},
    {"_id": "sunafil", "kind": "labour_inspection", "region": "15",
     "name": "Superintendencia Nacional de Fiscalización Laboral (SUNAFIL)"},
    {"_id": "impulsa-peru", "kind": "employment_programme", "region": "15",
     "name": "Programa Impulsa Perú"},
    {"_id": "abogados-pro-bono", "kind": "pro_bono_lawyer", "region": "15",
     "name": "Red de abogados pro bono"},
    {"_id": "ong-aliada", "kind": "ngo", "region": "15",
     "name": "Organización no gubernamental aliada"},
    {"_id": "consulado", "kind": "consulate", "region": None,
     "name": "Consulado (víctimas extranjeras)"},
]  # fmt: skip


def new_webhook_secret() -> str:
    """A fresh Standard Webhooks signing secret (256 random bits)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def to_read(doc: Document) -> InstitutionRead:
    """The staff view of a stored institution."""
    return InstitutionRead(
        id=doc["_id"],
        kind=doc["kind"],
        kind_label=INSTITUTION_KINDS[doc["kind"]],
        name=doc["name"],
        region=doc.get("region"),
        contact=doc.get("contact"),
        integration=doc.get("integration", "manual"),
        integration_label=INTEGRATIONS[doc.get("integration", "manual")],
        webhook_url=doc.get("webhook_url"),
        has_webhook_secret=doc.get(SECRET_FIELD) is not None,
        active=doc.get("active", True),
        version=doc.get("version", 1),
    )


class InstitutionStore:
    """The `institutions` collection."""

    def __init__(
        self, database: AsyncDatabase[Document], keys: DataKeyStore, *, allow_plain_http: bool
    ) -> None:
        self._collection = database[INSTITUTIONS]
        self._keys = keys
        self._allow_plain_http = allow_plain_http

    async def ensure_indexes(self) -> None:
        """Lists are filtered by kind."""
        await self._collection.create_index([("kind", ASCENDING)], name="kind")

    async def seed(self) -> int:
        """Add the seed institutions that are missing; returns how many were added."""
        added = 0
        now = datetime.now(UTC)
        for entry in SEED:
            result = await self._collection.update_one(
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

    async def get(self, institution_id: str) -> Document | None:
        """One institution, or None."""
        return await self._collection.find_one({"_id": institution_id})

    async def list(
        self, *, kind: str | None, limit: int, offset: int
    ) -> tuple[list[Document], int]:
        """A page of institutions (by name) and how many match."""
        query: Document = {} if kind is None else {"kind": kind}
        total = await self._collection.count_documents(query)
        docs = await self._collection.find(
            query, sort=[("name", ASCENDING), ("_id", ASCENDING)], skip=offset, limit=limit
        ).to_list()
        return docs, total

    def _check_url(self, url: str | None) -> None:
        if url is None:
            return
        parts = urlsplit(url)
        schemes = {"https", "http"} if self._allow_plain_http else {"https"}
        if parts.scheme not in schemes or not parts.hostname:
            raise FieldError(
                "webhook_url",
                "debe ser una URL https completa"
                if not self._allow_plain_http
                else "debe ser una URL http(s) completa",
            )

    async def create(self, body: InstitutionCreate) -> Document:
        """Register an institution (409 when its id is taken)."""
        self._check_url(body.webhook_url)
        doc = {
            "_id": body.id or str(uuid7()),
            **body.model_dump(exclude={"id"}),
            SECRET_FIELD: None,
            "active": True,
            "version": 1,
            "created_at": datetime.now(UTC),
        }
        try:
            await self._collection.insert_one(doc)
        except DuplicateKeyError:
            raise FieldError(
                "id", "ya existe una institución con este id", status_code=409
            ) from None
        return doc

    async def update(
        self, institution_id: str, body: InstitutionUpdate, *, expected_version: int
    ) -> Document | None:
        """Apply the sent fields if nobody changed the institution since; None on a conflict."""
        changes = body.model_dump(exclude_unset=True)
        if "webhook_url" in changes:
            self._check_url(changes["webhook_url"])
        for required in ("name", "integration", "active"):
            if required in changes and changes[required] is None:
                raise FieldError(required, "no puede quedar vacío")
        return await self._collection.find_one_and_update(
            {"_id": institution_id, "version": expected_version},
            {"$set": {**changes, "version": expected_version + 1, "updated_at": datetime.now(UTC)}},
            return_document=True,
        )

    async def rotate_webhook_secret(self, institution_id: str) -> str | None:
        """A new signing secret, stored encrypted; None when the institution does not exist."""
        secret = new_webhook_secret()
        key = await self._keys.create("institution", institution_id)
        result = await self._collection.update_one(
            {"_id": institution_id},
            {
                "$set": {SECRET_FIELD: key.encrypt(SECRET_FIELD, secret)},
                "$inc": {"version": 1},
            },
        )
        return secret if result.matched_count == 1 else None

    async def webhook_secret(self, doc: Document) -> str | None:
        """The institution's plain signing secret (only the dispatcher needs it)."""
        token = doc.get(SECRET_FIELD)
        if token is None:
            return None
        key = await self._keys.get("institution", doc["_id"])
        return key.decrypt(SECRET_FIELD, token)
