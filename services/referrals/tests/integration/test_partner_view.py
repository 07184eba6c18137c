"""What partners keep seeing (issue 14): revoked and declined referrals vanish, completed ones
after the retention, pseudonyms per institution, and webhook targets checked at both ends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from ruta_referrals.webhooks.targets import TargetPolicy
from ruta_shared.security.principal import Role
from ruta_shared.testing.kafka import wait_for

pytestmark = pytest.mark.integration

NOT_FOUND = {"detail": "Derivación no encontrada."}
IDENTIFIERS = ("referral_id", "referral_code", "victim_id", "institution_id")


async def partner_reads(harness: Any, rid: str, key: dict[str, str]) -> list[int]:
    """The status codes of the partner's detail and details reads, and 200/404 for the list."""
    listed = await harness.client.get("/partner/referrals", headers=key)
    in_list = rid in [r["referral_id"] for r in listed.json()["items"]]
    detail = await harness.client.get(f"/partner/referrals/{rid}", headers=key)
    details = await harness.client.get(f"/partner/referrals/{rid}/details", headers=key)
    for gone in (detail, details):
        if gone.status_code == 404:
            assert gone.json() == NOT_FOUND  # exactly as an id that never existed
    return [200 if in_list else 404, detail.status_code, details.status_code]


async def sent_to(harness: Any, institution_id: str) -> tuple[str, str, str]:
    """A referral sent to the institution: case, victim and referral ids."""
    case_id, victim_id = await harness.open_case(consent_to=("prosecutor",))
    worker = harness.staff()
    created = await harness.refer(case_id, victim_id, institution_id, worker, shared_facts="Hechos")
    rid = created.json()["referral_id"]
    assert (await harness.act(f"/referrals/{rid}/send", worker)).status_code == 200
    return case_id, victim_id, rid


@contextmanager
def clock_at(harness: Any, offset: timedelta) -> Iterator[None]:
    """Run the partner view's clock `offset` ahead of now (no sleeping)."""
    runtime = harness.app.state.runtime
    before = runtime.clock
    runtime.clock = lambda: before() + offset
    try:
        yield
    finally:
        runtime.clock = before


@contextmanager
def strict_targets(harness: Any) -> Iterator[None]:
    """Webhook targets as in production: https to public addresses only."""
    runtime = harness.app.state.runtime
    before = runtime.webhook_targets
    runtime.webhook_targets = TargetPolicy(allow_local=False)
    try:
        yield
    finally:
        runtime.webhook_targets = before


async def test_a_revoked_referral_disappears_from_the_partners_view(harness: Any) -> None:
    fistrap = await harness.institution("prosecutor")
    key = await harness.partner(fistrap)
    _, _, rid = await sent_to(harness, fistrap)
    assert await partner_reads(harness, rid, key) == [200, 200, 200]
    revoked = await harness.act(f"/referrals/{rid}/revoke", harness.staff(Role.COORDINATOR))
    assert revoked.status_code == 200, revoked.text
    assert await partner_reads(harness, rid, key) == [404, 404, 404]
    note = await harness.client.post(
        f"/partner/referrals/{rid}/progress-notes",
        json={"text": "Seguimos"},
        headers={**key, "If-Match": revoked.headers["ETag"]},
    )
    assert note.status_code == 404
    # Staff still see it, with its status.
    staff = await harness.client.get(f"/referrals/{rid}", headers=harness.staff())
    assert staff.json()["status"] == "revoked"


