"""A referral's whole life through the API: by a case worker, by a partner's credential, to the
victim's return home and reintegration, with its events on Kafka in order."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ruta_shared.security.principal import Role
from ruta_shared.testing.kafka import read_topic, wait_for
from ruta_shared.topics import REFERRALS_EVENTS

pytestmark = pytest.mark.integration


async def case_events(harness: Any, case_id: str, count: int) -> list[dict[str, Any]]:
    """The referrals events of one case, once `count` of them are on Kafka."""
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        records = await read_topic(harness.kafka_bootstrap, REFERRALS_EVENTS, idle=0.5)
        found[:] = [
            event for event in (json.loads(r.value) for r in records) if event["subject"] == case_id
        ]
        return len(found) >= count

    await wait_for(arrived, timeout=30, interval=0.3)
    return sorted(found, key=lambda e: e["sequence"])


async def test_fistrap_answers_with_its_own_credential_and_the_victim_returns_home(
    harness: Any,
) -> None:
    case_id, victim_id = await harness.open_case(consent_to=("prosecutor",))
    fistrap = await harness.institution("prosecutor", "partner_api")
    worker = harness.staff(Role.CASE_WORKER, offices=("lima",))
    fistrap_key = await harness.partner(fistrap)

    created = await harness.refer(
        case_id,
        victim_id,
        fistrap,
        worker,
        shared_facts="Captada en Iquitos con oferta de trabajo falsa.",
        due_on="2026-12-31",
    )
    assert created.status_code == 201, created.text
    referral = created.json()
    rid = referral["referral_id"]
    assert referral["status"] == "requested"
    assert referral["consent_override"] is False
    assert created.headers["ETag"] == '"1"'
    assert "reason" not in referral
    assert "shared_facts" not in referral

    # Not sent yet: the partner does not see it at all.
    assert (
        await harness.client.get(f"/partner/referrals/{rid}", headers=fistrap_key)
    ).status_code == 404

    sent = await harness.act(f"/referrals/{rid}/send", worker)
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "sent"
    assert sent.json()["channel"] == "partner_api"
    assert sent.json()["deadline_stage"] == "acknowledgement"

    listed = await harness.client.get("/partner/referrals", headers=fistrap_key)
    assert listed.status_code == 200
    assert [item["referral_id"] for item in listed.json()["items"]] == [rid]
    view = listed.json()["items"][0]
    assert view["referral_code"].startswith("DER-")
    assert "case_code" not in view
    # A pseudonym of the victim for this institution, never intake's id.
    assert view["victim_id"].startswith("vp-")
    assert victim_id not in listed.text
    assert "office" not in view
    assert "case_id" not in view
    assert "reason" not in view

    details = await harness.client.get(f"/partner/referrals/{rid}/details", headers=fistrap_key)
    assert details.status_code == 200, details.text
    assert details.json()["shared_facts"] == "Captada en Iquitos con oferta de trabajo falsa."
    assert details.headers["Cache-Control"] == "no-store"
    access = await harness.db["access_log"].find_one({"subject_id": victim_id})
    assert access is not None
    assert access["role"] == "partner"
    assert access["purpose"] == "referral"

    steps = [
        ("acknowledge", None, "acknowledged"),
        ("accept", None, "accepted"),
        (
            "progress-notes",
            {"text": "Se programó la entrevista única en cámara Gesell."},
            "accepted",
        ),
        ("complete", None, "completed"),
    ]
    for action, body, status in steps:
        answer = await harness.act(f"/partner/referrals/{rid}/{action}", fistrap_key, json=body)
        assert answer.status_code == 200, (action, answer.text)
        assert answer.json()["status"] == status

    # A stale If-Match is refused; a repeated action is a conflict with the state.
    stale = await harness.client.post(
        f"/partner/referrals/{rid}/complete", headers={**fistrap_key, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    again = await harness.act(f"/partner/referrals/{rid}/complete", fistrap_key)
    assert again.status_code == 409

    home = await harness.client.post(
        f"/cases/{case_id}/victims/{victim_id}/return-home",
        json={"region_of_origin": "16", "returned_on": "2026-11-20", "funded": True},
        headers=worker,
    )
    assert home.status_code == 201, home.text
    milestone = await harness.client.post(
        f"/cases/{case_id}/victims/{victim_id}/reintegration-milestones",
        json={
            "milestone": "entrepreneurship_plan_funded",
            "reached_on": "2026-11-25",
            "region": "16",
        },
        headers=worker,
    )
    assert milestone.status_code == 201, milestone.text
    assert milestone.json()["milestone_label"] == "Plan de emprendimiento con capital semilla"

    route = await harness.client.get(f"/cases/{case_id}/route", headers=worker)
    assert route.status_code == 200
    assert [r["status"] for r in route.json()["referrals"]] == ["completed"]
    assert route.json()["returns"][0]["funded"] is True
    assert route.json()["milestones"][0]["milestone"] == "entrepreneurship_plan_funded"

    staff_details = await harness.client.get(f"/referrals/{rid}/details", headers=worker)
    assert [n["author_role"] for n in staff_details.json()["progress_notes"]] == ["partner"]

    events = await case_events(harness, case_id, 8)
    assert [e["type"] for e in events] == [
        "referral.requested",
        "referral.sent",
        "referral.acknowledged",
        "referral.accepted",
        "referral.progress_reported",
        "referral.completed",
        "victim.returned_home",
        "reintegration.milestone_reached",
    ]
    assert [e["sequence"] for e in events] == list(range(1, 9))
    assert {e["source"] for e in events} == {"referrals"}
    assert events[0]["data"]["institution_kind"] == "prosecutor"
    assert events[2]["actor"]["role"] == "partner"
    text = json.dumps(events)
    assert "Gesell" not in text
    assert "Iquitos con oferta" not in text


async def test_case_worker_records_a_manual_institutions_answers(harness: Any) -> None:
    case_id, victim_id = await harness.open_case(consent_to=("shelter_car", "health"))
    car = await harness.institution("shelter_car", "manual")
    worker = harness.staff()
    rid = (await harness.refer(case_id, victim_id, car, worker, urgency="normal")).json()[
        "referral_id"
    ]
    assert (await harness.act(f"/referrals/{rid}/send", worker)).json()["channel"] == "manual"
    declined = await harness.act(
        f"/referrals/{rid}/decline", worker, json={"reason": "no_capacity"}
    )
    assert declined.status_code == 200, declined.text
    body = declined.json()
    assert body["status"] == "declined"
    assert body["decline_reason"] == "no_capacity"
    assert body["acknowledged_at"] is not None  # answering implies receipt
    missing_reason = await harness.act(f"/referrals/{rid}/decline", worker, json={})
    assert missing_reason.status_code == 422

    # Incoming: the health service referred the victim to us; we acknowledge and accept.
    health = await harness.institution("health", "manual")
    incoming = await harness.refer(case_id, victim_id, health, worker, direction="incoming")
    assert incoming.status_code == 201
    iid = incoming.json()["referral_id"]
    assert (await harness.act(f"/referrals/{iid}/send", worker)).status_code == 409
    assert (await harness.act(f"/referrals/{iid}/accept", worker)).json()["status"] == "accepted"

    # Only a coordinator revokes.
    other = (await harness.refer(case_id, victim_id, car, worker)).json()["referral_id"]
    assert (await harness.act(f"/referrals/{other}/revoke", worker)).status_code == 403
    revoked = await harness.act(f"/referrals/{other}/revoke", harness.staff(Role.COORDINATOR))
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"

    listed = await harness.client.get(
        "/referrals", params={"status": "declined", "institution_id": car}, headers=worker
    )
    assert [r["referral_id"] for r in listed.json()["items"]] == [rid]


async def test_idempotency_key_creates_a_referral_once(harness: Any) -> None:
    case_id, victim_id = await harness.open_case()
    fistrap = await harness.institution()
    worker = harness.staff()
    headers = {**worker, "Idempotency-Key": "crear-derivacion-0001"}
    first = await harness.refer(case_id, victim_id, fistrap, headers)
    second = await harness.refer(case_id, victim_id, fistrap, headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["referral_id"] == second.json()["referral_id"]
    assert second.headers.get("Idempotent-Replayed") == "true"
    route = await harness.client.get(f"/cases/{case_id}/route", headers=worker)
    assert len(route.json()["referrals"]) == 1


async def test_other_offices_and_unknown_cases_are_not_found(harness: Any) -> None:
    case_id, victim_id = await harness.open_case(office="lima")
    fistrap = await harness.institution()
    rid = (await harness.refer(case_id, victim_id, fistrap)).json()["referral_id"]
    cusco = harness.staff(offices=("cusco",))
    assert (await harness.client.get(f"/referrals/{rid}", headers=cusco)).status_code == 404
    assert (await harness.client.get(f"/cases/{case_id}/route", headers=cusco)).status_code == 404
    assert (await harness.refer(case_id, victim_id, fistrap, cusco)).status_code == 404
    listed = await harness.client.get("/referrals", headers=cusco)
    assert rid not in [r["referral_id"] for r in listed.json()["items"]]
    assert (await harness.refer("case-unknown", victim_id, fistrap)).status_code == 404
    assert (await harness.client.get("/referrals")).status_code == 401
    coordinator = harness.staff(Role.COORDINATOR, offices=())
    assert (await harness.client.get(f"/referrals/{rid}", headers=coordinator)).status_code == 200


async def test_the_registry_is_seeded_with_every_kind_in_the_domain(harness: Any) -> None:
    reader = harness.staff()
    page = await harness.client.get("/institutions", params={"limit": 100}, headers=reader)
    assert page.status_code == 200
    seeded = {i["id"]: i for i in page.json()["items"]}
    assert seeded["fistrap-lima"]["kind"] == "prosecutor"
    assert seeded["fistrap-lima"]["kind_label"].startswith("Fiscalía")
    kinds = {i["kind"] for i in page.json()["items"]}
    assert len(kinds) == 14  # every institution kind of the reference data
    prosecutors = await harness.client.get(
        "/institutions", params={"kind": "prosecutor", "limit": 100}, headers=reader
    )
    assert {i["kind"] for i in prosecutors.json()["items"]} == {"prosecutor"}
    cannot_write = await harness.client.post(
        "/institutions", json={"kind": "ngo", "name": "Otra ONG"}, headers=reader
    )
    assert cannot_write.status_code == 403
    coordinator = harness.staff(Role.COORDINATOR, offices=())
    stale = await harness.client.patch(
        "/institutions/fistrap-lima",
        json={"contact": "mesa de partes"},
        headers={**coordinator, "If-Match": '"99"'},
    )
    assert stale.status_code == 412
    insecure = await harness.client.post(
        "/institutions",
        json={"kind": "ngo", "name": "ONG", "webhook_url": "ftp://example.org/hook"},
        headers=coordinator,
    )
    assert insecure.status_code == 422
