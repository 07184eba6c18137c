"""The projection's documents: fact collections, and the batch of documents events change.

Facts are one document per case, victim, care act, referral, return home, reintegration
milestone, route-stage occurrence, case-plan task, training session, attendance, headcount
and assessment, plus one audit entry per event. Effects are idempotent: documents keyed by
the thing they describe (or by event id), a per-document sequence guard, and audit entries
keyed by event id. `FactBatch` holds the documents a batch of events touches; the caller
loads them first (`handlers.needed`), applies the events in order (`handlers.apply_event`),
and writes what changed (`store.write_batch`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from ruta_shared.events import EventEnvelope

Document = dict[str, Any]
Key = tuple[str, str]  # (collection, _id)

CASES: Final = "cases"
VICTIMS: Final = "victims"
CARE: Final = "care"
REFERRALS: Final = "referrals"
RETURNS: Final = "returns"
MILESTONES: Final = "milestones"
STAGES: Final = "stages"  # one per occurrence of a route-of-care stage
TASKS: Final = "tasks"  # one per case-plan task
SESSIONS: Final = "sessions"
ATTENDANCE: Final = "attendance"
HEADCOUNTS: Final = "headcounts"
ASSESSMENTS: Final = "assessments"
AUDIT: Final = "audit"
AUDIT_HEADS: Final = "audit_heads"
# One document per case whose facts arrived before its case.opened, listing those facts
# (`facts`: {collection, id} documents; FerretDB stores no nested arrays) so that they get
# the case's attributes by `_id` later.
PENDING: Final = "pending_cases"

FACT_COLLECTIONS: Final = (
    CASES,
    VICTIMS,
    CARE,
    REFERRALS,
    RETURNS,
    MILESTONES,
    STAGES,
    TASKS,
    SESSIONS,
    ATTENDANCE,
    HEADCOUNTS,
    ASSESSMENTS,
    PENDING,
)


@dataclass
class FactBatch:
    """The documents one batch touches, and what to write back.

    `docs` holds every loaded document (absent ones are simply missing); `dirty` the keys to
    replace; `inserts` the new audit entries; `propagate` the facts not loaded in this batch
    that must receive their case's attributes now that the case is known (updated by `_id`
    after the batch's other writes, before the pending documents are deleted).
    """

    audit: bool = True  # False in a rebuild: the ledger is left alone
    docs: dict[Key, Document] = field(default_factory=dict)
    dirty: set[Key] = field(default_factory=set)
    deleted: set[Key] = field(default_factory=set)
    inserts: list[Document] = field(default_factory=list)
    propagate: dict[Key, Document] = field(default_factory=dict)
    handled: dict[str, int] = field(default_factory=dict)
    # Each loaded document as it was read: what the aggregates move counts away from.
    originals: dict[Key, Document] = field(default_factory=dict)

    def load(self, collection: str, documents: Iterable[Document]) -> None:
        """Add documents read from `collection`."""
        for document in documents:
            key = (collection, str(document["_id"]))
            self.docs[key] = document
            self.originals[key] = copy.deepcopy(document)

    def get(self, collection: str, doc_id: str) -> Document | None:
        """A loaded (or created in this batch) document."""
        return self.docs.get((collection, doc_id))

    def put(self, collection: str, document: Document) -> None:
        """Create or replace a document; it will be written."""
        key = (collection, str(document["_id"]))
        self.docs[key] = document
        self.dirty.add(key)
        self.deleted.discard(key)

    def delete(self, collection: str, doc_id: str) -> None:
        """Remove a document."""
        key = (collection, doc_id)
        self.docs.pop(key, None)
        self.dirty.discard(key)
        self.deleted.add(key)

    def guarded(self, collection: str, doc_id: str, envelope: EventEnvelope) -> Document | None:
        """The document to update, or None when it already saw this event (or a later one)."""
        current = self.get(collection, doc_id)
        if current is not None and current.get("seq", 0) >= envelope.sequence:
            return None
        document: Document = dict(current) if current is not None else {"_id": doc_id}
        document["seq"] = envelope.sequence
        return document

    def case_attributes(self, case_id: str, fact: Key) -> Document:
        """What fact `fact` copies from its case, and the fact listed as the case's dependent
        (so a correction of the case reaches it by `_id`). If the case is not known yet, the
        fact is listed in the case's pending document instead and gets the attributes later.
        Called before a fact's sequence guard, so a redelivery repairs a lost listing."""
        entry = {"collection": fact[0], "id": fact[1]}
        case = self.get(CASES, case_id)
        if case is not None and case.get("opened"):
            dependents = case.get("dependents", [])
            if entry not in dependents:
                self.put(CASES, {**case, "dependents": _ordered([*dependents, entry])})
            return _case_attributes(case)
        pending = self.get(PENDING, case_id) or {"_id": case_id, "facts": []}
        listed = pending.get("facts", [])
        if entry not in listed:
            self.put(PENDING, {**pending, "facts": [*listed, entry]})
        return {
            "crime_types": [],
            "region_of_exploitation": None,
            "case_project": None,
            "case_known": False,
        }

    def settle_pending(self, case_id: str) -> None:
        """Give the facts listed as pending for an opened case its attributes, list them as
        the case's dependents, and drop the pending list. Also run when the case event itself
        was already applied, so a crash between writing the case and updating its facts is
        repaired by the redelivery."""
        case = self.get(CASES, case_id)
        pending = self.get(PENDING, case_id)
        if case is None or not case.get("opened") or pending is None:
            return
        dependents = list(case.get("dependents", []))
        for fact in pending.get("facts", []):
            if fact not in dependents:
                dependents.append(fact)
        self.put(CASES, {**case, "dependents": _ordered(dependents)})
        self.refresh_dependents(case_id)
        self.delete(PENDING, case_id)

    def refresh_dependents(self, case_id: str) -> None:
        """Copy the case's current attributes into every fact that depends on it, by `_id`:
        in the batch when loaded, otherwise by a `$set` after the batch's replaces (both
        idempotent, so a redelivered correction repairs a crash halfway)."""
        case = self.get(CASES, case_id)
        if case is None or not case.get("opened"):
            return
        attributes = _case_attributes(case)
        for fact in case.get("dependents", []):
            key = (fact["collection"], fact["id"])
            document = self.docs.get(key)
            if document is not None:
                if any(document.get(name) != value for name, value in attributes.items()):
                    self.put(key[0], {**document, **attributes})
            else:
                self.propagate[key] = attributes


def _ordered(dependents: list[Document]) -> list[Document]:
    """Dependents sorted, so the case document does not depend on the order facts arrived
    in (the live consumer and a rebuild read the topics' partitions interleaved differently)."""
    return sorted(dependents, key=lambda fact: (fact["collection"], fact["id"]))


def _case_attributes(case: Document) -> Document:
    return {
        "crime_types": list(case.get("crime_types", [])),
        "region_of_exploitation": case.get("region_of_exploitation"),
        "case_project": case.get("project_code"),
        "case_known": True,
    }
