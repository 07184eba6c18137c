"""Accounts of Ruta's own issuer (staff and partner institutions' people), in the auth database.

Each account is one document of the `users` collection, written through the outbox with its
`account.*` events (intake's relay publishes them). `token_version` goes up whenever the
account's tokens must stop working (disabled, access changed, password set).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from starlette.concurrency import run_in_threadpool
from uuid6 import uuid7

from ruta_shared.aggregate import HIDDEN_FIELDS
from ruta_shared.events import SYSTEM_ACTOR, Actor
from ruta_shared.events.catalog.security import AccountCreated
from ruta_shared.ids import ID_PATTERN
from ruta_shared.outbox import SEQUENCE_FIELD, Outbox
from ruta_shared.reference import Office
from ruta_shared.security.passwords import hash_password, needs_rehash, verify_password
from ruta_shared.security.principal import OFFICES, Principal, Role

USERS_COLLECTION: Final = "users"
USERNAME_PATTERN: Final = r"^[a-z0-9][a-z0-9._-]{1,62}$"
USERNAME_RULE: Final = "El nombre de usuario solo admite minúsculas, dígitos, '.', '_' y '-'."

Document = dict[str, Any]


class UserExistsError(Exception):
    """A user with this username already exists."""


class AccessRuleError(ValueError):
    """A role, offices and institution that do not fit together; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class User(BaseModel):
    """A stored account (the password hash never leaves this module)."""

    model_config = ConfigDict(frozen=True)

    id: str
    username: str = Field(pattern=USERNAME_PATTERN)
    role: Role
    offices: frozenset[Office] = frozenset()
    institution_id: str | None = None
    disabled: bool = False
    token_version: int = 0

    def principal(self) -> Principal:
        """The principal this user signs in as (a partner's person carries the institution)."""
        return Principal(
            id=self.id,
            role=self.role,
            offices=self.offices,
            institution_id=self.institution_id if self.role is Role.PARTNER else None,
            auth="password",
        )


def normalise_username(username: str) -> str:
    """Usernames compare case-insensitively and without surrounding spaces."""
    return username.strip().lower()


def username_fingerprint(username: str) -> str:
    """What logs say instead of a username: a short hash of the normalised name."""
    return hashlib.sha256(normalise_username(username).encode()).hexdigest()[:16]


def check_access(role: Role, offices: Iterable[str], institution_id: str | None) -> None:
    """Raise AccessRuleError unless the role, offices and institution fit together."""
    offices = list(offices)
    unknown = sorted(set(offices) - set(OFFICES))
    if unknown:
        raise AccessRuleError("offices", f"Oficina desconocida: {', '.join(unknown)}.")
    if role is Role.PARTNER:
        if institution_id is None:
            msg = "Una cuenta de institución socia necesita la institución (institution_id)."
            raise AccessRuleError("institution_id", msg)
        if not re.fullmatch(ID_PATTERN, institution_id):
            msg = "La institución solo admite letras, dígitos, '_' y '-'."
            raise AccessRuleError("institution_id", msg)
        if offices:
            msg = "Una cuenta de institución socia no tiene oficinas: la limita su institución."
            raise AccessRuleError("offices", msg)
        return
    if institution_id is not None:
        msg = "Solo las cuentas de instituciones socias (rol partner) tienen institución."
        raise AccessRuleError("institution_id", msg)
    if role is Role.CASE_WORKER and not offices:
        raise AccessRuleError("offices", "Un trabajador de casos necesita al menos una oficina.")


def new_account(
    *,
    username: str,
    role: Role,
    offices: Iterable[str],
    institution_id: str | None,
    password_hash: str | None,
    now: datetime,
) -> tuple[Document, AccountCreated]:
    """A new account's document and its creation event; ValueError when it breaks a rule."""
    name = normalise_username(username)
    if not re.fullmatch(USERNAME_PATTERN, name):
        raise AccessRuleError("username", USERNAME_RULE)
    offices = sorted(set(offices))
    check_access(role, offices, institution_id)
    user_id = str(uuid7())
    document = {
        "_id": user_id,
        "username": name,
        "password_hash": password_hash,
        "role": role.value,
        "offices": offices,
        "institution_id": institution_id,
        "disabled": False,
        "token_version": 0,
        "created_at": now,
    }
    event = AccountCreated(
        user_id=user_id,
        role=role.value,
        offices=offices,
        institution_id=institution_id,
        created_at=now,
    )
    return document, event


