"""Settings of the analytics service and its stream processor (RUTA_ environment variables)."""

from __future__ import annotations

from ruta_shared.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    """The analytics service's settings."""

    service_name: str = "analytics"
    port: int = 8004
    mongo_database: str = "ruta_analytics"
    faust_data_dir: str = ".local/faust"
    faust_web_port: int = 6066
    faust_app_id: str = "ruta-analytics"
