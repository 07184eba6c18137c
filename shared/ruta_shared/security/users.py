"""Staff user accounts of Ruta's own issuer, stored in the auth database's `users` collection."""

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

from ruta_shared.reference import Office
from ruta_shared.security.passwords import hash_password, needs_rehash, verify_password
from ruta_shared.security.principal import Principal, Role

USERS_COLLECTION: Final = "users"
USERNAME_PATTERN: Final = r"^[a-z0-9][a-z0-9._-]{1,62}$"

Document = dict[str, Any]


class UserExistsError(Exception):
    """A user with this username already exists."""


class User(BaseModel):
    """A stored staff account (the hash never leaves this module's callers)."""

    model_config = ConfigDict(frozen=True)

    id: str
    username: str = Field(pattern=USERNAME_PATTERN)
    role: Role
    offices: frozenset[Office] = frozenset()
    disabled: bool = False

    def principal(self) -> Principal:
        """The principal this user signs in as."""
        return Principal(id=self.id, role=self.role, offices=self.offices, auth="password")


def normalise_username(username: str) -> str:
    """Usernames compare case-insensitively and without surrounding spaces."""
    return username.strip().lower()


def username_fingerprint(username: str) -> str:
    """What logs say instead of a username: a short hash of the normalised name."""
    return hashlib.sha256(normalise_username(username).encode()).hexdigest()[:16]


class UserStore:
    """Creates and authenticates staff users."""

    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self._users: AsyncCollection[Document] = database[USERS_COLLECTION]

    async def ensure_indexes(self) -> None:
        """A unique index on the username."""
        await self._users.create_index("username", unique=True, name="username_unique")

    async def create(
        self, *, username: str, password: str, role: Role, offices: Iterable[str]
    ) -> User:
        """Create a user; UserExistsError when the username is taken."""
        name = normalise_username(username)
        if not re.fullmatch(USERNAME_PATTERN, name):
            msg = "El nombre de usuario solo admite minúsculas, dígitos, '.', '_' y '-'."
            raise ValueError(msg)
        user = User(id=str(uuid7()), username=name, role=role, offices=frozenset(offices))
        if role is Role.PARTNER:
            msg = "Las instituciones socias usan credenciales de institución, no usuarios."
            raise ValueError(msg)
        if role is Role.CASE_WORKER and not user.offices:
            msg = "Un trabajador de casos necesita al menos una oficina."
            raise ValueError(msg)
        document = {
            "_id": user.id,
            "username": user.username,
            "password_hash": await run_in_threadpool(hash_password, password),
            "role": user.role.value,
            "offices": sorted(user.offices),
            "disabled": False,
            "created_at": datetime.now(UTC),
        }
        try:
            await self._users.insert_one(document)
        except DuplicateKeyError:
            raise UserExistsError(user.username) from None
        return user

    async def get_by_username(self, username: str) -> tuple[User, str] | None:
        """The user and their password hash, or None."""
        document = await self._users.find_one({"username": normalise_username(username)})
        if document is None:
            return None
        return _user(document), str(document["password_hash"])

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
            await self._users.update_one({"_id": user.id}, {"$set": {"password_hash": new_hash}})
        return user

    async def set_disabled(self, user_id: str, *, disabled: bool) -> bool:
        """Disable or enable an account; True when it exists."""
        result = await self._users.update_one({"_id": user_id}, {"$set": {"disabled": disabled}})
        return result.matched_count == 1


def _user(document: Document) -> User:
    return User(
        id=str(document["_id"]),
        username=document["username"],
        role=Role(document["role"]),
        offices=frozenset(document.get("offices") or ()),
        disabled=bool(document.get("disabled", False)),
    )
