"""Builds a Ruta FastAPI service: health, metrics, correlation ids, errors, Mongo, outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from starlette.exceptions import HTTPException as StarletteHTTPException

from ruta_shared.aggregate import RuleViolationError, rule_violation_handler
from ruta_shared.api import FIELD_ERRORS_DETAIL
from ruta_shared.correlation import CORRELATION_HEADER, correlation_scope, current_correlation_id
from ruta_shared.health import health_router
from ruta_shared.kafka.admin import ensure_topics, kafka_metadata_ok, verify_topics_at_start
from ruta_shared.kafka.publisher import EventPublisher
from ruta_shared.logging import configure_logging
from ruta_shared.metrics import Metrics
from ruta_shared.mongo import (
    UNAVAILABLE_ERRORS,
    create_mongo_client,
    ping,
    service_database,
)
from ruta_shared.openapi import ERROR_TITLES, document_error_responses
from ruta_shared.outage_log import OutageLog
from ruta_shared.outbox import Outbox, OutboxRelay
from ruta_shared.security.headers import base_headers
from ruta_shared.security.install import (
    SecurityContext,
    enforce_route_permissions,
    install_security,
)
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.settings import ServiceSettings
from ruta_shared.validation_es import spanish_message

log = logging.getLogger(__name__)

_STATUSES = {status.value for status in HTTPStatus}

Document = dict[str, Any]
Hook = Callable[["ServiceContext"], Awaitable[None]]


@dataclass
class ServiceContext:
    """Everything a service's routes depend on, built once per app in its lifespan."""

    settings: ServiceSettings
    metrics: Metrics
    outbox: Outbox = field(default_factory=Outbox)
    mongo: AsyncMongoClient[Document] | None = None
    relay: OutboxRelay | None = None
    security: SecurityContext | None = None

    @property
    def auth_db(self) -> AsyncDatabase[Document]:
        """The auth database (users, login failures, partner credentials)."""
        if self.mongo is None or self.security is None:
            msg = "the service is not started"
            raise RuntimeError(msg)
        return self.mongo[self.security.settings.auth_mongo_database]

    @property
    def db(self) -> AsyncDatabase[Document]:
        """The service's own database."""
        if self.mongo is None:
            msg = "the service is not started"
            raise RuntimeError(msg)
        return service_database(self.mongo, self.settings)


def get_context(request: Request) -> ServiceContext:
    """FastAPI dependency: the running service's context."""
    context: ServiceContext = request.app.state.context
    return context


@functools.cache  # once per process
def freeze_start_up() -> None:
    """Move what start-up made (modules, settings, clients, the runtime: it lives as long as
    the process) out of the garbage collector's full passes, once per process. Those passes
    scan every tracked object: with the start-up's hundreds of thousands in, each paused the
    event loop for 100-200 ms whenever reads allocated much (the suppressed view's stored
    solutions), and they are what set a read's p99."""
    gc.freeze()


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    outbox_collections: Sequence[str] = (),
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    security: SecuritySettings | None = None,
    issue_tokens: bool = False,
    accept_partner_api_keys: bool = False,
    encrypts_fields: bool = True,
) -> FastAPI:
    """The composition root every service calls: one app, wired from its settings.

    Every route other than health, metrics, the OpenAPI documents and the token
    endpoint must declare a permission with `ruta_shared.security.permissions.require`;
    the app refuses to build otherwise. `issue_tokens` mounts `POST /auth/token` (Ruta's
    own issuer, on intake); `accept_partner_api_keys` lets partners use `X-API-Key`.
    """
    metrics = Metrics(settings.service_name)
    context = ServiceContext(settings=settings, metrics=metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, settings.log_level)
        await verify_topics_at_start(settings)
        context.mongo = create_mongo_client(settings)
        relay_task: asyncio.Task[None] | None = None
        relayed = context.security.outbox_collections() if context.security else []
        if (outbox_collections or relayed) and settings.run_outbox_relay:
            context.relay = _build_relay(context, outbox_collections, relayed)
            relay_task = asyncio.create_task(context.relay.run(), name="outbox-relay")
        for hook in on_startup:
            await hook(context)
        freeze_start_up()
        log.info("service started", extra={"port": settings.port})
        try:
            yield
        finally:
            # Background work stops first (it may still write), then the relay drains, then Mongo.
            for hook in on_shutdown:
                try:
                    await hook(context)
                except Exception as exc:
                    log.warning("shutdown hook failed", extra={"error": type(exc).__name__})
            if context.relay is not None and relay_task is not None:
                context.relay.stop()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(relay_task, timeout=10)
            await context.mongo.close()
            log.info("service stopped")

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    app.state.context = context
    context.security = install_security(
        app,
        settings=security or SecuritySettings(environment=settings.environment),
        registry=metrics.registry,
        auth_database=lambda: context.auth_db,
        issue_tokens=issue_tokens,
        accept_api_keys=accept_partner_api_keys,
        encrypts_fields=encrypts_fields,
    )

    database_outage = OutageLog(log, "mongodb")

    async def mongo_ready() -> bool:
        if context.mongo is None:
            return False
        await ping(context.mongo)
        database_outage.recovered()
        return True

    async def kafka_ready() -> bool:
        return await kafka_metadata_ok(
            settings.kafka_bootstrap_servers, settings.readiness_timeout_seconds
        )

    app.include_router(
        health_router(
            settings.service_name,
            {"mongodb": mongo_ready, "kafka": kafka_ready},
            settings.readiness_timeout_seconds,
        )
    )

    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint() -> Response:
        return metrics.exposition()

    for router in routers:
        app.include_router(router)
    enforce_route_permissions(app)
    document_error_responses(app)

    app.middleware("http")(metrics.http_middleware)
    app.middleware("http")(_correlation_middleware)
    _install_error_handlers(app, settings, database_outage)
    return app


