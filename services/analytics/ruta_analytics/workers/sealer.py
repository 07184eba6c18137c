"""`ruta-audit-sealer`: seals a signed checkpoint of every audit chain every N seconds.

Its `/metrics` (RUTA_AUDIT_SEALER_METRICS_PORT) carries `ruta_audit_checkpoint_age_seconds`,
the alert rule's metric: it keeps growing when seals stop succeeding.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, start_http_server
from ruta_shared.logging import configure_logging
from ruta_shared.mongo import create_mongo_client

from ruta_analytics.audit.checkpoints import latest_seq, read_checkpoint, seal
from ruta_analytics.runtime import audit_keys, checkpoint_age_gauge
from ruta_analytics.settings import AnalyticsSettings

log = logging.getLogger("ruta.analytics.sealer")


async def seal_forever(settings: AnalyticsSettings, registry: CollectorRegistry) -> None:
    """Seal every `audit_seal_seconds`; a failed seal is logged and retried next time."""
    keys = audit_keys(settings)
    client = create_mongo_client(settings)
    db = client[settings.mongo_database]
    failures = Counter("ruta_audit_seal_failures_total", "Seals that failed.", registry=registry)
    sealed_at = {"at": float("nan")}
    seq = await latest_seq(db)
    latest = await read_checkpoint(db, seq) if seq else None
    if latest is not None:
        sealed_at["at"] = datetime.fromisoformat(latest["body"]["sealed_at"]).timestamp()
    checkpoint_age_gauge(registry).set_function(lambda: time.time() - sealed_at["at"])
    try:
        while True:
            try:
                checkpoint = await seal(
                    db=db,
                    keys=keys,
                    bootstrap_servers=settings.kafka_bootstrap_servers,
                    topic=settings.audit_checkpoint_topic,
                )
                body = checkpoint["body"]
                sealed_at["at"] = datetime.fromisoformat(body["sealed_at"]).timestamp()
                log.info("checkpoint sealed", extra={"seq": body["seq"], "chains": body["chains"]})
            except Exception as exc:
                failures.inc()
                log.warning("seal failed", extra={"error": type(exc).__name__})
            await asyncio.sleep(settings.audit_seal_seconds)
    finally:
        await client.close()


def run() -> None:
    """Start the sealer with RUTA_ settings."""
    settings = AnalyticsSettings()
    configure_logging("analytics-sealer", settings.log_level)
    registry = CollectorRegistry()
    start_http_server(settings.audit_sealer_metrics_port, addr="127.0.0.1", registry=registry)
    asyncio.run(seal_forever(settings, registry))


if __name__ == "__main__":
    run()
