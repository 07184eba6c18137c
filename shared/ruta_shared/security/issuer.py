"""Ruta's own token issuer: `POST /auth/token` (OAuth2 password and client-credentials grants).

Failed logins are counted in the auth database per (username, client address), per client
address and per username. The first two refuse (429) once their free failures are used up,
each further failure doubling the wait (up to a cap); failures on a username from every
address only delay its next logins a little, never refuse them, so a stranger elsewhere
cannot lock the owner out. Every failure is logged with hashes, never the username or password.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from ruta_shared.security.addresses import request_address
from ruta_shared.security.jwt import sign_token
from ruta_shared.security.keys import SigningKeys
from ruta_shared.security.partners import PartnerCredentialStore
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.security.users import UserStore, username_fingerprint

log = logging.getLogger(__name__)

TOKEN_PATH: Final = "/auth/token"  # noqa: S105 (a path, not a secret)
LOGIN_FAILURES_COLLECTION: Final = "login_failures"
CLIENT_FREE_FAILURES_FACTOR: Final = 5  # many staff may share one office address
MAX_FORM_BYTES: Final = 8192

Document = dict[str, Any]
DatabaseProvider = Callable[[], AsyncDatabase[Document]]

_basic = HTTPBasic(auto_error=False)


class TokenRead(BaseModel):
    """Body of a successful token response (RFC 6749 §5.1)."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type)
    expires_in: int


class TokenIssuer:
    """Signs access tokens for principals with the local issuer's private key."""

    def __init__(self, *, keys: SigningKeys, settings: SecuritySettings) -> None:
        self._keys = keys
        self._settings = settings

    def issue(self, principal: Principal, version: int | None = None) -> TokenRead:
        """A bearer token for an account at `version`; partners' are shorter-lived than staff's."""
        minutes = (
            self._settings.partner_token_minutes
            if principal.role is Role.PARTNER
            else self._settings.jwt_lifetime_minutes
        )
        lifetime = timedelta(minutes=minutes)
        token = sign_token(
            principal,
            keys=self._keys,
            issuer=self._settings.jwt_issuer,
            audience=self._settings.jwt_audience,
            lifetime=lifetime,
            version=version,
        )
        return TokenRead(access_token=token, expires_in=int(lifetime.total_seconds()))


def login_delay(failures: int, *, free: int, base: float, cap: float) -> float:
    """Seconds to wait after `failures` consecutive failures: none at first, then doubling."""
    if failures < free:
        return 0.0
    return float(min(base * 2 ** (failures - free), cap))


