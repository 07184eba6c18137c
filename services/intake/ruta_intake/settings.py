"""Settings of the intake service (environment variables with the RUTA_ prefix)."""

from __future__ import annotations

from ruta_shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """The intake service's settings."""

    service_name: str = "intake"
    port: int = 8001
    mongo_database: str = "ruta_intake"
