"""Every router of the referrals service, registered in one place."""

from __future__ import annotations

from fastapi import APIRouter

from ruta_referrals.institutions.views import router as institutions
from ruta_referrals.referrals.partner_views import router as partner
from ruta_referrals.referrals.views import router as referrals
from ruta_referrals.route.views import router as route
from ruta_referrals.webhooks.views import router as webhooks

ROUTERS: list[APIRouter] = [institutions, referrals, partner, route, webhooks]
