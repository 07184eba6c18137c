"""Every router of the training service, registered in one place."""

from __future__ import annotations

from fastapi import APIRouter

from ruta_training.certificates import views as certificates
from ruta_training.duplicates import views as duplicates
from ruta_training.imports import views as imports
from ruta_training.participants import views as participants
from ruta_training.reach import views as reach
from ruta_training.rights import views as rights
from ruta_training.sessions import views as sessions

ROUTERS: list[APIRouter] = [
    sessions.router,
    imports.router,
    participants.router,
    rights.router,
    duplicates.router,
    certificates.router,
    reach.router,
]
