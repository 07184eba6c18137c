"""Composition root of the training service: builds the app from settings and runs it."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.service import ServiceContext, create_service_app

from ruta_training.api import ROUTERS
from ruta_training.runtime import OUTBOX_COLLECTIONS, Runtime
from ruta_training.settings import TrainingSettings

DESCRIPTION = "Capacitaciones: sesiones, participantes, asistencia, evaluaciones y certificados."


def create_app(
    settings: TrainingSettings | None = None, *, security: SecuritySettings | None = None
) -> FastAPI:
    """Build the training app; nothing is wired at import time."""
    settings = settings or TrainingSettings()
    app: FastAPI

    async def start(context: ServiceContext) -> None:
        # Mongo exists only once the app starts: the runtime is built here, once per start.
        runtime = Runtime(context, settings)
        await runtime.ensure_indexes()
        app.state.runtime = runtime

    app = create_service_app(
        settings,
        title="Ruta: training",
        description=DESCRIPTION,
        routers=ROUTERS,
        outbox_collections=OUTBOX_COLLECTIONS,
        on_startup=[start],
        security=security,
    )
    return app


def run() -> None:
    """Serve the app on RUTA_HOST:RUTA_PORT."""
    settings = TrainingSettings()
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
