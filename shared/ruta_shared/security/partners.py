"""Partner institution credentials: one per institution, API key or client credentials, hashed.

The secret is 256 random bits, shown once when issued or rotated and stored only as its
SHA-256 (a slow password hash adds nothing for a secret that cannot be guessed, and API
keys are checked on every request). Rotation issues a new secret; old ones stop working
at once or after a grace period. Revocation removes every secret.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from uuid6 import uuid7

from ruta_shared.ids import ID_PATTERN
from ruta_shared.security.principal import Principal, Role

log = logging.getLogger(__name__)

PARTNER_CREDENTIALS_COLLECTION: Final = "partner_credentials"
CLIENT_ID_PREFIX: Final = "ruta-partner-"
INSTITUTION_ID_PATTERN = ID_PATTERN

Document = dict[str, Any]


class CredentialExistsError(Exception):
    """The institution already has an active credential (rotate it instead)."""


class CredentialNotFoundError(Exception):
    """The institution has no active credential."""


class ConcurrentChangeError(Exception):
    """The credential changed while it was being rotated; try again."""


class IssuedCredential(BaseModel):
    """What an administrator hands to the institution, once: never stored in plain."""

    model_config = ConfigDict(frozen=True)

    institution_id: str
    client_id: str
    client_secret: str = Field(description="Shown once; Ruta keeps only its hash.")

    @property
    def api_key(self) -> str:
        """The same secret as an API key (`X-API-Key: <client_id>.<secret>`)."""
        return f"{self.client_id}.{self.client_secret}"


def hash_secret(secret: str) -> str:
    """The stored form of a partner secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def split_api_key(api_key: str) -> tuple[str, str] | None:
    """`(client_id, secret)` of a well-formed API key, else None."""
    client_id, dot, secret = api_key.strip().partition(".")
    if not dot or not client_id.startswith(CLIENT_ID_PREFIX) or not secret:
        return None
    return client_id, secret


def secret_matches(stored: list[Document], secret: str, now: datetime) -> bool:
    """Whether `secret` matches an unexpired stored secret (constant-time per comparison)."""
    candidate = hash_secret(secret)
    found = False
    for entry in stored:
        expires_at = entry.get("expires_at")
        if expires_at is not None and as_aware(expires_at) <= now:
            continue
        if hmac.compare_digest(str(entry["hash"]), candidate):
            found = True
    return found


def rotated_secrets(
    stored: list[Document], new_entry: Document, now: datetime, grace: timedelta
) -> list[Document]:
    """The secrets after a rotation: the new one, plus old ones kept until the grace ends."""
    kept = []
    if grace > timedelta(0):
        deadline = now + grace
        for entry in stored:
            expires_at = entry.get("expires_at")
            if expires_at is not None and as_aware(expires_at) <= now:
                continue
            end = deadline if expires_at is None else min(as_aware(expires_at), deadline)
            kept.append({**entry, "expires_at": end})
    return [*kept, new_entry]


