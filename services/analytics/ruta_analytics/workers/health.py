"""The stream worker's health page: 503 naming Kafka or the database when either is unreachable."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from pymongo import AsyncMongoClient
from ruta_shared.kafka.admin import kafka_metadata_ok
from ruta_shared.mongo import create_mongo_client, ping
from ruta_shared.outage_log import OutageLog

from ruta_analytics.settings import AnalyticsSettings

log = logging.getLogger(__name__)

SERVICE = "analytics-consumer"


@dataclass
class ConsumerHealth:
    """Checks the worker's two dependencies on each request (bounded by the readiness timeout).

    A worker whose broker or database is gone keeps running and retrying (it must not lose
    its place), so only this page tells an operator or an orchestrator that it is stuck.
    """

    settings: AnalyticsSettings
    client: AsyncMongoClient[dict[str, Any]] | None = None
    outages: dict[str, OutageLog] = field(default_factory=dict)

    async def check(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body): 200 when both answer, else 503 naming the part that does not."""
        kafka, mongodb = await asyncio.gather(self._kafka(), self._mongodb())
        checks = {"kafka": kafka, "mongodb": mongodb}
        for name, ok in checks.items():
            outage = self.outages.setdefault(name, OutageLog(log, name))
            if ok:
                outage.recovered()
            else:
                outage.failed("unreachable", component=SERVICE)
        healthy = all(checks.values())
        body = {
            "status": "ok" if healthy else "unavailable",
            "service": SERVICE,
            "checks": {name: "ok" if ok else "unavailable" for name, ok in checks.items()},
        }
        return (200 if healthy else 503), body

    async def _kafka(self) -> bool:
        return await kafka_metadata_ok(
            self.settings.kafka_bootstrap_servers, self.settings.readiness_timeout_seconds
        )

    async def _mongodb(self) -> bool:
        if self.client is None:
            self.client = create_mongo_client(self.settings)
        try:
            await asyncio.wait_for(ping(self.client), self.settings.readiness_timeout_seconds)
        except Exception:
            return False
        return True

    async def close(self) -> None:
        """Close the health check's own Mongo client."""
        if self.client is not None:
            await self.client.close()
            self.client = None


def install_health(app: Any, settings: AnalyticsSettings) -> ConsumerHealth:
    """Serve `/healthz` on the faust app's web port (faust's App is untyped)."""
    health = ConsumerHealth(settings)

    @app.page("/healthz")  # type: ignore[untyped-decorator]
    async def healthz(web: Any, request: Any) -> Any:
        status, body = await health.check()
        return web.json(body, status=status)

    return health
