"""A batch's whole effect (pure): its facts, the presences they change, and the counts they move.

Counts move from what each document was when loaded (`FactBatch.originals`) to what it is
now, so an event already applied (no change) moves nothing, and a correction moves every
count of the facts it reaches from the old cell to the new one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ruta_analytics.projection.cube import (
    PRESENCE,
    Delta,
    apply_occurrences,
    fact_delta,
    occurrences,
    presence_delta,
)
from ruta_analytics.projection.models import AUDIT_HEADS, Document, FactBatch, Key
from ruta_analytics.projection.rollup import count_presences, new_cells, presences, spread_all
from ruta_analytics.projection.storage import nest


def _changes(batch: FactBatch) -> Iterable[tuple[Key, Document | None, Document | None]]:
    """(key, as loaded, as now) of every document the batch changed or deleted."""
    for key in sorted(batch.dirty | batch.deleted):
        now = None if key in batch.deleted else batch.docs.get(key)
        yield key, batch.originals.get(key), now


def presence_ids(batch: FactBatch) -> set[str]:
    """The presence documents the batch's fact changes touch (to load before `settle`)."""
    found: set[str] = set()
    for (collection, _), old, new in _changes(batch):
        if collection != PRESENCE:
            found |= {pid for pid, _, _ in occurrences(collection, old)}
            found |= {pid for pid, _, _ in occurrences(collection, new)}
    return found


def settle(batch: FactBatch) -> tuple[list[tuple[str, Document]], list[tuple[str, str]], Delta]:
    """Update the loaded presence documents, then every replace, delete and count the batch
    makes (audit heads excluded: they are written after the trail's entries)."""
    removed: list[tuple[str, str]] = []
    added: list[tuple[str, str, Document]] = []
    for (collection, _), old, new in _changes(batch):
        if collection == PRESENCE:
            continue
        removed += [(pid, oid) for pid, oid, _ in occurrences(collection, old)]
        added += occurrences(collection, new)
    presence: dict[str, Document | None] = {
        doc_id: batch.docs.get((PRESENCE, doc_id)) for doc_id in {p for p, _ in removed}
    }
    presence.update({p: batch.docs.get((PRESENCE, p)) for p, _, _ in added})
    for doc_id in sorted(apply_occurrences(presence, removed, added)):
        document = presence[doc_id]
        if document is not None and document.get("occ"):
            batch.put(PRESENCE, document)
        else:
            batch.delete(PRESENCE, doc_id)
    delta: Delta = Counter()
    replaces: list[tuple[str, Document]] = []
    deletes: list[tuple[str, str]] = []
    for (collection, doc_id), old, new in _changes(batch):
        if collection == PRESENCE:
            presence_delta(old, new, delta)
        else:
            fact_delta(collection, old, new, delta)
        if new is None:
            if old is not None:
                deletes.append((collection, doc_id))
        elif collection != AUDIT_HEADS:
            replaces.append((collection, new))
    return replaces, deletes, delta


def everything(batch: FactBatch) -> tuple[dict[str, Document], dict[str, Document]]:
    """Presence and aggregate documents of a batch built from nothing (a rebuild)."""
    facts = [(collection, document) for (collection, _), document in sorted(batch.docs.items())]
    presence = presences(found for c, d in facts for found in occurrences(c, d))
    cells = new_cells()
    spread_all(facts, cells)
    count_presences(presence.values(), cells)
    return presence, nest(cells)
