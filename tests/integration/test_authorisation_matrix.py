"""The authorisation matrix: every route of every service × every role × out-of-scope office.

Generated from the permission table and from the routes the service apps really serve,
so a route added tomorrow is covered without touching this file. Health, metrics, the
OpenAPI documents and the token endpoint are the only public routes.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from ruta_shared.security.install import (
    PUBLIC_PATHS,
    api_routes,
    protected_routes,
    public_routes,
)
from ruta_shared.security.jwt import sign_token
from ruta_shared.security.keys import load_signing_keys
from ruta_shared.security.permissions import FORBIDDEN_DETAIL, OFFICE_SCOPE, allowed
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings

pytestmark = pytest.mark.integration

SERVICES = ("intake", "referrals", "training", "analytics")
IN_SCOPE_OFFICE = "lima"
OTHER_OFFICE = "iquitos"
DUMMY_ID = "matrix-0000"
# Routes declared public with `permissions.public()`, pinned here so a new one is a decision.
DECLARED_PUBLIC = {
    "training": {"/certificates/verify/{code}"},
    "analytics": {"/dashboard", "/dashboard/login"},
}
# Server-sent event streams never end: a caller who is let in sees the stream open.
STREAMING_PATHS = {"/dashboard/stream"}
STREAM_OPENED = 299  # stands for "the stream started", which only an admitted caller gets


@dataclass(frozen=True)
class RouteCase:
    """One route of one service, as the matrix sees it."""

    service: str
    method: str
    path: str
    permission: str

    @property
    def url(self) -> str:
        return re.sub(r"\{[^}]+\}", DUMMY_ID, self.path)

    def __str__(self) -> str:
        return f"{self.service}:{self.method}:{self.path}"


def build_app(service: str, security: SecuritySettings, **overrides: Any) -> FastAPI:
    """The service's own app, built by its composition root as in production."""
    main = importlib.import_module(f"ruta_{service}.main")
    settings_module = importlib.import_module(f"ruta_{service}.settings")
    settings_class = getattr(settings_module, f"{service.capitalize()}Settings")
    settings = settings_class(environment="test", run_outbox_relay=False, **overrides)
    # Services read their security settings from the environment, like in production;
    # point them at this test's keys so tokens signed here verify there.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUTA_KEY_DIR", str(security.key_dir))
        patch.setenv("RUTA_AUTH_MODE", "local")
        app: FastAPI = main.create_app(settings)
    return app


def collect_cases() -> list[RouteCase]:
    """Every protected route of every service, read from the apps themselves."""
    with tempfile.TemporaryDirectory() as keys:
        security = SecuritySettings(environment="test", key_dir=Path(keys))
        cases = []
        for service in SERVICES:
            for route in protected_routes(build_app(service, security)):
                cases += [
                    RouteCase(service, method, route.path, route.permissions[0])
                    for method in sorted(route.methods)
                ]
        return cases


CASES = collect_cases()


def principal_for(role: Role, office: str) -> Principal:
    if role is Role.PARTNER:
        return Principal(id="matrix-partner", role=role, institution_id="inst-1", auth="api_key")
    return Principal(
        id=f"matrix-{role.value}", role=role, offices=frozenset({office}), auth="password"
    )


@pytest.fixture(scope="module")
def security(tmp_path_factory: pytest.TempPathFactory) -> SecuritySettings:
    return SecuritySettings(environment="test", key_dir=tmp_path_factory.mktemp("matrix-keys"))


@pytest.fixture(scope="module")
async def clients(
    security: SecuritySettings, mongo_url: str, kafka_bootstrap: str
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """Every service app, started against the real servers."""
    clients: dict[str, httpx.AsyncClient] = {}
    contexts = []
    try:
        for service in SERVICES:
            app = build_app(
                service,
                security,
                mongo_url=mongo_url,
                kafka_bootstrap_servers=kafka_bootstrap,
                mongo_database=f"matrix_{service}",
            )
            context = app.router.lifespan_context(app)
            await context.__aenter__()
            contexts.append(context)
            transport = httpx.ASGITransport(app=app)
            clients[service] = httpx.AsyncClient(transport=transport, base_url="http://ruta")
        yield clients
    finally:
        for client in clients.values():
            await client.aclose()
        for context in reversed(contexts):
            await context.__aexit__(None, None, None)


def token(security: SecuritySettings, who: Principal) -> dict[str, str]:
    signed = sign_token(
        who,
        keys=load_signing_keys(security),
        issuer=security.jwt_issuer,
        audience=security.jwt_audience,
        lifetime=timedelta(minutes=5),
    )
    return {"Authorization": f"Bearer {signed}"}


async def call(
    client: httpx.AsyncClient, case: RouteCase, headers: dict[str, str]
) -> httpx.Response:
    body = {} if case.method in {"POST", "PUT", "PATCH"} else None
    request = client.request(case.method, case.url, headers=headers, json=body)
    if case.path not in STREAMING_PATHS:
        return await request
    try:
        return await asyncio.wait_for(request, timeout=3)
    except TimeoutError:
        return httpx.Response(STREAM_OPENED)


def test_every_service_has_protected_routes_and_only_known_public_ones() -> None:
    assert {case.service for case in CASES} == set(SERVICES)
    with tempfile.TemporaryDirectory() as keys:
        security = SecuritySettings(environment="test", key_dir=Path(keys))
        for service in SERVICES:
            app = build_app(service, security)
            declared = {r.path for r in public_routes(app)}
            assert declared == DECLARED_PUBLIC.get(service, set()), service
            public = {r.path for r in api_routes(app) if not r.permissions} - declared
            assert public <= PUBLIC_PATHS, f"{service} serves unprotected routes: {public}"


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_no_credentials_is_401(
    case: RouteCase, clients: dict[str, httpx.AsyncClient]
) -> None:
    response = await call(clients[case.service], case, {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_role_matrix(
    case: RouteCase,
    role: Role,
    clients: dict[str, httpx.AsyncClient],
    security: SecuritySettings,
) -> None:
    in_scope = await call(
        clients[case.service], case, token(security, principal_for(role, IN_SCOPE_OFFICE))
    )
    out_of_scope = await call(
        clients[case.service], case, token(security, principal_for(role, OTHER_OFFICE))
    )
    if not allowed(role, case.permission):
        for response in (in_scope, out_of_scope):
            assert response.status_code == 403, response.text
            assert response.json()["detail"] == FORBIDDEN_DETAIL
        return
    assert in_scope.status_code not in (401, 403), in_scope.text
    assert in_scope.status_code < 500, in_scope.text
    # Out of the caller's offices a resource is "not found", never "forbidden": the
    # answer for someone else's office cannot differ from the answer for nothing there.
    assert out_of_scope.status_code not in (401, 403), out_of_scope.text
    assert out_of_scope.status_code < 500, out_of_scope.text
    if OFFICE_SCOPE[role] == "own" and "{" in case.path:
        assert out_of_scope.status_code in (404, 422, in_scope.status_code)
