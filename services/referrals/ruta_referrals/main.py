"""Composition root of the referrals service: builds the app from settings and runs it."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI
from ruta_shared.security.access_log import ACCESS_LOG_COLLECTION
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.service import ServiceContext, create_service_app

from ruta_referrals.api import ROUTERS
from ruta_referrals.institutions.service import ensure_institution_indexes, seed_institutions
from ruta_referrals.referrals.service import ensure_referral_indexes
from ruta_referrals.runtime import CASE_ROUTES, ReferralsMetrics, Runtime
from ruta_referrals.settings import ReferralsSettings
from ruta_referrals.webhooks.service import ensure_delivery_indexes
from ruta_referrals.workers.supervisor import Workers

DESCRIPTION = "Derivaciones a instituciones, acceso de socios, webhooks, retorno y reintegración."


def create_app(
    settings: ReferralsSettings | None = None, *, security: SecuritySettings | None = None
) -> FastAPI:
    """Build the referrals app; nothing is wired at import time."""
    settings = settings or ReferralsSettings()

    async def startup(context: ServiceContext) -> None:
        # Built here, once per app: the Mongo client exists only once the app starts.
        runtime = Runtime.build(context, settings, metrics)
        await ensure_referral_indexes(runtime=runtime)
        await ensure_institution_indexes(runtime=runtime)
        await ensure_delivery_indexes(runtime=runtime)
        await runtime.keys.ensure_indexes()
        if settings.seed_institutions:
            await seed_institutions(runtime=runtime)
        runtime.workers = Workers(runtime)
        app.state.runtime = runtime
        runtime.workers.start()

    async def shutdown(_: ServiceContext) -> None:
        runtime: Runtime | None = getattr(app.state, "runtime", None)
        if runtime is not None and runtime.workers is not None:
            await runtime.workers.stop()
        if runtime is not None:
            await runtime.intake.aclose()

    app = create_service_app(
        settings,
        title="Ruta: referrals",
        description=DESCRIPTION,
        routers=ROUTERS,
        outbox_collections=[CASE_ROUTES, ACCESS_LOG_COLLECTION],
        on_startup=[startup],
        on_shutdown=[shutdown],
        security=security,
        accept_partner_api_keys=True,  # partner institutions may use X-API-Key
    )
    metrics = ReferralsMetrics(app.state.context.metrics.registry)
    return app


def run() -> None:
    """Serve the app on RUTA_HOST:RUTA_PORT."""
    settings = ReferralsSettings()
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
