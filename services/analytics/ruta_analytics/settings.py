"""Settings of the analytics service (environment variables with the RUTA_ prefix)."""

from __future__ import annotations

from ruta_shared.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    """The analytics service's settings."""

    service_name: str = "analytics"
    port: int = 8004
    mongo_database: str = "ruta_analytics"
