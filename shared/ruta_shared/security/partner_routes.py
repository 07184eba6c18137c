"""Partner credential administration over HTTP (admin role): list, issue, rotate, revoke.

Mounted with the account routes (where the token issuer runs). The secret is in the
response of issue and rotate only, once; Ruta stores its hash and never logs it. Every
change is a `partner_credential.*` event written with the credential through the outbox.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from pymongo.errors import DuplicateKeyError

from ruta_shared.aggregate import Aggregates, Change, RuleViolationError
from ruta_shared.api import problem
from ruta_shared.events.catalog.security import (
    PartnerCredentialIssued,
    PartnerCredentialRevoked,
    PartnerCredentialRotated,
)
from ruta_shared.outbox import SEQUENCE_FIELD
from ruta_shared.security.account_models import PROBLEMS
from ruta_shared.security.partners import (
    INSTITUTION_ID_PATTERN,
    PARTNER_CREDENTIALS_COLLECTION,
    IssuedCredential,
    as_aware,
    new_secret,
    rotated_secrets,
    secret_entry,
)
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

log = logging.getLogger(__name__)

ADMIN_PARTNERS_PATH: Final = "/admin/partners"
MAX_GRACE_MINUTES: Final = 7 * 24 * 60
NO_CREDENTIAL: Final = "La institución no tiene una credencial."
NOT_ACTIVE: Final = "La institución no tiene una credencial activa: emita una."

Document = dict[str, Any]
AdminDep = Annotated[Principal, require("admin:partners")]


class SecretRead(BaseModel):
    """One secret of a credential (never the secret or its hash)."""

    id: str
    created_at: datetime
    grace_until: datetime | None = Field(description="Deja de valer entonces (rotación).")


class CredentialRead(BaseModel):
    """An institution's credential as administrators see it: dates and ids, no secrets."""

    institution_id: str
    client_id: str
    kinds: list[str] = Field(description="Cómo puede usarse: API key o client credentials.")
    created_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None
    secrets: list[SecretRead]


class CredentialSecretRead(CredentialRead):
    """The credential with its new secret, shown once (issue and rotate only)."""

    client_secret: str
    api_key: str


class RotateRequest(BaseModel):
    """A rotation: how long the old secret keeps working (none: it stops now)."""

    model_config = ConfigDict(extra="forbid")

    grace_minutes: int = Field(default=0, ge=0, le=MAX_GRACE_MINUTES)


def _institution(institution_id: str) -> str:
    if not re.fullmatch(INSTITUTION_ID_PATTERN, institution_id):
        raise RuleViolationError(
            "path.institution_id",
            "El id de la institución lleva solo letras, dígitos, '_' y '-'.",
            status_code=404,
        )
    return institution_id


InstitutionDep = Annotated[str, Depends(_institution)]


def _credentials(request: Request) -> Aggregates:
    context = request.app.state.context  # the ServiceContext (not imported: no import cycle)
    return Aggregates(
        collection=context.auth_db[PARTNER_CREDENTIALS_COLLECTION],
        outbox=context.outbox,
        name="partner_credential",
        not_found=lambda: problem(404, NO_CREDENTIAL),
    )


async def _adopted(credentials: Aggregates, institution_id: str) -> Aggregates:
    """Give a credential the CLI stored (no events yet) its event sequence (0)."""
    await credentials.collection.update_one(
        {"_id": institution_id, SEQUENCE_FIELD: {"$exists": False}}, {"$set": {SEQUENCE_FIELD: 0}}
    )
    return credentials


CredentialsDep = Annotated[Aggregates, Depends(_credentials)]


def _view(doc: Document) -> CredentialRead:
    stored = doc.get("secrets") or []
    now = datetime.now(UTC)
    live = [
        SecretRead(
            id=str(entry["id"]), created_at=entry["created_at"], grace_until=entry["expires_at"]
        )
        for entry in stored
        if entry.get("expires_at") is None or as_aware(entry["expires_at"]) > now
    ]
    return CredentialRead(
        institution_id=str(doc["_id"]),
        client_id=str(doc["client_id"]),
        kinds=["api_key", "client_credentials"],
        created_at=doc["created_at"],
        rotated_at=doc.get("rotated_at"),
        revoked_at=doc.get("revoked_at"),
        secrets=live,
    )


def _with_secret(doc: Document, issued: IssuedCredential) -> CredentialSecretRead:
    return CredentialSecretRead(
        **_view(doc).model_dump(), client_secret=issued.client_secret, api_key=issued.api_key
    )


