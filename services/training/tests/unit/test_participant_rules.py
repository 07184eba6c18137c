"""Pure rules of the registry: resolution within the caller's offices, rectification, merges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ruta_shared.aggregate import RuleViolationError
from ruta_training.duplicates.rules import plan_merged, plan_move, plan_resolve
from ruta_training.participants.rules import Wanted, claim_id, duplicate_id, resolve
from ruta_training.rights.rules import changed_fields, plan_erase, plan_reattribute

DOC, EMAIL = "doc:aaa", "email:bbb"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def lima_only(office: str) -> bool:
    return office == "lima"


def test_a_claim_of_the_registering_office_wins() -> None:
    claims = {claim_id(DOC, "lima"): "p-lima", claim_id(DOC, "iquitos"): "p-iq"}
    offices = {"p-lima": frozenset({"lima"}), "p-iq": frozenset({"iquitos"})}
    [found] = resolve([Wanted([DOC], "lima")], claims, offices, lima_only)
    assert (found.participant_id, found.new) == ("p-lima", False)
    assert dict(found.hidden) == {"p-iq": frozenset({"document_number"})}


def test_a_match_only_in_offices_the_caller_cannot_see_is_a_new_participant() -> None:
    claims = {claim_id(EMAIL, "iquitos"): "p-iq"}
    offices = {"p-iq": frozenset({"iquitos"})}
    first, second = resolve(
        [Wanted([EMAIL], "lima"), Wanted([DOC, EMAIL], "lima")], claims, offices, lima_only
    )
    assert first.new
    assert first.participant_id != "p-iq"
    assert dict(first.hidden) == {"p-iq": frozenset({"email"})}
    # A later input naming the same person shares the new id, and claims the new key too.
    assert (second.participant_id, second.new) == (first.participant_id, False)
    assert claims[claim_id(DOC, "lima")] == first.participant_id
    assert claims[claim_id(EMAIL, "iquitos")] == "p-iq"  # never taken over


def test_a_participant_of_another_office_of_the_caller_is_the_same_person() -> None:
    claims = {claim_id(DOC, "cusco"): "p-cusco", DOC: "p-old"}  # DOC alone: a legacy claim
    offices = {"p-cusco": frozenset({"cusco"}), "p-old": frozenset({"iquitos"})}
    [found] = resolve([Wanted([DOC], "lima")], claims, offices, lambda o: o in {"lima", "cusco"})
    assert (found.participant_id, found.new) == ("p-cusco", False)
    assert dict(found.hidden) == {"p-old": frozenset({"document_number"})}
    assert claims[claim_id(DOC, "lima")] == "p-cusco"


def test_a_claim_without_its_record_is_nobody_yet() -> None:
    [found] = resolve([Wanted([DOC], "lima")], {claim_id(DOC, "iquitos"): "ghost"}, {}, lima_only)
    assert found.new
    assert dict(found.hidden) == {}


def test_a_pair_has_one_id_whichever_came_first() -> None:
    assert duplicate_id("a", "b") == duplicate_id("b", "a")
    assert duplicate_id("a", "b") != duplicate_id("a", "c")


def test_rectification_changes_only_what_differs_and_keeps_a_way_to_find_the_person() -> None:
    doc = {"_id": "p", "sex": "female", "audience": None, "document_type": "dni"}
    plain = {"given_names": "Ana", "family_names": "Soto", "email": "ana@example.pe"}
    assert changed_fields(doc, plain, {"given_names": "Ana", "sex": "male"}) == {"sex": "male"}
    assert changed_fields(doc, plain, {"phone": "+51 999"}) == {"phone": "+51 999"}
    for stated, field in (
        ({}, "body"),
        ({"family_names": None}, "family_names"),
        ({"email": None}, "document_number"),
        ({"sex": None}, "sex"),
    ):
        with pytest.raises(RuleViolationError) as refused:
            changed_fields(doc, plain, stated)
        assert refused.value.field == field


def test_erasure_happens_once() -> None:
    first = plan_erase({"_id": "p", "erased_at": None}, NOW)
    assert [e.event_type for e in first.events] == ["training.participant_erased"]
    assert first.update["$set"]["pii"] == {}
    assert plan_erase({"_id": "p", "erased_at": NOW}, NOW).events == ()


def test_a_merge_moves_attendance_and_keeps_the_kept_persons_own_records() -> None:
    session = {
        "_id": "s",
        "modules": [{"hours": 4}, {"hours": 6}],
        "attendance": {"old": {"hours": 4, "modules": [1]}, "new": {"hours": 6, "modules": [2]}},
        "assessments": {"old": {"pre": 10, "post": 20}, "new": {"pre": 50, "post": 90}},
        "certificates": {"old": {"code_hash": "h1"}},
    }
    change = plan_move(session, "old", "new")
    assert change.update["$set"]["attendance.new"]["hours"] == 10
    assert change.update["$set"]["attendance.new"]["modules"] == [1, 2]
    assert "assessments.new" not in change.update["$set"]  # the kept person's scores win
    assert change.update["$set"]["certificates.new"] == {"code_hash": "h1"}
    assert set(change.update["$unset"]) == {"attendance.old", "assessments.old", "certificates.old"}
    [event] = change.events
    assert (event.from_participant_id, event.hours_attended) == ("old", 10)
    assert plan_move(session, "absent", "new").events == ()


def test_a_merge_and_a_resolution_are_decided_once() -> None:
    assert plan_merged({"_id": "old", "merged_into": "new"}, "new", "d", NOW).events == ()
    with pytest.raises(RuleViolationError):
        plan_merged({"_id": "old", "merged_into": "third"}, "new", "d", NOW)
    pending = {"_id": "d", "status": "pending"}
    assert len(plan_resolve(pending, "merged", "new", "u", NOW).events) == 1
    done = {"_id": "d", "status": "merged", "kept_participant_id": "new"}
    assert plan_resolve(done, "merged", "new", "u", NOW).events == ()
    with pytest.raises(RuleViolationError):
        plan_resolve(done, "distinct", None, "u", NOW)


def test_corrected_attributes_replace_the_recorded_ones_once() -> None:
    entry = {"hours": 8, "modules": [], "sex": "male", "audience": "car_staff"}
    session = {"_id": "s", "audiences": ["justice_operators"], "attendance": {"p": entry}}
    change = plan_reattribute(session, "p", {"sex": "female"})
    written = change.update["$set"]["attendance.p"]
    assert (written["sex"], written["audience"], written["hours"]) == ("female", "car_staff", 8)
    [event] = change.events
    assert (event.sex, event.hours_attended) == ("female", 8)
    assert plan_reattribute(session, "p", {"sex": "male"}).events == ()
    assert plan_reattribute(session, "absent", {"sex": "female"}).events == ()
