"""The analytics app's per-app object: settings, database, active generation, metrics."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from prometheus_client import Counter
from pymongo.asynchronous.database import AsyncDatabase
from ruta_shared.service import ServiceContext

from ruta_analytics.projection.models import Document
from ruta_analytics.projection.store import Generation, active_generation
from ruta_analytics.settings import AnalyticsSettings


@dataclass(frozen=True)
class Runtime:
    """What every analytics route uses; built once per app by `main.create_app`.

    The Mongo client belongs to the shared service context (opened in the app's lifespan),
    so the database is looked up through it at call time.
    """

    settings: AnalyticsSettings
    context: ServiceContext
    audit_failures: Counter
    # The suppressed view solved per projection state (`figures.published`).
    published: dict[Any, Any] = field(default_factory=dict, compare=False)
    # The dashboard's figures of the latest projection state, shared by every open stream.
    dashboard: dict[str, Any] = field(default_factory=dict, compare=False)
    dashboard_lock: asyncio.Lock = field(default_factory=asyncio.Lock, compare=False)

    @classmethod
    def build(cls, settings: AnalyticsSettings, context: ServiceContext) -> Runtime:
        """The runtime of one app, its metrics registered in the app's registry."""
        return cls(
            settings=settings,
            context=context,
            audit_failures=Counter(
                "ruta_audit_verification_failures_total",
                "Audit trail verifications that found a broken link.",
                registry=context.metrics.registry,
            ),
        )

    @property
    def db(self) -> AsyncDatabase[Document]:
        """The service's database (available once the app started)."""
        return self.context.db

    async def generation(self) -> Generation:
        """The generation readers use now."""
        return await active_generation(self.db)


def get_runtime(request: Request) -> Runtime:
    """FastAPI dependency: the running app's runtime."""
    runtime: Runtime = request.app.state.runtime
    return runtime
