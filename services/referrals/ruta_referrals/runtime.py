"""The referrals service's one per-app object: its collections, stores, metrics and workers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from ruta_shared.aggregate import Aggregates
from ruta_shared.api import IdempotencyStore, problem
from ruta_shared.security.access_log import AccessLog
from ruta_shared.security.crypto import DataKeyStore
from ruta_shared.service import ServiceContext

from ruta_referrals.partners.rules import Pseudonyms
from ruta_referrals.referrals.rules import Deadlines
from ruta_referrals.settings import ReferralsSettings
from ruta_referrals.webhooks.targets import TargetPolicy

if TYPE_CHECKING:
    from ruta_referrals.workers.supervisor import Workers

CASE_ROUTES: Final = "case_routes"
VICTIMS: Final = "victims"
PROJECTS: Final = "projects"
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
        self.stages_overdue = Counter(
            "ruta_route_stages_overdue_total",
            "Route-of-care stage occurrences that passed their target duration, by stage.",
            ["stage"],
            registry=registry,
        )
        self.stages_overdue_open = Gauge(
            "ruta_route_stages_overdue_open",
            "Route-of-care stage occurrences open past their target now.",
            registry=registry,
        )
        self.tasks_overdue = Counter(
            "ruta_plan_tasks_overdue_total",
            "Case plan tasks that passed their due day, by goal code.",
            ["goal"],
            registry=registry,
        )
        self.tasks_overdue_open = Gauge(
            "ruta_plan_tasks_overdue_open",
            "Case plan tasks open past their due day now.",
            registry=registry,
        )
        self.webhook_attempts = Counter(
            "ruta_webhook_attempts_total",
            "Webhook delivery attempts, by outcome (delivered, failed, dead_lettered, withdrawn).",
            ["outcome"],
            registry=registry,
        )
        self.webhook_enqueued = Counter(
            "ruta_webhook_deliveries_enqueued_total",
            "Webhook deliveries enqueued from referral events.",
            registry=registry,
        )


def utc_now() -> datetime:
    """The current instant (the runtime's default clock)."""
    return datetime.now(UTC)


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
    projects: AsyncCollection[Document]  # intake's project registry, from its events
    institutions: AsyncCollection[Document]
    deliveries: AsyncCollection[Document]
    deadlines: Deadlines
    pseudonyms: Pseudonyms  # what partners see instead of victim ids and case codes
    webhook_targets: TargetPolicy
    partner_retention: timedelta  # how long a completed referral stays in its partner's view
    intake: httpx.AsyncClient  # intake's HTTP API, asked as the caller when events lag
    # The partner view's clock (tests move it to cross the retention boundary).
    clock: Callable[[], datetime] = utc_now
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
            projects=db[PROJECTS],
            institutions=db[INSTITUTIONS],
            deliveries=db[DELIVERIES],
            deadlines=Deadlines(
                acknowledgement=settings.acknowledgement_deadline_seconds,
                answer=settings.answer_deadline_seconds,
            ),
            pseudonyms=Pseudonyms(security.blind_index),
            webhook_targets=TargetPolicy(allow_local=settings.allow_local_webhook_targets),
            partner_retention=timedelta(days=settings.partner_retention_days),
            intake=httpx.AsyncClient(
                base_url=settings.intake_url,
                timeout=settings.intake_timeout_seconds,
                follow_redirects=False,
                trust_env=False,
            ),
        )
