"""Service settings from the environment (`RUTA_` prefix): the only module that reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "test", "production"]

# How the event topics are laid out when a setting is not given, by environment: production
# keeps three copies of every partition and accepts a write only once two have it; local and
# test run one broker. Partitions bound how many consumers of one group share the work.
TOPIC_LAYOUT_DEFAULTS: Final[dict[str, dict[str, int]]] = {
    "production": {
        "kafka_topic_partitions": 12,
        "kafka_replication_factor": 3,
        "kafka_min_insync_replicas": 2,
    },
    "local": {
        "kafka_topic_partitions": 6,
        "kafka_replication_factor": 1,
        "kafka_min_insync_replicas": 1,
    },
    "test": {
        "kafka_topic_partitions": 6,
        "kafka_replication_factor": 1,
        "kafka_min_insync_replicas": 1,
    },
}


class ServiceSettings(BaseSettings):
    """What every Ruta service needs; each service subclasses it with its own name and port."""

    model_config = SettingsConfigDict(env_prefix="RUTA_", extra="ignore", frozen=True)

    service_name: str = "ruta"
    environment: Environment = "local"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Event topics (created with infinite retention, never compacted); defaults by environment
    # (TOPIC_LAYOUT_DEFAULTS): production 12, 3 and 2; local and test 6, 1 and 1.
    kafka_topic_partitions: int = Field(default=6, ge=1, le=1000)
    kafka_replication_factor: int = Field(default=1, ge=1, le=10)
    kafka_min_insync_replicas: int = Field(default=1, ge=1, le=10)
    # Not in the repr: it carries the password once mongo_username is given.
    mongo_url: str = Field(default="mongodb://127.0.0.1:27017/", repr=False)
    # Credentials kept out of the URL in the environment: with a username, mongo_url gets it and
    # the password (from mongo_password_file, e.g. a Docker secret, or mongo_password).
    mongo_username: str | None = None
    mongo_password: str | None = Field(default=None, repr=False)
    mongo_password_file: Path | None = None
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

    @model_validator(mode="before")
    @classmethod
    def _topic_layout_by_environment(cls, data: Any) -> Any:
        """Fill the topic layout settings not given from the environment's defaults."""
        if not isinstance(data, dict):
            return data
        environment = str(data.get("environment", "local"))
        defaults = TOPIC_LAYOUT_DEFAULTS.get(environment, {})
        return {**defaults, **data}

    @model_validator(mode="before")
    @classmethod
    def _mongo_credentials_in_url(cls, data: Any) -> Any:
        """Put mongo_username and its password into mongo_url (URL-quoted)."""
        if not isinstance(data, dict) or not data.get("mongo_username"):
            return data
        password = data.get("mongo_password")
        if data.get("mongo_password_file"):
            try:
                password = Path(data["mongo_password_file"]).read_text().strip()
            except OSError as exc:
                msg = f"mongo_password_file cannot be read ({type(exc).__name__})"
                raise ValueError(msg) from None
        if not password:
            msg = "mongo_username needs mongo_password_file or mongo_password"
            raise ValueError(msg)
        url = urlsplit(str(data.get("mongo_url", cls.model_fields["mongo_url"].default)))
        if "@" in url.netloc:
            msg = "mongo_url already holds credentials; give them once"
            raise ValueError(msg)
        userinfo = f"{quote(str(data['mongo_username']), safe='')}:{quote(password, safe='')}"
        with_credentials = urlunsplit(url._replace(netloc=f"{userinfo}@{url.netloc}"))
        return {**data, "mongo_url": with_credentials}

    @model_validator(mode="after")
    def _insync_within_replicas(self) -> ServiceSettings:
        """A topic cannot require more in-sync copies than it has."""
        if self.kafka_min_insync_replicas > self.kafka_replication_factor:
            msg = (
                f"kafka_min_insync_replicas ({self.kafka_min_insync_replicas}) exceeds "
                f"kafka_replication_factor ({self.kafka_replication_factor})"
            )
            raise ValueError(msg)
        return self
