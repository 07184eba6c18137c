"""Canary personal data planted through the API leaks nowhere; fuzzing finds no server error."""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruta_shared.security.principal import Role
from ruta_shared.testing.kafka import wait_for
from ruta_shared.testing.leak_check import LeakChecker
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


async def test_schemathesis_finds_no_server_error(harness: Any, tmp_path: Path) -> None:
    server, task, url = await harness.serve_app()
    coordinator = harness.staff(Role.COORDINATOR, offices=())
    binary = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    try:
        process = await asyncio.create_subprocess_exec(
            binary,
            "run",
            f"{url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "4",
            "--phases",
            "examples,fuzzing",
            "--generation-database",
            "none",
            "--workers",
            "1",
            "--request-timeout",
            "10",
            "--seed",
            "20261126",
            "-H",
            f"Authorization: {coordinator['Authorization']}",
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout=150)
    finally:
        server.should_exit = True
        await task
    text = output.decode()
    assert process.returncode == 0, text[-4000:]
    assert "Server error" not in text
    tested = re.search(r"Tested: (\d+)", text)
    assert tested is not None
    assert int(tested.group(1)) >= 30  # every operation was exercised
    cases = re.search(r"(\d+) generated, (\d+) passed", text)
    assert cases is not None
    assert cases.group(1) == cases.group(2)
