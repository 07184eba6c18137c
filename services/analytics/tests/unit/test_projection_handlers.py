"""The projection's typed dispatch and fact builders, pure: events in, fact documents out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ruta_analytics.audit.rules import GENESIS, verify_trail
from ruta_analytics.projection.handlers import (
    EVENT_HANDLERS,
    Handler,
    apply_event,
    needed,
    on,
    payload_of,
    registry,
)
from ruta_analytics.projection.models import (
    ASSESSMENTS,
    ATTENDANCE,
    AUDIT,
    AUDIT_HEADS,
    CASES,
    HEADCOUNTS,
    PENDING,
    REFERRALS,
    SESSIONS,
    VICTIMS,
    FactBatch,
)
from ruta_shared.events import EventEnvelope
from ruta_shared.events.catalog.intake import CaseOpened, VictimRegistered
from ruta_shared.testing.synthetic import StreamBuilder

Doc = dict[str, Any]
AT = datetime(2017, 3, 1, 12, tzinfo=UTC)


def applied(*envelopes: EventEnvelope, batch: FactBatch | None = None) -> FactBatch:
    """A batch (fresh unless given) after applying the events in order."""
    batch = batch or FactBatch()
    for envelope in envelopes:
        apply_event(batch, envelope)
    return batch


def referral(case_id: str, victim_id: str, referral_id: str) -> Doc:
    """The fields every referral event of one referral carries."""
    return {
        "case_id": case_id,
        "referral_id": referral_id,
        "victim_id": victim_id,
        "institution_id": "inst-1",
        "institution_kind": "prosecutor",
        "office": "lima",
    }


def test_each_handled_event_type_is_registered_once_by_its_payload_class() -> None:
    types = sorted(model.event_type for model in EVENT_HANDLERS)
    assert len(types) == len(set(types))
    assert types == sorted(
        [
            "case.opened",
            "case.status_changed",
            "case.closed",
            "case.reopened",
            "case.details_updated",
            "case.project_assigned",
            "victim.registered",
            "victim.attributes_corrected",
            "victim.duplicate_resolved",
            "care.provided",
            "referral.requested",
            "referral.sent",
            "referral.acknowledged",
            "referral.accepted",
            "referral.declined",
            "referral.completed",
            "referral.revoked",
            "referral.overdue",
            "consent_override.granted",
            "victim.returned_home",
            "reintegration.milestone_reached",
            "route_stage.entered",
            "route_stage.left",
            "route_stage.overdue",
            "case_plan.task_added",
            "case_plan.task_status_changed",
            "case_plan.task_overdue",
            "training.session_scheduled",
            "training.session_held",
            "training.session_cancelled",
            "training.attendance_recorded",
            "training.attendance_moved",
            "training.headcount_recorded",
            "training.assessment_recorded",
        ]
    )


def test_registering_a_payload_class_twice_is_refused() -> None:
    handler = EVENT_HANDLERS[CaseOpened]
    with pytest.raises(ValueError, match="CaseOpened has two projection handlers"):
        registry(on(CaseOpened, handler), on(CaseOpened, handler))
    assert isinstance(handler, Handler)


def test_handlers_get_the_typed_payload() -> None:
    builder = StreamBuilder()
    case_id = builder.open_case(at=AT)
    builder.register_victim(case_id, at=AT)
    opened, registered = builder.envelopes
    assert isinstance(payload_of(opened), CaseOpened)
    victim = payload_of(registered)
    assert isinstance(victim, VictimRegistered)
    assert victim.registered_at == AT


def test_needed_names_the_audit_entry_and_every_fact_an_event_touches() -> None:
    builder = StreamBuilder()
    case_id = builder.open_case(at=AT)
    victim_id = builder.register_victim(case_id, at=AT)
    opened, registered = builder.envelopes
    assert needed(opened) == [
        (AUDIT, str(opened.id)),
        (AUDIT_HEADS, case_id),
        (CASES, case_id),
        (PENDING, case_id),
    ]
    assert needed(registered, audit=False) == [
        (VICTIMS, victim_id),
        (CASES, case_id),
        (PENDING, case_id),
    ]


def test_a_case_opened_late_on_new_years_eve_in_lima_counts_in_the_old_year() -> None:
    builder = StreamBuilder()
    at = datetime(2017, 1, 1, 3, tzinfo=UTC)  # 22:00 on 31 December 2016 in Lima
    case_id = builder.open_case(at=at, crime_types=["trafficking", "csec"], region="16")
    case = applied(*builder.envelopes).get(CASES, case_id)
    assert case is not None
    assert (case["year"], case["month"], case["day"]) == (2016, 12, "2016-12-31")
    assert case["opened_at"] == "2017-01-01T03:00:00.000000Z"
    assert case["crime_types"] == ["csec", "trafficking"]
    assert (case["status"], case["seq"]) == ("open", 1)


def test_a_victim_before_its_case_waits_and_then_gets_the_case_attributes() -> None:
    builder = StreamBuilder()
    case_id = builder.open_case(at=AT, crime_types=["csec"], region="16")
    victim_id = builder.register_victim(case_id, at=AT + timedelta(hours=1))
    opened, registered = builder.envelopes
    batch = applied(registered)
    victim = batch.get(VICTIMS, victim_id)
    assert victim is not None
    assert (victim["case_known"], victim["crime_types"]) == (False, [])
    assert batch.get(PENDING, case_id) == {
        "_id": case_id,
        "facts": [{"collection": VICTIMS, "id": victim_id}],
    }
    applied(opened, batch=batch)
    victim = batch.get(VICTIMS, victim_id)
    assert victim is not None
    assert (victim["case_known"], victim["crime_types"]) == (True, ["csec"])
    assert victim["region_of_exploitation"] == "16"
    assert batch.get(PENDING, case_id) is None
    assert (PENDING, case_id) in batch.deleted


def test_a_pending_fact_not_in_the_batch_is_propagated_by_id() -> None:
    builder = StreamBuilder()
    case_id = builder.open_case(at=AT, crime_types=["csec"])
    opened = builder.envelopes[0]
    batch = FactBatch()
    batch.load(PENDING, [{"_id": case_id, "facts": [{"collection": VICTIMS, "id": "vic-x"}]}])
    applied(opened, batch=batch)
    assert batch.propagate == {
        (VICTIMS, "vic-x"): {
            "crime_types": ["csec"],
            "region_of_exploitation": "15",
            "case_project": None,
            "case_known": True,
        }
    }


def test_an_event_already_applied_changes_no_fact() -> None:
    builder = StreamBuilder()
    case_id = builder.open_case(at=AT)
    builder.emit(
        "case.closed",
        "intake",
        case_id,
        {"case_id": case_id, "closure_reason": "reintegrated", "closed_at": AT.isoformat()},
        at=AT,
    )
    opened, closed = builder.envelopes
    batch = applied(opened, closed)
    closed_case = batch.get(CASES, case_id)
    assert closed_case is not None
    assert (closed_case["status"], closed_case["seq"]) == ("closed", 2)
    applied(opened, batch=batch)  # an older event redelivered
    assert batch.get(CASES, case_id) == closed_case


def test_a_referral_is_followed_to_its_acceptance() -> None:
    builder = StreamBuilder()
    case_id = builder.open_case(at=AT)
    victim_id = builder.register_victim(case_id, at=AT)
    referral_id = builder.new_id("ref")
    base = referral(case_id, victim_id, referral_id)
    sent_at, accepted_at = AT + timedelta(hours=2), AT + timedelta(days=3, hours=2)
    builder.emit(
        "referral.requested",
        "referrals",
        case_id,
        {
            **base,
            "direction": "outgoing",
            "urgency": "normal",
            "due_on": "2017-03-20",
            "requested_at": (AT + timedelta(hours=1)).isoformat(),
        },
        at=AT,
    )
    builder.emit(
        "referral.sent",
        "referrals",
        case_id,
        {**base, "channel": "manual", "sent_at": sent_at.isoformat()},
        at=sent_at,
    )
    builder.emit(
        "referral.accepted",
        "referrals",
        case_id,
        {**base, "accepted_at": accepted_at.isoformat()},
        at=accepted_at,
    )
    fact = applied(*builder.envelopes).get(REFERRALS, referral_id)
    assert fact is not None
    assert (fact["outcome"], fact["accepted_ever"], fact["overdue"]) == ("accepted", True, False)
    assert fact["days_to_acceptance"] == 3.0
    assert (fact["due_on"], fact["direction"], fact["urgency"]) == (
        "2017-03-20",
        "outgoing",
        "normal",
    )
    assert fact["sent_at"] == "2017-03-01T14:00:00.000000Z"
    assert (fact["year"], fact["month"], fact["case_known"]) == (2017, 3, True)


def test_training_facts_replace_earlier_ones_and_keep_the_gain() -> None:
    builder = StreamBuilder()
    session = "ses-1"
    builder.emit(
        "training.session_held",
        "training",
        session,
        {
            "session_id": session,
            "office": "lima",
            "format": "workshop",
            "region": "16",
            "audiences": ["teachers", "adolescents"],
            "held_on": "2017-05-04",
        },
        at=AT,
    )
    for hours in (2.0, 4.0):
        builder.emit(
            "training.attendance_recorded",
            "training",
            session,
            {
                "session_id": session,
                "participant_id": "par-1",
                "sex": "female",
                "audience": "teachers",
                "hours_attended": hours,
            },
            at=AT,
        )
    builder.emit(
        "training.headcount_recorded",
        "training",
        session,
        {"session_id": session, "audience": "adolescents", "female": 3, "male": 2, "unknown": 0},
        at=AT,
    )
    builder.emit(
        "training.assessment_recorded",
        "training",
        session,
        {"session_id": session, "participant_id": "par-1", "pre_score": 40.0, "post_score": 65.5},
        at=AT,
    )
    batch = applied(*builder.envelopes)
    held = batch.get(SESSIONS, session)
    assert held is not None
    assert (held["status"], held["held_on"], held["year"]) == ("held", "2017-05-04", 2017)
    assert held["audiences"] == ["adolescents", "teachers"]
    attendance = batch.get(ATTENDANCE, f"{session}:par-1")
    assert attendance is not None
    assert (attendance["hours_attended"], attendance["seq"]) == (4.0, 3)
    headcount = batch.get(HEADCOUNTS, f"{session}:adolescents")
    assert headcount is not None
    assert (headcount["female"], headcount["male"], headcount["unknown"]) == (3, 2, 0)
    assessment = batch.get(ASSESSMENTS, f"{session}:par-1")
    assert assessment is not None
    assert assessment["gain"] == 25.5


def test_every_event_gets_one_chained_audit_entry_and_redelivery_adds_none() -> None:
    builder = StreamBuilder()
    case_id = builder.open_case(at=AT)
    victim_id = builder.register_victim(case_id, at=AT)
    builder.emit(
        "pii.accessed",
        "intake",
        case_id,
        {
            "access_id": builder.new_id("acc"),
            "subject_type": "victim",
            "subject_id": victim_id,
            "case_id": case_id,
            "purpose": "case_work",
            "fields": ["names"],
            "accessed_at": AT.isoformat(),
        },
        at=AT,
    )
    accessed = builder.envelopes[-1]
    assert payload_of(accessed) is None  # audited only: no fact of its own
    assert needed(accessed) == [(AUDIT, str(accessed.id)), (AUDIT_HEADS, case_id)]
    batch = applied(*builder.envelopes)
    entries = batch.inserts
    assert [e["position"] for e in entries] == [1, 2, 3]
    assert entries[0]["prev_hash"] == GENESIS
    assert [e["prev_hash"] for e in entries[1:]] == [e["hash"] for e in entries[:-1]]
    head = batch.get(AUDIT_HEADS, case_id)
    assert head is not None
    assert verify_trail(entries, [head]) is None
    applied(*builder.envelopes, batch=batch)
    assert len(batch.inserts) == 3
    assert batch.handled == {"case.opened": 2, "victim.registered": 2, "pii.accessed": 2}


def test_a_rebuild_batch_leaves_the_ledger_alone() -> None:
    builder = StreamBuilder()
    case_id = builder.open_case(at=AT)
    batch = applied(*builder.envelopes, batch=FactBatch(audit=False))
    assert batch.inserts == []
    assert batch.dirty == {(CASES, case_id)}
