"""Every router of the intake service, registered in one place."""

from __future__ import annotations

from fastapi import APIRouter

from ruta_intake.care.views import router as care
from ruta_intake.cases.views import router as cases
from ruta_intake.catalogue.views import router as catalogue
from ruta_intake.closure.views import router as closure
from ruta_intake.consent.views import router as consent
from ruta_intake.duplicates.views import router as duplicates
from ruta_intake.exports.views import router as exports
from ruta_intake.projects.views import router as projects
from ruta_intake.rights.views import router as rights
from ruta_intake.victims.views import router as victims

# The order is the order of the OpenAPI document.
ROUTERS: list[APIRouter] = [
    catalogue,
    cases,
    closure,
    victims,
    consent,
    care,
    duplicates,
    projects,
    exports,
    rights,
]
