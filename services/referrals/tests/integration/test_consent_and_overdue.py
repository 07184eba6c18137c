"""The consent gate and the coordinator's override; overdue detection, published once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from ruta_shared.events.catalog.intake import VictimDataErased
from ruta_shared.security.principal import Role
from ruta_shared.testing.kafka import read_topic, wait_for
from ruta_shared.testing.leak_check import LeakChecker
from ruta_shared.topics import REFERRALS_EVENTS

pytestmark = pytest.mark.integration

JUSTIFICATION = (
    "Riesgo inminente: la adolescente fue ubicada por la red de captación y la fiscalía "
    "debe intervenir hoy."
)


async def events_of(harness: Any, case_id: str) -> list[dict[str, Any]]:
    """Every referrals event of one case on Kafka now, by sequence."""
    records = await read_topic(harness.kafka_bootstrap, REFERRALS_EVENTS, idle=0.5)
    events = [json.loads(r.value) for r in records]
    return sorted((e for e in events if e["subject"] == case_id), key=lambda e: e["sequence"])


async def wait_events(harness: Any, case_id: str, types: list[str]) -> list[dict[str, Any]]:
    """Wait until the case's events include every type in `types`; return them all."""
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        found[:] = await events_of(harness, case_id)
        return set(types) <= {e["type"] for e in found}

    await wait_for(arrived, timeout=30, interval=0.3)
    return found


async def test_without_consent_only_a_coordinator_may_refer_with_a_justification(
    harness: Any,
) -> None:
    case_id, victim_id = await harness.open_case(consent_to=())
    fistrap = await harness.institution("prosecutor")
    worker = harness.staff()
    coordinator = harness.staff(Role.COORDINATOR, offices=())

    gated = await harness.refer(case_id, victim_id, fistrap, worker)
    assert gated.status_code == 409
    assert gated.json()["code"] == "consent_required"
    by_worker = await harness.refer(
        case_id, victim_id, fistrap, worker, consent_override_justification=JUSTIFICATION
    )
    assert by_worker.status_code == 403
    too_short = await harness.refer(
        case_id, victim_id, fistrap, coordinator, consent_override_justification="urgente"
    )
    assert too_short.status_code == 422

    leaks = LeakChecker()
    leaks.add_needle("justification", JUSTIFICATION[:40])
    with leaks.capture_logs() as logs:
        overridden = await harness.refer(
            case_id, victim_id, fistrap, coordinator, consent_override_justification=JUSTIFICATION
        )
    assert overridden.status_code == 201, overridden.text
    assert overridden.json()["consent_override"] is True
    assert "consent override granted" in logs.getvalue()
    stored = await harness.db["case_routes"].find_one({"_id": case_id})
    override = stored["referrals"][0]["consent_override"]
    assert override["role"] == "coordinator"
    assert override["justification"].startswith("rk1:")  # kept, encrypted

    events = await wait_events(harness, case_id, ["consent_override.granted"])
    assert [e["type"] for e in events] == ["referral.requested", "consent_override.granted"]
    assert events[0]["data"]["consent_override"] is True
    await leaks.scan_kafka(harness.kafka_bootstrap, topics=[REFERRALS_EVENTS])
    leaks.assert_clean()


async def test_withdrawn_consent_stops_sharing_and_new_referrals(harness: Any) -> None:
    case_id, victim_id = await harness.open_case(consent_to=("child_protection",))
    upe = await harness.institution("child_protection")
    key = await harness.partner(upe)
    worker = harness.staff()
    rid = (await harness.refer(case_id, victim_id, upe, worker, shared_facts="Hechos")).json()[
        "referral_id"
    ]
    await harness.act(f"/referrals/{rid}/send", worker)
    shared = await harness.client.get(f"/partner/referrals/{rid}/details", headers=key)
    assert shared.status_code == 200

    await harness.withdraw_consent(case_id, victim_id, "child_protection")
    refused = await harness.client.get(f"/partner/referrals/{rid}/details", headers=key)
    assert refused.status_code == 409
    assert "retiró su consentimiento" in refused.json()["detail"]
    assert (await harness.refer(case_id, victim_id, upe, worker)).status_code == 409
    # Consent for one kind says nothing about another kind.
    fistrap = await harness.institution("prosecutor")
    assert (await harness.refer(case_id, victim_id, fistrap, worker)).status_code == 409


