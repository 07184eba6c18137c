"""Where projections live in MongoDB: generations of collections, loading and writing batches.

Every projection collection is named `<generation>_<name>`; the document `_id: "active"` in
`generations` says which generation the API reads and the consumer writes. A rebuild fills a
fresh generation and then switches the pointer, so readers never see a half-built one.

The audit trail is the exception: it is a ledger (`audit_trail`, `audit_trail_heads`), the
same for every generation, appended to by the live consumer only. A rebuild never rewrites
it: regenerating evidence from a copy would erase what it is there to show.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from pymongo import ASCENDING, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError
from ruta_shared.events import EventEnvelope

from ruta_analytics.projection import journal
from ruta_analytics.projection.cube import CUBE, PRESENCE
from ruta_analytics.projection.effects import presence_ids, settle
from ruta_analytics.projection.handlers import apply_event, needed
from ruta_analytics.projection.journal import JOURNAL, LOCKS, Worker
from ruta_analytics.projection.models import AUDIT, AUDIT_HEADS, FACT_COLLECTIONS, FactBatch
from ruta_analytics.projection.reads import find_ids
from ruta_analytics.projection.storage import decode_presence, encode_presence

Document = dict[str, Any]
Database = AsyncDatabase[Document]

GENERATIONS: Final = "generations"
ACTIVE: Final = "active"
PROGRESS: Final = "progress"  # per generation: a counter bumped after every batch
SOLVED: Final = "solved"  # per generation: the suppressed view's latest solution per scope
DUPLICATE_KEY: Final = 11000
SHARED_PRESENCE: Final = "dp:"
DEFAULT_WORKER: Final = Worker()

INDEXES: Final[dict[str, list[list[tuple[str, int]]]]] = {
    "cases": [[("year", ASCENDING), ("month", ASCENDING)]],
    "victims": [[("year", ASCENDING)], [("case_id", ASCENDING)]],
    "care": [[("year", ASCENDING)], [("case_id", ASCENDING)]],
    "referrals": [[("year", ASCENDING)], [("case_id", ASCENDING)]],
    "returns": [[("case_id", ASCENDING)]],
    "milestones": [[("case_id", ASCENDING)]],
    "attendance": [[("session_id", ASCENDING)]],
    "headcounts": [[("session_id", ASCENDING)]],
    "assessments": [[("session_id", ASCENDING)]],
}
# The ledger: its collections and indexes. (chain, position) is unique, so two writers
# appending to one chain at once cannot both succeed (see `insert_entries`).
LEDGER: Final = {AUDIT: "audit_trail", AUDIT_HEADS: "audit_trail_heads"}
LEDGER_INDEXES: Final[dict[str, list[tuple[list[tuple[str, int]], bool]]]] = {
    AUDIT: [
        ([("trail", ASCENDING)], False),
        ([("chain", ASCENDING), ("position", ASCENDING)], True),
    ],
    AUDIT_HEADS: [([("trail", ASCENDING)], False)],
}


class ChainConflictError(RuntimeError):
    """Another writer appended to a chain this batch appends to; load and apply it again."""


def new_generation_name() -> str:
    """A fresh generation name (time-ordered, so the newest sorts last)."""
    return f"g{datetime.now(UTC):%Y%m%d%H%M%S}{secrets.token_hex(2)}"


@dataclass(frozen=True)
class Generation:
    """One generation's collections."""

    db: Database
    name: str

    def collection(self, name: str) -> AsyncCollection[Document]:
        """The generation's collection `name` (the ledger's for the audit trail)."""
        if name in LEDGER:
            return self.db[LEDGER[name]]
        return self.db[f"{self.name}_{name}"]

    async def ensure_indexes(self) -> None:
        """Create the indexes the figures and the trail need (idempotent)."""
        for name, indexes in INDEXES.items():
            for keys in indexes:
                await self.collection(name).create_index(keys)
        await ensure_ledger_indexes(self.db)

    async def drop(self) -> None:
        """Drop every projection collection of this generation (never the ledger)."""
        for name in (*FACT_COLLECTIONS, PRESENCE, CUBE, JOURNAL, LOCKS, PROGRESS, SOLVED):
            await self.collection(name).drop()

    async def progress(self) -> int:
        """How many batches were applied (a change signal for the live dashboard)."""
        document = await self.collection(PROGRESS).find_one({"_id": "batches"})
        return int(document["count"]) if document else 0


