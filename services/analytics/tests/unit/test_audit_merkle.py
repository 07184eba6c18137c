"""Merkle roots and inclusion proofs of the sealed chains, and the pure trail findings."""

from __future__ import annotations

import random

import pytest
from ruta_analytics.audit.merkle import (
    BUCKETS,
    EMPTY,
    bucket_leaves,
    bucket_of,
    fold,
    inclusion_proof,
    leaf_hash,
    merkle_path,
    merkle_root,
)
from ruta_analytics.audit.verify import sequence_findings


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13])
def test_every_leaf_has_a_path_to_the_root_and_no_other_leaf_does(size: int) -> None:
    leaves = [leaf_hash(f"case-{i}", i + 1, f"{i:064x}") for i in range(size)]
    root = merkle_root(leaves)
    for index, leaf in enumerate(leaves):
        path = merkle_path(leaves, index)
        assert fold(leaf, path) == root
        forged = leaf_hash(f"case-{index}", index + 2, f"{index:064x}")  # one entry longer
        assert fold(forged, path) != root


def test_a_chain_is_proven_through_its_bucket_and_the_bucket_roots() -> None:
    rng = random.Random(3)
    chains = {
        f"case-{i}": (rng.randrange(1, 50), f"{rng.getrandbits(256):064x}") for i in range(300)
    }
    buckets: list[dict[str, tuple[int, str]]] = [{} for _ in range(BUCKETS)]
    for chain, sealed in chains.items():
        buckets[bucket_of(chain)][chain] = sealed
    roots = [merkle_root(bucket_leaves(b)[1]) for b in buckets]
    assert roots.count(EMPTY) > 0  # 300 chains leave most of 1024 buckets empty
    root = merkle_root(roots)
    for chain in ("case-0", "case-150", "case-299"):
        proof = inclusion_proof(chain, buckets[bucket_of(chain)], roots)
        assert fold(leaf_hash(chain, *chains[chain]), proof) == root
        length, head = chains[chain]
        assert fold(leaf_hash(chain, length - 1, head), proof) != root


def test_a_sequence_gap_or_repeat_is_found_per_service_and_subject() -> None:
    def entry(source: str, subject: str, sequence: int) -> dict[str, object]:
        return {"event": {"source": source, "subject": subject, "sequence": sequence}}

    whole = [entry("intake", "c", 1), entry("intake", "c", 2), entry("referrals", "c", 1)]
    assert sequence_findings(whole) == []
    first_gone = whole[1:]  # the chain starts at the subject's second event
    assert [f["reason"] for f in sequence_findings(first_gone)] == ["sequence_gap"]
    gap = [entry("intake", "c", 1), entry("intake", "c", 3)]
    assert [f["reason"] for f in sequence_findings(gap)] == ["sequence_gap"]
    repeat = [entry("intake", "c", 1), entry("intake", "c", 1)]
    assert [f["reason"] for f in sequence_findings(repeat)] == ["sequence_gap"]
