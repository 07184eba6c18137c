"""Pure rules of rights and duplicates: attribute corrections, patches, resolutions, scope."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from ruta_intake.duplicates.models import DuplicateResolution
from ruta_intake.duplicates.rules import check_resolvable, kept_record, sees_both
from ruta_intake.rights.rules import changed_fields, merge_personal_data
from ruta_intake.victims.rules import corrected_attributes, intake_date_of
from ruta_shared.aggregate import RuleViolationError
from ruta_shared.security.principal import Principal, Role

DAY = date(2026, 6, 1)


def victim(**overrides: Any) -> dict[str, Any]:
    """A stored victim's attributes: a 17-year-old of unknown sex."""
    doc: dict[str, Any] = {
        "victim_id": "v1",
        "sex": "unknown",
        "age_at_intake": 17,
        "age_group": "minor",
        "nationality": None,
        "region_of_origin": None,
        "indigenous_people": None,
        "disability": None,
    }
    doc.update(overrides)
    return doc


def correct(given: dict[str, Any], *, known: bool = False, **current: Any) -> dict[str, Any]:
    return corrected_attributes(victim(**current), given, birth_date_known=known, intake_date=DAY)


def test_an_age_moves_the_age_group_with_it() -> None:
    assert correct({"age_at_intake": 19})["age_group"] == "adult"
    assert correct({"age_at_intake": None})["age_group"] == "minor"  # the stated group stays
    assert correct({"age_at_intake": None, "age_group": "unknown"})["age_group"] == "unknown"
    unchanged = {k: v for k, v in victim().items() if k != "victim_id"}
    assert correct({"nationality": "VE"}) == {**unchanged, "nationality": "VE"}


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"age_group": "adult"}, "age_group"),
        ({"age_at_intake": 30, "age_group": "minor"}, "age_group"),
        ({"sex": None}, "sex"),
        ({"age_group": None}, "age_group"),
    ],
)
def test_contradictions_name_the_field(given: dict[str, Any], field: str) -> None:
    with pytest.raises(RuleViolationError) as refused:
        correct(given)
    assert refused.value.field == field


def test_with_a_birth_date_the_age_follows_it() -> None:
    with pytest.raises(RuleViolationError) as refused:
        correct({"age_at_intake": 18}, known=True)
    assert refused.value.field == "age_at_intake"
    # Sending the values it already has is no contradiction.
    assert correct({"age_at_intake": 17, "sex": "female"}, known=True)["sex"] == "female"


def test_the_intake_day_of_victims_registered_with_the_case_is_the_opening_day() -> None:
    created = datetime(2026, 6, 10, 15, tzinfo=UTC)
    case = {"opened_at": datetime(2026, 5, 2, 15, tzinfo=UTC), "created_at": created}
    assert intake_date_of(case, {"registered_at": created}) == date(2026, 5, 2)
    later = datetime(2026, 6, 20, 15, tzinfo=UTC)
    assert intake_date_of(case, {"registered_at": later}) == date(2026, 6, 20)


def test_a_patch_replaces_removes_and_keeps() -> None:
    current = {"given_names": "Ana", "phone": "999", "address": "Jr. Uno"}
    merged = merge_personal_data(current, {"given_names": "Anna", "phone": None})
    assert merged == {"given_names": "Anna", "address": "Jr. Uno"}
    assert changed_fields(current, merged) == ["given_names", "phone"]
    assert changed_fields(current, merge_personal_data(current, {"address": "Jr. Uno"})) == []


DUPLICATE = {
    "_id": "d1",
    "status": "pending",
    "office": "lima",
    "victim_id": "new",
    "other_office": "iquitos",
    "other_victim_id": "old",
    "kept_victim_id": None,
}


def test_the_kept_record_is_one_of_the_two_and_the_older_by_default() -> None:
    same = DuplicateResolution(outcome="same_person")
    assert kept_record(DUPLICATE, same) == "old"
    assert kept_record(DUPLICATE, same.model_copy(update={"kept_victim_id": "new"})) == "new"
    for body in (
        same.model_copy(update={"kept_victim_id": "third"}),
        DuplicateResolution(outcome="different_people", kept_victim_id="old"),
    ):
        with pytest.raises(RuleViolationError) as refused:
            kept_record(DUPLICATE, body)
        assert refused.value.field == "body.kept_victim_id"


def test_a_resolution_is_final_but_may_be_repeated() -> None:
    assert check_resolvable(DUPLICATE, outcome="same_person", kept="old") is True
    done = {**DUPLICATE, "status": "same_person", "kept_victim_id": "old"}
    assert check_resolvable(done, outcome="same_person", kept="old") is False
    with pytest.raises(RuleViolationError) as refused:
        check_resolvable(done, outcome="different_people", kept=None)
    assert refused.value.status_code == 409


def test_only_a_caller_who_sees_both_offices_sees_a_duplicate() -> None:
    lima = Principal(id="u", role=Role.CASE_WORKER, offices=frozenset({"lima"}), auth="password")
    both = lima.model_copy(update={"offices": frozenset({"lima", "iquitos"})})
    coordinator = Principal(id="c", role=Role.COORDINATOR, auth="password")
    assert not sees_both(lima, DUPLICATE)
    assert sees_both(both, DUPLICATE)
    assert sees_both(coordinator, DUPLICATE)