async def ensure_ledger_indexes(db: Database) -> None:
    """Create the audit ledger's indexes (idempotent)."""
    for name, indexes in LEDGER_INDEXES.items():
        for keys, unique in indexes:
            await db[LEDGER[name]].create_index(keys, unique=unique)


async def active_generation(db: Database, *, create: bool = True) -> Generation:
    """The generation in use; the first call creates one."""
    pointer = await db[GENERATIONS].find_one({"_id": ACTIVE})
    if pointer is not None:
        return Generation(db, str(pointer["name"]))
    if not create:
        msg = "no active generation"
        raise LookupError(msg)
    name = new_generation_name()
    try:
        await db[GENERATIONS].insert_one({"_id": ACTIVE, "name": name, "since": _now()})
    except Exception as exc:  # another process created it first
        if getattr(exc, "code", None) != DUPLICATE_KEY:
            raise
        pointer = await db[GENERATIONS].find_one({"_id": ACTIVE})
        if pointer is None:
            raise
        name = str(pointer["name"])
    generation = Generation(db, name)
    await db[GENERATIONS].update_one({"_id": f"gen:{name}"}, {"$set": {"name": name}}, upsert=True)
    await generation.ensure_indexes()
    return generation


async def switch_generation(db: Database, generation: Generation) -> str | None:
    """Point readers and the consumer at `generation`; returns the previous name."""
    previous = await db[GENERATIONS].find_one_and_replace(
        {"_id": ACTIVE}, {"name": generation.name, "since": _now()}, upsert=True
    )
    return str(previous["name"]) if previous else None


async def load_batch(
    generation: Generation, envelopes: Sequence[EventEnvelope], *, audit: bool = True
) -> FactBatch:
    """A FactBatch holding every document the events touch, read by `_id` (`reads.find_ids`)."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for envelope in envelopes:
        for collection, doc_id in needed(envelope, audit=audit):
            wanted[collection].add(doc_id)
    batch = FactBatch(audit=audit)
    for collection, ids in wanted.items():
        batch.load(collection, await find_ids(generation.collection(collection), ids))
    return batch


async def write_batch(
    generation: Generation, batch: FactBatch, worker: Worker | None = None
) -> None:
    """Write an applied batch: the facts its corrections reach are loaded, the presences
    its facts change are loaded and updated, and the whole effect goes through the journal;
    then the trail's entries and heads (`write_rest`)."""
    worker = worker or DEFAULT_WORKER
    await load_propagated(generation, batch)
    touched = presence_ids(batch)
    # A participant's presence spans sessions, which other workers' partitions may hold.
    shared = sorted(i for i in touched if i.startswith(SHARED_PRESENCE))
    await journal.lock(generation.collection, worker, shared)
    try:
        await _load_ids(generation, batch, PRESENCE, touched, decode=decode_presence)
        replaces, deletes, delta = settle(batch)
        replaces = [(c, encode_presence(d) if c == PRESENCE else d) for c, d in replaces]
        effect = journal.Effect.of(replaces, deletes, delta)
        await journal.commit(
            generation.collection, worker, effect, lambda: write_rest(generation, batch)
        )
    finally:
        await journal.unlock(generation.collection, worker, shared)


async def write_rest(generation: Generation, batch: FactBatch) -> None:
    """After a batch's journaled effect: audit entries, then chain heads, then progress.

    Idempotent (entries inserted by event id, heads replaced by id), so a crash in here is
    repaired by processing the same events again.
    """
    await insert_entries(generation, batch.inserts)
    heads = [(c, i) for c, i in sorted(batch.dirty) if c == AUDIT_HEADS]
    if heads:
        await generation.collection(AUDIT_HEADS).bulk_write(
            [ReplaceOne({"_id": i}, batch.docs[(c, i)], upsert=True) for c, i in heads],
            ordered=False,
        )
    await bump_progress(generation)


