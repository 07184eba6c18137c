"""Every router of the training service, registered in one place."""

from __future__ import annotations

from fastapi import APIRouter

from ruta_training.views import certificates, imports, participants, reach, sessions

ROUTERS: list[APIRouter] = [
    sessions.router,
    imports.router,
    participants.router,
    certificates.router,
    reach.router,
]
