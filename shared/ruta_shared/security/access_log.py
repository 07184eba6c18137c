"""Records every read of decrypted personal data (who, role, when, whose, why) and publishes it.

Each read is one document in the serving service's `access_log` collection, inserted
together with its `pii.accessed` event through the service's outbox, so the record and
the event exist together or not at all. Neither carries the data that was read: only
field names, pseudonymous ids and the purpose code.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter
from pymongo.asynchronous.database import AsyncDatabase
from uuid6 import uuid7

from ruta_shared.events.catalog.security import (
    AccessPurpose,
    PiiAccessed,
    SubjectType,
    for_source,
)
from ruta_shared.outbox import Outbox
from ruta_shared.security.principal import Principal

log = logging.getLogger(__name__)

ACCESS_LOG_COLLECTION: Final = "access_log"

Document = dict[str, Any]


class AccessLogMetrics:
    """Counts reads of personal data by purpose (labels carry no personal data)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.reads = Counter(
            "ruta_pii_reads_total",
            "Reads of decrypted personal data, by purpose.",
            ["service", "purpose", "break_glass"],
            registry=registry,
        )


class AccessLog:
    """The serving service's record of who read whose personal data."""

    def __init__(
        self,
        *,
        database: AsyncDatabase[Document],
        outbox: Outbox,
        service: str,
        metrics: AccessLogMetrics | None = None,
    ) -> None:
        self._collection = database[ACCESS_LOG_COLLECTION]
        self._outbox = outbox
        self._service = service
        self._metrics = metrics
        self._event = for_source(PiiAccessed, service)

    async def record(
        self,
        *,
        principal: Principal,
        subject_type: SubjectType,
        subject_id: str,
        purpose: AccessPurpose,
        fields: Sequence[str],
        case_id: str | None = None,
        break_glass_grant_id: str | None = None,
    ) -> str:
        """Record one read and queue its event; returns the access id.

        Call it before returning decrypted data: if the record cannot be written, the
        read must fail rather than go unrecorded.
        """
        access_id = str(uuid7())
        now = datetime.now(UTC)
        payload = self._event(
            access_id=access_id,
            subject_type=subject_type,
            subject_id=subject_id,
            case_id=case_id,
            purpose=purpose,
            fields=sorted(set(fields)),
            accessed_at=now,
            break_glass_grant_id=break_glass_grant_id,
        )
        document = {
            "_id": access_id,
            "user_id": principal.id,
            "role": principal.role.value,
            **payload.model_dump(exclude={"access_id"}),
        }
        await self._outbox.insert(
            self._collection,
            document,
            subject=access_id,
            payloads=[payload],
            actor=principal.actor,
        )
        if self._metrics is not None:
            self._metrics.reads.labels(
                self._service, purpose, "yes" if break_glass_grant_id else "no"
            ).inc()
        log.info(
            "personal data read",
            extra={
                "access_id": access_id,
                "user_id": principal.id,
                "role": principal.role.value,
                "subject_type": subject_type,
                "subject_id": subject_id,
                "purpose": purpose,
            },
        )
        return access_id

    async def for_subject(
        self, subject_type: SubjectType, subject_id: str, *, limit: int = 200
    ) -> list[Document]:
        """The latest reads of one person's data (for auditors and coordinators)."""
        cursor = self._collection.find(
            {"subject_type": subject_type, "subject_id": subject_id},
            {"_outbox": 0, "_outbox_pending": 0, "_seq": 0},
            sort=[("accessed_at", -1)],
            limit=limit,
        )
        return await cursor.to_list()