async def recover(generation: Generation, worker: Worker) -> None:
    """Apply the committed journals left by this worker or by a dead one (`journal.recover`);
    a batch applied so is a new state for readers, as a batch's own end is."""
    if await journal.recover(generation.collection, worker):
        await bump_progress(generation)


async def bump_progress(generation: Generation) -> None:
    """Count one more change of the projection (what readers key their state on: the live
    dashboard, the suppressed view's solutions, the exact figures' reads)."""
    await generation.collection(PROGRESS).update_one(
        {"_id": "batches"}, {"$inc": {"count": 1}}, upsert=True
    )


async def load_propagated(generation: Generation, batch: FactBatch) -> None:
    """Load the facts a case's new attributes reach that the batch had not loaded, and give
    them the attributes in the batch (their counts move with them), by `_id`.

    The case's dependents list names those facts, so no query by `case_id` is needed
    (FerretDB uses an index for `_id` only).
    """
    wanted = dict(batch.propagate)
    batch.propagate.clear()
    by_collection: dict[str, set[str]] = defaultdict(set)
    for collection, doc_id in wanted:
        by_collection[collection].add(doc_id)
    for collection, ids in sorted(by_collection.items()):
        for document in await find_ids(generation.collection(collection), ids):
            values = wanted[(collection, str(document["_id"]))]
            batch.load(collection, [document])
            if any(document.get(name) != value for name, value in values.items()):
                batch.put(collection, {**document, **values})


async def _load_ids(
    generation: Generation,
    batch: FactBatch,
    collection: str,
    ids: set[str],
    decode: Callable[[Document], Document] = lambda d: d,
) -> None:
    wanted = [i for i in ids if (collection, i) not in batch.docs]
    found = await find_ids(generation.collection(collection), wanted)
    batch.load(collection, [decode(document) for document in found])


async def insert_entries(generation: Generation, entries: Sequence[Document]) -> None:
    """Insert audit entries in order; ones already there (same event id) are skipped.

    In order, stopping at the first error: a duplicate (chain, position) for an event not in
    the ledger means another writer took that place in the chain, and nothing after it may be
    inserted (a later entry of the same chain would link to one that is not there). That is
    ChainConflictError: the batch is loaded and applied again.
    """
    ledger = generation.collection(AUDIT)
    remaining = list(entries)
    while remaining:
        try:
            await ledger.insert_many(remaining, ordered=True)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if not errors or errors[0].get("code") != DUPLICATE_KEY:
                raise
            failed = remaining[errors[0]["index"]]
            if await ledger.find_one({"_id": failed["_id"]}, {"_id": 1}) is None:
                raise ChainConflictError(failed["chain"]) from exc
            remaining = remaining[errors[0]["index"] + 1 :]
        else:
            return


async def project(
    generation: Generation,
    envelopes: Sequence[EventEnvelope],
    *,
    audit: bool = True,
    origins: Mapping[str, Document] | None = None,
    worker: Worker | None = None,
) -> FactBatch:
    """Load, apply and write one batch of events (`audit=False`: facts only, for a rebuild).

    `origins` (event id -> topic, partition, offset) is recorded in each new audit entry, so
    an entry not sealed yet can be checked against its message on Kafka. The batch's facts,
    presences and counts are written through the redo journal (`journal.commit`).
    """
    worker = worker or DEFAULT_WORKER
    await recover(generation, worker)
    batch = await load_batch(generation, envelopes, audit=audit)
    for envelope in envelopes:
        apply_event(batch, envelope)
    for entry in batch.inserts:
        if origins and entry["_id"] in origins:
            entry["origin"] = dict(origins[entry["_id"]])
    await write_batch(generation, batch, worker)
    return batch


def _now() -> datetime:
    return datetime.now(UTC)
