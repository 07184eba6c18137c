"""Pure referral rules: the status machine, deadlines, overdue once, the partner's view."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ruta_referrals.intake_projection.rules import consent_allows
from ruta_referrals.partners.rules import Pseudonyms, partner_view, visible_to_partner
from ruta_referrals.referrals.rules import (
    Deadlines,
    apply_action,
    is_overdue,
    overdue_change,
)
from ruta_referrals.settings import ReferralsSettings
from ruta_shared.aggregate import RuleViolationError
from ruta_shared.security.crypto import BlindIndex

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
DEADLINES = Deadlines(
    acknowledgement={"critical": 3600, "high": 7200, "normal": 86400, "low": 86400},
    answer={"critical": 7200, "high": 86400, "normal": 86400, "low": 86400},
)
WHERE = {"case_id": "case-1", "office": "lima"}


def referral(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "referral_id": "ref-1",
        "victim_id": "victim-1",
        "institution_id": "fistrap-lima",
        "institution_kind": "prosecutor",
        "direction": "outgoing",
        "services_requested": ["legal"],
        "urgency": "critical",
        "due_on": None,
        "reason": "rk1:cipher",
        "shared_facts": None,
        "status": "requested",
        "version": 1,
        "overdue_stages": [],
    }
    return {**base, **overrides}


def test_sending_starts_the_acknowledgement_clock_of_its_urgency() -> None:
    change = apply_action(
        referral(), "send", now=NOW, deadlines=DEADLINES, channel="webhook", **WHERE
    )
    assert change.referral["status"] == "sent"
    assert change.referral["version"] == 2
    assert change.referral["deadline_stage"] == "acknowledgement"
    assert change.referral["deadline_at"] == NOW + timedelta(hours=1)
    (event,) = change.payloads
    assert event.event_type == "referral.sent"
    assert event.model_dump()["channel"] == "webhook"


def test_accepting_a_sent_referral_records_the_implied_acknowledgement() -> None:
    sent = apply_action(referral(), "send", now=NOW, deadlines=DEADLINES, **WHERE).referral
    change = apply_action(sent, "accept", now=NOW, deadlines=DEADLINES, **WHERE)
    assert [p.event_type for p in change.payloads] == ["referral.acknowledged", "referral.accepted"]
    assert change.referral["status"] == "accepted"
    assert change.referral["deadline_at"] is None


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("requested", "accept"),
        ("requested", "complete"),
        ("sent", "complete"),
        ("declined", "accept"),
        ("completed", "revoke"),
        ("revoked", "send"),
        ("sent", "progress"),
    ],
)
def test_impossible_transitions_are_refused(status: str, action: Any) -> None:
    with pytest.raises(RuleViolationError) as refused:
        apply_action(referral(status=status), action, now=NOW, deadlines=DEADLINES, **WHERE)
    assert "No se puede" in refused.value.message
    assert refused.value.status_code == 409


def test_a_decline_needs_a_reason_code() -> None:
    sent = referral(status="sent")
    with pytest.raises(ValueError, match="reason"):
        apply_action(sent, "decline", now=NOW, deadlines=DEADLINES, **WHERE)
    change = apply_action(
        sent, "decline", now=NOW, deadlines=DEADLINES, decline_reason="not_competent", **WHERE
    )
    assert change.referral["decline_reason"] == "not_competent"


def test_incoming_referrals_are_answered_without_being_sent() -> None:
    incoming = referral(direction="incoming")
    with pytest.raises(RuleViolationError):
        apply_action(incoming, "send", now=NOW, deadlines=DEADLINES, **WHERE)
    accepted = apply_action(incoming, "accept", now=NOW, deadlines=DEADLINES, **WHERE)
    assert accepted.referral["status"] == "accepted"
    assert accepted.referral["deadline_stage"] is None  # no institution to chase


def test_each_overdue_stage_is_reported_once_and_cleared_when_answered() -> None:
    sent = apply_action(referral(), "send", now=NOW, deadlines=DEADLINES, **WHERE).referral
    assert overdue_change(sent, now=NOW + timedelta(minutes=59), **WHERE) is None
    late = NOW + timedelta(hours=2)
    change = overdue_change(sent, now=late, **WHERE)
    assert change is not None
    (event,) = change.payloads
    assert event.model_dump()["stage"] == "acknowledgement"
    assert is_overdue(change.referral)
    assert overdue_change(change.referral, now=late + timedelta(days=1), **WHERE) is None
    acknowledged = apply_action(
        change.referral, "acknowledge", now=late, deadlines=DEADLINES, **WHERE
    ).referral
    assert not is_overdue(acknowledged)
    assert acknowledged["deadline_at"] == late + timedelta(hours=2)
    answer_late = overdue_change(acknowledged, now=late + timedelta(hours=3), **WHERE)
    assert answer_late is not None
    assert answer_late.referral["overdue_stages"] == ["acknowledgement", "answer"]


def test_the_partner_view_holds_only_what_the_referral_needs() -> None:
    pseudonyms = Pseudonyms(BlindIndex(secrets.token_bytes(32)))
    view = partner_view(
        referral(status="sent", sent_at=NOW, shared_facts="rk1:x"), pseudonyms=pseudonyms
    )
    assert view["referral_code"] == pseudonyms.referral_code("ref-1")
    assert view["victim_id"] == pseudonyms.victim("fistrap-lima", "victim-1")
    assert view["has_shared_facts"] is True
    for hidden in (
        "reason",
        "shared_facts",
        "office",
        "case_id",
        "case_code",
        "consent_override",
        "created_by",
    ):
        assert hidden not in view
    assert "victim-1" not in view.values()


def test_a_partner_sees_only_sent_outgoing_referrals_addressed_to_it() -> None:
    sent = referral(status="sent", sent_at=NOW)
    keep: dict[str, Any] = {"now": NOW, "retention": timedelta(days=90)}
    assert visible_to_partner(sent, "fistrap-lima", **keep)
    assert not visible_to_partner(sent, "fistrap-cusco", **keep)
    assert not visible_to_partner(referral(), "fistrap-lima", **keep)  # not sent yet
    assert not visible_to_partner({**sent, "direction": "incoming"}, "fistrap-lima", **keep)
    # Issue 14: a revoked or declined referral leaves the institution's view at once.
    assert not visible_to_partner({**sent, "status": "revoked"}, "fistrap-lima", **keep)
    assert not visible_to_partner({**sent, "status": "declined"}, "fistrap-lima", **keep)


def test_consent_is_per_institution_kind() -> None:
    victim = {"consents": {"prosecutor": {"granted": True}, "shelter_car": {"granted": False}}}
    assert consent_allows(victim, "prosecutor")
    assert not consent_allows(victim, "shelter_car")
    assert not consent_allows(victim, "health")
    assert not consent_allows({}, "prosecutor")


def test_settings_need_a_deadline_for_every_urgency() -> None:
    with pytest.raises(ValueError, match="missing deadlines"):
        ReferralsSettings(acknowledgement_deadline_seconds={"critical": 60})
    settings = ReferralsSettings(environment="test")
    assert (
        settings.acknowledgement_deadline_seconds["critical"]
        < (settings.acknowledgement_deadline_seconds["low"])
    )
