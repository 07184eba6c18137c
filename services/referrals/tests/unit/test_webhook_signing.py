"""Webhook signing (checked with the standardwebhooks verifier), backoff and payload content."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from ruta_referrals.institutions.rules import new_webhook_secret
from ruta_referrals.partners.rules import Pseudonyms
from ruta_referrals.webhooks.rules import backoff_seconds, delivery_id, signed_headers, webhook_body
from ruta_shared.events import Actor, EventData, EventEnvelope, new_event
from ruta_shared.events.catalog.referrals import ReferralDeclined, ReferralSent
from ruta_shared.security.crypto import BlindIndex
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

BODY = '{"type":"referral.sent","data":{}}'


def test_headers_verify_with_the_standard_library_and_only_with_the_right_secret() -> None:
    secret = new_webhook_secret()
    headers = signed_headers(secret=secret, message_id="msg-1", body=BODY, at=datetime.now(UTC))
    assert Webhook(secret).verify(BODY, headers) == {"type": "referral.sent", "data": {}}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace("sent", "accepted"), headers)


def test_old_signatures_are_rejected_by_the_receiver() -> None:
    secret = new_webhook_secret()
    old = datetime.now(UTC) - timedelta(minutes=10)
    headers = signed_headers(secret=secret, message_id="msg-1", body=BODY, at=old)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, headers)


def test_backoff_doubles_and_is_capped() -> None:
    waits = [backoff_seconds(n, base=10, cap=60) for n in range(1, 6)]
    assert waits == [10, 20, 40, 60, 60]


def test_delivery_ids_are_stable_per_event_and_institution() -> None:
    assert delivery_id("e-1", "fistrap") == delivery_id("e-1", "fistrap")
    assert delivery_id("e-1", "fistrap") != delivery_id("e-1", "upe")
    assert delivery_id("e-1", "fistrap") != delivery_id("e-2", "fistrap")


NOW = datetime(2026, 11, 26, tzinfo=UTC)
IDS = {
    "case_id": "case-1",
    "referral_id": "ref-1",
    "victim_id": "victim-1",
    "institution_id": "upe-lima",
    "institution_kind": "child_protection",
    "office": "iquitos",
}
STORED = {
    "referral_id": "ref-1",
    "victim_id": "victim-1",
    "institution_id": "upe-lima",
    "services_requested": ["safe_housing"],
    "urgency": "high",
    "reason": "rk1:ciphertext",
    "shared_facts": "rk1:ciphertext",
}


def envelope_of(payload: EventData, sequence: int) -> EventEnvelope:
    return new_event(
        payload, subject="case-1", sequence=sequence, actor=Actor(id="u-1", role="partner")
    )


def test_the_body_carries_the_partner_view_and_the_event_codes_only() -> None:
    envelope = envelope_of(ReferralDeclined(**IDS, reason="no_capacity", declined_at=NOW), 3)
    referral = {**STORED, "status": "declined", "version": 4}
    pseudonyms = Pseudonyms(BlindIndex(secrets.token_bytes(32)))
    body = webhook_body(envelope, referral, pseudonyms)
    assert '"type":"referral.declined"' in body
    assert '"event_reason":"no_capacity"' in body
    assert f'"referral_code":"{pseudonyms.referral_code("ref-1")}"' in body
    assert '"status":"declined"' in body
    # A decline is the referral's last word to the institution: which one, nothing more.
    for hidden in (
        "rk1:",
        "iquitos",
        "case-1",
        "child_protection",
        '"version"',
        "victim",
        "safe_housing",
        "case_code",
    ):
        assert hidden not in body


def test_a_sent_referral_body_names_the_victim_by_the_institutions_pseudonym() -> None:
    envelope = envelope_of(ReferralSent(**IDS, channel="webhook", sent_at=NOW), 2)
    referral = {**STORED, "status": "sent", "version": 2}
    pseudonyms = Pseudonyms(BlindIndex(secrets.token_bytes(32)))
    data = json.loads(webhook_body(envelope, referral, pseudonyms))["data"]
    assert data["victim_id"] == pseudonyms.victim("upe-lima", "victim-1")
    assert data["services_requested"] == ["safe_housing"]
    assert data["status"] == "sent"
    assert "victim-1" not in json.dumps(data)
    assert "case_code" not in data
