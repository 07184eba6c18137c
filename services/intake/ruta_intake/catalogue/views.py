"""The catalogue route: every code with its Spanish label."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_intake.bodies import PROBLEM_RESPONSES
from ruta_intake.catalogue.models import Catalogue
from ruta_intake.catalogue.service import build_catalogue

router = APIRouter(responses=PROBLEM_RESPONSES, tags=["catálogo"])


@router.get("/catalogue", response_model=Catalogue)
async def get_catalogue(_: Annotated[Principal, require("case:read")]) -> Catalogue:
    """Every code with its Spanish label (offices, regions, crime types, care types, ...)."""
    return build_catalogue()
