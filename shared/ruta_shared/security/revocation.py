"""Refuses tokens whose account was disabled, changed or revoked since they were signed.

Ruta's issuer puts the account's version in every token (claim `ver`: a user's
`token_version`, a partner credential's `version`). Every request with such a token reads
its account from the auth database by `_id`, at most once per `account_cache_seconds` per
account and process, so a disabled user or a revoked partner loses access on every
service within that time plus one request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from pymongo.asynchronous.database import AsyncDatabase

from ruta_shared.security.partners import PARTNER_CREDENTIALS_COLLECTION
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.users import USERS_COLLECTION

Document = dict[str, Any]
DatabaseProvider = Callable[[], AsyncDatabase[Document]]
AccountKind = Literal["user", "partner"]

MAX_CACHED_ACCOUNTS: Final = 50_000
# Keys with which API-key and OpenID Connect principals are not checked here: API keys are
# verified against the database on every request, and an OIDC provider revokes its own users.
UNCHECKED_AUTH: Final = frozenset({"api_key", "oidc"})


@dataclass(frozen=True)
class AccountState:
    """What a token is checked against: whether the account exists, is active, its version."""

    exists: bool
    active: bool = False
    version: int = 0


MISSING: Final = AccountState(exists=False)


def account_of(principal: Principal) -> tuple[AccountKind, str] | None:
    """Which account a principal's token stands for (None: not checked here)."""
    if principal.auth in UNCHECKED_AUTH:
        return None
    if principal.role is Role.PARTNER and principal.auth == "client_credentials":
        assert principal.institution_id is not None  # guaranteed by Principal's validator
        return "partner", principal.institution_id
    return "user", principal.id


def token_still_valid(version: int, state: AccountState) -> bool:
    """Whether a token signed at account `version` may still be used, given the account now."""
    return state.exists and state.active and version == state.version


def _state(kind: AccountKind, document: Document | None) -> AccountState:
    if document is None:
        return MISSING
    if kind == "user":
        return AccountState(
            exists=True,
            active=not document.get("disabled", False),
            version=int(document.get("token_version", 0)),
        )
    return AccountState(
        exists=True,
        active=document.get("revoked_at") is None,
        version=int(document.get("version", 0)),
    )


_COLLECTIONS: Final[dict[AccountKind, str]] = {
    "user": USERS_COLLECTION,
    "partner": PARTNER_CREDENTIALS_COLLECTION,
}
_FIELDS: Final[dict[AccountKind, dict[str, int]]] = {
    "user": {"disabled": 1, "token_version": 1},
    "partner": {"revoked_at": 1, "version": 1},
}


class AccountStates:
    """Reads accounts' states by `_id`, keeping each for a few seconds per process."""

    def __init__(
        self,
        database: DatabaseProvider,
        *,
        cache_seconds: float,
        accept_unversioned: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._database = database
        self._cache_seconds = cache_seconds
        self._accept_unversioned = accept_unversioned
        self._clock = clock
        self._cache: dict[tuple[AccountKind, str], tuple[float, AccountState]] = {}

    async def state(self, kind: AccountKind, account_id: str) -> AccountState:
        """The account's state, from the cache while it is fresh."""
        now = self._clock()
        cached = self._cache.get((kind, account_id))
        if cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        document = await self._database()[_COLLECTIONS[kind]].find_one(
            {"_id": account_id}, _FIELDS[kind]
        )
        state = _state(kind, document)
        self._remember((kind, account_id), now, state)
        return state

    async def still_valid(self, principal: Principal, version: int | None) -> bool:
        """Whether the principal's token may still be used (always, for unchecked kinds).

        A token without `ver` was not signed by this issuer for an account: tests sign such
        tokens with the local keys. It is accepted, unchecked, on the local default only.
        """
        account = account_of(principal)
        if account is None:
            return True
        if version is None:
            return self._accept_unversioned
        return token_still_valid(version, await self.state(*account))

    def _remember(self, key: tuple[AccountKind, str], now: float, state: AccountState) -> None:
        if len(self._cache) >= MAX_CACHED_ACCOUNTS:
            # Bounded memory: drop what is stale, and everything if that was not enough.
            fresh = {k: v for k, v in self._cache.items() if now - v[0] < self._cache_seconds}
            self._cache = fresh if len(fresh) < MAX_CACHED_ACCOUNTS else {}
        self._cache[key] = (now, state)
