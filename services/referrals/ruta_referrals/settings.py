"""Settings of the referrals service (environment variables with the RUTA_ prefix)."""

from __future__ import annotations

from ruta_shared.settings import ServiceSettings


class ReferralsSettings(ServiceSettings):
    """The referrals service's settings."""

    service_name: str = "referrals"
    port: int = 8002
    mongo_database: str = "ruta_referrals"
