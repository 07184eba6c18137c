"""Wires security into a service app: authenticator, /me, issuer and accounts, headers, errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any, Final

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, APIRouter, iter_route_contexts
from prometheus_client import CollectorRegistry
from pydantic import BaseModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from ruta_shared.security.access_log import AccessLogMetrics
from ruta_shared.security.accounts import PASSWORD_PATH, accounts_router, password_router
from ruta_shared.security.authentication import Authenticator
from ruta_shared.security.break_glass import BreakGlassError, BreakGlassMetrics
from ruta_shared.security.crypto import ERASED_DETAIL, BlindIndex, DataErasedError
from ruta_shared.security.headers import SecurityHeadersMiddleware
from ruta_shared.security.issuer import TOKEN_PATH, TokenIssuer, token_router
from ruta_shared.security.jwt import build_verifier
from ruta_shared.security.keys import (
    MasterKeyring,
    load_blind_index_key,
    load_master_keyring,
    load_signing_keys,
)
from ruta_shared.security.partner_routes import router as partners_router
from ruta_shared.security.partners import PARTNER_CREDENTIALS_COLLECTION, PartnerCredentialStore
from ruta_shared.security.permissions import (
    dependant_is_public,
    dependant_permissions,
    require,
)
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.revocation import AccountStates
from ruta_shared.security.settings import SecuritySettings, check_security_settings
from ruta_shared.security.users import USERS_COLLECTION

Document = dict[str, Any]
DatabaseProvider = Callable[[], AsyncDatabase[Document]]

# Reachable without a user's credentials: probes, Prometheus (its own bearer token, see
# `headers`), the OpenAPI documents, the token endpoint and setting a password with a code.
PUBLIC_PATHS: Final = frozenset(
    {
        "/healthz",
        "/readyz",
        "/metrics",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
        TOKEN_PATH,
        PASSWORD_PATH,
    }
)


class MeRead(BaseModel):
    """Body of /me: who the token says you are (ids and roles only, never a name)."""

    id: str
    role: Role
    offices: list[str]
    institution_id: str | None
    auth: str


def me_router() -> APIRouter:
    """GET /me, on every service: the caller's principal."""
    router = APIRouter(tags=["autenticación"])

    @router.get("/me", response_model=MeRead)
    async def me(principal: Annotated[Principal, require("self:read")]) -> MeRead:
        """The authenticated caller's id, role and offices."""
        return MeRead(
            id=principal.id,
            role=principal.role,
            offices=sorted(principal.offices),
            institution_id=principal.institution_id,
            auth=principal.auth,
        )

    return router


class _PartnerApiKeys:
    """Verifies partner API keys against the auth database (resolved per request)."""

    def __init__(self, database: DatabaseProvider) -> None:
        self._database = database

    async def verify_api_key(self, api_key: str) -> Principal | None:
        return await PartnerCredentialStore(self._database()).verify_api_key(api_key)


@dataclass
class SecurityContext:
    """One app's security objects; keys for field encryption load on first use."""

    settings: SecuritySettings
    authenticator: Authenticator
    access_log_metrics: AccessLogMetrics
    break_glass_metrics: BreakGlassMetrics
    auth_database: DatabaseProvider = field(repr=False)
    issues_tokens: bool = False

    def outbox_collections(self) -> list[AsyncCollection[Document]]:
        """Auth-database collections whose events this app's relay publishes."""
        if not self.issues_tokens:
            return []
        database = self.auth_database()
        return [database[USERS_COLLECTION], database[PARTNER_CREDENTIALS_COLLECTION]]

    @cached_property
    def keyring(self) -> MasterKeyring:
        """Master keys for wrapping data keys."""
        return load_master_keyring(self.settings)

    @cached_property
    def blind_index(self) -> BlindIndex:
        """The blind index for exact-match lookups."""
        return BlindIndex(load_blind_index_key(self.settings))


