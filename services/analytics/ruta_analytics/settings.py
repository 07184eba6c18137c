"""Settings of the analytics service and its stream processor (RUTA_ environment variables)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from ruta_shared.settings import ServiceSettings
from ruta_shared.topics import AUDIT_CHECKPOINTS, EVENT_TOPICS


class AnalyticsSettings(ServiceSettings):
    """The analytics service's settings."""

    service_name: str = "analytics"
    port: int = 8004
    mongo_database: str = "ruta_analytics"
    faust_data_dir: str = ".local/faust"
    faust_web_port: int = 6066
    faust_app_id: str = "ruta-analytics"
    # Kafka transactions cannot cover MongoDB: one effect per event comes from the idempotent,
    # sequence-guarded writes plus offsets acked only after a batch is written, under either
    # guarantee.
    # exactly_once also commits dead letters atomically with the offsets (no duplicate dead
    # letter after a crash); it is the architecture's default.
    faust_processing_guarantee: Literal["at_least_once", "exactly_once"] = "exactly_once"
    # A killed worker's partitions move to the others after this long (faust's default: 60s).
    faust_session_timeout_seconds: float = Field(default=10.0, ge=6.0, le=300.0)
    # The topics consumed (JSON list in RUTA_EVENT_TOPICS); tests give each worker its own.
    event_topics: list[str] = Field(default_factory=lambda: list(EVENT_TOPICS))
    # A batch's redo journal and locks are taken over by another worker once their lease
    # ran out without a heartbeat (the writer died): how long a restart may wait for them.
    journal_lease_seconds: float = Field(default=6.0, ge=1.0, le=300.0)
    batch_size: int = Field(default=500, ge=1, le=10_000)
    batch_seconds: float = Field(default=0.05, gt=0, le=5)
    # Disclosure control: cells below k (and above 0) are suppressed for non-coordinators.
    suppression_k: int = Field(default=5, ge=2, le=100)
    # The dashboard's login form is forwarded here (Ruta's token issuer, on intake).
    auth_token_url: str = "http://127.0.0.1:8001/auth/token"  # noqa: S105 (a URL)
    dashboard_poll_seconds: float = Field(default=0.25, gt=0, le=5)
    # Audit checkpoints. The topic's constant belongs in ruta_shared.topics (never expiring);
    # until it is there, it is named here.
    audit_checkpoint_topic: str = AUDIT_CHECKPOINTS
    audit_seal_seconds: float = Field(default=60.0, ge=1.0, le=3600.0)
    # The signing key lives outside the database: this directory (generated on the local
    # default; unset: `audit` in the other keys' RUTA_KEY_DIR) or a mounted secret file;
    # public keys of every key that signed stay in `<audit_key_dir>/public`.
    audit_key_dir: Path | None = None
    audit_signing_key_file: Path | None = None
    audit_sealer_metrics_port: int = 6067
