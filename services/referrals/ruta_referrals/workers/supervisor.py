"""Starts and stops the service's background work: the two consumers, webhooks, overdue checks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from ruta_shared.events import EventEnvelope
from ruta_shared.kafka.admin import ensure_topics
from ruta_shared.kafka.consumer import EventConsumer
from ruta_shared.service import ServiceContext
from ruta_shared.topics import INTAKE_EVENTS, REFERRALS_EVENTS

from ruta_referrals.intake.projection import IntakeProjection
from ruta_referrals.overdue import OverdueChecker
from ruta_referrals.referrals.views import store
from ruta_referrals.runtime import Runtime
from ruta_referrals.webhooks.deliveries import DeliveryStore
from ruta_referrals.webhooks.dispatcher import WebhookDispatcher

log = logging.getLogger(__name__)

Document = dict[str, Any]
Handler = Callable[[EventEnvelope], Awaitable[None]]
RESTART_PAUSE_SECONDS = 2.0


class Workers:
    """The background tasks of one app; `start`/`stop` are its startup and shutdown hooks."""

    def __init__(self) -> None:
        self._runtime: Runtime | None = None
        self._app: FastAPI | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._consumers: list[EventConsumer] = []
        self.dispatcher: WebhookDispatcher | None = None
        self.overdue: OverdueChecker | None = None

    def bind(self, runtime: Runtime, app: FastAPI) -> None:
        """Attach the app's runtime (known only once the app is built)."""
        self._runtime = runtime
        self._app = app

    @property
    def runtime(self) -> Runtime:
        """The bound runtime."""
        if self._runtime is None:
            msg = "workers are not bound to an app"
            raise RuntimeError(msg)
        return self._runtime

    async def start(self, _: ServiceContext) -> None:
        """Indexes, seed data, then every background task."""
        runtime = self.runtime
        settings = runtime.settings
        routes = store(runtime)
        await routes.ensure_indexes()
        await runtime.institutions.ensure_indexes()
        await runtime.keys.ensure_indexes()
        await DeliveryStore(runtime.db).ensure_indexes()
        if settings.seed_institutions:
            await runtime.institutions.seed()
        prefix = settings.consumer_group_prefix
        if settings.run_intake_consumer:
            projection = IntakeProjection(runtime.db, runtime.keys, runtime.context.outbox.locks)
            self._consume(f"{prefix}-intake-projection", INTAKE_EVENTS, projection.handle)
        if settings.run_webhook_workers:
            self.dispatcher = WebhookDispatcher(runtime, routes)
            if self._app is not None:
                self._app.state.webhook_dispatcher = self.dispatcher
            self._consume(f"{prefix}-webhooks", REFERRALS_EVENTS, self._enqueue_webhook)
            self._tasks.append(asyncio.create_task(self.dispatcher.run(), name="webhooks"))
        if settings.run_overdue_checker:
            self.overdue = OverdueChecker(runtime, routes)
            self._tasks.append(asyncio.create_task(self.overdue.run(), name="overdue"))

    async def _enqueue_webhook(self, envelope: EventEnvelope) -> None:
        runtime = self.runtime
        if await DeliveryStore(runtime.db).enqueue(envelope, runtime.institutions):
            runtime.metrics.webhook_enqueued.inc()
            if self.dispatcher is not None:
                self.dispatcher.wake()

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
                await ensure_topics(settings.kafka_bootstrap_servers)
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

    async def stop(self, _: ServiceContext) -> None:
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
