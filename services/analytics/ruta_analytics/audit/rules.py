"""The tamper-evident audit trail: hash-chained entries and their verification (pure logic).

Every event becomes one entry appended to the trail of its case (or session; events that
name neither are filed under their subject), whichever service published it: one chain per
trail, in the order the analytics consumer appends them. Each entry's hash is SHA-256 over
the canonical JSON of the entry itself (chain, position, the previous entry's hash and the
whole event), and each chain keeps a head (last position and hash) so that removing the last
entries is detected too. The trail is a ledger, not a projection: it is kept across
generations and a rebuild never rewrites it (see `projection.store.LEDGER`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ruta_shared.events import EventEnvelope

GENESIS: Final = "0" * 64
# Security events may come from any service and name the case in their payload.
TRAIL_FIELDS: Final = ("case_id", "session_id")

Document = dict[str, Any]


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes that are hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def trail_id(envelope: EventEnvelope) -> str:
    """The trail (case or session) an event is filed under."""
    return trail_of_event({"data": envelope.data, "subject": envelope.subject})


def trail_of_event(event: Mapping[str, Any]) -> str:
    """The trail of an event as stored in its entry (JSON), the same rule as `trail_id`."""
    data = event.get("data")
    for name in TRAIL_FIELDS:
        value = data.get(name) if isinstance(data, Mapping) else None
        if isinstance(value, str) and value:
            return value
    return str(event.get("subject"))


def chain_id(envelope: EventEnvelope) -> str:
    """The chain an event is appended to: one per trail."""
    return trail_id(envelope)


def entry_hash(*, chain: str, position: int, prev_hash: str, event: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an entry's hashed fields."""
    body = {"chain": chain, "position": position, "prev_hash": prev_hash, "event": event}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def build_entry(envelope: EventEnvelope, *, position: int, prev_hash: str) -> Document:
    """The audit entry of an event, `_id` = event id so a redelivery inserts nothing new."""
    event = envelope.model_dump(mode="json")
    chain = chain_id(envelope)
    return {
        "_id": str(envelope.id),
        "chain": chain,
        "trail": trail_id(envelope),
        "position": position,
        "prev_hash": prev_hash,
        "hash": entry_hash(chain=chain, position=position, prev_hash=prev_hash, event=event),
        "type": envelope.type,
        "occurred_at": event["occurred_at"],
        "event": event,
    }


@dataclass(frozen=True)
class BrokenLink:
    """The first place a chain stops verifying."""

    chain: str
    position: int
    event_id: str | None
    reason: str  # hash_mismatch, prev_hash_mismatch, missing_entry, head_mismatch, ...

    def as_dict(self) -> dict[str, Any]:
        """JSON body."""
        return {
            "chain": self.chain,
            "position": self.position,
            "event_id": self.event_id,
            "reason": self.reason,
        }


def verify_chain(  # noqa: PLR0911 (one return per kind of break)
    chain: str, entries: Sequence[Mapping[str, Any]], head: Mapping[str, Any] | None
) -> BrokenLink | None:
    """The first broken link of one chain (entries sorted by stored position), or None."""
    prev = GENESIS
    expected = 1
    for entry in entries:
        event_id = str(entry.get("_id"))
        position = entry.get("position")
        if position != expected:
            reason = (
                "missing_entry"
                if isinstance(position, int) and position > expected
                else ("duplicate_position")
            )
            return BrokenLink(chain, expected, event_id, reason)
        if entry.get("prev_hash") != prev:
            return BrokenLink(chain, expected, event_id, "prev_hash_mismatch")
        event = entry.get("event")
        if not isinstance(event, Mapping) or str(event.get("id")) != event_id:
            return BrokenLink(chain, expected, event_id, "entry_id_mismatch")
        recomputed = entry_hash(chain=chain, position=expected, prev_hash=prev, event=event)
        if recomputed != entry.get("hash") or entry.get("chain") != chain:
            return BrokenLink(chain, expected, event_id, "hash_mismatch")
        prev = recomputed
        expected += 1
    if head is None:
        return BrokenLink(chain, expected - 1, None, "head_missing")
    if head.get("position") != expected - 1 or head.get("hash") != prev:
        return BrokenLink(chain, expected, None, "head_mismatch")
    return None


def verify_trail(
    entries: Iterable[Mapping[str, Any]], heads: Iterable[Mapping[str, Any]]
) -> BrokenLink | None:
    """The first broken link over every chain of a trail (chains in name order)."""
    by_chain: dict[str, list[Mapping[str, Any]]] = {}
    for entry in entries:
        by_chain.setdefault(str(entry.get("chain")), []).append(entry)
    head_by_chain = {str(head["_id"]): head for head in heads}
    for chain in sorted(set(by_chain) | set(head_by_chain)):
        chain_entries = sorted(
            by_chain.get(chain, []), key=lambda e: (_int(e.get("position")), str(e.get("_id")))
        )
        broken = verify_chain(chain, chain_entries, head_by_chain.get(chain))
        if broken is not None:
            return broken
    return None


def _int(value: Any) -> int:
    return value if isinstance(value, int) else -1
