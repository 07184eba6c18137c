"""The live dashboard: a Spanish web page, its login and its server-sent event stream.

How the browser authenticates: the page is a static shell with no data (served without
credentials, like /docs). Its login form posts to `/dashboard/login`, which forwards the
username and password to Ruta's token issuer (`auth_token_url`, intake's /auth/token) and
returns the access token. The page keeps the token in sessionStorage and sends it in the
`Authorization` header of a fetch() whose response body is read as a server-sent event
stream, so the token never appears in a URL (EventSource cannot send headers). The stream
(`/dashboard/stream`, permission dashboard:read) pushes the exact figures when it opens and
whenever a new batch of events reaches the projection, and ends with an `expired` event when
the token it was opened with expires (the page then asks to log in again).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from ruta_shared.security.permissions import public, require
from ruta_shared.security.principal import Principal
from ruta_shared.service import ServiceContext, get_context
from starlette.requests import Request as StarletteRequest
from starlette.responses import HTMLResponse, JSONResponse, Response

from ruta_analytics.api import analytics_settings
from ruta_analytics.figures import Filters, exact_figures
from ruta_analytics.store import active_generation

log = logging.getLogger(__name__)

PAGE: Final = Path(__file__).with_name("dashboard.html")
MAX_LOGIN_BYTES: Final = 4096
HEARTBEAT_SECONDS: Final = 15.0
Context = Annotated[ServiceContext, Depends(get_context)]


def sse(event: str, data: Any) -> bytes:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def stream_router() -> APIRouter:
    """GET /dashboard/stream: the figures, pushed on every change."""
    router = APIRouter(tags=["tablero"])

    @router.get("/dashboard/stream")
    async def stream(
        request: Request,
        context: Context,
        principal: Annotated[Principal, require("dashboard:read")],
    ) -> StreamingResponse:
        """Server-sent events: `figures` now and after every projected batch; `expired`."""
        settings = analytics_settings(context)

        async def events() -> AsyncIterator[bytes]:
            seen: tuple[str, int] | None = None
            idle = 0.0
            while not await request.is_disconnected():
                expires_at = principal.expires_at
                if expires_at is not None and datetime.now(UTC) >= expires_at:
                    yield sse("expired", {"detail": "La sesión expiró."})
                    return
                generation = await active_generation(context.db)
                state = (generation.name, await generation.progress())
                if state != seen:
                    seen = state
                    idle = 0.0
                    figures = await exact_figures(generation, Filters())
                    yield sse("figures", {"progress": state[1], "figures": figures})
                elif idle >= HEARTBEAT_SECONDS:
                    idle = 0.0
                    yield b": keep-alive\n\n"
                await asyncio.sleep(settings.dashboard_poll_seconds)
                idle += settings.dashboard_poll_seconds

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return router


async def page() -> Response:
    """The dashboard page (no data in it: the figures come through the stream)."""
    return HTMLResponse(
        PAGE.read_text(encoding="utf-8"),
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; img-src 'self' data:",
            "X-Frame-Options": "DENY",
        },
    )


async def login(request: StarletteRequest) -> Response:
    """Forward the login form to Ruta's token issuer and hand back its answer."""
    context = get_context(request)
    settings = analytics_settings(context)
    body = await request.body()
    if len(body) > MAX_LOGIN_BYTES:
        return JSONResponse({"detail": "Solicitud demasiado grande."}, status_code=413)
    form = dict(httpx.QueryParams(body.decode("utf-8", errors="replace")))
    payload = {
        "grant_type": "password",
        "username": form.get("username", ""),
        "password": form.get("password", ""),
    }
    # The issuer throttles failed logins per client address too: pass on the browser's
    # (intake's uvicorn honours X-Forwarded-For from the addresses in FORWARDED_ALLOW_IPS,
    # 127.0.0.1 by default).
    forwarded = {"X-Forwarded-For": request.client.host} if request.client else {}
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            answer = await client.post(settings.auth_token_url, data=payload, headers=forwarded)
    except httpx.HTTPError as exc:
        log.warning("token issuer unreachable", extra={"error": type(exc).__name__})
        return JSONResponse(
            {"detail": "El servicio de autenticación no responde."}, status_code=503
        )
    headers = {"Cache-Control": "no-store"}
    if "Retry-After" in answer.headers:
        headers["Retry-After"] = answer.headers["Retry-After"]
    try:
        content = answer.json()
    except ValueError:
        content = {"detail": "Respuesta no válida del servicio de autenticación."}
    return JSONResponse(content, status_code=answer.status_code, headers=headers)


def page_router() -> APIRouter:
    """The page and its login: declared public, like the token endpoint they lead to."""
    router = APIRouter(tags=["tablero"])
    router.add_api_route(
        "/dashboard",
        page,
        methods=["GET"],
        include_in_schema=False,
        dependencies=[public("the page shell holds no data; figures come through the stream")],
    )
    router.add_api_route(
        "/dashboard/login",
        login,
        methods=["POST"],
        include_in_schema=False,
        dependencies=[public("a login form: it forwards to the token endpoint")],
    )
    return router
