"""The intake service's per-app objects (collections, keys, access log) and route dependencies."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from ruta_shared.api import IdempotencyStore, idempotency_key
from ruta_shared.outbox import Outbox
from ruta_shared.security.access_log import ACCESS_LOG_COLLECTION, AccessLog
from ruta_shared.security.break_glass import BREAK_GLASS_COLLECTION, BreakGlass
from ruta_shared.security.crypto import BlindIndex, DataKeyStore
from ruta_shared.security.install import SecurityContext
from ruta_shared.service import ServiceContext

Document = dict[str, Any]

CASES: Final = "cases"
VICTIM_PERSONAL_DATA: Final = "victim_personal_data"
RELATIVE_PERSONAL_DATA: Final = "relative_personal_data"
COUNTERS: Final = "case_counters"
IDEMPOTENCY: Final = "idempotency_keys"
# Collections whose documents carry outbox events (the relay watches them).
OUTBOX_COLLECTIONS: Final = (CASES, ACCESS_LOG_COLLECTION, BREAK_GLASS_COLLECTION)


@dataclass
class Intake:
    """What intake's service functions work with, built once per running app."""

    context: ServiceContext
    _case_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary, repr=False
    )

    def case_lock(self, case_id: str) -> asyncio.Lock:
        """This process's lock for changes to one case.

        The `_seq` guard of the outbox update is what keeps writers apart on MongoDB, but
        FerretDB v1 (SQLite) applies an update as read-then-write without isolation, so two
        guarded updates of one document can both succeed and one is lost. Serialising
        changes of a case within the process closes that gap for a single replica.
        """
        lock = self._case_locks.get(case_id)
        if lock is None:
            lock = asyncio.Lock()
            self._case_locks[case_id] = lock
        return lock

    @property
    def db(self) -> AsyncDatabase[Document]:
        """Intake's own database."""
        return self.context.db

    @property
    def outbox(self) -> Outbox:
        """The outbox every event goes through."""
        return self.context.outbox

    @property
    def security(self) -> SecurityContext:
        """Keys and security metrics of this app."""
        if self.context.security is None:
            msg = "security is not installed"
            raise RuntimeError(msg)
        return self.context.security

    @property
    def cases(self) -> AsyncCollection[Document]:
        """Case aggregates (with victims, relatives, consents and care, non-identifying)."""
        return self.db[CASES]

    @property
    def victim_data(self) -> AsyncCollection[Document]:
        """Victims' encrypted personal data, one document per victim."""
        return self.db[VICTIM_PERSONAL_DATA]

    @property
    def relative_data(self) -> AsyncCollection[Document]:
        """Relatives' encrypted personal data, one document per relative."""
        return self.db[RELATIVE_PERSONAL_DATA]

    @property
    def counters(self) -> AsyncCollection[Document]:
        """Case-number counters per office and year."""
        return self.db[COUNTERS]

    @cached_property
    def data_keys(self) -> DataKeyStore:
        """Per-person data keys (erasure destroys them)."""
        return DataKeyStore(self.db, self.security.keyring)

    @property
    def blind_index(self) -> BlindIndex:
        """Keyed hashes of document numbers, for duplicate checks."""
        return self.security.blind_index

    @cached_property
    def access_log(self) -> AccessLog:
        """Who read whose personal data, published as pii.accessed."""
        return AccessLog(
            database=self.db,
            outbox=self.outbox,
            service="intake",
            metrics=self.security.access_log_metrics,
        )

    @cached_property
    def break_glass(self) -> BreakGlass:
        """Time-limited access to cases outside one's offices."""
        return BreakGlass(
            database=self.db,
            outbox=self.outbox,
            service="intake",
            settings=self.security.settings,
            data_keys=self.data_keys,
            metrics=self.security.break_glass_metrics,
        )

    @cached_property
    def document_index(self) -> AsyncCollection[Document]:
        """Blind index of document numbers → victim ids, keyed by the index itself."""
        return self.db["victim_document_index"]

    @cached_property
    def idempotency(self) -> IdempotencyStore:
        """Outcomes of POSTs by Idempotency-Key."""
        return IdempotencyStore(self.db[IDEMPOTENCY])

    async def ensure_indexes(self) -> None:
        """Indexes for lists, filters and duplicate checks (idempotent)."""
        await self.cases.create_index([("office", 1), ("opened_at", -1)], name="office_opened")
        await self.cases.create_index([("status", 1)], name="status")
        await self.cases.create_index("case_code", unique=True, name="case_code_unique")
        await self.relative_data.create_index([("victim_id", 1)], name="victim")
        await self.data_keys.ensure_indexes()
        await self.break_glass.ensure_indexes()


async def prepare_database(context: ServiceContext) -> None:
    """Startup hook: intake's indexes."""
    await Intake(context).ensure_indexes()


def get_intake(request: Request) -> Intake:
    """FastAPI dependency: the running app's Intake (made by the composition root)."""
    intake: Intake = request.app.state.intake
    return intake


IntakeDep = Annotated[Intake, Depends(get_intake)]
IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]
