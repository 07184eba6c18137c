"""Reading the ledger by `_id`: one trail (its head lists its entries), and the whole ledger.

A trail's chain has the trail's id; its head lists the chain's entry ids by position, so a
trail is read with one lookup for the head and one per entry, whatever the ledger's size.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from pymongo.asynchronous.database import AsyncDatabase

from ruta_analytics.audit.checkpoints import latest_seq, read_bucket, read_checkpoint
from ruta_analytics.audit.kafka import all_published, backed_entries
from ruta_analytics.audit.merkle import BUCKETS, bucket_leaves, merkle_root
from ruta_analytics.audit.verify import (
    chain_findings,
    checkpoint_findings,
    checkpoint_hash,
    finding,
    sequence_findings,
    unbacked_findings,
)
from ruta_analytics.projection.store import LEDGER

Document = dict[str, Any]
Database = AsyncDatabase[Document]
Progress = Callable[[str, int, int], None]  # (stage, done, total)
ENTRIES, HEADS = LEDGER["audit"], LEDGER["audit_heads"]
LISTED_BROKEN = 100  # how many broken chains a whole-ledger report names


async def load_trail(db: Database, trail: str) -> tuple[list[Document], Document | None]:
    """A trail's entries (by the `_id`s its head lists) and its chain's head."""
    head = await db[HEADS].find_one({"_id": trail})
    if head is None:
        return [], None
    if "entries" not in head:  # a head written before heads listed their entries
        return [doc async for doc in db[ENTRIES].find({"trail": trail})], head
    ids = [i for i in head["entries"] if i]
    found = await asyncio.gather(*(db[ENTRIES].find_one({"_id": i}) for i in ids))
    return [doc for doc in found if doc is not None], head


def bucket_problem(checkpoint: Mapping[str, Any], number: int, bucket: Document | None) -> bool:
    """Whether a stored bucket's chains no longer lead to the root the checkpoint holds."""
    chains = (
        {
            n: (ln, h)
            for n, ln, h in zip(bucket["chains"], bucket["lengths"], bucket["heads"], strict=True)
        }
        if bucket
        else {}
    )
    return bool(merkle_root(bucket_leaves(chains)[1]) != checkpoint["bucket_roots"][number])


async def checkpoint_chain_findings(
    db: Database,
    public_keys: Mapping[str, ed25519.Ed25519PublicKey],
    progress: Progress,
) -> tuple[list[Document], Document | None, dict[int, str]]:
    """Every stored checkpoint checked in order; the latest one; every hash by number."""
    last = await latest_seq(db)
    found: list[Document] = []
    previous: Document | None = None
    hashes: dict[int, str] = {}
    for seq in range(1, last + 1):
        checkpoint = await read_checkpoint(db, seq)
        if checkpoint is None:
            found.append(finding("checkpoint_missing", seq))
            previous = None
            continue
        prev_hash = checkpoint_hash(previous["body"], previous["signature"]) if previous else None
        found += [
            dict(f, position=seq)
            for f in checkpoint_findings(
                checkpoint, seq=seq, prev_hash=prev_hash, public_keys=public_keys
            )
        ]
        hashes[seq] = checkpoint_hash(checkpoint["body"], checkpoint["signature"])
        previous = checkpoint
        progress("checkpoints", seq, last)
    return found, previous, hashes


async def verify_ledger(
    *,
    db: Database,
    public_keys: Mapping[str, ed25519.Ed25519PublicKey],
    bootstrap_servers: str,
    topic: str,
    progress: Progress = lambda stage, done, total: None,
) -> Document:
    """Check every checkpoint (signatures, chain, Kafka copies) and every chain of the ledger
    against the latest checkpoint. Scans the ledger once: this is the whole-ledger audit."""
    found, latest, hashes = await checkpoint_chain_findings(db, public_keys, progress)
    async for published in all_published(bootstrap_servers, topic):
        seq = int(published["body"]["seq"])
        if hashes.get(seq) != checkpoint_hash(published["body"], published["signature"]):
            found.append(finding("checkpoint_missing", seq))
    sealed: dict[str, tuple[int, str]] = {}
    if latest is not None:
        stored = await asyncio.gather(*(read_bucket(db, latest, n) for n in range(BUCKETS)))
        for number, bucket in enumerate(stored):
            if bucket_problem(latest, number, bucket):
                found.append(finding("not_in_checkpoint", number))
            if bucket:
                sealed.update(
                    zip(
                        bucket["chains"],
                        zip(bucket["lengths"], bucket["heads"], strict=True),
                        strict=True,
                    )
                )
            progress("buckets", number + 1, BUCKETS)
    heads = {str(h["_id"]): h async for h in db[HEADS].find({})}
    entries: dict[str, list[Document]] = defaultdict(list)
    async for entry in db[ENTRIES].find({}):
        entries[str(entry.get("chain"))].append(entry)
    chains = sorted(set(sealed) | set(heads) | set(entries))
    broken: list[str] = []
    unsealed: list[Document] = []
    for done, chain in enumerate(chains, start=1):
        head, listed = heads.get(chain), entries.get(chain, [])
        ids = set(head.get("entries", [])) if head else set()
        problems = chain_findings(chain, listed, head, sealed.get(chain))
        problems += sequence_findings(listed)
        problems += [
            finding("entry_changed", None, str(e["_id"]))
            for e in listed
            if head and "entries" in head and str(e["_id"]) not in ids
        ]
        if latest is not None:
            length = sealed.get(chain, (0, ""))[0]
            unsealed += [
                e for e in listed if isinstance(e.get("position"), int) and e["position"] > length
            ]
        if problems:
            broken.append(chain)
            found += problems
        progress("chains", done, len(chains))
    if unsealed:
        backed = await backed_entries(bootstrap_servers, unsealed)
        found += unbacked_findings(unsealed, 0, backed)
    reasons = Counter(f["reason"] for f in found)
    return {
        "valid": not found,
        "chains": len(chains),
        "checkpoints": len(hashes),
        "latest_checkpoint": latest["body"] if latest else None,
        "problems": dict(sorted(reasons.items())),
        "broken_chains": broken[:LISTED_BROKEN],
    }
