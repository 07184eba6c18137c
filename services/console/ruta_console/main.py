"""Composition root of the console: builds the app from settings and runs it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Final

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles
from pymongo.errors import PyMongoError
from ruta_shared.correlation import CORRELATION_HEADER, correlation_scope
from ruta_shared.health import health_router
from ruta_shared.logging import configure_logging
from ruta_shared.mongo import ping

from ruta_console.api import ROUTERS
from ruta_console.auth.service import clear_cookie, cookie_name, set_cookie
from ruta_console.failures import install_error_pages, unavailable_page
from ruta_console.rules import day, lima_datetime
from ruta_console.runtime import STATIC, Runtime, build_runtime, template_environment
from ruta_console.settings import ConsoleSettings
from ruta_console.upstream import Service
from ruta_console.widgets import TEMPLATE_GLOBALS

log = logging.getLogger(__name__)

DESCRIPTION = "Consola web de Ruta para el personal y las instituciones socias."
# No inline script or style anywhere: everything comes from /static of this host.
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    """Build the console app; nothing is wired at import time."""
    settings = settings or ConsoleSettings()
    templates = template_environment({**TEMPLATE_GLOBALS, "when": lima_datetime, "day": day})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, settings.log_level)
        app.state.runtime = build_runtime(settings, templates)
        try:
            yield
        finally:
            await app.state.runtime.close()

    app = FastAPI(
        title="Ruta: console",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    async def intake_ready() -> bool:
        answer = await app.state.runtime.upstream.call(
            Service.INTAKE, "GET", "/healthz", token=None
        )
        return bool(answer.ok)

    async def database_ready() -> bool:
        await ping(app.state.runtime.mongo)
        return True

    app.include_router(
        health_router(
            settings.service_name,
            {"intake": intake_ready, "mongo": database_ready},
            settings.readiness_timeout_seconds,
        )
    )
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_error_pages(app)

    async def sessions_and_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Find the browser's session by its cookie; set the cookie again when it changed."""
        runtime = request.app.state.runtime
        sent = request.cookies.get(cookie_name(settings))
        request.state.session = None
        # Whether the store answered for the cookie (a database hiccup does not log anyone out).
        request.state.session_read = False
        with correlation_scope(uuid.uuid4().hex) as correlation_id:
            response = await _with_session(request, call_next, runtime, sent)
        current = request.state.session
        if current is not None and current.id != sent:
            set_cookie(response, settings, current)
        elif current is None and sent and request.state.session_read:
            clear_cookie(response, settings)
        response.headers.update(SECURITY_HEADERS)
        response.headers[CORRELATION_HEADER] = correlation_id
        if request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "public, max-age=86400"
        else:
            # Pages hold personal data and tokens act through them: never cached, never stored.
            response.headers["Cache-Control"] = "no-store"
        return response

    app.middleware("http")(sessions_and_headers)
    # Poor connections: pages and the stylesheet travel compressed.
    app.add_middleware(GZipMiddleware, minimum_size=500)
    return app


def _sessionless(request: Request) -> bool:
    """The stylesheet, the script and the health checks need no session (no database read)."""
    return request.url.path.startswith(("/static/", "/healthz", "/readyz"))


async def _with_session(
    request: Request,
    call_next: Callable[[Request], Awaitable[Response]],
    runtime: Runtime,
    sent: str | None,
) -> Response:
    """The response, with the session read before and what changed in it written after."""
    if _sessionless(request):
        return await call_next(request)
    try:
        request.state.session = await runtime.sessions.get(sent)
        request.state.session_read = True
    except PyMongoError as exc:
        log.warning("session store unavailable", extra={"error": type(exc).__name__})
        return unavailable_page(request, "Ruta")
    response = await call_next(request)
    current = request.state.session
    if current is not None:
        try:
            # Flashes shown or queued, the idle clock: written for every replica to see.
            await runtime.sessions.save(current)
        except PyMongoError as exc:
            log.warning("session not saved", extra={"error": type(exc).__name__})
    return response


def run() -> None:
    """Serve the app on RUTA_HOST:RUTA_PORT."""
    settings = ConsoleSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    run()
