"""Settings of the intake service (environment variables with the RUTA_ prefix)."""

from __future__ import annotations

from pydantic import Field
from ruta_shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """The intake service's settings."""

    service_name: str = "intake"
    port: int = 8001
    mongo_database: str = "ruta_intake"
    # HTCDS export: the k the Counter Trafficking Data Collaborative publishes with, and the
    # share of rows the k-anonymous export may leave out rather than generalise further.
    htcds_k: int = Field(default=11, ge=2, le=100)
    htcds_max_suppressed_share: float = Field(default=0.05, ge=0, le=0.5)
