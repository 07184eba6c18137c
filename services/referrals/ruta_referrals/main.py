"""Composition root of the referrals service: builds the app from settings and runs it."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI
from ruta_shared.security.access_log import ACCESS_LOG_COLLECTION
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.service import create_service_app

from ruta_referrals.api import ROUTERS
from ruta_referrals.intake.projection import CASE_ROUTES
from ruta_referrals.runtime import ReferralsMetrics, Runtime
from ruta_referrals.settings import ReferralsSettings
from ruta_referrals.workers import Workers

DESCRIPTION = "Derivaciones a instituciones, acceso de socios, webhooks, retorno y reintegración."


def create_app(
    settings: ReferralsSettings | None = None, *, security: SecuritySettings | None = None
) -> FastAPI:
    """Build the referrals app; nothing is wired at import time."""
    settings = settings or ReferralsSettings()
    workers = Workers()
    app = create_service_app(
        settings,
        title="Ruta: referrals",
        description=DESCRIPTION,
        routers=ROUTERS,
        outbox_collections=[CASE_ROUTES, ACCESS_LOG_COLLECTION],
        on_startup=[workers.start],
        on_shutdown=[workers.stop],
        security=security,
        accept_partner_api_keys=True,  # partner institutions may use X-API-Key
    )
    context = app.state.context
    runtime = Runtime(
        context=context, settings=settings, metrics=ReferralsMetrics(context.metrics.registry)
    )
    app.state.runtime = runtime
    app.state.workers = workers
    workers.bind(runtime, app)
    return app


def run() -> None:
    """Serve the app on RUTA_HOST:RUTA_PORT."""
    settings = ReferralsSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    run()
