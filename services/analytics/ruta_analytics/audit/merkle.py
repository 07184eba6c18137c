"""Merkle roots and inclusion proofs over the sealed chains (pure logic, `hashlib` only).

Chains are spread over a fixed number of buckets by the hash of their id. A bucket's root is
the Merkle root of its chains' leaves (sorted by chain id); a checkpoint's root is the Merkle
root of every bucket's root. Sealing then rewrites only the buckets whose chains changed, and
a chain's inclusion proof (its path in its bucket, then the bucket's path to the root) is
built from one bucket and the checkpoint's list of bucket roots: the same cost whatever the
number of chains. Leaves and inner nodes are hashed with different prefixes (RFC 6962), so a
leaf can never pass for a node.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Final

from ruta_analytics.audit.rules import canonical_json

BUCKETS: Final = 1024
EMPTY: Final = hashlib.sha256(b"ruta-audit-empty-bucket").hexdigest()

Step = dict[str, str]  # {"side": "left" | "right", "hash": hex}: a sibling on the way up


def bucket_of(chain: str) -> int:
    """The bucket a chain belongs to."""
    return int.from_bytes(hashlib.sha256(chain.encode()).digest()[:4], "big") % BUCKETS


def leaf_hash(chain: str, length: int, head: str) -> str:
    """A sealed chain's leaf: its id, its length and its head hash."""
    body = canonical_json({"chain": chain, "length": length, "head": head})
    return hashlib.sha256(b"\x00" + body).hexdigest()


def node_hash(left: str, right: str) -> str:
    """An inner node of two children."""
    return hashlib.sha256(b"\x01" + bytes.fromhex(left) + bytes.fromhex(right)).hexdigest()


def merkle_root(hashes: Sequence[str]) -> str:
    """The root of `hashes` (an odd last node moves up unpaired); EMPTY for none."""
    level = list(hashes)
    if not level:
        return EMPTY
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = paired + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def merkle_path(hashes: Sequence[str], index: int) -> list[Step]:
    """The siblings from `hashes[index]` up to the root."""
    level, steps = list(hashes), []
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            side = "left" if sibling < index else "right"
            steps.append({"side": side, "hash": level[sibling]})
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = paired + ([level[-1]] if len(level) % 2 else [])
        index //= 2
    return steps


def fold(start: str, steps: Sequence[Mapping[str, str]]) -> str:
    """The root a path leads to from `start`."""
    current = start
    for step in steps:
        if step["side"] == "left":
            current = node_hash(step["hash"], current)
        else:
            current = node_hash(current, step["hash"])
    return current


def bucket_leaves(chains: Mapping[str, tuple[int, str]]) -> tuple[list[str], list[str]]:
    """A bucket's chain ids (sorted) and their leaf hashes, from chain -> (length, head)."""
    names = sorted(chains)
    return names, [leaf_hash(name, *chains[name]) for name in names]


def inclusion_proof(
    chain: str, chains: Mapping[str, tuple[int, str]], bucket_roots: Sequence[str]
) -> list[Step]:
    """The path of `chain` (sealed in a bucket holding `chains`) to the checkpoint's root."""
    names, leaves = bucket_leaves(chains)
    return merkle_path(leaves, names.index(chain)) + merkle_path(bucket_roots, bucket_of(chain))
