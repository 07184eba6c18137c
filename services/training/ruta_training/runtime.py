"""The training app's one runtime: its collections, the session aggregates and its stores."""

from __future__ import annotations

from functools import cached_property
from typing import Any, Final

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from ruta_shared.aggregate import Aggregates
from ruta_shared.api import IdempotencyStore
from ruta_shared.outbox import SEQUENCE_FIELD, Outbox
from ruta_shared.security.access_log import ACCESS_LOG_COLLECTION, AccessLog
from ruta_shared.security.crypto import BlindIndex, DataKeyStore
from ruta_shared.security.install import SecurityContext
from ruta_shared.security.keys import MasterKeyring
from ruta_shared.service import ServiceContext

from ruta_training.settings import TrainingSettings

Document = dict[str, Any]

SESSIONS: Final = "sessions"  # the aggregate: its outbox carries every training event
PARTICIPANTS: Final = "participants"  # the registry (an aggregate); personal fields encrypted
PARTICIPANT_KEYS: Final = "participant_keys"  # blind index and office -> participant id
DUPLICATES: Final = "participant_duplicates"  # suspected duplicates across offices
CERTIFICATE_CODES: Final = "certificate_codes"  # hash of a verification code -> certificate
IMPORTS: Final = "imports"  # one record per sheet uploaded (counts and row errors only)
IDEMPOTENCY: Final = "idempotency"

OUTBOX_COLLECTIONS: Final = (SESSIONS, PARTICIPANTS, DUPLICATES, ACCESS_LOG_COLLECTION)
SESSION_BUSY_DETAIL: Final = (
    "La sesión está recibiendo muchos cambios a la vez: vuelva a intentarlo."
)


class Runtime:
    """Everything the training routes use, built once when the app starts."""

    def __init__(self, context: ServiceContext, settings: TrainingSettings) -> None:
        if context.security is None:  # create_service_app always installs security
            msg = "the training app needs its security context"
            raise RuntimeError(msg)
        self.settings = settings
        self.db: AsyncDatabase[Document] = context.db
        self.outbox: Outbox = context.outbox
        self.security: SecurityContext = context.security
        self.sessions = Aggregates(
            collection=self.db[SESSIONS],
            outbox=self.outbox,
            name="session",
            attempts=settings.session_write_attempts,
            busy_detail=SESSION_BUSY_DETAIL,
        )
        # Rectification, erasure and merges change a participant with its event.
        self.registry = Aggregates(
            collection=self.db[PARTICIPANTS],
            outbox=self.outbox,
            name="participant",
            attempts=settings.session_write_attempts,
        )
        self.participants: AsyncCollection[Document] = self.db[PARTICIPANTS]
        self.duplicates = Aggregates(
            collection=self.db[DUPLICATES], outbox=self.outbox, name="participant_duplicate"
        )
        self.participant_keys: AsyncCollection[Document] = self.db[PARTICIPANT_KEYS]
        self.certificate_codes: AsyncCollection[Document] = self.db[CERTIFICATE_CODES]
        self.imports: AsyncCollection[Document] = self.db[IMPORTS]
        self.idempotency = IdempotencyStore(self.db[IDEMPOTENCY])
        self.access_log = AccessLog(
            database=self.db,
            outbox=self.outbox,
            service="training",
            metrics=self.security.access_log_metrics,
        )

    # Keys load on first use (as before the runtime existed), not when the app starts.
    @cached_property
    def keyring(self) -> MasterKeyring:
        """Master keys that wrap participants' data keys."""
        return self.security.keyring

    @cached_property
    def data_keys(self) -> DataKeyStore:
        """Participants' data keys."""
        return DataKeyStore(self.db, self.keyring)

    @property
    def blind_index(self) -> BlindIndex:
        """The blind index for document numbers and emails."""
        return self.security.blind_index

    async def ensure_indexes(self) -> None:
        """Indexes the queries need; harmless to repeat."""
        await self.db[SESSIONS].create_index("office", name="office")
        await self.db[SESSIONS].create_index("starts_on", name="starts_on")
        await self.participants.create_index("offices", name="offices")
        # Participants registered before they were an aggregate start at version 0.
        await self.participants.update_many(
            {SEQUENCE_FIELD: {"$exists": False}}, {"$set": {SEQUENCE_FIELD: 0}}
        )
        await self.db[DUPLICATES].create_index("status", name="status")
        await self.imports.create_index("session_id", name="session_id")
        await self.data_keys.ensure_indexes()
