"""Composition root of the intake service: builds the app from settings and runs it."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI
from ruta_shared.service import create_service_app

from ruta_intake.settings import IntakeSettings

DESCRIPTION = "Casos, víctimas, familiares, consentimiento y atención."


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    """Build the intake app; nothing is wired at import time."""
    return create_service_app(
        settings or IntakeSettings(),
        title="Ruta: intake",
        description=DESCRIPTION,
        issue_tokens=True,  # Ruta's own token issuer (POST /auth/token) lives here
    )


def run() -> None:
    """Serve the app on RUTA_HOST:RUTA_PORT."""
    settings = IntakeSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    run()