router = APIRouter(prefix=ADMIN_PARTNERS_PATH, tags=["instituciones socias"], responses=PROBLEMS)


@router.get("/{institution_id}/credentials", response_model=list[CredentialRead])
async def list_credentials(
    institution_id: InstitutionDep, admin: AdminDep, credentials: CredentialsDep
) -> list[CredentialRead]:
    """The institution's credential (none yet: an empty list), without any secret."""
    doc = await credentials.get(institution_id)
    return [] if doc is None else [_view(doc)]


@router.post("/{institution_id}/credentials", response_model=CredentialSecretRead, status_code=201)
async def issue_credential(
    institution_id: InstitutionDep, admin: AdminDep, credentials: CredentialsDep
) -> CredentialSecretRead:
    """Issue a credential (first, or after a revocation); the secret is shown only now."""
    issued, entry = new_secret(institution_id)
    now = datetime.now(UTC)
    fields: Document = {
        "client_id": issued.client_id,
        "secrets": [entry],
        "revoked_at": None,
        "rotated_at": None,
        "created_at": now,
    }
    event = PartnerCredentialIssued(
        institution_id=institution_id, client_id=issued.client_id, issued_at=now
    )
    exists = RuleViolationError(
        None, "La institución ya tiene una credencial activa: rótela.", status_code=409
    )
    if await credentials.get(institution_id) is None:
        try:
            await credentials.insert(
                {"_id": institution_id, **fields, "version": 1}, events=[event], actor=admin.actor
            )
        except DuplicateKeyError:
            raise exists from None
    else:

        def reissue(doc: Document) -> Change[None]:
            if doc.get("revoked_at") is None:
                raise exists
            version = int(doc.get("version", 0)) + 1  # tokens carry it: old ones stay invalid
            return Change({"$set": {**fields, "version": version}}, [event])

        await (await _adopted(credentials, institution_id)).change(
            institution_id, apply=reissue, actor=admin.actor
        )
    log.info("partner credential issued", extra={"institution_id": institution_id})
    return _with_secret(await credentials.load(institution_id), issued)


@router.post("/{institution_id}/credentials/rotate", response_model=CredentialSecretRead)
async def rotate_credential(
    institution_id: InstitutionDep,
    admin: AdminDep,
    credentials: CredentialsDep,
    body: Annotated[RotateRequest | None, Body()] = None,
) -> CredentialSecretRead:
    """A new secret (same client id); the old one stops now or after `grace_minutes`."""
    grace = (body or RotateRequest()).grace_minutes
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    entry = secret_entry(secret, now)

    def rotate(doc: Document) -> Change[str]:
        if doc.get("revoked_at") is not None:
            raise RuleViolationError(None, NOT_ACTIVE, status_code=409)
        kept = rotated_secrets(doc.get("secrets") or [], entry, now, timedelta(minutes=grace))
        update: Document = {
            "$set": {"secrets": kept, "rotated_at": now},
            "$inc": {"version": 1},
        }
        event = PartnerCredentialRotated(
            institution_id=institution_id, grace_minutes=grace, rotated_at=now
        )
        return Change(update, [event], str(doc["client_id"]))

    changed = await (await _adopted(credentials, institution_id)).change(
        institution_id, apply=rotate, actor=admin.actor
    )
    log.info(
        "partner credential rotated",
        extra={"institution_id": institution_id, "grace_minutes": grace},
    )
    issued = IssuedCredential(
        institution_id=institution_id, client_id=changed.result, client_secret=secret
    )
    return _with_secret(await credentials.load(institution_id), issued)


@router.post("/{institution_id}/credentials/revoke", response_model=CredentialRead)
async def revoke_credential(
    institution_id: InstitutionDep, admin: AdminDep, credentials: CredentialsDep
) -> CredentialRead:
    """Revoke the credential: every secret, and tokens obtained with it, stop working."""

    def revoke(doc: Document) -> Change[None]:
        if doc.get("revoked_at") is not None:
            return Change()  # already revoked: nothing to write, no event
        now = datetime.now(UTC)
        update: Document = {"$set": {"secrets": [], "revoked_at": now}, "$inc": {"version": 1}}
        return Change(
            update, [PartnerCredentialRevoked(institution_id=institution_id, revoked_at=now)]
        )

    changed = await (await _adopted(credentials, institution_id)).change(
        institution_id, apply=revoke, actor=admin.actor
    )
    if changed.written:
        log.info("partner credential revoked", extra={"institution_id": institution_id})
    return _view(await credentials.load(institution_id))