async def test_a_declined_referral_disappears_from_the_partners_view(harness: Any) -> None:
    fistrap = await harness.institution("prosecutor")
    key = await harness.partner(fistrap)
    _, _, rid = await sent_to(harness, fistrap)
    declined = await harness.act(
        f"/partner/referrals/{rid}/decline", key, json={"reason": "not_competent"}
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"  # the answer itself is the last view
    assert await partner_reads(harness, rid, key) == [404, 404, 404]


async def test_a_completed_referral_stays_readable_for_the_retention_then_404(
    harness: Any,
) -> None:
    fistrap = await harness.institution("prosecutor")
    key = await harness.partner(fistrap)
    _, _, rid = await sent_to(harness, fistrap)
    for action in ("accept", "complete"):
        answer = await harness.act(f"/partner/referrals/{rid}/{action}", key)
        assert answer.status_code == 200, answer.text
    retention = harness.app.state.runtime.partner_retention
    assert retention == timedelta(days=90)
    assert await partner_reads(harness, rid, key) == [200, 200, 200]
    with clock_at(harness, retention - timedelta(minutes=1)):
        assert await partner_reads(harness, rid, key) == [200, 200, 200]
    with clock_at(harness, retention + timedelta(minutes=1)):
        assert await partner_reads(harness, rid, key) == [404, 404, 404]
        staff = await harness.client.get(f"/referrals/{rid}", headers=harness.staff())
        assert staff.status_code == 200


async def test_two_institutions_views_of_one_victim_share_no_identifier(harness: Any) -> None:
    case_id, victim_id = await harness.open_case(consent_to=("prosecutor", "refuge_hrt"))
    worker = harness.staff()
    views = []
    for kind in ("prosecutor", "refuge_hrt"):
        institution_id = await harness.institution(kind)
        key = await harness.partner(institution_id)
        rids = []
        for _ in range(2):  # two referrals of the victim to the same institution
            created = await harness.refer(case_id, victim_id, institution_id, worker)
            rid = created.json()["referral_id"]
            assert (await harness.act(f"/referrals/{rid}/send", worker)).status_code == 200
            rids.append(rid)
        listed = await harness.client.get("/partner/referrals", headers=key)
        items = listed.json()["items"]
        assert sorted(i["referral_id"] for i in items) == sorted(rids)
        # Stable for the institution: both referrals name the victim alike.
        assert len({i["victim_id"] for i in items}) == 1
        views.append(items)
    first, second = ({str(item[name]) for item in v for name in IDENTIFIERS} for v in views)
    assert first.isdisjoint(second)
    text = json.dumps(views)
    for internal in (victim_id, case_id, "LIM-2026-"):
        assert internal not in text


async def test_queued_webhooks_no_longer_carry_a_revoked_referral(harness: Any) -> None:
    receiver = harness.receiver
    institution_id = await harness.institution("prosecutor", "webhook")
    admin = harness.staff(Role.COORDINATOR, offices=())
    patched = await harness.client.patch(
        f"/institutions/{institution_id}",
        json={"webhook_url": receiver.endpoint(institution_id)},
        headers={**admin, "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    issued = await harness.client.post(
        f"/institutions/{institution_id}/webhook-secret", headers=admin
    )
    receiver.secrets[institution_id] = issued.json()["secret"]
    receiver.failures_left[institution_id] = 2  # `referral.sent` cannot arrive before revoking
    _, victim_id, rid = await sent_to(harness, institution_id)
    assert (await harness.act(f"/referrals/{rid}/revoke", admin)).status_code == 200

    async def farewell_delivered() -> bool:
        return any(
            r.answered == 200 and json.loads(r.body)["type"] == "referral.revoked"
            for r in receiver.for_name(institution_id)
        )

    await wait_for(farewell_delivered, timeout=30)
    delivered = [json.loads(r.body) for r in receiver.for_name(institution_id) if r.answered == 200]
    assert [b["type"] for b in delivered] == ["referral.revoked"]
    assert set(delivered[0]["data"]) == {"referral_id", "referral_code", "institution_id", "status"}
    pseudonym = harness.app.state.runtime.pseudonyms.victim(institution_id, victim_id)
    assert pseudonym not in json.dumps(delivered)

    async def sent_withdrawn() -> bool:
        doc = await harness.db["webhook_deliveries"].find_one(
            {"referral_id": rid, "event_type": "referral.sent"}
        )
        return doc is not None and doc["status"] == "withdrawn"

    await wait_for(sent_withdrawn, timeout=30)


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/hook",  # a name: refused once resolved to loopback
        "https://10.0.0.7/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]:8443/hook",
        "http://93.184.215.14/hook",  # public, but not https
    ],
)
async def test_registration_refuses_private_loopback_and_plain_targets(
    harness: Any, url: str
) -> None:
    admin = harness.staff(Role.COORDINATOR, offices=())
    with strict_targets(harness):
        created = await harness.client.post(
            "/institutions",
            json={"kind": "ngo", "name": "ONG", "integration": "webhook", "webhook_url": url},
            headers=admin,
        )
        assert created.status_code == 422, created.text
        assert "webhook_url" in created.text
        changed = await harness.client.patch(
            "/institutions/ong-aliada",
            json={"webhook_url": url},
            headers={**admin, "If-Match": '"1"'},
        )
        assert changed.status_code == 422, changed.text


async def test_registration_accepts_a_public_https_target(harness: Any) -> None:
    admin = harness.staff(Role.COORDINATOR, offices=())
    with strict_targets(harness):
        accepted = await harness.client.post(
            "/institutions",
            json={"kind": "ngo", "name": "ONG pública", "webhook_url": "https://93.184.215.14/h"},
            headers=admin,
        )
    assert accepted.status_code == 201, accepted.text


async def test_delivery_refuses_a_target_that_resolves_to_a_local_address(harness: Any) -> None:
    receiver = harness.receiver
    admin = harness.staff(Role.COORDINATOR, offices=())
    # Registered while local targets were allowed (as in local and test); https, so that
    # only the address check (after resolving "localhost") can refuse it.
    local = receiver.endpoint("strict").replace("http://127.0.0.1", "https://localhost")
    institution_id = await harness.institution("prosecutor", "webhook", webhook_url=local)
    issued = await harness.client.post(
        f"/institutions/{institution_id}/webhook-secret", headers=admin
    )
    receiver.secrets["strict"] = issued.json()["secret"]
    with strict_targets(harness):
        # ...then delivered under production's rule: the receiver is on 127.0.0.1.
        _, _, rid = await sent_to(harness, institution_id)

        async def dead() -> bool:
            doc = await harness.db["webhook_deliveries"].find_one({"referral_id": rid})
            return doc is not None and doc["status"] == "dead"

        await wait_for(dead, timeout=30)
    doc = await harness.db["webhook_deliveries"].find_one({"referral_id": rid})
    assert doc["last_error"] == "target_not_allowed"
    assert doc["last_status"] is None
    assert receiver.for_name("strict") == []  # nothing left the building
