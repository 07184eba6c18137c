"""Composition root of the intake service: builds the app from settings and runs it."""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn
from fastapi import FastAPI
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.service import ServiceContext, create_service_app

from ruta_intake.api import ROUTERS
from ruta_intake.runtime import OUTBOX_COLLECTIONS, Runtime
from ruta_intake.settings import IntakeSettings
from ruta_intake.victims.orphans import sweep_forever

DESCRIPTION = (
    "Casos, víctimas, familiares, consentimiento y atención. Los datos personales se cifran "
    "campo por campo y toda lectura queda registrada. Cada POST acepta `Idempotency-Key`; "
    "los cambios de un caso piden `If-Match` con su ETag."
)


def create_app(
    settings: IntakeSettings | None = None, *, security: SecuritySettings | None = None
) -> FastAPI:
    """Build the intake app; nothing is wired at import time."""

    async def start(context: ServiceContext) -> None:
        # The one Runtime of this app, made once its Mongo client exists; routes reach it
        # through ruta_intake.deps.
        runtime = Runtime.build(context)
        await runtime.ensure_indexes()
        app.state.runtime = runtime
        # Shreds personal data whose case change never landed (interrupted requests).
        app.state.orphan_sweep = asyncio.create_task(sweep_forever(runtime), name="orphan-sweep")

    async def stop(_: ServiceContext) -> None:
        sweep: asyncio.Task[None] | None = getattr(app.state, "orphan_sweep", None)
        if sweep is not None:
            sweep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweep

    app = create_service_app(
        settings or IntakeSettings(),
        title="Ruta: intake",
        description=DESCRIPTION,
        routers=ROUTERS,
        outbox_collections=OUTBOX_COLLECTIONS,
        on_startup=[start],
        on_shutdown=[stop],
        security=security,
        issue_tokens=True,  # Ruta's own token issuer (POST /auth/token) lives here
    )
    return app


def run() -> None:
    """Serve the app on RUTA_HOST:RUTA_PORT."""
    settings = IntakeSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        # The client address is ours to judge (RUTA_TRUSTED_PROXIES), not uvicorn's.
        proxy_headers=False,
    )


if __name__ == "__main__":
    run()
