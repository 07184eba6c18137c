"""The live dashboard's work: the stream of figures and the login forwarded to the issuer.

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
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Final, cast

import httpx
from ruta_shared.security.principal import Principal
from starlette.responses import JSONResponse, Response

from ruta_analytics.figures.models import Document, Filters
from ruta_analytics.figures.service import exact_figures
from ruta_analytics.projection.store import Generation
from ruta_analytics.runtime import Runtime

log = logging.getLogger(__name__)

MAX_LOGIN_BYTES: Final = 4096
HEARTBEAT_SECONDS: Final = 15.0


def sse(event: str, data: Any) -> bytes:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def figure_events(
    *, runtime: Runtime, principal: Principal, disconnected: Callable[[], Awaitable[bool]]
) -> AsyncIterator[bytes]:
    """`figures` now and after every projected batch, keep-alives, `expired` at token expiry."""
    poll = runtime.settings.dashboard_poll_seconds
    seen: tuple[str, int] | None = None
    idle = 0.0
    while not await disconnected():
        expires_at = principal.expires_at
        if expires_at is not None and datetime.now(UTC) >= expires_at:
            yield sse("expired", {"detail": "La sesión expiró."})
            return
        generation = await runtime.generation()
        state = (generation.name, await generation.progress())
        if state != seen:
            seen = state
            idle = 0.0
            figures = await shared_figures(runtime, generation, state)
            yield sse("figures", {"progress": state[1], "figures": figures})
        elif idle >= HEARTBEAT_SECONDS:
            idle = 0.0
            yield b": keep-alive\n\n"
        await asyncio.sleep(poll)
        idle += poll


async def shared_figures(runtime: Runtime, generation: Generation, state: Any) -> Document:
    """The figures of a projection state, computed once for every open dashboard: the first
    stream to see a new state computes them (the others wait on the lock) and the rest reuse
    them, so N open pages cost one computation per change."""
    cached = runtime.dashboard
    if cached.get("state") == state:
        return cast(Document, cached["figures"])
    async with runtime.dashboard_lock:
        if cached.get("state") != state:
            cached["figures"] = await exact_figures(generation, Filters())
            cached["state"] = state
        return cast(Document, cached["figures"])


async def forward_login(*, runtime: Runtime, body: bytes, client_host: str | None) -> Response:
    """Forward the login form to Ruta's token issuer and hand back its answer."""
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
    forwarded = {"X-Forwarded-For": client_host} if client_host else {}
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            answer = await client.post(
                runtime.settings.auth_token_url, data=payload, headers=forwarded
            )
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
