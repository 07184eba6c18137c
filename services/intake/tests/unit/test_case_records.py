"""Pure helpers the case's records share: prefixed rule errors, erased victims, consent versions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from ruta_intake.cases.rules import field_prefix
from ruta_intake.consent.rules import check_guardian_relative, consent_reads
from ruta_intake.victims.rules import check_not_erased
from ruta_shared.aggregate import RuleViolationError

AT = datetime(2026, 6, 1, tzinfo=UTC)


def consent(consent_id: str, version: int, **overrides: Any) -> dict[str, Any]:
    """A stored consent version."""
    doc: dict[str, Any] = {
        "consent_id": consent_id,
        "victim_id": "v1",
        "version": version,
        "purpose": "data_processing",
        "institution_kind": None,
        "given_by": "victim",
        "granted": True,
        "guardian_relative_id": None,
        "recorded_at": AT,
        "withdrawn_at": None,
        "recorded_by": "u-1",
    }
    doc.update(overrides)
    return doc


def test_a_prefixed_rule_error_keeps_its_status_code_and_kind() -> None:
    with pytest.raises(RuleViolationError) as raised, field_prefix("body.victims.2"):
        raise RuleViolationError("age_group", "no", status_code=409, code="c", kind="k")
    assert raised.value.field == "body.victims.2.age_group"
    assert (raised.value.status_code, raised.value.code, raised.value.kind) == (409, "c", "k")
    assert raised.value.message == "no"


def test_an_erased_victim_refuses_new_records() -> None:
    check_not_erased({"victim_id": "v1", "erased_at": None})
    with pytest.raises(RuleViolationError) as raised:
        check_not_erased({"victim_id": "v1", "erased_at": AT})
    assert raised.value.field == "victim_id"
    assert raised.value.status_code == 409


def test_only_the_latest_version_of_a_consent_is_current() -> None:
    reads = consent_reads([consent("c1", 1), consent("c2", 1), consent("c1", 2, granted=False)])
    assert [(r.consent_id, r.version, r.current) for r in reads] == [
        ("c1", 1, False),
        ("c2", 1, True),
        ("c1", 2, True),
    ]


def test_a_guardian_is_a_registered_relative_of_that_victim() -> None:
    case = {"relatives": [{"relative_id": "r1", "victim_id": "v1"}]}
    check_guardian_relative(case, victim_id="v1", relative_id="r1")
    for victim_id, relative_id in (("v2", "r1"), ("v1", "r2")):
        with pytest.raises(RuleViolationError) as raised:
            check_guardian_relative(case, victim_id=victim_id, relative_id=relative_id)
        assert raised.value.field == "body.guardian_relative_id"
