"""The projection, as pure logic: events in, fact documents out (no I/O here).

Facts are one document per case, victim, care act, referral, return home, reintegration
milestone, training session, attendance, headcount and assessment, plus one audit entry per
event. Figures are computed from facts on read, so totals always equal the sum of their parts
and a rebuild gives the same documents. Effects are idempotent: documents keyed by the
thing they describe (or by event id), a per-document sequence guard, and audit entries keyed
by event id. `FactBatch` holds the documents a batch of events touches; the caller loads them
first (`needed`), applies the events in order, and writes what changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from ruta_shared.events import EventEnvelope
from ruta_shared.lima import lima_date

from ruta_analytics.audit import GENESIS, build_entry, chain_id
from ruta_analytics.periods import parse_stamp, period_fields, stamp

Document = dict[str, Any]
Key = tuple[str, str]  # (collection, _id)

CASES: Final = "cases"
VICTIMS: Final = "victims"
CARE: Final = "care"
REFERRALS: Final = "referrals"
RETURNS: Final = "returns"
MILESTONES: Final = "milestones"
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
    SESSIONS,
    ATTENDANCE,
    HEADCOUNTS,
    ASSESSMENTS,
    PENDING,
)

REFERRAL_OUTCOME: Final = {
    "referral.requested": "pending",
    "referral.accepted": "accepted",
    "referral.declined": "declined",
    "referral.completed": "completed",
    "referral.revoked": "revoked",
}
REFERRAL_STAMPS: Final = {
    "referral.requested": "requested_at",
    "referral.sent": "sent_at",
    "referral.acknowledged": "acknowledged_at",
    "referral.accepted": "accepted_at",
    "referral.declined": "declined_at",
    "referral.completed": "completed_at",
    "referral.revoked": "revoked_at",
    "referral.overdue": "detected_at",
    "consent_override.granted": "granted_at",
}
CASE_EVENTS: Final = frozenset(
    {"case.opened", "case.status_changed", "case.closed", "case.reopened"}
)
# Events whose fact copies its case's attributes (and waits for them if the case is unknown).
CASE_DEPENDENT_EVENTS: Final = frozenset(
    {
        "victim.registered",
        "care.provided",
        "victim.returned_home",
        "reintegration.milestone_reached",
        *REFERRAL_STAMPS,
    }
)
SESSION_EVENTS: Final = frozenset(
    {"training.session_scheduled", "training.session_held", "training.session_cancelled"}
)


def needed(envelope: EventEnvelope, *, audit: bool = True) -> list[Key]:
    """The documents an event reads or writes (loaded before the batch is applied)."""
    data = envelope.data
    keys: list[Key] = []
    if audit:
        keys += [(AUDIT, str(envelope.id)), (AUDIT_HEADS, chain_id(envelope))]
    kind = envelope.type
    case_id = str(data.get("case_id", ""))
    if kind in CASE_EVENTS:
        keys += [(CASES, case_id), (PENDING, case_id)]
    elif kind == "victim.registered":
        keys += [(VICTIMS, data["victim_id"]), (CASES, case_id)]
    elif kind == "care.provided":
        keys += [(CARE, data["care_id"]), (CASES, case_id)]
    elif kind in REFERRAL_STAMPS:
        keys += [(REFERRALS, data["referral_id"]), (CASES, case_id)]
    elif kind == "victim.returned_home":
        keys += [(RETURNS, str(envelope.id)), (CASES, case_id)]
    elif kind == "reintegration.milestone_reached":
        keys += [(MILESTONES, str(envelope.id)), (CASES, case_id)]
    elif kind in SESSION_EVENTS:
        keys.append((SESSIONS, data["session_id"]))
    elif kind == "training.attendance_recorded":
        keys.append((ATTENDANCE, _pair(data["session_id"], data["participant_id"])))
    elif kind == "training.headcount_recorded":
        keys.append((HEADCOUNTS, _pair(data["session_id"], data["audience"])))
    elif kind == "training.assessment_recorded":
        keys.append((ASSESSMENTS, _pair(data["session_id"], data["participant_id"])))
    if kind in CASE_DEPENDENT_EVENTS:
        keys.append((PENDING, case_id))
    return keys


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

    def load(self, collection: str, documents: Iterable[Document]) -> None:
        """Add documents read from `collection`."""
        for document in documents:
            self.docs[(collection, str(document["_id"]))] = document

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

    def apply(self, envelope: EventEnvelope) -> None:
        """Apply one event: its audit entry first, then its facts."""
        self.handled[envelope.type] = self.handled.get(envelope.type, 0) + 1
        if self.audit:
            self._audit(envelope)
        handler = _HANDLERS.get(envelope.type)
        if handler is not None:
            handler(self, envelope)

    def _audit(self, envelope: EventEnvelope) -> None:
        chain = chain_id(envelope)
        head = self.get(AUDIT_HEADS, chain)
        existing = self.get(AUDIT, str(envelope.id))
        if existing is not None:
            # Already in the trail (a redelivery): make sure the head covers it, nothing else.
            if head is None or head["position"] < existing["position"]:
                self.put(AUDIT_HEADS, _head(chain, existing))
            return
        position = 1 + (head["position"] if head else 0)
        entry = build_entry(
            envelope, position=position, prev_hash=head["hash"] if head else GENESIS
        )
        self.docs[(AUDIT, entry["_id"])] = entry
        self.inserts.append(entry)
        self.put(AUDIT_HEADS, _head(chain, entry))

    # --- helpers shared by the handlers -------------------------------------------------

    def guarded(self, collection: str, doc_id: str, envelope: EventEnvelope) -> Document | None:
        """The document to update, or None when it already saw this event (or a later one)."""
        current = self.get(collection, doc_id)
        if current is not None and current.get("seq", 0) >= envelope.sequence:
            return None
        document: Document = dict(current) if current is not None else {"_id": doc_id}
        document["seq"] = envelope.sequence
        return document

    def case_attributes(self, case_id: str, fact: Key) -> Document:
        """What fact `fact` copies from its case; if the case is not known yet, the fact is
        listed in the case's pending document to receive the attributes later."""
        case = self.get(CASES, case_id)
        if case is not None and case.get("opened"):
            return _case_attributes(case)
        pending = self.get(PENDING, case_id) or {"_id": case_id, "facts": []}
        listed = pending.get("facts", [])
        entry = {"collection": fact[0], "id": fact[1]}
        if entry not in listed:
            self.put(PENDING, {**pending, "facts": [*listed, entry]})
        return {"crime_types": [], "region_of_exploitation": None, "case_known": False}

    def settle_pending(self, case_id: str) -> None:
        """Give the facts listed as pending for an opened case its attributes, and drop the
        list. Also run when the case event itself was already applied, so a crash between
        writing the case and updating its facts is repaired by the redelivery."""
        case = self.get(CASES, case_id)
        pending = self.get(PENDING, case_id)
        if case is None or not case.get("opened") or pending is None:
            return
        attributes = _case_attributes(case)
        for fact in pending.get("facts", []):
            collection, doc_id = fact["collection"], fact["id"]
            key = (collection, doc_id)
            document = self.docs.get(key)
            if document is not None:
                self.put(collection, {**document, **attributes})
            else:
                self.propagate[key] = attributes
        self.delete(PENDING, case_id)


