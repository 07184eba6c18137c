"""Webhooks to a real receiver on 127.0.0.1 that verifies Standard Webhooks signatures:
retries after failures, dead-letter after the last retry, admin replay, replay rejection."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from ruta_shared.security.principal import Role
from ruta_shared.testing.kafka import read_topic, wait_for
from ruta_shared.topics import REFERRALS_EVENTS
from standardwebhooks.webhooks import Webhook

pytestmark = pytest.mark.integration

FACTS = "Hechos reservados: captada en Pucallpa por una agencia falsa."


async def webhook_institution(harness: Any) -> tuple[str, str]:
    """A prosecutor's office that integrates by webhook; returns its id and signing secret."""
    admin = harness.staff(Role.COORDINATOR, offices=())
    institution_id = await harness.institution("prosecutor", "webhook")
    patched = await harness.client.patch(
        f"/institutions/{institution_id}",
        json={"webhook_url": harness.receiver.endpoint(institution_id)},
        headers={**admin, "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    issued = await harness.client.post(
        f"/institutions/{institution_id}/webhook-secret", headers=admin
    )
    assert issued.status_code == 200
    secret = issued.json()["secret"]
    assert secret.startswith("whsec_")
    read = await harness.client.get(f"/institutions/{institution_id}", headers=admin)
    assert read.json()["has_webhook_secret"] is True
    assert secret not in read.text
    stored = await harness.db["institutions"].find_one({"_id": institution_id})
    assert secret not in str(stored)
    harness.receiver.secrets[institution_id] = secret
    return institution_id, secret


async def sent_referral(harness: Any, institution_id: str) -> tuple[str, str]:
    """A referral sent to the institution; returns case id and referral id."""
    case_id, victim_id = await harness.open_case(consent_to=("prosecutor",))
    worker = harness.staff()
    created = await harness.refer(case_id, victim_id, institution_id, worker, shared_facts=FACTS)
    rid = created.json()["referral_id"]
    sent = await harness.act(f"/referrals/{rid}/send", worker)
    assert sent.json()["channel"] == "webhook"
    return case_id, rid


async def test_deliveries_are_signed_retried_and_replays_are_rejectable(harness: Any) -> None:
    receiver = harness.receiver
    institution_id, secret = await webhook_institution(harness)
    receiver.failures_left[institution_id] = 2  # the first two attempts fail
    _, rid = await sent_referral(harness, institution_id)

    async def delivered() -> bool:
        return any(r.answered == 200 for r in receiver.for_name(institution_id))

    await wait_for(delivered, timeout=30)
    attempts = receiver.for_name(institution_id)
    assert [r.answered for r in attempts] == [503, 503, 200]
    assert all(r.verified for r in attempts)
    assert len({r.headers["webhook-id"] for r in attempts}) == 1  # same id on every retry
    body = json.loads(attempts[-1].body)
    assert body["type"] == "referral.sent"
    assert body["data"]["referral_id"] == rid
    assert body["data"]["status"] == "sent"
    assert body["data"]["referral_code"].startswith("DER-")
    assert body["data"]["victim_id"].startswith("vp-")  # the institution's own pseudonym
    assert "case_code" not in body["data"]
    assert body["data"]["has_shared_facts"] is True
    assert "office" not in body["data"]
    assert "Pucallpa" not in attempts[-1].body.decode()  # free text only through the API

    admin = harness.staff(Role.ADMIN, offices=())
    listed = await harness.client.get(
        "/webhooks/deliveries", params={"institution_id": institution_id}, headers=admin
    )
    assert listed.status_code == 200
    (delivery,) = listed.json()["items"]
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 3
    assert [h["status_code"] for h in delivery["history"]] == [503, 503, 200]

    # A captured delivery sent again is refused by a receiver that remembers ids...
    captured = attempts[-1]
    signed = {k: v for k, v in captured.headers.items() if k.startswith("webhook-")}
    async with httpx.AsyncClient() as client:
        url = receiver.endpoint(institution_id)
        resent = await client.post(url, content=captured.body, headers=signed)
        assert resent.status_code == 409
        # ...a changed timestamp or body breaks the signature...
        later = int(captured.headers["webhook-timestamp"]) + 60  # still within tolerance
        moved = {**signed, "webhook-timestamp": str(later)}
        assert (await client.post(url, content=captured.body, headers=moved)).status_code == 400
        tampered = captured.body.replace(b'"sent"', b'"accepted"')
        assert (await client.post(url, content=tampered, headers=signed)).status_code == 400
        # ...and a correctly signed but old message is outside the receiver's tolerance.
        old = datetime.now(UTC) - timedelta(minutes=10)
        old_headers = {
            **signed,
            "webhook-id": "msg-old-0001",
            "webhook-timestamp": str(int(old.timestamp())),
            "webhook-signature": Webhook(secret).sign("msg-old-0001", old, captured.body.decode()),
        }
        assert (
            await client.post(url, content=captured.body, headers=old_headers)
        ).status_code == 400

    # The institution answers through the partner API; that too is notified by webhook.
    key = await harness.partner(institution_id)
    acknowledged = await harness.act(f"/partner/referrals/{rid}/acknowledge", key)
    assert acknowledged.status_code == 200

    async def acknowledgement_delivered() -> bool:
        return any(
            r.answered == 200 and json.loads(r.body)["type"] == "referral.acknowledged"
            for r in receiver.for_name(institution_id)
        )

    await wait_for(acknowledgement_delivered, timeout=30)


async def test_a_dead_lettered_delivery_is_replayed_by_an_admin(harness: Any) -> None:
    receiver = harness.receiver
    institution_id, _ = await webhook_institution(harness)
    receiver.failures_left[institution_id] = -1  # down until further notice
    case_id, rid = await sent_referral(harness, institution_id)
    admin = harness.staff(Role.ADMIN, offices=())

    async def dead() -> list[dict[str, Any]]:
        page = await harness.client.get(
            "/webhooks/deliveries",
            params={"status": "dead", "institution_id": institution_id},
            headers=admin,
        )
        return list(page.json()["items"])

    async def dead_lettered() -> bool:
        return len(await dead()) == 1

    await wait_for(dead_lettered, timeout=30)
    (delivery,) = await dead()
    assert delivery["attempts"] == 3
    assert delivery["last_status"] == 503
    failed = receiver.for_name(institution_id)
    assert [r.answered for r in failed] == [503, 503, 503]

    async def failure_published() -> bool:
        records = await read_topic(harness.kafka_bootstrap, REFERRALS_EVENTS, idle=0.5)
        events = [json.loads(r.value) for r in records]
        return any(
            e["type"] == "webhook.delivery_failed"
            and e["subject"] == case_id
            and e["data"]["delivery_id"] == delivery["id"]
            for e in events
        )

    await wait_for(failure_published, timeout=30, interval=0.3)

    worker = harness.staff()
    forbidden = await harness.client.post(
        f"/webhooks/deliveries/{delivery['id']}/replay", headers=worker
    )
    assert forbidden.status_code == 403

    receiver.failures_left[institution_id] = 0  # back up
    replayed = await harness.client.post(
        f"/webhooks/deliveries/{delivery['id']}/replay", headers=admin
    )
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["replays"] == 1

    async def delivered() -> bool:
        return any(r.answered == 200 for r in receiver.for_name(institution_id))

    await wait_for(delivered, timeout=30)
    final = receiver.for_name(institution_id)[-1]
    assert final.verified
    assert final.headers["webhook-id"] == failed[0].headers["webhook-id"]
    assert json.loads(final.body)["data"]["referral_id"] == rid
    again = await harness.client.post(
        f"/webhooks/deliveries/{delivery['id']}/replay", headers=admin
    )
    assert again.status_code == 409
    missing = await harness.client.post("/webhooks/deliveries/no-such-id/replay", headers=admin)
    assert missing.status_code == 404
