"""Sealing signed checkpoints of every chain, storing them and reading them back by `_id`.

A checkpoint's signed body names its sequence number, time, Merkle root over every chain
(`audit.merkle`), number of chains, signing key id and the previous checkpoint's hash. It is
stored (`audit_checkpoints`, `_id` = zero-padded sequence, `latest` pointing at the newest)
with the roots of its buckets, and published on the checkpoint topic. A bucket's chains are
stored once per content (`audit_buckets`, `_id` = bucket:root), so a seal writes only the
buckets that changed, two sealers racing write the same documents, and every read is an
`_id` lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from pymongo import InsertOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from ruta_analytics.audit.kafka import publish_checkpoint
from ruta_analytics.audit.merkle import BUCKETS, EMPTY, bucket_leaves, bucket_of, merkle_root
from ruta_analytics.audit.signing import AuditKeys
from ruta_analytics.audit.verify import checkpoint_hash
from ruta_analytics.projection.store import LEDGER

Document = dict[str, Any]
Database = AsyncDatabase[Document]

CHECKPOINTS: Final = "audit_checkpoints"
BUCKET_DOCS: Final = "audit_buckets"
LATEST: Final = "latest"
DUPLICATE_KEY: Final = 11000


def checkpoint_id(seq: int) -> str:
    """The `_id` of checkpoint number `seq`."""
    return f"{seq:012d}"


class SealConflictError(RuntimeError):
    """Another seal stored the same checkpoint number first."""


def bucket_id(bucket: int, root: str) -> str:
    """The `_id` of a bucket's chains whose Merkle root is `root`."""
    return f"{bucket:04d}:{root}"


async def latest_seq(db: Database) -> int:
    """The newest checkpoint's number (0 when none was sealed)."""
    pointer = await db[CHECKPOINTS].find_one({"_id": LATEST})
    return int(pointer["seq"]) if pointer else 0


async def read_checkpoint(db: Database, seq: int) -> Document | None:
    """Checkpoint `seq` as stored."""
    return await db[CHECKPOINTS].find_one({"_id": checkpoint_id(seq)})


async def read_bucket(db: Database, checkpoint: Document, bucket: int) -> Document | None:
    """The chains a checkpoint sealed in `bucket` (None for a bucket that was empty)."""
    root = str(checkpoint["bucket_roots"][bucket])
    if root == EMPTY:
        return None
    return await db[BUCKET_DOCS].find_one({"_id": bucket_id(bucket, root)})


async def read_chain_bucket(db: Database, checkpoint: Document, chain: str) -> Document | None:
    """The bucket a checkpoint sealed `chain` in."""
    return await read_bucket(db, checkpoint, bucket_of(chain))


async def seal(
    *,
    db: Database,
    keys: AuditKeys,
    bootstrap_servers: str,
    topic: str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Document:
    """Seal every chain's current head into a new signed checkpoint; return it.

    Stored first, then published, then made the latest: a crash in between leaves a
    checkpoint the next seal adopts (`_adopt_unfinished`) before sealing its own.
    """
    seq = await _adopt_unfinished(db, bootstrap_servers, topic)
    previous = await read_checkpoint(db, seq) if seq else None
    old_roots = previous["bucket_roots"] if previous else [EMPTY] * BUCKETS
    buckets: list[dict[str, tuple[int, str]]] = [{} for _ in range(BUCKETS)]
    count = 0
    async for head in db[LEDGER["audit_heads"]].find({}, {"position": 1, "hash": 1}):
        chain = str(head["_id"])
        buckets[bucket_of(chain)][chain] = (int(head["position"]), str(head["hash"]))
        count += 1
    seq += 1
    roots, writes = [], []
    for number, chains in enumerate(buckets):
        names, leaves = bucket_leaves(chains)
        root = merkle_root(leaves)
        roots.append(root)
        if root in {old_roots[number], EMPTY}:
            continue
        document = {
            "_id": bucket_id(number, root),
            "chains": names,
            "lengths": [chains[n][0] for n in names],
            "heads": [chains[n][1] for n in names],
        }
        writes.append(InsertOne(document))
    if writes:
        await _insert_missing(db, writes)
    body = {
        "seq": seq,
        "sealed_at": now().isoformat(),
        "root": merkle_root(roots),
        "chains": count,
        "key_id": keys.key_id,
        "prev": checkpoint_hash(previous["body"], previous["signature"]) if previous else None,
    }
    signature = keys.sign(body)
    checkpoint = {
        "_id": checkpoint_id(seq),
        "body": body,
        "signature": signature,
        "hash": checkpoint_hash(body, signature),
        "bucket_roots": roots,
    }
    try:
        await db[CHECKPOINTS].insert_one(checkpoint)
    except DuplicateKeyError as exc:
        raise SealConflictError(checkpoint["_id"]) from exc
    await publish_checkpoint(bootstrap_servers, topic, public_copy(checkpoint))
    await db[CHECKPOINTS].replace_one({"_id": LATEST}, {"seq": seq}, upsert=True)
    return checkpoint


async def _insert_missing(db: Database, writes: list[InsertOne[Document]]) -> None:
    """Insert bucket documents; one already there (same id, same content) is fine."""
    try:
        await db[BUCKET_DOCS].bulk_write(writes, ordered=False)
    except BulkWriteError as exc:
        if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
            raise


def public_copy(checkpoint: Document) -> Document:
    """What is published and exported: the signed body, its signature and hash."""
    return {k: checkpoint[k] for k in ("body", "signature", "hash")}


async def _adopt_unfinished(db: Database, bootstrap_servers: str, topic: str) -> int:
    """Finish checkpoints stored by a seal that crashed before making them the latest."""
    seq = await latest_seq(db)
    while (unfinished := await read_checkpoint(db, seq + 1)) is not None:
        await publish_checkpoint(bootstrap_servers, topic, public_copy(unfinished))
        seq += 1
        await db[CHECKPOINTS].replace_one({"_id": LATEST}, {"seq": seq}, upsert=True)
    return seq


async def checkpoint_at(db: Database, moment: datetime) -> Document | None:
    """The last checkpoint sealed at or before `moment` (binary search by `_id`: seals are
    numbered in time order)."""
    low, high, best = 1, await latest_seq(db), None
    while low <= high:
        middle = (low + high) // 2
        document = await read_checkpoint(db, middle)
        if document is None:
            return best  # a hole in the store: the verification reports it
        if datetime.fromisoformat(document["body"]["sealed_at"]) <= moment:
            best, low = document, middle + 1
        else:
            high = middle - 1
    return best
