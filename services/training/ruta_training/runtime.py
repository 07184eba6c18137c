"""The training service's collections, and the indexes it makes at start."""

from __future__ import annotations

from typing import Final

from ruta_shared.security.access_log import ACCESS_LOG_COLLECTION
from ruta_shared.security.crypto import DataKeyStore
from ruta_shared.service import ServiceContext

SESSIONS: Final = "sessions"  # the aggregate: its outbox carries every training event
PARTICIPANTS: Final = "participants"  # the registry; personal fields encrypted
PARTICIPANT_KEYS: Final = "participant_keys"  # blind index -> participant id (dedupe)
CERTIFICATE_CODES: Final = "certificate_codes"  # hash of a verification code -> certificate
IMPORTS: Final = "imports"  # one record per sheet uploaded (counts and row errors only)
IDEMPOTENCY: Final = "idempotency"

OUTBOX_COLLECTIONS: Final = (SESSIONS, ACCESS_LOG_COLLECTION)


async def ensure_indexes(context: ServiceContext) -> None:
    """Indexes the queries need; harmless to repeat."""
    db = context.db
    await db[SESSIONS].create_index("office", name="office")
    await db[SESSIONS].create_index("starts_on", name="starts_on")
    await db[PARTICIPANTS].create_index("offices", name="offices")
    await db[IMPORTS].create_index("session_id", name="session_id")
    if context.security is not None:
        await DataKeyStore(db, context.security.keyring).ensure_indexes()
