"""The referrals service's one per-app object: its collections, stores, metrics and workers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from ruta_shared.aggregate import Aggregates
from ruta_shared.api import IdempotencyStore, problem
from ruta_shared.security.access_log import AccessLog
from ruta_shared.security.crypto import DataKeyStore
from ruta_shared.service import ServiceContext

from ruta_referrals.referrals.rules import Deadlines
from ruta_referrals.settings import ReferralsSettings

if TYPE_CHECKING:
    from ruta_referrals.workers.supervisor import Workers

CASE_ROUTES: Final = "case_routes"
VICTIMS: Final = "victims"
INSTITUTIONS: Final = "institutions"
DELIVERIES: Final = "webhook_deliveries"
IDEMPOTENCY: Final = "idempotency"
# A case's route is changed by staff, partners, the overdue check and the dispatcher at once.
CHANGE_ATTEMPTS: Final = 8
CASE_NOT_FOUND: Final = "Caso no encontrado."
CASE_BUSY: Final = "El caso cambió varias veces seguidas: vuelva a intentarlo."

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


def case_not_found() -> Exception:
    """The 404 of a case referrals does not know (or the caller may not see)."""
    return problem(404, CASE_NOT_FOUND)


@dataclass
class Runtime:
    """Everything the routes and background tasks share, built once per app at startup."""

    context: ServiceContext
    settings: ReferralsSettings
    metrics: ReferralsMetrics
    db: AsyncDatabase[Document]
    keys: DataKeyStore
    access_log: AccessLog
    idempotency: IdempotencyStore
    cases: Aggregates  # `case_routes`: referrals, returns, milestones and the case's outbox
    victims: AsyncCollection[Document]
    institutions: AsyncCollection[Document]
    deliveries: AsyncCollection[Document]
    deadlines: Deadlines
    allow_plain_http: bool
    # Set when a delivery is enqueued or replayed: the dispatcher looks for due ones at once.
    webhook_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    workers: Workers | None = None

    @classmethod
    def build(
        cls, context: ServiceContext, settings: ReferralsSettings, metrics: ReferralsMetrics
    ) -> Runtime:
        """The runtime of a started app (its Mongo client exists)."""
        db = context.db
        security = context.security
        if security is None:
            msg = "security is not installed"
            raise RuntimeError(msg)
        return cls(
            context=context,
            settings=settings,
            metrics=metrics,
            db=db,
            keys=DataKeyStore(db, security.keyring),
            access_log=AccessLog(
                database=db,
                outbox=context.outbox,
                service=settings.service_name,
                metrics=security.access_log_metrics,
            ),
            idempotency=IdempotencyStore(db[IDEMPOTENCY]),
            cases=Aggregates(
                collection=db[CASE_ROUTES],
                outbox=context.outbox,
                name="case_route",
                attempts=CHANGE_ATTEMPTS,
                not_found=case_not_found,
                busy_detail=CASE_BUSY,
            ),
            victims=db[VICTIMS],
            institutions=db[INSTITUTIONS],
            deliveries=db[DELIVERIES],
            deadlines=Deadlines(
                acknowledgement=settings.acknowledgement_deadline_seconds,
                answer=settings.answer_deadline_seconds,
            ),
            allow_plain_http=settings.environment != "production",
        )