def _install_error_handlers(app: FastAPI, settings: ServiceSettings, outage: OutageLog) -> None:
    """Every error as our Spanish envelope: validation, HTTP, rules, outages (503), the rest."""
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RuleViolationError, rule_violation_handler)
    unavailable = _database_unavailable_handler(settings, outage)
    for error in UNAVAILABLE_ERRORS:
        app.add_exception_handler(error, unavailable)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Errors raised outside the routes (in a middleware) arrive here, whatever their class.
        if isinstance(exc, UNAVAILABLE_ERRORS):
            return await unavailable(request, exc)
        return await _unexpected_error(request, exc)

    app.add_exception_handler(Exception, unexpected)


# --- Faults (issue 16): an unreachable database is a 503 the client may retry, not a 500. ---

DATABASE_UNAVAILABLE_DETAIL = (
    "El servicio no puede acceder a su base de datos en este momento. Intente de nuevo en "
    "unos segundos con la misma Idempotency-Key: la operación no se repetirá."
)


def _database_unavailable_handler(
    settings: ServiceSettings, outage: OutageLog
) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    """The handler of PyMongo's connection errors: 503, Retry-After, the outage logged once."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        with correlation_scope(_incoming_correlation_id(request)) as correlation_id:
            outage.failed(exc)
        response = error_body(503, DATABASE_UNAVAILABLE_DETAIL)
        response.headers["Retry-After"] = str(settings.unavailable_retry_after_seconds)
        response.headers[CORRELATION_HEADER] = correlation_id
        return response

    return handler


def _build_relay(
    context: ServiceContext,
    collections: Sequence[str],
    auth_collections: Sequence[AsyncCollection[Document]] = (),
) -> OutboxRelay:
    settings = context.settings

    async def publisher_factory() -> EventPublisher:
        publisher = EventPublisher(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"ruta-{settings.service_name}-relay",
            metrics=context.metrics,
        )
        await publisher.start()
        try:
            await ensure_topics(settings.kafka_bootstrap_servers, settings=settings)
        except BaseException:
            # Kafka went away between the two: never leave a started producer behind (each
            # failed relay round would leak one for as long as the outage lasts).
            await publisher.stop()
            raise
        return publisher

    return OutboxRelay(
        outbox=context.outbox,
        collections=[*(context.db[name] for name in collections), *auth_collections],
        publisher_factory=publisher_factory,
        service=settings.service_name,
        metrics=context.metrics,
        poll_interval=settings.outbox_poll_interval_seconds,
        scan_interval=settings.outbox_scan_interval_seconds,
        batch_size=settings.outbox_batch_size,
    )


def _incoming_correlation_id(request: Request) -> str:
    """The caller's X-Correlation-ID when it is a plausible id, else a fresh one."""
    incoming = request.headers.get(CORRELATION_HEADER, "")
    valid = 0 < len(incoming) <= 100 and incoming.replace("-", "").isalnum()
    return incoming if valid else current_correlation_id()


async def _correlation_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Take the caller's correlation id (or make one), keep it in scope, and echo it back."""
    with correlation_scope(_incoming_correlation_id(request)) as correlation_id:
        response = await call_next(request)
        response.headers[CORRELATION_HEADER] = correlation_id
        return response


def error_body(status: int, title: str, errors: list[dict[str, Any]] | None = None) -> JSONResponse:
    """A problem response; `detail` is Spanish text users may see, `errors` name the fields."""
    body: dict[str, Any] = {"detail": title}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status)


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    # FastAPI's default echoes the rejected input, which may be personal data: name fields only,
    # with a Spanish message made from the error type and its limits (pydantic's is English).
    errors = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())),
            "type": error.get("type", "invalid"),
            "message": spanish_message(error),
        }
        for error in exc.errors()
    ]
    return error_body(422, FIELD_ERRORS_DETAIL, errors)


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    # Starlette's own details are English status phrases; ours are Spanish sentences.
    default = HTTPStatus(exc.status_code).phrase if exc.status_code in _STATUSES else ""
    if isinstance(exc.detail, dict) and "detail" in exc.detail:
        # ruta_shared.api.FieldError and problem(): already a body of ours
        response = JSONResponse(exc.detail, status_code=exc.status_code)
    else:
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != default else None
        response = error_body(
            exc.status_code, detail or ERROR_TITLES.get(exc.status_code, "Error.")
        )
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # This handler runs outside the middlewares, so the correlation id is taken again here.
    with correlation_scope(_incoming_correlation_id(request)) as correlation_id:
        # Exception texts can quote documents (a duplicate key, say): log type and frames only.
        log.error(
            "unhandled error",
            extra={"error": type(exc).__name__, "frames": traceback.format_tb(exc.__traceback__)},
        )
    response = error_body(500, "Error interno. Se registró con el identificador de correlación.")
    response.headers.update(base_headers())  # sent outside the middlewares that add them
    response.headers[CORRELATION_HEADER] = correlation_id
    return response
