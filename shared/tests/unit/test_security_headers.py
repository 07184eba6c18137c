"""Security headers on every response of a service app, strict CSP on HTML, /metrics' token."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from ruta_shared.security.headers import API_CSP, HTML_CSP
from ruta_shared.security.jwt import sign_token
from ruta_shared.security.keys import generate_private_key, load_signing_keys, private_key_pem
from ruta_shared.security.permissions import public, require
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.service import create_service_app
from ruta_shared.settings import ServiceSettings

router = APIRouter()


@router.get("/things")
async def things(who: Annotated[Principal, require("self:read")]) -> dict[str, str]:
    return {"name": "dato personal"}


@router.get("/boom")
async def boom(who: Annotated[Principal, require("self:read")]) -> dict[str, str]:
    raise RuntimeError


@router.get("/page", dependencies=[public("a test page")])
async def page() -> HTMLResponse:
    # A route that asks for inline scripts gets the strict policy all the same.
    return HTMLResponse(
        "<html><script>alert(1)</script></html>",
        headers={"Content-Security-Policy": "script-src 'self' 'unsafe-inline'"},
    )


@router.get("/asset", dependencies=[public("a static asset")])
async def asset() -> JSONResponse:
    return JSONResponse({}, headers={"Cache-Control": "public, max-age=600"})


@router.get("/stream", dependencies=[public("a stream")])
async def stream() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for n in range(3):
            yield f"event: n\ndata: {n}\n\n".encode()

    return StreamingResponse(chunks(), media_type="text/event-stream")


def build(security: SecuritySettings, environment: str = "test") -> FastAPI:
    return create_service_app(
        ServiceSettings(environment=environment),  # type: ignore[arg-type]
        title="t",
        description="d",
        routers=[router],
        security=security,
        encrypts_fields=False,
    )


async def get(app: FastAPI, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ruta") as client:
        return await client.get(path, headers=headers or {})


@pytest.fixture
def security(tmp_path: Path) -> SecuritySettings:
    return SecuritySettings(environment="test", key_dir=tmp_path / "keys")


def bearer(security: SecuritySettings) -> dict[str, str]:
    who = Principal(id="u-1", role=Role.AUDITOR, auth="password")
    keys = load_signing_keys(security)
    token = sign_token(
        who,
        keys=keys,
        issuer=security.jwt_issuer,
        audience=security.jwt_audience,
        lifetime=timedelta(minutes=5),
    )
    return {"Authorization": f"Bearer {token}"}


def assert_base_headers(response: httpx.Response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("path", "status"),
    [("/things", 200), ("/things", 401), ("/nothing-here", 404), ("/boom", 500), ("/healthz", 200)],
)
async def test_every_response_carries_the_headers_and_no_store(
    security: SecuritySettings, path: str, status: int
) -> None:
    headers = bearer(security) if status in (200, 500) else {}
    response = await get(build(security), path, headers)
    assert response.status_code == status, response.text
    assert_base_headers(response)
    assert response.headers["Content-Security-Policy"] == API_CSP
    assert response.headers["Cache-Control"] == "no-store"


async def test_html_pages_get_a_csp_without_inline_scripts(security: SecuritySettings) -> None:
    response = await get(build(security), "/page")
    assert_base_headers(response)
    csp = response.headers["Content-Security-Policy"]
    assert csp == HTML_CSP
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src is not None
    assert script_src.group(1) == "'self'"


async def test_the_api_docs_may_run_only_their_own_inline_script(
    security: SecuritySettings,
) -> None:
    response = await get(build(security), "/docs")
    assert response.status_code == 200
    assert_base_headers(response)
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    script_src = re.search(r"script-src ([^;]*)", response.headers["Content-Security-Policy"])
    assert script_src is not None
    assert script_src.group(1).split() == [
        "'self'",
        "https://cdn.jsdelivr.net",
        f"'sha256-{digest}'",
    ]


async def test_a_route_may_choose_its_own_caching_and_streams_still_flow(
    security: SecuritySettings,
) -> None:
    app = build(security)
    assert (await get(app, "/asset")).headers["Cache-Control"] == "public, max-age=600"
    streamed = await get(app, "/stream")
    assert streamed.text.count("event: n") == 3
    assert_base_headers(streamed)
    assert streamed.headers["Cache-Control"] == "no-store"


async def test_metrics_are_open_on_the_local_default_without_a_token(
    security: SecuritySettings,
) -> None:
    response = await get(build(security), "/metrics")
    assert response.status_code == 200
    assert "# HELP" in response.text
    assert_base_headers(response)


async def test_metrics_need_the_bearer_token_once_one_is_set(tmp_path: Path) -> None:
    security = SecuritySettings(
        environment="test", key_dir=tmp_path / "keys", metrics_token="token-de-prometheus-123"
    )
    app = build(security)
    for headers in ({}, {"Authorization": "Bearer otro"}, {"Authorization": "Basic x"}):
        refused = await get(app, "/metrics", headers)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "token de métricas" in refused.json()["detail"]
        assert_base_headers(refused)
    ok = await get(app, "/metrics", {"Authorization": "Bearer token-de-prometheus-123"})
    assert ok.status_code == 200
    assert "# HELP" in ok.text


async def test_metrics_are_closed_outside_local_without_a_token(tmp_path: Path) -> None:
    key_file = tmp_path / "jwt.pem"
    key_file.write_bytes(private_key_pem(generate_private_key("EdDSA")))
    security = SecuritySettings(
        environment="production", jwt_issuer="https://ruta.example", jwt_private_key_file=key_file
    )
    response = await get(build(security, "production"), "/metrics")
    assert response.status_code == 503
    assert "RUTA_METRICS_TOKEN" in response.json()["detail"]
