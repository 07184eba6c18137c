"""The intake service's one per-app object: case aggregates, personal-data stores, keys, logs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from fastapi import HTTPException
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from ruta_shared.aggregate import Aggregates
from ruta_shared.api import IdempotencyStore
from ruta_shared.outbox import Outbox
from ruta_shared.security.access_log import ACCESS_LOG_COLLECTION, AccessLog
from ruta_shared.security.break_glass import BREAK_GLASS_COLLECTION, BreakGlass
from ruta_shared.security.crypto import BlindIndex, DataKeyStore
from ruta_shared.security.install import SecurityContext
from ruta_shared.security.permissions import NOT_FOUND_DETAIL
from ruta_shared.service import ServiceContext

Document = dict[str, Any]

CASES: Final = "cases"
VICTIM_PERSONAL_DATA: Final = "victim_personal_data"
RELATIVE_PERSONAL_DATA: Final = "relative_personal_data"
VICTIM_DOCUMENT_INDEX: Final = "victim_document_index"
COUNTERS: Final = "case_counters"
IDEMPOTENCY: Final = "idempotency_keys"
POSSIBLE_DUPLICATES: Final = "possible_duplicates"
PROJECTS: Final = "projects"
VICTIM_LINKS: Final = "victim_links"
# Collections whose documents carry outbox events (the relay watches them).
OUTBOX_COLLECTIONS: Final = (
    CASES,
    ACCESS_LOG_COLLECTION,
    BREAK_GLASS_COLLECTION,
    POSSIBLE_DUPLICATES,
    PROJECTS,
)
CASE_BUSY_DETAIL: Final = "El caso está recibiendo muchos cambios a la vez: intente de nuevo."


def not_found() -> HTTPException:
    """404, the same for "does not exist" and "outside your offices"."""
    return HTTPException(status_code=404, detail=NOT_FOUND_DETAIL)


@dataclass(frozen=True)
class Runtime:
    """What intake's service functions work with, built once per running app at startup."""

    context: ServiceContext
    security: SecurityContext
    # Case aggregates: victims, relatives, consents and care live inside (non-identifying).
    cases: Aggregates
    # Possible duplicates across offices, for a coordinator to resolve (no personal data).
    duplicates: Aggregates
    # The registry of funded projects (`_id` = project code).
    projects: Aggregates
    # Per-person data keys (erasure destroys them).
    data_keys: DataKeyStore
    # Who read whose personal data, published as pii.accessed.
    access_log: AccessLog
    # Time-limited access to cases outside one's offices.
    break_glass: BreakGlass
    # Outcomes of POSTs by Idempotency-Key.
    idempotency: IdempotencyStore

    @classmethod
    def build(cls, context: ServiceContext) -> Runtime:
        """The runtime of a started app (its Mongo client and security are in `context`)."""
        if context.security is None:
            msg = "security is not installed"
            raise RuntimeError(msg)
        security, db, outbox = context.security, context.db, context.outbox
        data_keys = DataKeyStore(db, security.keyring)
        return cls(
            context=context,
            security=security,
            cases=Aggregates(
                collection=db[CASES],
                outbox=outbox,
                name="case",
                not_found=not_found,
                busy_detail=CASE_BUSY_DETAIL,
            ),
            duplicates=Aggregates(
                collection=db[POSSIBLE_DUPLICATES],
                outbox=outbox,
                name="possible_duplicate",
                not_found=not_found,
            ),
            projects=Aggregates(
                collection=db[PROJECTS], outbox=outbox, name="project", not_found=not_found
            ),
            data_keys=data_keys,
            access_log=AccessLog(
                database=db,
                outbox=outbox,
                service="intake",
                metrics=security.access_log_metrics,
            ),
            break_glass=BreakGlass(
                database=db,
                outbox=outbox,
                service="intake",
                settings=security.settings,
                data_keys=data_keys,
                metrics=security.break_glass_metrics,
            ),
            idempotency=IdempotencyStore(
                db[IDEMPOTENCY], lease_seconds=context.settings.idempotency_lease_seconds
            ),
        )

    @property
    def db(self) -> AsyncDatabase[Document]:
        """Intake's own database."""
        return self.context.db

    @property
    def outbox(self) -> Outbox:
        """The outbox every event goes through."""
        return self.context.outbox

    @property
    def blind_index(self) -> BlindIndex:
        """Keyed hashes of document numbers, for duplicate checks."""
        return self.security.blind_index

    @property
    def victim_data(self) -> AsyncCollection[Document]:
        """Victims' encrypted personal data, one document per victim."""
        return self.db[VICTIM_PERSONAL_DATA]

    @property
    def relative_data(self) -> AsyncCollection[Document]:
        """Relatives' encrypted personal data, one document per relative."""
        return self.db[RELATIVE_PERSONAL_DATA]

    @property
    def document_index(self) -> AsyncCollection[Document]:
        """Blind index of document numbers → victim ids, keyed by the index itself."""
        return self.db[VICTIM_DOCUMENT_INDEX]

    @property
    def victim_links(self) -> AsyncCollection[Document]:
        """Victim records a coordinator found to be one person, keyed by victim id."""
        return self.db[VICTIM_LINKS]

    @property
    def counters(self) -> AsyncCollection[Document]:
        """Case-number counters per office and year."""
        return self.db[COUNTERS]

    async def ensure_indexes(self) -> None:
        """Indexes for lists, filters and duplicate checks (idempotent)."""
        cases = self.cases.collection
        await cases.create_index([("office", 1), ("opened_at", -1)], name="office_opened")
        await cases.create_index([("status", 1)], name="status")
        await cases.create_index("case_code", unique=True, name="case_code_unique")
        await self.relative_data.create_index([("victim_id", 1)], name="victim")
        await self.duplicates.collection.create_index(
            [("status", 1), ("detected_at", 1)], name="status_detected"
        )
        await self.data_keys.ensure_indexes()
        await self.break_glass.ensure_indexes()