def _pair(left: str, right: str) -> str:
    return f"{left}:{right}"


def _head(chain: str, entry: Document) -> Document:
    return {
        "_id": chain,
        "trail": entry["trail"],
        "position": entry["position"],
        "hash": entry["hash"],
    }


def _case_attributes(case: Document) -> Document:
    return {
        "crime_types": list(case.get("crime_types", [])),
        "region_of_exploitation": case.get("region_of_exploitation"),
        "case_known": True,
    }


def _day(value: str) -> date:
    return date.fromisoformat(value)


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- intake ------------------------------------------------------------------------------


def _case_event(batch: FactBatch, envelope: EventEnvelope) -> None:
    data = envelope.data
    case_id = data["case_id"]
    case = batch.guarded(CASES, case_id, envelope)
    if case is None:
        batch.settle_pending(case_id)
        return
    kind = envelope.type
    if kind == "case.opened":
        opened_at = _instant(data["opened_at"])
        case.update(
            opened=True,
            office=data["office"],
            crime_types=sorted(data["crime_types"]),
            exploitation_purposes=sorted(data.get("exploitation_purposes") or []),
            region_of_exploitation=data.get("region_of_exploitation"),
            arrival_channel=data["arrival_channel"],
            referring_institution_kind=data.get("referring_institution_kind"),
            opened_at=stamp(opened_at),
            status="open",
            **period_fields(lima_date(opened_at)),
        )
    elif kind == "case.status_changed":
        case["status"] = data["to_status"]
    elif kind == "case.closed":
        case.update(
            status="closed",
            closed_at=stamp(_instant(data["closed_at"])),
            closure_reason=data["closure_reason"],
        )
    elif kind == "case.reopened":
        case.update(status="open", reopened_at=stamp(_instant(data["reopened_at"])))
    batch.put(CASES, case)
    batch.settle_pending(case_id)


