"""Break-the-glass: time-limited access to a case outside one's office scope, with a justification.

The grant is stored (justification encrypted, as it may name people), logged, published
as `access.break_glass_granted` through the service's outbox, and counted in a metric.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from fastapi import HTTPException
from prometheus_client import CollectorRegistry, Counter
from pymongo.asynchronous.database import AsyncDatabase
from uuid6 import uuid7

from ruta_shared.events.catalog.security import BreakGlassGranted, for_source
from ruta_shared.outbox import Outbox
from ruta_shared.security.crypto import DataKeyStore
from ruta_shared.security.permissions import NOT_FOUND_DETAIL, in_office_scope
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings

log = logging.getLogger(__name__)

BREAK_GLASS_COLLECTION: Final = "break_glass_grants"
GRANT_SUBJECT_TYPE: Final = "break_glass_grant"

Document = dict[str, Any]


class BreakGlassError(ValueError):
    """A break-the-glass request was refused; the message is Spanish, for the user."""


class BreakGlassMetrics:
    """Counts grants by role (labels carry no personal data)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.grants = Counter(
            "ruta_break_glass_grants_total",
            "Break-the-glass access grants, by the role of the user who got one.",
            ["service", "role"],
            registry=registry,
        )


@dataclass(frozen=True)
class Grant:
    """A time-limited access grant to one case for one user."""

    id: str
    user_id: str
    case_id: str
    office: str
    granted_at: datetime
    expires_at: datetime


def check_justification(text: str, min_length: int) -> str:
    """The stripped justification, or BreakGlassError when it is too short."""
    stripped = " ".join(text.split())
    if len(stripped) < min_length:
        msg = f"Escriba una justificación de al menos {min_length} caracteres."
        raise BreakGlassError(msg)
    return stripped


class BreakGlass:
    """Grants and looks up break-the-glass access in the owning service's database."""

    def __init__(
        self,
        *,
        database: AsyncDatabase[Document],
        outbox: Outbox,
        service: str,
        settings: SecuritySettings,
        data_keys: DataKeyStore,
        metrics: BreakGlassMetrics | None = None,
    ) -> None:
        self._grants = database[BREAK_GLASS_COLLECTION]
        self._outbox = outbox
        self._service = service
        self._settings = settings
        self._data_keys = data_keys
        self._metrics = metrics
        self._event = for_source(BreakGlassGranted, service)

    async def ensure_indexes(self) -> None:
        """Lookups by case and user."""
        await self._grants.create_index([("case_id", 1), ("user_id", 1)], name="case_user")

    async def grant(
        self, *, principal: Principal, case_id: str, office: str, justification: str
    ) -> Grant:
        """Give `principal` access to one case for the configured minutes."""
        if principal.role is Role.PARTNER:
            msg = "Las instituciones socias no pueden solicitar acceso de emergencia."
            raise BreakGlassError(msg)
        if in_office_scope(principal, office):
            msg = "Ya tiene acceso a este caso: no necesita acceso de emergencia."
            raise BreakGlassError(msg)
        text = check_justification(justification, self._settings.break_glass_min_justification)
        now = datetime.now(UTC)
        grant = Grant(
            id=str(uuid7()),
            user_id=principal.id,
            case_id=case_id,
            office=office,
            granted_at=now,
            expires_at=now + timedelta(minutes=self._settings.break_glass_minutes),
        )
        key = await self._data_keys.create(GRANT_SUBJECT_TYPE, grant.id)
        payload = self._event(
            grant_id=grant.id,
            case_id=case_id,
            office=office,
            granted_at=grant.granted_at,
            expires_at=grant.expires_at,
            justification_length=len(text),
        )
        await self._outbox.insert(
            self._grants,
            {
                "_id": grant.id,
                "user_id": principal.id,
                "role": principal.role.value,
                "case_id": case_id,
                "office": office,
                "granted_at": grant.granted_at,
                "expires_at": grant.expires_at,
                "justification": key.encrypt("justification", text),
            },
            subject=grant.id,
            payloads=[payload],
            actor=principal.actor,
        )
        if self._metrics is not None:
            self._metrics.grants.labels(self._service, principal.role.value).inc()
        log.warning(
            "break-glass access granted",
            extra={
                "grant_id": grant.id,
                "user_id": principal.id,
                "role": principal.role.value,
                "case_id": case_id,
                "office": office,
                "expires_at": grant.expires_at.isoformat(),
            },
        )
        return grant

    async def active_grant(
        self, *, principal: Principal, case_id: str, now: datetime | None = None
    ) -> Grant | None:
        """The caller's unexpired grant on a case, if any."""
        document = await self._grants.find_one(
            {
                "case_id": case_id,
                "user_id": principal.id,
                "expires_at": {"$gt": now or datetime.now(UTC)},
            },
            sort=[("expires_at", -1)],
        )
        if document is None:
            return None
        return Grant(
            id=str(document["_id"]),
            user_id=str(document["user_id"]),
            case_id=str(document["case_id"]),
            office=str(document["office"]),
            granted_at=document["granted_at"],
            expires_at=document["expires_at"],
        )

    async def ensure_case_access(
        self, *, principal: Principal, case_id: str, office: str
    ) -> Grant | None:
        """Allow a case in scope (None) or under an active grant (the grant); 404 otherwise."""
        if in_office_scope(principal, office):
            return None
        grant = await self.active_grant(principal=principal, case_id=case_id)
        if grant is None:
            raise HTTPException(status_code=404, detail=NOT_FOUND_DETAIL)
        return grant
