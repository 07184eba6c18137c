"""Turns a request's credentials (bearer JWT or partner API key) into a Principal, or 401.

A valid token is also refused once its account was disabled, changed or revoked
(`ruta_shared.security.revocation`).
"""

from __future__ import annotations

import logging
from typing import Annotated, Final, Protocol

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pymongo.errors import PyMongoError
from starlette.concurrency import run_in_threadpool

from ruta_shared.security.jwt import JwtVerifier, TokenError
from ruta_shared.security.principal import Principal

log = logging.getLogger(__name__)

API_KEY_HEADER: Final = "X-API-Key"
WWW_AUTHENTICATE: Final = "WWW-Authenticate"
API_KEY_REFUSED = "La clave de API no es válida o fue revocada."
ACCOUNT_REFUSED = (
    "La cuenta de este token fue deshabilitada, modificada o revocada: inicie sesión de nuevo."
)
ACCOUNT_UNVERIFIABLE = "No se pudo verificar la cuenta: intente de nuevo en unos segundos."


class ApiKeyVerifier(Protocol):
    """Checks a partner institution's API key (see `ruta_shared.security.partners`)."""

    async def verify_api_key(self, api_key: str) -> Principal | None:
        """The partner principal for a valid, unrevoked key; None otherwise."""
        ...


class AccountCheck(Protocol):
    """Says whether a verified token's account still allows it (see `revocation`)."""

    async def still_valid(self, principal: Principal, version: int | None) -> bool:
        """False once the account was disabled, changed or revoked since the token."""
        ...


class Authenticator:
    """Authenticates requests for one service; installed as `app.state.authenticator`."""

    def __init__(
        self,
        *,
        verifier: JwtVerifier,
        api_keys: ApiKeyVerifier | None = None,
        accounts: AccountCheck | None = None,
    ) -> None:
        self.verifier = verifier
        self.api_keys = api_keys
        self.accounts = accounts

    async def authenticate(self, request: Request) -> Principal:
        """The caller's principal; HTTP 401 with `WWW-Authenticate: Bearer` otherwise."""
        principal, version = await self._verified(request)
        request.state.account_version = version
        if not await self.still_valid(principal, version):
            log.info("token refused", extra={"reason": "account_changed", "user_id": principal.id})
            raise unauthorized(ACCOUNT_REFUSED)
        return principal

    async def still_valid(self, principal: Principal, version: int | None) -> bool:
        """Whether the account still allows the token (503 when that cannot be known)."""
        if self.accounts is None:
            return True
        try:
            return await self.accounts.still_valid(principal, version)
        except PyMongoError as exc:
            log.warning("account check failed", extra={"error": type(exc).__name__})
            raise HTTPException(status_code=503, detail=ACCOUNT_UNVERIFIABLE) from None

    async def _verified(self, request: Request) -> tuple[Principal, int | None]:
        """The principal of the request's credential, and its token's account version."""
        api_key = request.headers.get(API_KEY_HEADER)
        if api_key and self.api_keys is not None:
            principal = await self.api_keys.verify_api_key(api_key)
            if principal is None:
                log.warning("api key refused", extra={"reason": "invalid_api_key"})
                raise unauthorized(API_KEY_REFUSED, error="invalid_token")
            return principal, None
        try:
            token = bearer_token(request.headers.get("Authorization"))
            if self.verifier.blocking:
                return await run_in_threadpool(self.verifier.verify_versioned, token)
            return self.verifier.verify_versioned(token)
        except TokenError as exc:
            if exc.reason == "provider_unavailable":
                raise HTTPException(status_code=503, detail=exc.detail) from None
            if exc.reason != "missing":
                log.info("bearer token refused", extra={"reason": exc.reason})
            raise unauthorized(
                exc.detail, error=None if exc.reason == "missing" else "invalid_token"
            ) from None


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header; TokenError when absent."""
    if not authorization:
        raise TokenError("missing")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise TokenError("missing")
    if not token.strip():
        raise TokenError("malformed")
    return token.strip()


def unauthorized(detail: str, *, error: str | None = "invalid_token") -> HTTPException:
    """A 401 carrying the RFC 6750 challenge."""
    challenge = 'Bearer realm="ruta"' + (f', error="{error}"' if error else "")
    return HTTPException(status_code=401, detail=detail, headers={WWW_AUTHENTICATE: challenge})


# Declared so the OpenAPI document (and Swagger's "Authorize") shows both schemes; the
# header parsing itself is done above, to answer each failure precisely.
_bearer_scheme = HTTPBearer(auto_error=False, description="Token de acceso (JWT).")
_api_key_scheme = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, description="Clave de API de una institución socia."
)


async def current_principal(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
    _api_key: Annotated[str | None, Depends(_api_key_scheme)],
) -> Principal:
    """FastAPI dependency: the authenticated caller (401 when there is none)."""
    authenticator: Authenticator | None = getattr(request.app.state, "authenticator", None)
    if authenticator is None:
        # A route that asks for a principal in an app without security is a wiring bug:
        # refuse rather than let the request through.
        log.error("no authenticator installed on this app")
        raise unauthorized("La autenticación no está configurada en este servicio.")
    principal = await authenticator.authenticate(request)
    request.state.principal = principal
    return principal


async def still_authorised(request: Request) -> bool:
    """For long-lived responses (event streams): is the caller's account still as it was?

    Call it now and then while the response runs (it costs an auth-database read at most
    once per `account_cache_seconds`); stop when it says False.
    """
    authenticator: Authenticator | None = getattr(request.app.state, "authenticator", None)
    principal: Principal | None = getattr(request.state, "principal", None)
    if authenticator is None or principal is None:
        return False
    version: int | None = getattr(request.state, "account_version", None)
    return await authenticator.still_valid(principal, version)
