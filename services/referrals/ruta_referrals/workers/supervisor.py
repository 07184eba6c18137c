"""Starts and stops the service's background work: the two consumers, webhooks, overdue checks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ruta_shared.events import EventEnvelope
from ruta_shared.kafka.admin import ensure_topics
from ruta_shared.kafka.consumer import EventConsumer
from ruta_shared.topics import INTAKE_EVENTS, REFERRALS_EVENTS

from ruta_referrals.intake_projection.service import apply_intake_event
from ruta_referrals.runtime import Runtime
from ruta_referrals.webhooks.service import enqueue_delivery
from ruta_referrals.workers.dispatcher import WebhookDispatcher
from ruta_referrals.workers.overdue import OverdueChecker

log = logging.getLogger(__name__)

Document = dict[str, Any]
Handler = Callable[[EventEnvelope], Awaitable[None]]
RESTART_PAUSE_SECONDS = 2.0


class Workers:
    """The background tasks of one app, started and stopped by its startup and shutdown hooks."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._tasks: list[asyncio.Task[None]] = []
        self._consumers: list[EventConsumer] = []
        self.dispatcher: WebhookDispatcher | None = None
        self.overdue: OverdueChecker | None = None

    def start(self) -> None:
        """Start every background task the settings switch on."""
        runtime = self.runtime
        settings = runtime.settings
        prefix = settings.consumer_group_prefix
        if settings.run_intake_consumer:
            self._consume(f"{prefix}-intake-projection", INTAKE_EVENTS, self._project_intake)
        if settings.run_webhook_workers:
            self.dispatcher = WebhookDispatcher(runtime)
            self._consume(f"{prefix}-webhooks", REFERRALS_EVENTS, self._enqueue_webhook)
            self._tasks.append(asyncio.create_task(self.dispatcher.run(), name="webhooks"))
        if settings.run_overdue_checker:
            self.overdue = OverdueChecker(runtime)
            self._tasks.append(asyncio.create_task(self.overdue.run(), name="overdue"))

    async def _project_intake(self, envelope: EventEnvelope) -> None:
        await apply_intake_event(runtime=self.runtime, envelope=envelope)

    async def _enqueue_webhook(self, envelope: EventEnvelope) -> None:
        runtime = self.runtime
        if await enqueue_delivery(runtime=runtime, envelope=envelope):
            runtime.metrics.webhook_enqueued.inc()
            runtime.webhook_wakeup.set()

    def _consume(self, group_id: str, topic: str, handler: Handler) -> None:
        self._tasks.append(
            asyncio.create_task(self._supervise(group_id, topic, handler), name=group_id)
        )

    async def _supervise(self, group_id: str, topic: str, handler: Handler) -> None:
        """Run a consumer; if Kafka is away at start or the consumer dies, start it again."""
        settings = self.runtime.settings
        while True:
            consumer = EventConsumer(
                bootstrap_servers=settings.kafka_bootstrap_servers,
                group_id=group_id,
                topics=[topic],
                handler=handler,
                metrics=self.runtime.context.metrics,
            )
            try:
                await ensure_topics(settings.kafka_bootstrap_servers, settings=settings)
                await consumer.start()
                self._consumers.append(consumer)
                await consumer.run()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "consumer stopped, restarting",
                    extra={"group": group_id, "error": type(exc).__name__},
                )
            finally:
                if consumer in self._consumers:
                    self._consumers.remove(consumer)
                with contextlib.suppress(Exception):
                    await consumer.stop()
            await asyncio.sleep(RESTART_PAUSE_SECONDS)

    async def stop(self) -> None:
        """Stop every task; unfinished consumer work is re-delivered (handlers are idempotent)."""
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if self.overdue is not None:
            self.overdue.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
