"""Every router of the referrals service, registered in one place."""

from __future__ import annotations

from fastapi import APIRouter

from ruta_referrals.institutions.views import router as institutions
from ruta_referrals.partners.views import router as partners
from ruta_referrals.plans.views import router as plans
from ruta_referrals.referrals.views import router as referrals
from ruta_referrals.reintegration.views import router as reintegration
from ruta_referrals.stages.views import router as stages
from ruta_referrals.webhooks.views import router as webhooks

ROUTERS: list[APIRouter] = [
    institutions,
    referrals,
    partners,
    reintegration,
    stages,
    plans,
    webhooks,
]
