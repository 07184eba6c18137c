"""Composition root of the referrals service: builds the app from settings and runs it."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI
from ruta_shared.service import create_service_app

from ruta_referrals.settings import ReferralsSettings

DESCRIPTION = "Derivaciones a instituciones, acceso de socios, webhooks, retorno y reintegración."


def create_app(settings: ReferralsSettings | None = None) -> FastAPI:
    """Build the referrals app; nothing is wired at import time."""
    return create_service_app(
        settings or ReferralsSettings(),
        title="Ruta: referrals",
        description=DESCRIPTION,
        accept_partner_api_keys=True,  # partner institutions may use X-API-Key
    )


def run() -> None:
    """Serve the app on RUTA_HOST:RUTA_PORT."""
    settings = ReferralsSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    run()