async def test_an_unacknowledged_referral_becomes_overdue_once(harness: Any) -> None:
    case_id, victim_id = await harness.open_case(consent_to=("prosecutor",))
    fistrap = await harness.institution("prosecutor")
    key = await harness.partner(fistrap)
    worker = harness.staff()
    # Critical referrals must be acknowledged at once in these settings.
    rid = (await harness.refer(case_id, victim_id, fistrap, worker, urgency="critical")).json()[
        "referral_id"
    ]
    await harness.act(f"/referrals/{rid}/send", worker)

    async def listed_overdue() -> bool:
        page = await harness.client.get("/referrals/overdue", headers=worker)
        return rid in [r["referral_id"] for r in page.json()["items"]]

    await wait_for(listed_overdue, timeout=30)
    read = await harness.client.get(f"/referrals/{rid}", headers=worker)
    assert read.json()["overdue"] is True
    assert read.json()["overdue_stage"] == "acknowledgement"
    assert await harness.app.state.runtime.workers.overdue.run_once() >= 0
    again = await harness.client.get(f"/referrals/{rid}", headers=worker)
    assert again.json()["version"] == read.json()["version"]  # nothing marked a second time

    metrics = (await harness.client.get("/metrics")).text
    assert 'ruta_referrals_overdue_total{stage="acknowledgement",urgency="critical"}' in metrics

    acknowledged = await harness.act(f"/partner/referrals/{rid}/acknowledge", key)
    assert acknowledged.status_code == 200
    assert not await listed_overdue()
    after = await harness.client.get(f"/referrals/{rid}", headers=worker)
    assert after.json()["overdue"] is False
    assert after.json()["deadline_stage"] == "answer"

    events = await wait_events(harness, case_id, ["referral.acknowledged"])
    overdue = [e for e in events if e["type"] == "referral.overdue"]
    assert len(overdue) == 1
    assert overdue[0]["data"]["stage"] == "acknowledgement"
    assert overdue[0]["actor"] == {"id": "system", "role": "system"}
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))


async def test_a_referral_is_not_sent_after_consent_is_withdrawn(harness: Any) -> None:
    case_id, victim_id = await harness.open_case(consent_to=("public_defence",))
    defence = await harness.institution("public_defence")
    worker = harness.staff()
    rid = (await harness.refer(case_id, victim_id, defence, worker)).json()["referral_id"]
    await harness.withdraw_consent(case_id, victim_id, "public_defence")
    refused = await harness.act(f"/referrals/{rid}/send", worker)
    assert refused.status_code == 409
    assert refused.json()["code"] == "consent_required"
    read = await harness.client.get(f"/referrals/{rid}", headers=worker)
    assert read.json()["status"] == "requested"


async def test_erasing_the_victim_shreds_the_referrals_free_text(harness: Any) -> None:
    case_id, victim_id = await harness.open_case(consent_to=("prosecutor",))
    fistrap = await harness.institution("prosecutor")
    key = await harness.partner(fistrap)
    worker = harness.staff()
    rid = (await harness.refer(case_id, victim_id, fistrap, worker, shared_facts="Hechos")).json()[
        "referral_id"
    ]
    await harness.act(f"/referrals/{rid}/send", worker)
    assert (
        await harness.client.get(f"/referrals/{rid}/details", headers=worker)
    ).status_code == 200
    await harness.feed.publish(
        case_id,
        VictimDataErased(case_id=case_id, victim_id=victim_id, erased_at=datetime.now(UTC)),
    )

    async def erased() -> bool:
        victim = await harness.db["victims"].find_one({"_id": victim_id}) or {}
        return victim.get("erased") is True

    await wait_for(erased, timeout=30)
    staff = await harness.client.get(f"/referrals/{rid}/details", headers=worker)
    assert staff.status_code == 410
    partner = await harness.client.get(f"/partner/referrals/{rid}/details", headers=key)
    assert partner.status_code == 410
    # The referral itself (codes, dates, status) stays for the statistics.
    still = await harness.client.get(f"/partner/referrals/{rid}", headers=key)
    assert still.json()["status"] == "sent"
    assert (await harness.refer(case_id, victim_id, fistrap, worker)).status_code == 410