def _victim_registered(batch: FactBatch, envelope: EventEnvelope) -> None:
    data = envelope.data
    victim = batch.guarded(VICTIMS, data["victim_id"], envelope)
    if victim is None:
        return
    registered_at = _instant(data["registered_at"])
    victim.update(
        case_id=data["case_id"],
        office=data["office"],
        sex=data["sex"],
        age_group=data["age_group"],
        nationality=data.get("nationality"),
        region_of_origin=data.get("region_of_origin"),
        indigenous_people=data.get("indigenous_people"),
        disability=data.get("disability"),
        registered_at=stamp(registered_at),
        **period_fields(lima_date(registered_at)),
        **batch.case_attributes(data["case_id"], (VICTIMS, victim["_id"])),
    )
    batch.put(VICTIMS, victim)


def _care_provided(batch: FactBatch, envelope: EventEnvelope) -> None:
    data = envelope.data
    care = batch.guarded(CARE, data["care_id"], envelope)
    if care is None:
        return
    care.update(
        case_id=data["case_id"],
        victim_id=data["victim_id"],
        office=data["office"],
        care_type=data["care_type"],
        **period_fields(_day(data["provided_on"])),
        **batch.case_attributes(data["case_id"], (CARE, care["_id"])),
    )
    batch.put(CARE, care)


# --- referrals ---------------------------------------------------------------------------


def _referral_event(batch: FactBatch, envelope: EventEnvelope) -> None:
    data = envelope.data
    referral = batch.guarded(REFERRALS, data["referral_id"], envelope)
    if referral is None:
        return
    kind = envelope.type
    moment = _instant(data[REFERRAL_STAMPS[kind]])
    referral.update(
        case_id=data["case_id"],
        victim_id=data["victim_id"],
        institution_id=data["institution_id"],
        institution_kind=data["institution_kind"],
        office=data["office"],
        **batch.case_attributes(data["case_id"], (REFERRALS, referral["_id"])),
    )
    referral.setdefault("outcome", "pending")
    referral.setdefault("accepted_ever", False)
    referral.setdefault("overdue", False)
    if "year" not in referral or kind == "referral.requested":
        referral.update(period_fields(lima_date(moment)))
    if kind == "referral.requested":
        referral.update(
            direction=data["direction"], urgency=data["urgency"], due_on=data.get("due_on")
        )
    if kind == "referral.overdue":
        referral.update(overdue=True, overdue_stage=data["stage"])
    elif kind == "consent_override.granted":
        referral["consent_override"] = True
    else:
        referral[REFERRAL_STAMPS[kind]] = stamp(moment)
    if kind in REFERRAL_OUTCOME:
        referral["outcome"] = REFERRAL_OUTCOME[kind]
    if kind in {"referral.accepted", "referral.completed"} and not referral["accepted_ever"]:
        referral["accepted_ever"] = True
        since = referral.get("sent_at") or referral.get("requested_at")
        if since is not None:
            seconds = (moment - parse_stamp(since)).total_seconds()
            referral["days_to_acceptance"] = round(max(seconds, 0.0) / 86400, 6)
    batch.put(REFERRALS, referral)


