"""Periodic overdue detection: each stage that passed its deadline is published once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from ruta_shared.events import SYSTEM_ACTOR

from ruta_referrals.plans.service import mark_tasks_overdue, overdue_tasks
from ruta_referrals.referrals.overdue import count_overdue, mark_overdue
from ruta_referrals.runtime import Runtime
from ruta_referrals.stages.service import mark_stages_overdue, overdue_stages

log = logging.getLogger(__name__)


class OverdueChecker:
    """Marks referrals overdue every `overdue_check_interval_seconds` until stopped.

    Several replicas may run it: the per-case sequence guard lets only one of them write
    each overdue mark, and the deadline is cleared in the same write, so each stage of a
    referral becomes overdue, and is published, exactly once.
    """

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._stopping = asyncio.Event()

    async def run_once(self) -> int:
        """Check now; returns how many referral stages and route stages became overdue."""
        marked = await mark_overdue(
            runtime=self._runtime, now=datetime.now(UTC), actor=SYSTEM_ACTOR
        )
        metrics = self._runtime.metrics
        for referral in marked:
            metrics.overdue.labels(referral["overdue_stage"], referral["urgency"]).inc()
            log.info(
                "referral overdue",
                extra={"referral_id": referral["referral_id"], "stage": referral["overdue_stage"]},
            )
        metrics.overdue_open.set(await count_overdue(runtime=self._runtime))
        return len(marked) + await self._check_stages() + await self._check_tasks()

    async def _check_tasks(self) -> int:
        """Mark plan tasks past their due day; returns how many became overdue."""
        marked = await mark_tasks_overdue(
            runtime=self._runtime, now=datetime.now(UTC), actor=SYSTEM_ACTOR
        )
        metrics = self._runtime.metrics
        for task in marked:
            metrics.tasks_overdue.labels(task["goal"]).inc()
        open_now = await overdue_tasks(runtime=self._runtime, principal=None)
        metrics.tasks_overdue_open.set(len(open_now))
        return len(marked)

    async def _check_stages(self) -> int:
        """Mark route stages past their target; returns how many became overdue."""
        marked = await mark_stages_overdue(
            runtime=self._runtime, now=datetime.now(UTC), actor=SYSTEM_ACTOR
        )
        metrics = self._runtime.metrics
        for entry in marked:
            metrics.stages_overdue.labels(entry["stage"]).inc()
            log.info(
                "route stage overdue",
                extra={"occurrence_id": entry["stage_occurrence_id"], "stage": entry["stage"]},
            )
        open_now = await overdue_stages(runtime=self._runtime, principal=None)
        metrics.stages_overdue_open.set(len(open_now))
        return len(marked)

    async def run(self) -> None:
        """Check periodically until `stop()`."""
        interval = self._runtime.settings.overdue_check_interval_seconds
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("overdue check failed", extra={"error": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), interval)

    def stop(self) -> None:
        """Finish after the current check."""
        self._stopping.set()
