"""Service settings from the environment (`RUTA_` prefix): the only module that reads it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What every Ruta service needs; each service subclasses it with its own name and port."""

    model_config = SettingsConfigDict(env_prefix="RUTA_", extra="ignore", frozen=True)

    service_name: str = "ruta"
    environment: Literal["local", "test", "production"] = "local"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    mongo_url: str = "mongodb://127.0.0.1:27017/"
    mongo_database: str = "ruta"
    # Bounds how long a request waits for an unreachable database before answering 503
    # (server selection and connection); reads on a live connection have their own bound.
    mongo_timeout_ms: int = Field(default=5000, ge=100)
    # Long enough for a full scan on FerretDB, short enough that a hung server is noticed.
    mongo_socket_timeout_ms: int = Field(default=30_000, ge=100)
    mongo_max_pool_size: int = Field(default=100, ge=1)

    outbox_poll_interval_seconds: float = Field(default=1.0, gt=0)
    # Full scans for pending events (writes by other processes, crash recovery); between
    # them the relay reads only the documents this process wrote, by `_id`.
    outbox_scan_interval_seconds: float = Field(default=30.0, gt=0)
    outbox_batch_size: int = Field(default=500, ge=1)
    readiness_timeout_seconds: float = Field(default=2.0, gt=0)
    run_outbox_relay: bool = True

    # Faults (issue 16): what a 503 tells clients to wait, and how long a claimed
    # Idempotency-Key stays with a process that may have died before another may take it.
    unavailable_retry_after_seconds: int = Field(default=5, ge=1)
    idempotency_lease_seconds: float = Field(default=30.0, gt=0)
