"""Every router of the analytics app, in one place."""

from __future__ import annotations

from ruta_analytics.audit import views as audit
from ruta_analytics.dashboard import views as dashboard
from ruta_analytics.figures import views as figures

ROUTERS = [figures.router, audit.router, dashboard.router]
