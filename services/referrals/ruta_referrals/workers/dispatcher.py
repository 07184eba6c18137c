"""Delivers queued webhooks: signed POSTs, exponential backoff, dead-letter after the last try.

At least once: a delivery is marked delivered only after the receiver answered 2xx, and a
worker that dies mid-attempt loses its lease, so another worker retries it. Every attempt
of one delivery carries the same `webhook-id`, which receivers use to drop duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx

from ruta_referrals.institutions.service import get_institution, webhook_secret
from ruta_referrals.runtime import Runtime
from ruta_referrals.webhooks.rules import attempt_update, backoff_seconds, signed_headers
from ruta_referrals.webhooks.service import (
    claim_delivery,
    finish_delivery,
    publish_delivery_failed,
    still_deliverable,
)
from ruta_referrals.webhooks.targets import (
    TARGET_REFUSED,
    GuardedTransport,
    TargetRefusedError,
    scheme_refused,
)

log = logging.getLogger(__name__)

Document = dict[str, Any]


class WebhookDispatcher:
    """Sends due deliveries until stopped; woken when something is enqueued or replayed."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._settings = runtime.settings
        self._wake = runtime.webhook_wakeup  # set by the enqueuing consumer and by replays
        self._stopping = asyncio.Event()
        self._client: httpx.AsyncClient | None = None

    def stop(self) -> None:
        """Finish after the current round."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Deliver until `stop()`."""
        self._client = self._new_client()
        try:
            while not self._stopping.is_set():
                try:
                    sent = await self.run_once()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("webhook round failed", extra={"error": type(exc).__name__})
                    sent = 0
                if sent == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._wake.wait(), self._settings.webhook_poll_interval_seconds
                        )
                    self._wake.clear()
        finally:
            await self._client.aclose()
            self._client = None

    def _new_client(self) -> httpx.AsyncClient:
        # Every connection is checked against the policy after DNS resolution.
        return httpx.AsyncClient(
            timeout=self._settings.webhook_timeout_seconds,
            follow_redirects=False,
            transport=GuardedTransport(lambda: self._runtime.webhook_targets),
        )

    async def run_once(self) -> int:
        """Attempt every delivery due now (up to a batch); returns how many were attempted."""
        lease = timedelta(seconds=self._settings.webhook_lease_seconds)
        claimed: list[Document] = []
        while len(claimed) < self._settings.webhook_batch_size and not self._stopping.is_set():
            delivery = await claim_delivery(
                runtime=self._runtime, now=datetime.now(UTC), lease=lease
            )
            if delivery is None:
                break
            claimed.append(delivery)
        # Concurrently, so one slow institution does not hold up the others' deliveries.
        results = await asyncio.gather(*(self._attempt(d) for d in claimed), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):  # the lease runs out and another round retries
                log.warning("webhook attempt failed", extra={"error": type(result).__name__})
        return len(claimed)

    async def _attempt(self, claimed: Document) -> None:
        now = datetime.now(UTC)
        if not await still_deliverable(runtime=self._runtime, claimed=claimed):
            # Revoked, declined or past retention: the institution is told nothing more.
            await self._finish(claimed, {"$set": {"status": "withdrawn", "lease_until": None}})
            self._runtime.metrics.webhook_attempts.labels("withdrawn").inc()
            return
        status_code: int | None = None
        error: str | None = None
        institution = await get_institution(
            runtime=self._runtime, institution_id=claimed["institution_id"]
        )
        url = None if institution is None else institution.get("webhook_url")
        secret = (
            None
            if institution is None
            else await webhook_secret(runtime=self._runtime, institution=institution)
        )
        if institution is None or institution.get("integration") != "webhook":
            error = "not_a_webhook_institution"
        elif url is None or secret is None:
            error = "webhook_not_configured"
        elif scheme_refused(url, self._runtime.webhook_targets):
            error = TARGET_REFUSED
        else:
            headers = signed_headers(
                secret=secret, message_id=claimed["_id"], body=claimed["body"], at=now
            )
            client = self._client or self._new_client()
            try:
                response = await client.post(url, content=claimed["body"], headers=headers)
                status_code = response.status_code
            except TargetRefusedError:
                error = TARGET_REFUSED
            except httpx.HTTPError as exc:
                error = type(exc).__name__
        attempts = int(claimed["attempts"]) + 1
        outcome = partial(
            attempt_update, attempts=attempts, status_code=status_code, error=error, now=now
        )
        metrics = self._runtime.metrics
        if status_code is not None and 200 <= status_code < 300:
            await self._finish(claimed, outcome("delivered", delivered_at=now))
            metrics.webhook_attempts.labels("delivered").inc()
            log.info(
                "webhook delivered",
                extra={"delivery_id": claimed["_id"], "attempts": attempts},
            )
            return
        if attempts >= self._settings.webhook_max_attempts:
            await publish_delivery_failed(
                runtime=self._runtime,
                claimed=claimed,
                attempts=attempts,
                status_code=status_code,
                now=now,
            )
            await self._finish(claimed, outcome("dead", dead_at=now))
            metrics.webhook_attempts.labels("dead_lettered").inc()
            log.warning(
                "webhook dead-lettered",
                extra={
                    "delivery_id": claimed["_id"],
                    "institution_id": claimed["institution_id"],
                    "attempts": attempts,
                    "last_status": status_code,
                    "error": error,
                },
            )
            return
        wait = backoff_seconds(
            attempts,
            base=self._settings.webhook_backoff_base_seconds,
            cap=self._settings.webhook_backoff_max_seconds,
        )
        await self._finish(
            claimed, outcome("pending", next_attempt_at=now + timedelta(seconds=wait))
        )
        metrics.webhook_attempts.labels("failed").inc()

    async def _finish(self, claimed: Document, update: Document) -> None:
        await finish_delivery(runtime=self._runtime, claimed=claimed, update=update)