class PartnerCredentialStore:
    """Issues, rotates, revokes and verifies partner credentials (auth database)."""

    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self._credentials: AsyncCollection[Document] = database[PARTNER_CREDENTIALS_COLLECTION]

    async def ensure_indexes(self) -> None:
        """A unique index on the client id."""
        await self._credentials.create_index("client_id", unique=True, name="client_id_unique")

    async def issue(self, institution_id: str) -> IssuedCredential:
        """A first credential for the institution (or a new one after revocation)."""
        if not re.fullmatch(INSTITUTION_ID_PATTERN, institution_id):
            msg = "institution ids are letters, digits, '_' and '-'"
            raise ValueError(msg)
        issued, entry = new_secret(institution_id)
        now = datetime.now(UTC)
        existing = await self._credentials.find_one({"_id": institution_id})
        document = {
            "client_id": issued.client_id,
            "secrets": [entry],
            "revoked_at": None,
            "created_at": now,
            "version": 1,
        }
        if existing is None:
            try:
                await self._credentials.insert_one({"_id": institution_id, **document})
            except DuplicateKeyError:
                raise CredentialExistsError(institution_id) from None
        else:
            if existing.get("revoked_at") is None:
                raise CredentialExistsError(institution_id)
            version = int(existing.get("version", 0))
            result = await self._credentials.update_one(
                {"_id": institution_id, "version": version},
                {"$set": {**document, "version": version + 1}},
            )
            if result.matched_count != 1:
                raise ConcurrentChangeError(institution_id)
        log.info("partner credential issued", extra={"institution_id": institution_id})
        return issued

    async def rotate(
        self, institution_id: str, *, grace: timedelta = timedelta(0)
    ) -> IssuedCredential:
        """A new secret (same client id); old secrets stop now or when `grace` ends."""
        existing = await self._credentials.find_one({"_id": institution_id})
        if existing is None or existing.get("revoked_at") is not None:
            raise CredentialNotFoundError(institution_id)
        now = datetime.now(UTC)
        secret = secrets.token_urlsafe(32)
        entry = secret_entry(secret, now)
        version = int(existing.get("version", 0))
        result = await self._credentials.update_one(
            {"_id": institution_id, "version": version},
            {
                "$set": {
                    "secrets": rotated_secrets(existing.get("secrets") or [], entry, now, grace),
                    "version": version + 1,
                }
            },
        )
        if result.matched_count != 1:
            raise ConcurrentChangeError(institution_id)
        log.info(
            "partner credential rotated",
            extra={"institution_id": institution_id, "grace_seconds": grace.total_seconds()},
        )
        return IssuedCredential(
            institution_id=institution_id,
            client_id=str(existing["client_id"]),
            client_secret=secret,
        )

    async def revoke(self, institution_id: str) -> bool:
        """Remove every secret of the institution; True when it had an active credential."""
        result = await self._credentials.update_one(
            {"_id": institution_id, "revoked_at": None},
            {"$set": {"secrets": [], "revoked_at": datetime.now(UTC)}, "$inc": {"version": 1}},
        )
        if result.matched_count == 1:
            log.info("partner credential revoked", extra={"institution_id": institution_id})
        return result.matched_count == 1

    async def verify_client(self, client_id: str, client_secret: str) -> Principal | None:
        """The partner principal for valid client credentials; None otherwise."""
        verified = await self.verify_client_versioned(client_id, client_secret)
        return None if verified is None else verified[0]

    async def verify_client_versioned(
        self, client_id: str, client_secret: str
    ) -> tuple[Principal, int] | None:
        """The partner principal and its credential's version (tokens carry it); or None."""
        if not client_id.startswith(CLIENT_ID_PREFIX) or not client_secret:
            return None
        document = await self._credentials.find_one({"client_id": client_id})
        if document is None or document.get("revoked_at") is not None:
            return None
        if not secret_matches(document.get("secrets") or [], client_secret, datetime.now(UTC)):
            return None
        principal = Principal(
            id=client_id,
            role=Role.PARTNER,
            institution_id=str(document["_id"]),
            auth="client_credentials",
        )
        return principal, int(document.get("version", 0))

    async def verify_api_key(self, api_key: str) -> Principal | None:
        """The partner principal for a valid API key; None otherwise."""
        parts = split_api_key(api_key)
        if parts is None:
            return None
        principal = await self.verify_client(*parts)
        if principal is None:
            return None
        return principal.model_copy(update={"auth": "api_key"})


def new_secret(institution_id: str) -> tuple[IssuedCredential, Document]:
    """A credential with a fresh client id and secret, and the stored entry of the secret."""
    secret = secrets.token_urlsafe(32)
    issued = IssuedCredential(
        institution_id=institution_id,
        client_id=CLIENT_ID_PREFIX + secrets.token_hex(8),
        client_secret=secret,
    )
    return issued, secret_entry(secret, datetime.now(UTC))


def secret_entry(secret: str, now: datetime) -> Document:
    """What is stored of a secret: an id, its hash and dates (no expiry until a rotation)."""
    return {"id": str(uuid7()), "hash": hash_secret(secret), "created_at": now, "expires_at": None}


def as_aware(value: datetime) -> datetime:
    """`value` with UTC when it came back from the database without a zone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