def _returned_home(batch: FactBatch, envelope: EventEnvelope) -> None:
    data = envelope.data
    batch.put(
        RETURNS,
        {
            "_id": str(envelope.id),
            "case_id": data["case_id"],
            "victim_id": data["victim_id"],
            "office": data["office"],
            "region_of_origin": data["region_of_origin"],
            "funded": data["funded"],
            **period_fields(_day(data["returned_on"])),
            **batch.case_attributes(data["case_id"], (RETURNS, str(envelope.id))),
        },
    )


def _milestone(batch: FactBatch, envelope: EventEnvelope) -> None:
    data = envelope.data
    batch.put(
        MILESTONES,
        {
            "_id": str(envelope.id),
            "case_id": data["case_id"],
            "victim_id": data["victim_id"],
            "office": data["office"],
            "milestone": data["milestone"],
            "region": data.get("region"),
            **period_fields(_day(data["reached_on"])),
            **batch.case_attributes(data["case_id"], (MILESTONES, str(envelope.id))),
        },
    )


# --- training ----------------------------------------------------------------------------


def _session_event(batch: FactBatch, envelope: EventEnvelope) -> None:
    data = envelope.data
    session = batch.guarded(SESSIONS, data["session_id"], envelope)
    if session is None:
        return
    kind = envelope.type
    if kind == "training.session_scheduled":
        session.update(
            office=data["office"],
            format=data["format"],
            topics=sorted(data["topics"]),
            audiences=sorted(data["audiences"]),
            region=data["region"],
            modality=data["modality"],
            pedagogic_hours=data["pedagogic_hours"],
            starts_on=data["starts_on"],
            status="scheduled",
            **period_fields(_day(data["starts_on"])),
        )
    elif kind == "training.session_held":
        session.update(
            office=data["office"],
            format=data["format"],
            region=data["region"],
            audiences=sorted(data["audiences"]),
            held_on=data["held_on"],
            status="held",
            **period_fields(_day(data["held_on"])),
        )
    else:
        session["status"] = "cancelled"
    batch.put(SESSIONS, session)


def _attendance(batch: FactBatch, envelope: EventEnvelope) -> None:
    data = envelope.data
    doc_id = _pair(data["session_id"], data["participant_id"])
    attendance = batch.guarded(ATTENDANCE, doc_id, envelope)
    if attendance is None:
        return
    attendance.update(
        session_id=data["session_id"],
        participant_id=data["participant_id"],
        sex=data["sex"],
        audience=data["audience"],
        region=data.get("region"),
        hours_attended=data["hours_attended"],
    )
    batch.put(ATTENDANCE, attendance)


def _headcount(batch: FactBatch, envelope: EventEnvelope) -> None:
    data = envelope.data
    doc_id = _pair(data["session_id"], data["audience"])
    headcount = batch.guarded(HEADCOUNTS, doc_id, envelope)
    if headcount is None:
        return
    headcount.update(
        session_id=data["session_id"],
        audience=data["audience"],
        female=data["female"],
        male=data["male"],
        unknown=data["unknown"],
    )
    batch.put(HEADCOUNTS, headcount)


def _assessment(batch: FactBatch, envelope: EventEnvelope) -> None:
    data = envelope.data
    doc_id = _pair(data["session_id"], data["participant_id"])
    assessment = batch.guarded(ASSESSMENTS, doc_id, envelope)
    if assessment is None:
        return
    assessment.update(
        session_id=data["session_id"],
        participant_id=data["participant_id"],
        pre_score=data["pre_score"],
        post_score=data["post_score"],
        gain=round(data["post_score"] - data["pre_score"], 6),
    )
    batch.put(ASSESSMENTS, assessment)


_HANDLERS: Final = {
    "case.opened": _case_event,
    "case.status_changed": _case_event,
    "case.closed": _case_event,
    "case.reopened": _case_event,
    "victim.registered": _victim_registered,
    "care.provided": _care_provided,
    **dict.fromkeys(REFERRAL_STAMPS, _referral_event),
    "victim.returned_home": _returned_home,
    "reintegration.milestone_reached": _milestone,
    **dict.fromkeys(SESSION_EVENTS, _session_event),
    "training.attendance_recorded": _attendance,
    "training.headcount_recorded": _headcount,
    "training.assessment_recorded": _assessment,
}
