"""Pure rules of what partners see: retention, pseudonyms, delivery checks, webhook targets."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ruta_referrals.intake_projection.rules import case_facts, consent_allows
from ruta_referrals.partners.rules import Pseudonyms, visible_to_partner
from ruta_referrals.settings import ReferralsSettings
from ruta_referrals.webhooks.rules import may_deliver
from ruta_referrals.webhooks.targets import (
    TargetPolicy,
    address_refused,
    check_target,
    scheme_refused,
)
from ruta_shared.api import FieldError
from ruta_shared.security.crypto import BlindIndex

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
RETENTION = timedelta(days=90)
STRICT = TargetPolicy(allow_local=False)


def sent(**overrides: Any) -> dict[str, Any]:
    return {
        "referral_id": "ref-1",
        "victim_id": "victim-1",
        "institution_id": "fistrap-lima",
        "direction": "outgoing",
        "status": "sent",
        "sent_at": NOW - timedelta(days=200),
        **overrides,
    }


def test_a_completed_referral_is_readable_until_the_retention_ends_then_gone() -> None:
    completed = sent(status="completed", completed_at=NOW - RETENTION)
    just_before = NOW - timedelta(microseconds=1)
    assert visible_to_partner(completed, "fistrap-lima", now=just_before, retention=RETENTION)
    assert not visible_to_partner(completed, "fistrap-lima", now=NOW, retention=RETENTION)
    assert ReferralsSettings(environment="test").partner_retention_days == 90


def test_queued_deliveries_stop_carrying_a_referral_that_left_the_view() -> None:
    keep: dict[str, Any] = {"now": NOW, "retention": RETENTION}
    assert may_deliver("referral.sent", sent(), "fistrap-lima", **keep)
    revoked = sent(status="revoked")
    assert not may_deliver("referral.sent", revoked, "fistrap-lima", **keep)
    assert not may_deliver("referral.accepted", sent(status="declined"), "fistrap-lima", **keep)
    # The revocation's own notice goes: it says only which referral is gone.
    assert may_deliver("referral.revoked", revoked, "fistrap-lima", **keep)
    expired = sent(status="completed", completed_at=NOW - RETENTION - timedelta(days=1))
    assert not may_deliver("referral.completed", expired, "fistrap-lima", **keep)
    assert not may_deliver("referral.sent", None, "fistrap-lima", **keep)


def test_pseudonyms_are_stable_per_institution_and_unlinkable_across_them() -> None:
    pseudonyms = Pseudonyms(BlindIndex(secrets.token_bytes(32)))
    first = pseudonyms.victim("fistrap-lima", "victim-1")
    assert first == pseudonyms.victim("fistrap-lima", "victim-1")
    assert first != pseudonyms.victim("upe-lima", "victim-1")
    assert "victim-1" not in first
    other_key = Pseudonyms(BlindIndex(secrets.token_bytes(32)))
    assert first != other_key.victim("fistrap-lima", "victim-1")  # the key, not the ids, decides
    code = pseudonyms.referral_code("ref-1")
    assert code == pseudonyms.referral_code("ref-1")
    assert code.startswith("DER-")
    assert len(code) == len("DER-XXXX-XXXX-XXXX")
    assert code != pseudonyms.referral_code("ref-2")


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.169.254",  # cloud metadata
        "224.0.0.1",
        "240.0.0.1",
        "0.0.0.0",
        "100.64.0.1",  # carrier-grade NAT
        "::1",
        "fe80::1%eth0",
        "fc00::1",
        "ff02::1",
        "::",
        "::ffff:127.0.0.1",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert address_refused(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not address_refused(address)


def test_only_https_unless_local_targets_are_allowed() -> None:
    assert scheme_refused("http://93.184.215.14/hook", STRICT)
    assert not scheme_refused("https://93.184.215.14/hook", STRICT)
    assert not scheme_refused("http://127.0.0.1/hook", TargetPolicy(allow_local=True))
    assert scheme_refused("ftp://127.0.0.1/hook", TargetPolicy(allow_local=True))


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/hook",  # refused after resolution, not by its name
        "https://127.0.0.1:8443/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest",
        "http://93.184.215.14/hook",
        "https:///nohost",
    ],
)
async def test_registration_refuses_non_public_or_plain_targets(url: str) -> None:
    with pytest.raises(FieldError) as refused:
        await check_target(url, STRICT)
    assert "webhook_url" in str(refused.value.detail)


async def test_registration_accepts_a_public_https_target() -> None:
    await check_target("https://93.184.215.14/hook", STRICT)


def test_local_targets_are_the_default_only_in_local_and_test() -> None:
    assert ReferralsSettings(environment="test").allow_local_webhook_targets
    assert ReferralsSettings(environment="local").allow_local_webhook_targets
    assert not ReferralsSettings(environment="production").allow_local_webhook_targets
    with pytest.raises(ValueError, match="cannot be true in production"):
        ReferralsSettings(environment="production", webhook_allow_local_targets=True)


def test_intake_case_answer_reads_as_the_projection() -> None:
    answer = {
        "case_id": "case-1",
        "case_code": "LIM-2026-00001",
        "office": "lima",
        "victims": [{"victim_id": "victim-1", "erased_at": None}],
        "consents": [
            {
                "victim_id": "victim-1",
                "purpose": "disclosure",
                "institution_kind": "prosecutor",
                "granted": True,
                "current": True,
                "withdrawn_at": None,
            },
            {
                "victim_id": "victim-1",
                "purpose": "disclosure",
                "institution_kind": "shelter_car",
                "granted": True,
                "current": True,
                "withdrawn_at": NOW.isoformat(),
            },
            {
                "victim_id": "victim-1",
                "purpose": "disclosure",
                "institution_kind": "health",
                "granted": True,
                "current": False,
                "withdrawn_at": None,
            },
        ],
    }
    facts = case_facts(answer)
    assert (facts["case_code"], facts["office"]) == ("LIM-2026-00001", "lima")
    victim = facts["victims"]["victim-1"]
    assert victim["case_id"] == "case-1"
    assert consent_allows(victim, "prosecutor")
    assert not consent_allows(victim, "shelter_car")  # withdrawn
    assert not consent_allows(victim, "health")  # an old version
