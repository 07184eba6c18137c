"""The referrals service's objects for one running app, built from its ServiceContext."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge
from pymongo.asynchronous.database import AsyncDatabase
from ruta_shared.api import IdempotencyStore
from ruta_shared.security.access_log import AccessLog
from ruta_shared.security.crypto import DataKeyStore
from ruta_shared.service import ServiceContext

from ruta_referrals.institutions.service import InstitutionStore
from ruta_referrals.referrals.rules import Deadlines
from ruta_referrals.settings import ReferralsSettings

IDEMPOTENCY: Final = "idempotency"

Document = dict[str, Any]


class ReferralsMetrics:
    """Referral and webhook metrics (labels are codes, never ids or personal data)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.overdue = Counter(
            "ruta_referrals_overdue_total",
            "Referrals that became overdue, by stage and urgency.",
            ["stage", "urgency"],
            registry=registry,
        )
        self.overdue_open = Gauge(
            "ruta_referrals_overdue_open",
            "Referrals waiting on an institution past their deadline now.",
            registry=registry,
        )
        self.webhook_attempts = Counter(
            "ruta_webhook_attempts_total",
            "Webhook delivery attempts, by outcome (delivered, failed, dead_lettered).",
            ["outcome"],
            registry=registry,
        )
        self.webhook_enqueued = Counter(
            "ruta_webhook_deliveries_enqueued_total",
            "Webhook deliveries enqueued from referral events.",
            registry=registry,
        )


@dataclass
class Runtime:
    """Everything the routes and background tasks share; Mongo-backed parts made on use."""

    context: ServiceContext
    settings: ReferralsSettings
    metrics: ReferralsMetrics

    @property
    def db(self) -> AsyncDatabase[Document]:
        """The service's own database."""
        return self.context.db

    @property
    def keys(self) -> DataKeyStore:
        """Data keys for encrypted fields (per victim, per institution)."""
        security = self.context.security
        if security is None:
            msg = "security is not installed"
            raise RuntimeError(msg)
        return DataKeyStore(self.db, security.keyring)

    @property
    def institutions(self) -> InstitutionStore:
        """The institutions registry."""
        return InstitutionStore(
            self.db, self.keys, allow_plain_http=self.settings.environment != "production"
        )

    @property
    def access_log(self) -> AccessLog:
        """Where reads of decrypted personal data are recorded."""
        security = self.context.security
        return AccessLog(
            database=self.db,
            outbox=self.context.outbox,
            service=self.settings.service_name,
            metrics=security.access_log_metrics if security is not None else None,
        )

    @property
    def idempotency(self) -> IdempotencyStore:
        """Stored outcomes of POSTs sent with an Idempotency-Key."""
        return IdempotencyStore(self.db[IDEMPOTENCY])

    @property
    def deadlines(self) -> Deadlines:
        """Deadlines per urgency, from settings."""
        return Deadlines(
            acknowledgement=self.settings.acknowledgement_deadline_seconds,
            answer=self.settings.answer_deadline_seconds,
        )
