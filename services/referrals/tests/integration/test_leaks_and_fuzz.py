"""Canary personal data planted through the API leaks nowhere; fuzzing finds no server error."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from ruta_shared.security.principal import Role
from ruta_shared.testing.kafka import wait_for
from ruta_shared.testing.leak_check import LeakChecker
from ruta_shared.testing.openapi import fuzz
from ruta_shared.topics import REFERRALS_EVENTS, dead_letter_topic

pytestmark = pytest.mark.integration


async def test_canary_personal_data_leaks_nowhere(harness: Any) -> None:
    leaks = LeakChecker()
    person = leaks.new_person()
    justification = f"Justificación reservada sobre {person.full_name}, riesgo inminente hoy."
    leaks.add_needle("justification", justification)
    client = httpx.AsyncClient(
        transport=harness.client._transport,  # the same running app
        base_url="http://ruta",
        event_hooks={"response": [leaks.record_response]},
    )
    worker = harness.staff()
    coordinator = harness.staff(Role.COORDINATOR, offices=())
    institution_id = await harness.institution("prosecutor", "webhook")
    admin = harness.staff(Role.COORDINATOR, offices=())
    await client.patch(
        f"/institutions/{institution_id}",
        json={"webhook_url": harness.receiver.endpoint(institution_id)},
        headers={**admin, "If-Match": '"1"'},
    )
    secret = await client.post(f"/institutions/{institution_id}/webhook-secret", headers=admin)
    harness.receiver.secrets[institution_id] = secret.json()["secret"]
    key = await harness.partner(institution_id)

    with leaks.capture_logs():
        case_id, victim_id = await harness.open_case(consent_to=("prosecutor",))
        bare_case, bare_victim = await harness.open_case(consent_to=())
        body = {
            "victim_id": victim_id,
            "institution_id": institution_id,
            "reason": person.notes,
            "shared_facts": (
                f"{person.full_name}, DNI {person.document_number}, nacida el "
                f"{person.birth_date.isoformat()}, vive en {person.address}, tel. {person.phone}."
            ),
            "urgency": "high",
        }
        created = await client.post(f"/cases/{case_id}/referrals", json=body, headers=worker)
        assert created.status_code == 201
        rid = created.json()["referral_id"]
        etag = created.headers["ETag"]
        sent = await client.post(f"/referrals/{rid}/send", headers={**worker, "If-Match": etag})
        assert sent.status_code == 200
        noted = await client.post(
            f"/partner/referrals/{rid}/progress-notes",
            json={"text": f"Visita con {person.relative_name}"},
            headers={**key, "If-Match": sent.headers["ETag"]},
        )
        assert noted.status_code == 409  # not acknowledged yet: refused, and quietly
        acknowledged = await harness.act(f"/partner/referrals/{rid}/acknowledge", key)
        noted = await client.post(
            f"/partner/referrals/{rid}/progress-notes",
            json={"text": f"Visita con {person.relative_name}"},
            headers={**key, "If-Match": acknowledged.headers["ETag"]},
        )
        assert noted.status_code == 200
        details = await client.get(f"/partner/referrals/{rid}/details", headers=key)
        assert person.notes in details.text  # the partner may read it, through this route
        overridden = await client.post(
            f"/cases/{bare_case}/referrals",
            json={
                **body,
                "victim_id": bare_victim,
                "consent_override_justification": justification,
            },
            headers=coordinator,
        )
        assert overridden.status_code == 201
        # Refused requests carrying personal data must not echo it back or log it.
        bad = await client.post(
            f"/cases/{case_id}/referrals", json={**body, "urgency": person.notes}, headers=worker
        )
        assert bad.status_code == 422
        long_note = await client.post(
            f"/partner/referrals/{rid}/progress-notes",
            json={"text": person.full_name * 200},
            headers={**key, "If-Match": noted.headers["ETag"]},
        )
        assert long_note.status_code == 422

        async def webhooks_delivered() -> bool:
            received = harness.receiver.for_name(institution_id)
            return sum(r.answered == 200 for r in received) >= 3  # sent, ack, progress

        await wait_for(webhooks_delivered, timeout=30)
    await client.aclose()

    for received in harness.receiver.for_name(institution_id):
        leaks.scan_text("webhooks", received.headers["webhook-id"], received.body.decode())
    leaks.scan_metrics((await harness.client.get("/metrics")).text)
    await leaks.scan_kafka(
        harness.kafka_bootstrap, topics=[REFERRALS_EVENTS, dead_letter_topic(REFERRALS_EVENTS)]
    )
    stored = await harness.db["case_routes"].find_one({"_id": case_id})
    leaks.scan_text("database (case_routes)", case_id, str(stored))
    deliveries = await harness.db["webhook_deliveries"].find({}).to_list()
    leaks.scan_text("database (webhook_deliveries)", "all", str(deliveries))
    leaks.assert_clean()


async def test_schemathesis_no_server_error_and_responses_match_the_schema(harness: Any) -> None:
    """Every operation, with a coordinator's token (a partner's key on /partner), real ids."""
    institution_id = await harness.institution()
    case_id, victim_id = await harness.open_case()
    created = await harness.refer(case_id, victim_id, institution_id)
    assert created.status_code == 201, created.text
    referral_id = created.json()["referral_id"]
    sent = await harness.act(f"/referrals/{referral_id}/send", harness.staff())
    assert sent.status_code == 200, sent.text
    coordinator = harness.staff(Role.COORDINATOR, offices=())
    partner = await harness.partner(institution_id)
    ids = {
        "institution_id": [institution_id],
        "case_id": [case_id],
        "victim_id": [victim_id],
        "referral_id": [referral_id],
    }
    server, task, url = await harness.serve_app()
    try:
        # Schemathesis calls are blocking: they run in a thread while this loop serves the app.
        report = await asyncio.to_thread(
            fuzz,
            url,
            headers=lambda op: partner if op.path.startswith("/partner/") else coordinator,
            path_values=ids,
            examples=12,
        )
    finally:
        server.should_exit = True
        await task
    print(report.describe())
    # The run reached the routes, not only the validation and permission layers.
    assert report.calls >= 30 * 12
    assert sum(n for status, n in report.statuses.items() if 200 <= status < 300) >= 30
    assert report.statuses[404] > 0
    assert report.violations == 0, report.describe()
