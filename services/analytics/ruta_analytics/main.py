"""Composition root of the analytics service: builds the app from settings and runs it."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.service import create_service_app

from ruta_analytics.api import ROUTERS
from ruta_analytics.runtime import Runtime
from ruta_analytics.settings import AnalyticsSettings

DESCRIPTION = "Cifras en vivo, trazabilidad verificable de la ruta de atención, reportes y tablero."


def create_app(
    settings: AnalyticsSettings | None = None, *, security: SecuritySettings | None = None
) -> FastAPI:
    """Build the analytics app; nothing is wired at import time."""
    settings = settings or AnalyticsSettings()
    app = create_service_app(
        settings,
        title="Ruta: analytics",
        description=DESCRIPTION,
        routers=ROUTERS,
        security=security,
        encrypts_fields=False,  # aggregates and audit entries only: no personal data
    )
    app.state.runtime = Runtime.build(settings, app.state.context)
    return app


def run() -> None:
    """Serve the app on RUTA_HOST:RUTA_PORT."""
    settings = AnalyticsSettings()
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
