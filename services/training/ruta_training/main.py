"""Composition root of the training service: builds the app from settings and runs it."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI
from ruta_shared.service import create_service_app

from ruta_training.settings import TrainingSettings

DESCRIPTION = "Capacitaciones, participantes, asistencia y evaluaciones."


def create_app(settings: TrainingSettings | None = None) -> FastAPI:
    """Build the training app; nothing is wired at import time."""
    return create_service_app(
        settings or TrainingSettings(),
        title="Ruta: training",
        description=DESCRIPTION,
    )


def run() -> None:
    """Serve the app on RUTA_HOST:RUTA_PORT."""
    settings = TrainingSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    run()
