"""Settings of the training service (environment variables with the RUTA_ prefix)."""

from __future__ import annotations

from ruta_shared.settings import ServiceSettings


class TrainingSettings(ServiceSettings):
    """The training service's settings."""

    service_name: str = "training"
    port: int = 8003
    mongo_database: str = "ruta_training"
