"""Composition root of the training service: builds the app from settings and runs it."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.service import create_service_app

from ruta_training.settings import TrainingSettings
from ruta_training.store import OUTBOX_COLLECTIONS, ensure_indexes
from ruta_training.views import ROUTERS

DESCRIPTION = "Capacitaciones: sesiones, participantes, asistencia, evaluaciones y certificados."


def create_app(
    settings: TrainingSettings | None = None, *, security: SecuritySettings | None = None
) -> FastAPI:
    """Build the training app; nothing is wired at import time."""
    return create_service_app(
        settings or TrainingSettings(),
        title="Ruta: training",
        description=DESCRIPTION,
        routers=ROUTERS,
        outbox_collections=OUTBOX_COLLECTIONS,
        on_startup=[ensure_indexes],
        security=security,
    )


def run() -> None:
    """Serve the app on RUTA_HOST:RUTA_PORT."""
    settings = TrainingSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    run()
