"""Settings of the training service (environment variables with the RUTA_ prefix)."""

from __future__ import annotations

from pydantic import Field
from ruta_shared.settings import ServiceSettings


class TrainingSettings(ServiceSettings):
    """The training service's settings."""

    service_name: str = "training"
    port: int = 8003
    mongo_database: str = "ruta_training"

    # A certificate needs this share of the session's pedagogic hours, unless the session
    # sets its own minimum.
    certificate_min_attendance_ratio: float = Field(default=0.8, gt=0, le=1)
    # Printed on the certificate: where anyone can check its code.
    certificate_verify_url: str = "http://127.0.0.1:8003/certificates/verify"
    organisation_name: str = "Centro de Atención Legal y Psicosocial (CALP)"

    import_max_bytes: int = Field(default=2_000_000, ge=1_000)
    import_max_rows: int = Field(default=5_000, ge=1)
    # Attempts of a read-modify-write of a session before answering 409.
    session_write_attempts: int = Field(default=8, ge=1)
