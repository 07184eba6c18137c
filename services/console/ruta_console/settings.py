"""Settings of the console (environment variables with the RUTA_ prefix)."""

from __future__ import annotations

from pydantic import Field
from ruta_shared.settings import ServiceSettings


class ConsoleSettings(ServiceSettings):
    """The console's settings: where the four services answer, and how long a session lives."""

    service_name: str = "console"
    port: int = 8005
    # The console's own database: sessions and long actions' progress (no service's data).
    mongo_database: str = "ruta_console"

    # The services' public HTTP APIs; the console reads no other database.
    intake_url: str = "http://127.0.0.1:8001"
    referrals_url: str = "http://127.0.0.1:8002"
    training_url: str = "http://127.0.0.1:8003"
    analytics_url: str = "http://127.0.0.1:8004"
    upstream_timeout_seconds: float = Field(default=15.0, gt=0)
    # Reports and imports take longer than a page.
    upstream_long_timeout_seconds: float = Field(default=120.0, gt=0)

    # A session ends when its token expires, or after this long without a request.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # Largest attendance sheet passed on to training (it applies its own limit too).
    import_max_bytes: int = Field(default=2_000_000, ge=1_000)
    # Sessions live in the console's database: past this many, unsent login forms go first.
    max_sessions: int = Field(default=200_000, ge=10)
    # A long action's process renews its lease; past it, the job reads as failed (it died).
    job_lease_seconds: float = Field(default=30.0, gt=0)
    # How long a finished job (its result, the report's files) can still be read.
    job_keep_minutes: int = Field(default=60, ge=1)
    # Secure cookies everywhere but on a developer's machine (plain http on 127.0.0.1).
    cookie_secure: bool | None = None

    @property
    def secure_cookies(self) -> bool:
        """Whether the session cookie carries the Secure attribute."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.environment != "local"
