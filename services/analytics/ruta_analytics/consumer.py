"""The analytics stream processor (faust-streaming): consumes every Ruta event topic.

For now it validates each event against the shared registry and keeps a count of events
by type in a changelog-backed table (exactly-once processing on Kafka). The live
aggregates, the audit trail and the reports are built on this in the analytics issue.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import faust
from ruta_shared.events import EVENTS, EventError
from ruta_shared.kafka.admin import ensure_topics
from ruta_shared.logging import configure_logging
from ruta_shared.topics import EVENT_TOPICS, PARTITIONS

from ruta_analytics.settings import AnalyticsSettings

log = logging.getLogger(__name__)


def create_stream_app(settings: AnalyticsSettings) -> faust.App:
    """Build the faust app and its agents from settings (nothing is wired at import time)."""
    app = faust.App(
        settings.faust_app_id,
        broker=f"kafka://{settings.kafka_bootstrap_servers}",
        store="memory://",
        datadir=settings.faust_data_dir,
        processing_guarantee="exactly_once",
        topic_partitions=PARTITIONS,
        web_port=settings.faust_web_port,
        web_bind="127.0.0.1" if settings.environment != "production" else "0.0.0.0",  # noqa: S104
        consumer_auto_offset_reset="earliest",
    )
    topics = app.topic(*EVENT_TOPICS, key_serializer="raw", value_serializer="raw")
    events_by_type = app.Table(
        "events-by-type", default=int, key_type=str, value_type=int, partitions=PARTITIONS
    )

    @app.agent(topics)
    async def count_events(stream: Any) -> None:
        async for value in stream:
            try:
                envelope = EVENTS.decode(value)
            except EventError as exc:
                log.warning("unreadable event skipped by analytics", extra={"reason": exc.reason})
                continue
            events_by_type[envelope.type] += 1

    @app.page("/")
    async def health(web: Any, request: Any) -> Any:
        return web.json({"status": "ok", "service": "analytics-consumer"})

    return app


def run() -> None:
    """`ruta-analytics-consumer`: start a faust worker (extra arguments go to faust)."""
    settings = AnalyticsSettings()
    configure_logging("analytics-consumer", settings.log_level)
    # faust ignores topics missing at start; create them first so none is skipped.
    asyncio.run(ensure_topics(settings.kafka_bootstrap_servers))
    app = create_stream_app(settings)
    if len(sys.argv) == 1:
        sys.argv += ["worker", "--loglevel", "warn"]
    app.main()


if __name__ == "__main__":
    run()
