"""Composition root of the analytics service: builds the app from settings and runs it."""

from __future__ import annotations

import asyncio
import logging

import uvicorn
from fastapi import FastAPI
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.service import ServiceContext, create_service_app

from ruta_analytics.api import ROUTERS
from ruta_analytics.runtime import Runtime
from ruta_analytics.settings import AnalyticsSettings

log = logging.getLogger("ruta.analytics")
AGE_REFRESH_SECONDS = 15.0
DESCRIPTION = "Cifras en vivo, trazabilidad verificable de la ruta de atención, reportes y tablero."


def create_app(
    settings: AnalyticsSettings | None = None, *, security: SecuritySettings | None = None
) -> FastAPI:
    """Build the analytics app; nothing is wired at import time."""
    settings = settings or AnalyticsSettings()
    watcher: dict[str, asyncio.Task[None]] = {}

    async def watch_checkpoints(_: ServiceContext) -> None:
        watcher["task"] = asyncio.create_task(_refresh_checkpoint_age(app.state.runtime))

    async def stop_watching(_: ServiceContext) -> None:
        if "task" in watcher:
            watcher.pop("task").cancel()

    app = create_service_app(
        settings,
        title="Ruta: analytics",
        description=DESCRIPTION,
        routers=ROUTERS,
        security=security,
        encrypts_fields=False,  # aggregates and audit entries only: no personal data
        on_startup=[watch_checkpoints],
        on_shutdown=[stop_watching],
    )
    app.state.runtime = Runtime.build(settings, app.state.context)
    return app


async def _refresh_checkpoint_age(runtime: Runtime) -> None:
    """Keep the checkpoint-age gauge true to the store (the stale-checkpoint alert reads it)."""
    while True:
        try:
            await runtime.refresh_checkpoint_age()
        except Exception as exc:
            log.warning("checkpoint age not refreshed", extra={"error": type(exc).__name__})
        await asyncio.sleep(AGE_REFRESH_SECONDS)


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