class UserStore:
    """Creates, finds and authenticates accounts."""

    def __init__(self, database: AsyncDatabase[Document], outbox: Outbox | None = None) -> None:
        self.collection: AsyncCollection[Document] = database[USERS_COLLECTION]
        # A process without a relay (the first-admin command) still queues the event: the
        # issuer's relay finds it on its next scan.
        self.outbox = outbox or Outbox()

    async def ensure_indexes(self) -> None:
        """A unique index on the username."""
        await self.collection.create_index("username", unique=True, name="username_unique")

    async def create(
        self,
        *,
        username: str,
        password: str,
        role: Role,
        offices: Iterable[str],
        institution_id: str | None = None,
        actor: Actor = SYSTEM_ACTOR,
    ) -> User:
        """Create an account with a password; UserExistsError when the username is taken."""
        document, event = new_account(
            username=username,
            role=role,
            offices=offices,
            institution_id=institution_id,
            password_hash=None,
            now=datetime.now(UTC),
        )
        document["password_hash"] = await run_in_threadpool(hash_password, password)
        return await self.insert(document, event, actor=actor)

    async def insert(self, document: Document, event: AccountCreated, *, actor: Actor) -> User:
        """Store a new account with its creation event; UserExistsError when the name is taken."""
        try:
            await self.outbox.insert(
                self.collection, document, subject=document["_id"], payloads=[event], actor=actor
            )
        except DuplicateKeyError:
            raise UserExistsError(document["username"]) from None
        return user_from(document)

    async def adopt(self, user_id: str) -> None:
        """Give an account stored before accounts had events its event sequence (0)."""
        await self.collection.update_one(
            {"_id": user_id, SEQUENCE_FIELD: {"$exists": False}}, {"$set": {SEQUENCE_FIELD: 0}}
        )

    async def get(self, user_id: str) -> User | None:
        """The account by id, or None."""
        document = await self.collection.find_one({"_id": user_id}, HIDDEN_FIELDS)
        return None if document is None else user_from(document)

    async def page(self, *, after: str | None, limit: int) -> list[User]:
        """Up to `limit` accounts in id (creation) order, after the id `after`."""
        query: Document = {} if after is None else {"_id": {"$gt": after}}
        cursor = self.collection.find(query, HIDDEN_FIELDS, sort=[("_id", 1)], limit=limit)
        return [user_from(document) async for document in cursor]

    async def get_by_username(self, username: str) -> tuple[User, str | None] | None:
        """The user and their password hash (None until they set one), or None."""
        document = await self.collection.find_one({"username": normalise_username(username)})
        if document is None:
            return None
        return user_from(document), document.get("password_hash")

    async def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password matches and the account is enabled; None otherwise.

        Unknown usernames cost the same argon2 verification as known ones.
        """
        found = await self.get_by_username(username)
        user, password_hash = found if found is not None else (None, None)
        # argon2 takes tens of milliseconds of CPU on purpose: keep it off the event loop.
        matches = await run_in_threadpool(verify_password, password_hash, password)
        if not matches or user is None or user.disabled:
            return None
        if password_hash is not None and needs_rehash(password_hash):
            new_hash = await run_in_threadpool(hash_password, password)
            await self.collection.update_one(
                {"_id": user.id}, {"$set": {"password_hash": new_hash}}
            )
        return user

    async def set_disabled(self, user_id: str, *, disabled: bool) -> bool:
        """Disable or enable an account without an event (tests and repairs; the API audits).

        True when it exists. Disabling ends the account's tokens too.
        """
        update: Document = {"$set": {"disabled": disabled}}
        if disabled:
            update["$inc"] = {"token_version": 1}
        result = await self.collection.update_one({"_id": user_id}, update)
        return result.matched_count == 1


def user_from(document: Document) -> User:
    """The account a stored document describes."""
    return User(
        id=str(document["_id"]),
        username=document["username"],
        role=Role(document["role"]),
        offices=frozenset(document.get("offices") or ()),
        institution_id=document.get("institution_id"),
        disabled=bool(document.get("disabled", False)),
        token_version=int(document.get("token_version", 0)),
    )
