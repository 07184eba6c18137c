"""What a trail's verification finds (pure logic, also used by the offline verifier).

A trail is checked three ways: its hash chain (each entry against the one before), the
latest signed checkpoint that covers it (length, head and inclusion proof of its chain), and
the events' own per-(service, subject) sequences. Entries appended after that checkpoint are
checked against the events kept on Kafka by the caller (`backed`). Each problem is reported
by name (`REASONS`); none of them carries case data.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ed25519

from ruta_analytics.audit.merkle import fold, leaf_hash, merkle_root
from ruta_analytics.audit.rules import canonical_json, trail_of_event, verify_chain
from ruta_analytics.audit.signing import signature_valid

Document = dict[str, Any]

REASONS: Final = (
    "entry_changed",  # an entry's content, hash, link or trail field was edited
    "entry_missing",  # a position of the chain has no entry
    "head_mismatch",  # the chain's head does not match its last entry
    "chain_shorter_than_sealed",  # fewer entries than the checkpoint sealed
    "head_differs_from_sealed",  # the entry at the sealed length is not the sealed head
    "chain_gone",  # sealed, and now neither entries nor head are there
    "sequence_gap",  # an event of a (service, subject) sequence is missing or repeated
    "unbacked_entry",  # appended after the checkpoint and not the event kept on Kafka
    "not_in_checkpoint",  # the chain's sealed leaf does not lead to the signed root
    "checkpoint_signature",  # the checkpoint is not signed by a known audit key
    "checkpoint_chain",  # the checkpoint does not follow the one before it
    "checkpoint_changed",  # the stored bucket roots do not lead to the signed root
    "checkpoint_missing",  # Kafka holds a newer checkpoint than the store (deleted/replayed)
)
CHAIN_REASONS: Final = {
    "hash_mismatch": "entry_changed",
    "prev_hash_mismatch": "entry_changed",
    "entry_id_mismatch": "entry_changed",
    "duplicate_position": "entry_changed",
    "missing_entry": "entry_missing",
    "head_mismatch": "head_mismatch",
    "head_missing": "head_mismatch",
}


def finding(reason: str, position: int | None = None, event_id: str | None = None) -> Document:
    """One problem found (positions and event ids only: no case data)."""
    return {"reason": reason, "position": position, "event_id": event_id}


def checkpoint_hash(body: Mapping[str, Any], signature: str) -> str:
    """The hash the next checkpoint links to."""
    return hashlib.sha256(canonical_json({"body": body, "signature": signature})).hexdigest()


def checkpoint_findings(
    checkpoint: Mapping[str, Any],
    *,
    seq: int,
    prev_hash: str | None,
    public_keys: Mapping[str, ed25519.Ed25519PublicKey],
) -> list[Document]:
    """A stored checkpoint's problems: signature, its place in the checkpoint chain (when
    `prev_hash` is known) and, when it carries them, its bucket roots."""
    body, signature = checkpoint.get("body") or {}, str(checkpoint.get("signature", ""))
    found = []
    if not signature_valid(body, signature, public_keys):
        found.append(finding("checkpoint_signature"))
    if body.get("seq") != seq or (prev_hash is not None and body.get("prev") != prev_hash):
        found.append(finding("checkpoint_chain"))
    roots = checkpoint.get("bucket_roots")
    if roots is not None and merkle_root(list(roots)) != body.get("root"):
        found.append(finding("checkpoint_changed"))
    return found


def sealed_leaf(chain: str, bucket: Mapping[str, Any] | None) -> tuple[int, str] | None:
    """The (length, head) a bucket document sealed for `chain`, if it holds the chain."""
    if bucket is None:
        return None
    for name, length, head in zip(
        bucket["chains"], bucket["lengths"], bucket["heads"], strict=True
    ):
        if name == chain:
            return int(length), str(head)
    return None


def proof_findings(
    chain: str, sealed: tuple[int, str], steps: Sequence[Mapping[str, str]], root: str
) -> list[Document]:
    """Whether the sealed leaf of `chain` leads to the signed root."""
    if fold(leaf_hash(chain, *sealed), steps) == root:
        return []
    return [finding("not_in_checkpoint")]


def chain_findings(
    chain: str,
    entries: Sequence[Mapping[str, Any]],
    head: Mapping[str, Any] | None,
    sealed: tuple[int, str] | None,
) -> list[Document]:
    """A chain's problems: its links, the trail field of each entry, and the sealed state."""
    if not entries and head is None:
        return [finding("chain_gone")] if sealed else []
    found = []
    ordered = sorted(entries, key=lambda e: (_int(e.get("position")), str(e.get("_id"))))
    broken = verify_chain(chain, ordered, head)
    if broken is not None:
        found.append(finding(CHAIN_REASONS.get(broken.reason, "entry_changed"), broken.position))
    found += [
        finding("entry_changed", _int(e.get("position")), str(e.get("_id")))
        for e in ordered
        if e.get("trail") != trail_of_event(e.get("event") or {})
    ]
    if sealed is not None:
        length, sealed_head = sealed
        by_position = {e.get("position"): e for e in ordered}
        last = head.get("position") if head is not None else None
        if not isinstance(last, int) or last < length or length not in by_position:
            found.append(finding("chain_shorter_than_sealed", length))
        elif by_position[length].get("hash") != sealed_head:
            found.append(finding("head_differs_from_sealed", length))
    return found


def sequence_findings(entries: Sequence[Mapping[str, Any]]) -> list[Document]:
    """Gaps or repeats in each (service, subject) sequence of the trail's events."""
    sequences: dict[tuple[str, str], list[int]] = defaultdict(list)
    for entry in entries:
        event = entry.get("event") or {}
        sequences[(str(event.get("source")), str(event.get("subject")))].append(
            _int(event.get("sequence"))
        )
    found = []
    for numbers in sequences.values():
        numbers.sort()
        if numbers != list(range(1, len(numbers) + 1)):
            found.append(finding("sequence_gap"))
    return found


def unbacked_findings(
    entries: Sequence[Mapping[str, Any]], sealed_length: int, backed: Collection[str]
) -> list[Document]:
    """Entries after the sealed length whose event Kafka does not hold as it is stored."""
    return [
        finding("unbacked_entry", _int(e.get("position")), str(e.get("_id")))
        for e in entries
        if _int(e.get("position")) > sealed_length and str(e.get("_id")) not in backed
    ]


def _int(value: Any) -> int:
    return value if isinstance(value, int) else -1
