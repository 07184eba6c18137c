"""The redo journal: a batch's writes recorded first, so a crash never half-counts a batch.

Facts are replaced by `_id` (idempotent), but the aggregates are counters: a batch whose facts
were written while its increments were not (or the other way round) would count its events
never or twice after a redelivery. So a batch writes its whole effect as journal parts, then
the header that commits them, then applies it, then deletes it. Whoever finds a committed
journal (its own after a failed write; another worker's once its lease ran out, i.e. that
worker died) applies it again before anything else: replaces are idempotent, and each
aggregate document records the last journal number of every worker that changed it
(`w.<worker>`, one small entry per worker process ever), so an increment applied once is
skipped the second time. Parts without a
header are an uncommitted batch: deleted, its events come again.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any, Final

import bson
from bson import Binary
from pymongo import DeleteOne, ReplaceOne

from ruta_analytics.projection.counts import CubeCache, apply_increments
from ruta_analytics.projection.cube import CUBE, Delta

log = logging.getLogger(__name__)

Document = dict[str, Any]
JOURNAL: Final = "journal"
LOCKS: Final = "locks"
PACKED: Final = "zops"  # a journal's operations, compressed (`_pack`)
PART_OPERATIONS: Final = 2_000  # operations per journal part (a document stays well < 16 MB)
DUPLICATE_KEY: Final = 11000


@dataclass
class Worker:
    """This process as a journal writer: an id, its journal numbers, and its lease."""

    lease_seconds: float = 6.0
    id: str = field(default_factory=lambda: secrets.token_hex(6))
    numbers: Any = field(default_factory=lambda: count(1))
    held: set[str] = field(default_factory=set)  # the locks this worker holds now
    cube: CubeCache = field(default_factory=CubeCache)

    def next_journal(self) -> tuple[str, int]:
        number = next(self.numbers)
        return f"{self.id}-{number:012d}", number


@dataclass
class Effect:
    """What one batch writes: documents replaced or deleted, and counter increments."""

    replaces: list[tuple[str, Document]] = field(default_factory=list)
    deletes: list[tuple[str, str]] = field(default_factory=list)
    increments: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        replaces: list[tuple[str, Document]],
        deletes: list[tuple[str, str]],
        delta: Delta,
    ) -> Effect:
        """The effect of a batch, its increments by document and path, both in sorted order
        (grouped first: sorting each document's paths is far cheaper than sorting all pairs)."""
        grouped: dict[str, list[tuple[str, float]]] = {}
        for (target, path), amount in delta.items():
            if amount:
                grouped.setdefault(target, []).append((path, amount))
        increments = {target: dict(sorted(grouped[target])) for target in sorted(grouped)}
        return cls(replaces, deletes, increments)

    def operations(self) -> list[Document]:
        ops: list[Document] = [{"r": c, "d": d} for c, d in self.replaces]
        ops += [{"x": c, "i": i} for c, i in self.deletes]
        # Paths have dots, which a stored field name may not have (and FerretDB stores no
        # nested arrays): kept as two lists.
        ops += [{"g": t, "p": list(n), "n": list(n.values())} for t, n in self.increments.items()]
        return ops

    @classmethod
    def from_operations(cls, operations: list[Document]) -> Effect:
        effect = cls()
        for op in operations:
            if "r" in op:
                effect.replaces.append((op["r"], op["d"]))
            elif "x" in op:
                effect.deletes.append((op["x"], op["i"]))
            else:
                effect.increments[op["g"]] = dict(zip(op["p"], op["n"], strict=True))
        return effect


Collection = Any  # a generation's collection lookup: name -> AsyncCollection


async def commit(
    collection: Collection, worker: Worker, effect: Effect, write_rest: Any = None
) -> None:
    """Journal `effect`, apply it (and `write_rest`, the batch's other idempotent writes),
    then drop the journal."""
    journal_id, number = worker.next_journal()
    operations = effect.operations()
    parts = [
        operations[i : i + PART_OPERATIONS] for i in range(0, len(operations), PART_OPERATIONS)
    ]
    journal = collection(JOURNAL)
    header: Document = {
        "_id": journal_id,
        "head": True,
        "worker": worker.id,
        "number": number,
        "parts": 0,
        "until": _now() + timedelta(seconds=worker.lease_seconds),
    }
    # One blob per part (`_pack`): FerretDB v1 stores a blob far faster than the same
    # documents as fields (it converts every field on each write and delete). A batch that
    # fits in one part is in its header: one write commits it, one delete drops it.
    if len(parts) == 1:
        header[PACKED] = _pack(parts[0])
    else:
        for index, part in enumerate(parts):
            await journal.replace_one(
                {"_id": f"{journal_id}:{index}"},
                {"part": journal_id, "at": _now(), PACKED: _pack(part)},
                upsert=True,
            )
        header["parts"] = len(parts)
    await journal.replace_one({"_id": journal_id}, header, upsert=True)
    beat = asyncio.create_task(_heartbeat(collection, worker, journal_id))
    try:
        await _apply(collection, effect, worker.id, number, worker.cube)
        if write_rest is not None:
            await write_rest()
        await _drop(journal, journal_id, header["parts"])
    finally:
        beat.cancel()


def _pack(operations: list[Document]) -> Binary:
    """Journal operations as stored: their BSON, zlib-compressed (a batch's counter paths
    repeat, so about a fifth of the bytes FerretDB converts on the write and the delete)."""
    return Binary(zlib.compress(bson.encode({"ops": operations}), 1))


def _unpack(document: Document) -> list[Document]:
    """The operations of a journal header or part: `_pack`'s, or plain BSON under `ops` (as
    journals were written before they were compressed, so one left by an older worker is
    still applied)."""
    if document.get(PACKED) is not None:
        return list(bson.decode(zlib.decompress(document[PACKED]))["ops"])
    if document.get("ops") is not None:
        return list(bson.decode(document["ops"])["ops"])
    return []


async def _heartbeat(collection: Collection, worker: Worker, journal_id: str) -> None:
    """While a batch is being written, keep its journal's and locks' leases from running out
    (so only a dead worker's journal is ever finished by another)."""
    while True:
        await asyncio.sleep(worker.lease_seconds / 3)
        until = _now() + timedelta(seconds=worker.lease_seconds)
        await collection(JOURNAL).update_one({"_id": journal_id}, {"$set": {"until": until}})
        for doc_id in sorted(worker.held):
            await collection(LOCKS).update_one(
                {"_id": doc_id, "worker": worker.id}, {"$set": {"until": until}}
            )


async def recover(collection: Collection, worker: Worker) -> int:
    """Apply every committed journal that is this worker's or whose writer's lease ran out;
    wait for the others (a live worker finishes its own). Uncommitted parts are dropped.
    Returns how many were applied."""
    journal = collection(JOURNAL)
    replayed = 0
    while True:
        found = [doc async for doc in journal.find({})]  # normally empty: a tiny collection
        heads = [doc for doc in found if doc.get("head")]
        await _drop_orphans(journal, found, {str(h["_id"]) for h in heads}, worker)
        waiting = False
        for head in sorted(heads, key=lambda h: (h["worker"], h["number"])):
            until = head["until"]
            if until.tzinfo is None:
                until = until.replace(tzinfo=UTC)
            if head["worker"] != worker.id and until > _now():
                waiting = True
                continue
            operations = _unpack(head)
            for index in range(head["parts"]):
                part = await journal.find_one({"_id": f"{head['_id']}:{index}"})
                operations += _unpack(part) if part else []
            log.warning("replaying a journaled batch", extra={"journal": head["_id"]})
            await _apply(
                collection, Effect.from_operations(operations), head["worker"], head["number"]
            )
            await _drop(journal, head["_id"], head["parts"])
            replayed += 1
        if not waiting:
            return replayed
        await asyncio.sleep(0.2)


async def _apply(
    collection: Collection,
    effect: Effect,
    worker: str,
    number: int,
    cache: CubeCache | None = None,
) -> None:
    by_collection: dict[str, list[Any]] = {}
    for name, document in effect.replaces:
        by_collection.setdefault(name, []).append(
            ReplaceOne({"_id": document["_id"]}, document, upsert=True)
        )
    for name, doc_id in effect.deletes:
        by_collection.setdefault(name, []).append(DeleteOne({"_id": doc_id}))
    for name, operations in by_collection.items():
        await collection(name).bulk_write(operations, ordered=False)
    await apply_increments(collection(CUBE), effect.increments, worker, number, cache)


async def _drop_orphans(
    journal: Any, found: list[Document], heads: set[str], worker: Worker
) -> None:
    """Delete parts of a batch whose header was never written (its writer died before
    committing; its events come again), once they are older than a lease."""
    stale = _now() - timedelta(seconds=worker.lease_seconds)
    for doc in found:
        at: datetime | None = doc.get("at")
        if at is None or not doc.get("part") or doc["part"] in heads:
            continue
        if (at if at.tzinfo else at.replace(tzinfo=UTC)) < stale:
            await journal.delete_one({"_id": doc["_id"]})


async def _drop(journal: Any, journal_id: str, parts: int) -> None:
    await journal.delete_one({"_id": journal_id})
    for index in range(parts):
        await journal.delete_one({"_id": f"{journal_id}:{index}"})


async def lock(collection: Collection, worker: Worker, ids: list[str]) -> None:
    """Hold `ids` against other workers (documents two partitions may change, such as a
    participant's presence across sessions); a dead holder's lock lapses after its lease."""
    locks = collection(LOCKS)
    for doc_id in sorted(ids):
        while True:
            until = _now() + timedelta(seconds=worker.lease_seconds)
            try:
                await locks.insert_one({"_id": doc_id, "worker": worker.id, "until": until})
                worker.held.add(doc_id)
                break
            except Exception as exc:
                if getattr(exc, "code", None) != DUPLICATE_KEY:
                    raise
            taken = await locks.find_one_and_update(
                {"_id": doc_id, "$or": [{"until": {"$lt": _now()}}, {"worker": worker.id}]},
                {"$set": {"worker": worker.id, "until": until}},
            )
            if taken is not None:
                worker.held.add(doc_id)
                break
            await asyncio.sleep(0.02)


async def unlock(collection: Collection, worker: Worker, ids: list[str]) -> None:
    """Release locks taken by `lock`."""
    locks = collection(LOCKS)
    for doc_id in ids:
        await locks.delete_one({"_id": doc_id, "worker": worker.id})
        worker.held.discard(doc_id)


def _now() -> datetime:
    return datetime.now(UTC)
