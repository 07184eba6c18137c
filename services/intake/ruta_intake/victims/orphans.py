"""Repair of interrupted writes: personal data and data keys no case ever came to list.

Personal data is written before the case change that lists the person (the case document
is the commit record). If that change never lands (a crash, a database outage, a refused
rule after the data was written) the data and its key would stay forever, readable by
nobody and owned by nobody. Every write first notes the person
(`personal_data.note_uncommitted`); the sweep looks only at these notes (never a scan of
all personal data) and shreds what no case lists.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from ruta_intake.runtime import Runtime
from ruta_intake.victims.personal_data import (
    UNCOMMITTED,
    SubjectType,
    personal_data_collection,
)

log = logging.getLogger(__name__)

Document = dict[str, Any]

# Longer than any request may take between writing the data and writing the case.
SWEEP_GRACE: Final = timedelta(minutes=15)
SWEEP_INTERVAL_SECONDS: Final = 300.0
_LISTS: Final[dict[str, tuple[str, str]]] = {
    "victim": ("victims", "victim_id"),
    "relative": ("relatives", "relative_id"),
}


def uncommitted(runtime: Runtime) -> AsyncCollection[Document]:
    """Notes of personal data written whose case change may not have landed yet."""
    return runtime.db[UNCOMMITTED]


async def sweep_orphans(
    *, runtime: Runtime, older_than: timedelta = SWEEP_GRACE, limit: int = 1000
) -> int:
    """Shred noted personal data that no case lists after `older_than`; returns how many."""
    cutoff = datetime.now(UTC) - older_than
    notes = await uncommitted(runtime).find({"at": {"$lt": cutoff}}, limit=limit).to_list()
    shredded = 0
    for note in notes:
        field, id_field = _LISTS[note["subject_type"]]
        case = await runtime.cases.get(note["case_id"])
        listed = case is not None and any(
            person.get(id_field) == note["subject_id"] for person in case.get(field, [])
        )
        if not listed:
            await _shred(runtime=runtime, subject_type=note["subject_type"], note=note)
            shredded += 1
        await uncommitted(runtime).delete_one({"_id": note["_id"]})
    if shredded:
        log.warning("orphaned personal data shredded", extra={"count": shredded})
    return shredded


async def _shred(*, runtime: Runtime, subject_type: SubjectType, note: Document) -> None:
    """Destroy the key (the data is unreadable from then on), then drop the data itself."""
    subject_id = note["subject_id"]
    collection = personal_data_collection(runtime=runtime, subject_type=subject_type)
    stored = await collection.find_one({"_id": subject_id}, {"document_index": 1})
    await runtime.data_keys.destroy(subject_type, subject_id)
    if stored is not None and stored.get("document_index") and subject_type == "victim":
        await runtime.document_index.update_one(
            {"_id": stored["document_index"]}, {"$pull": {"victim_ids": subject_id}}
        )
    await collection.delete_one({"_id": subject_id})


async def sweep_forever(runtime: Runtime, interval: float = SWEEP_INTERVAL_SECONDS) -> None:
    """Run the sweep every `interval` seconds until cancelled (a database outage only delays it)."""
    while True:
        with contextlib.suppress(PyMongoError):
            await sweep_orphans(runtime=runtime)
        await asyncio.sleep(interval)