def install_security(
    app: FastAPI,
    *,
    settings: SecuritySettings,
    registry: CollectorRegistry,
    auth_database: DatabaseProvider,
    issue_tokens: bool = False,
    accept_api_keys: bool = False,
    encrypts_fields: bool = True,
) -> SecurityContext:
    """Authenticate every protected route of `app`; refuse unsafe settings outside local."""
    check_security_settings(
        settings,
        issues_tokens=issue_tokens and settings.auth_mode == "local",
        encrypts_fields=encrypts_fields,
    )
    authenticator = Authenticator(
        verifier=build_verifier(settings),
        api_keys=_PartnerApiKeys(auth_database) if accept_api_keys else None,
        accounts=AccountStates(
            auth_database,
            cache_seconds=settings.account_cache_seconds,
            accept_unversioned=settings.is_local,
        ),
    )
    app.state.authenticator = authenticator
    app.include_router(me_router())
    issues_tokens = issue_tokens and settings.auth_mode == "local"
    if issue_tokens:
        issuer = TokenIssuer(keys=load_signing_keys(settings), settings=settings)
        app.include_router(token_router(issuer=issuer, database=auth_database, settings=settings))
    if issues_tokens:
        app.include_router(accounts_router)
        app.include_router(partners_router)
        app.include_router(password_router)
    app.add_middleware(
        SecurityHeadersMiddleware,
        metrics_token=settings.metrics_secret,
        metrics_open=settings.is_local,
    )
    app.add_exception_handler(DataErasedError, _erased)
    app.add_exception_handler(BreakGlassError, _break_glass_refused)
    if encrypts_fields:
        # Fail at start, not at the first read, when the keys are unusable.
        load_master_keyring(settings)
        load_blind_index_key(settings)
    return SecurityContext(
        settings=settings,
        authenticator=authenticator,
        access_log_metrics=AccessLogMetrics(registry),
        break_glass_metrics=BreakGlassMetrics(registry),
        auth_database=auth_database,
        issues_tokens=issues_tokens,
    )


@dataclass(frozen=True)
class RouteInfo:
    """One API route as the app serves it: full path, methods and its whole dependency tree."""

    path: str
    methods: frozenset[str]
    dependant: Dependant
    permissions: tuple[str, ...]
    public: bool = False  # declared with `permissions.public()`


def api_routes(app: FastAPI) -> list[RouteInfo]:
    """Every API route of `app`, including those of included routers, with their permissions.

    FastAPI resolves included routers lazily; `iter_route_contexts` yields each route with
    its full path and the dependencies added at inclusion, exactly as requests see them.
    """
    found = []
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        dependant: Dependant = context.dependant
        found.append(
            RouteInfo(
                path=str(context.path),
                methods=frozenset(context.methods or ()),
                dependant=dependant,
                permissions=tuple(dependant_permissions(dependant)),
                public=dependant_is_public(dependant),
            )
        )
    return found


def protected_routes(app: FastAPI) -> list[RouteInfo]:
    """Every API route that is not public."""
    return [
        route for route in api_routes(app) if route.path not in PUBLIC_PATHS and not route.public
    ]


def public_routes(app: FastAPI) -> list[RouteInfo]:
    """The routes declared public with `permissions.public()` (not the fixed PUBLIC_PATHS)."""
    return [route for route in api_routes(app) if route.public]


def enforce_route_permissions(app: FastAPI) -> None:
    """Refuse to build an app with a non-public route that declares no permission (or several)."""
    problems = [
        f"{','.join(sorted(route.methods))} {route.path}: public and {list(route.permissions)}"
        for route in public_routes(app)
        if route.permissions
    ]
    for route in protected_routes(app):
        if len(route.permissions) != 1:
            methods = ",".join(sorted(route.methods))
            problems.append(f"{methods} {route.path}: {list(route.permissions) or 'none'}")
    if problems:
        msg = "every route must declare exactly one permission with require(): " + "; ".join(
            problems
        )
        raise RuntimeError(msg)


async def _erased(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": ERASED_DETAIL}, status_code=410)


async def _break_glass_refused(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)
