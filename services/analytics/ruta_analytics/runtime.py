"""The analytics app's per-app object: settings, database, active generation, metrics."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from prometheus_client import Counter, Gauge
from pymongo.asynchronous.database import AsyncDatabase
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.service import ServiceContext

from ruta_analytics.audit.checkpoints import CHECKPOINTS, LATEST, checkpoint_id
from ruta_analytics.audit.signing import AuditKeys, load_audit_keys
from ruta_analytics.figures.solved import SolvedStates
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
    audit_failures_by_reason: Counter
    audit_keys: AuditKeys
    # The suppressed view solved per projection state (`figures.published`).
    published: SolvedStates = field(default_factory=SolvedStates, compare=False)
    # The dashboard's figures of the latest projection state, shared by every open stream.
    dashboard: dict[str, Any] = field(default_factory=dict, compare=False)
    dashboard_lock: asyncio.Lock = field(default_factory=asyncio.Lock, compare=False)
    # When the newest checkpoint this process saw was sealed (the age gauge reads it).
    last_sealed: dict[str, float] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: AnalyticsSettings, context: ServiceContext) -> Runtime:
        """The runtime of one app, its metrics registered in the app's registry."""
        registry = context.metrics.registry
        runtime = cls(
            settings=settings,
            context=context,
            audit_failures=Counter(
                "ruta_audit_verification_failures_total",
                "Audit trail verifications that found a broken link.",
                registry=registry,
            ),
            audit_failures_by_reason=audit_failure_counter(registry),
            audit_keys=audit_keys(
                settings, context.security.settings if context.security else None
            ),
        )
        checkpoint_age_gauge(registry).set_function(runtime.checkpoint_age)
        return runtime

    def saw_checkpoint(self, body: dict[str, Any]) -> None:
        """Note a checkpoint read or sealed (for the age gauge)."""
        sealed = datetime.fromisoformat(str(body["sealed_at"])).timestamp()
        self.last_sealed["at"] = max(sealed, self.last_sealed.get("at", 0.0))

    async def refresh_checkpoint_age(self) -> None:
        """Read when the latest stored checkpoint was sealed (two `_id` lookups)."""
        pointer = await self.db[CHECKPOINTS].find_one({"_id": LATEST})
        if pointer is None:
            return
        latest = await self.db[CHECKPOINTS].find_one({"_id": checkpoint_id(int(pointer["seq"]))})
        if latest is not None:
            self.saw_checkpoint(latest["body"])

    def checkpoint_age(self) -> float:
        """Seconds since the newest checkpoint seen was sealed (+Inf before any)."""
        at = self.last_sealed.get("at")
        return time.time() - at if at is not None else float("inf")

    @property
    def db(self) -> AsyncDatabase[Document]:
        """The service's database (available once the app started)."""
        return self.context.db

    async def generation(self) -> Generation:
        """The generation readers use now."""
        return await active_generation(self.db)


def audit_key_dir(settings: AnalyticsSettings, security: SecuritySettings | None = None) -> Path:
    """Where the audit keys are: RUTA_AUDIT_KEY_DIR, else `audit` beside the other keys."""
    if settings.audit_key_dir is not None:
        return settings.audit_key_dir
    return (security or SecuritySettings(environment=settings.environment)).key_dir / "audit"


def audit_keys(settings: AnalyticsSettings, security: SecuritySettings | None = None) -> AuditKeys:
    """The checkpoints' keys (generated once on the local default)."""
    return load_audit_keys(
        audit_key_dir(settings, security),
        signing_key_file=settings.audit_signing_key_file,
        generate=settings.environment in {"local", "test"},
    )


def audit_failure_counter(registry: Any) -> Counter:
    """Verification problems by reason (reason names only, never case data)."""
    return Counter(
        "ruta_audit_verification_problems_total",
        "Problems audit verifications found, by reason.",
        ["reason"],
        registry=registry,
    )


def checkpoint_age_gauge(registry: Any) -> Gauge:
    """Seconds since the newest audit checkpoint (the alert rule's metric)."""
    return Gauge(
        "ruta_audit_checkpoint_age_seconds",
        "Seconds since the newest audit checkpoint was sealed.",
        registry=registry,
    )


def get_runtime(request: Request) -> Runtime:
    """FastAPI dependency: the running app's runtime."""
    runtime: Runtime = request.app.state.runtime
    return runtime