def fingerprint(value: str) -> str:
    """A short hash for throttle keys and logs (client addresses, client ids)."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


class LoginThrottle:
    """Counts failed logins per key and says how long a key must wait before trying again."""

    def __init__(self, database: AsyncDatabase[Document], settings: SecuritySettings) -> None:
        self._failures: AsyncCollection[Document] = database[LOGIN_FAILURES_COLLECTION]
        self._settings = settings

    def _free(self, key: str) -> int:
        free = self._settings.login_free_failures
        return free if "@" in key else free * CLIENT_FREE_FAILURES_FACTOR

    async def slow_down_seconds(self, key: str, now: datetime | None = None) -> float:
        """The delay before checking a login of a username failed from many addresses."""
        now = now or datetime.now(UTC)
        document = await self._failures.find_one({"_id": key})
        memory = timedelta(seconds=self._settings.login_failure_memory_seconds)
        if document is None or _aware(document["last_failure"]) + memory < now:
            return 0.0
        return login_delay(
            int(document["failures"]),
            free=self._free(key),
            base=self._settings.login_base_delay_seconds,
            cap=self._settings.login_user_delay_max_seconds,
        )

    async def wait_seconds(self, keys: Iterable[str], now: datetime | None = None) -> float:
        """How long until any of `keys` may try again (0 when all may try now)."""
        now = now or datetime.now(UTC)
        memory = timedelta(seconds=self._settings.login_failure_memory_seconds)
        wait = 0.0
        async for document in self._failures.find({"_id": {"$in": list(keys)}}):
            last = _aware(document["last_failure"])
            if last + memory < now:
                continue
            delay = login_delay(
                int(document["failures"]),
                free=self._free(str(document["_id"])),
                base=self._settings.login_base_delay_seconds,
                cap=self._settings.login_max_delay_seconds,
            )
            wait = max(wait, (last + timedelta(seconds=delay) - now).total_seconds())
        return wait

    async def record_failure(self, keys: Iterable[str], now: datetime | None = None) -> int:
        """Count one failure for each key; returns the highest count."""
        now = now or datetime.now(UTC)
        forget_before = now - timedelta(seconds=self._settings.login_failure_memory_seconds)
        highest = 0
        for key in keys:
            # Failures older than the memory window start over (no TTL index on FerretDB).
            await self._failures.delete_one({"_id": key, "last_failure": {"$lt": forget_before}})
            await self._failures.update_one(
                {"_id": key}, {"$inc": {"failures": 1}, "$set": {"last_failure": now}}, upsert=True
            )
            document = await self._failures.find_one({"_id": key})
            highest = max(highest, int(document["failures"]) if document else 1)
        return highest

    async def reset(self, keys: Iterable[str]) -> None:
        """Forget the failures of `keys` (after a successful login)."""
        await self._failures.delete_many({"_id": {"$in": list(keys)}})


def oauth_error(
    status: int, error: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """An RFC 6749 §5.2 error body with Ruta's Spanish `detail` beside the standard code."""
    return JSONResponse(
        {"error": error, "detail": detail},
        status_code=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def token_router(
    *, issuer: TokenIssuer, database: DatabaseProvider, settings: SecuritySettings
) -> APIRouter:
    """The `POST /auth/token` route of Ruta's own issuer (public by nature)."""
    router = APIRouter(tags=["autenticación"])

    @router.post(
        TOKEN_PATH,
        response_model=TokenRead,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "required": ["grant_type"],
                            "properties": {
                                "grant_type": {
                                    "type": "string",
                                    "enum": ["password", "client_credentials"],
                                },
                                "username": {"type": "string"},
                                "password": {"type": "string", "format": "password"},
                                "scope": {"type": "string"},
                                "client_id": {"type": "string"},
                                "client_secret": {"type": "string", "format": "password"},
                            },
                        }
                    }
                },
            }
        },
    )
    async def token(
        request: Request,
        basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
    ) -> JSONResponse:
        """Exchange a username and password (or a partner's client credentials) for a token."""
        form = await _read_form(request)
        if form is None:
            return oauth_error(
                400,
                "invalid_request",
                "Envíe el formulario como application/x-www-form-urlencoded.",
            )
        grant_type = form.get("grant_type") or ("password" if "username" in form else "")
        db = database()
        throttle = LoginThrottle(db, settings)
        address = request_address(request, settings.proxy_addresses)
        client_key = "client:" + fingerprint(address)
        if grant_type == "password":
            principal_or_error = await _password_grant(form, db, throttle, client_key)
        elif grant_type == "client_credentials":
            principal_or_error = await _client_credentials_grant(
                form, basic, db, throttle, client_key
            )
        else:
            return oauth_error(400, "unsupported_grant_type", "Tipo de concesión no admitido.")
        if isinstance(principal_or_error, JSONResponse):
            return principal_or_error
        body = issuer.issue(*principal_or_error)
        return JSONResponse(
            body.model_dump(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"}
        )

    return router


@dataclass(frozen=True)
class LoginKeys:
    """The throttle keys of one login attempt on one account (username or partner client)."""

    account: str  # failures on the account from every address: they delay, never refuse
    pair: str  # failures on the account from this address
    client: str  # failures from this address on any account

    @classmethod
    def of(cls, account: str, client_key: str) -> LoginKeys:
        """The keys of `account` tried from the address of `client_key`."""
        return cls(
            account=account,
            pair=f"{account}@{client_key.removeprefix('client:')}",
            client=client_key,
        )

    @property
    def refusing(self) -> list[str]:
        """The keys whose failures refuse an attempt outright (429)."""
        return [self.pair, self.client]

    @property
    def every(self) -> list[str]:
        """Every key a failure counts against."""
        return [self.pair, self.client, self.account]


async def _admit(
    throttle: LoginThrottle, keys: LoginKeys, log_extra: dict[str, str]
) -> JSONResponse | None:
    """Refuse a throttled (account, address) or address; delay a much-failed account."""
    refused = await _throttled(throttle, keys.refusing, log_extra)
    if refused is not None:
        return refused
    delay = await throttle.slow_down_seconds(keys.account)
    if delay > 0:
        log.warning("login delayed", extra={**log_extra, "delay_seconds": delay})
        await asyncio.sleep(delay)
    return None


async def _password_grant(
    form: dict[str, str], db: AsyncDatabase[Document], throttle: LoginThrottle, client_key: str
) -> tuple[Principal, int] | JSONResponse:
    username, password = form.get("username", ""), form.get("password", "")
    if not username or not password:
        return oauth_error(400, "invalid_request", "Indique usuario y contraseña.")
    user_hash = username_fingerprint(username)
    keys = LoginKeys.of("user:" + user_hash, client_key)
    refused = await _admit(throttle, keys, {"username_hash": user_hash})
    if refused is not None:
        return refused
    user = await UserStore(db).authenticate(username, password)
    if user is None:
        failures = await throttle.record_failure(keys.every)
        log.warning(
            "login failed",
            extra={"username_hash": user_hash, "client_hash": client_key[7:], "failures": failures},
        )
        return oauth_error(400, "invalid_grant", "Usuario o contraseña incorrectos.")
    await throttle.reset([keys.pair, keys.account])
    log.info("login succeeded", extra={"user_id": user.id, "role": user.role.value})
    return user.principal(), user.token_version


async def _client_credentials_grant(
    form: dict[str, str],
    basic: HTTPBasicCredentials | None,
    db: AsyncDatabase[Document],
    throttle: LoginThrottle,
    client_key: str,
) -> tuple[Principal, int] | JSONResponse:
    client_id = basic.username if basic else form.get("client_id", "")
    client_secret = basic.password if basic else form.get("client_secret", "")
    if not client_id or not client_secret:
        return oauth_error(400, "invalid_request", "Indique client_id y client_secret.")
    keys = LoginKeys.of("partner:" + fingerprint(client_id), client_key)
    refused = await _admit(throttle, keys, {"client_id_hash": fingerprint(client_id)})
    if refused is not None:
        return refused
    verified = await PartnerCredentialStore(db).verify_client_versioned(client_id, client_secret)
    if verified is None:
        failures = await throttle.record_failure(keys.every)
        log.warning(
            "partner login failed",
            extra={"client_id_hash": fingerprint(client_id), "failures": failures},
        )
        return oauth_error(
            401,
            "invalid_client",
            "Credenciales de institución incorrectas o revocadas.",
            {"WWW-Authenticate": 'Basic realm="ruta"'},
        )
    await throttle.reset([keys.pair, keys.account])
    log.info("partner token issued", extra={"institution_id": verified[0].institution_id})
    return verified


async def _throttled(
    throttle: LoginThrottle, keys: list[str], log_extra: dict[str, str]
) -> JSONResponse | None:
    wait = await throttle.wait_seconds(keys)
    if wait <= 0:
        return None
    seconds = max(1, int(wait + 0.999))
    log.warning("login throttled", extra={**log_extra, "retry_after": seconds})
    return oauth_error(
        429,
        "slow_down",
        f"Demasiados intentos fallidos. Intente de nuevo en {seconds} segundos.",
        {"Retry-After": str(seconds)},
    )


async def _read_form(request: Request) -> dict[str, str] | None:
    """The url-encoded form (RFC 6749 mandates this encoding; no multipart is accepted)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return None
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None
    return dict(pairs)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
