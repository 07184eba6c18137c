"""A partner's credential sees and touches only referrals addressed to its institution."""

from __future__ import annotations

from typing import Any

import pytest
from ruta_shared.security.install import protected_routes
from ruta_shared.security.principal import Role

pytestmark = pytest.mark.integration

# Every partner route, with the body its action needs.
PARTNER_ROUTES: dict[tuple[str, str], Any] = {
    ("GET", "/partner/referrals"): None,
    ("GET", "/partner/referrals/{referral_id}"): None,
    ("GET", "/partner/referrals/{referral_id}/details"): None,
    ("POST", "/partner/referrals/{referral_id}/acknowledge"): None,
    ("POST", "/partner/referrals/{referral_id}/accept"): None,
    ("POST", "/partner/referrals/{referral_id}/decline"): {"reason": "not_competent"},
    ("POST", "/partner/referrals/{referral_id}/progress-notes"): {"text": "Nota de otra entidad"},
    ("POST", "/partner/referrals/{referral_id}/complete"): None,
}


def test_the_table_covers_every_partner_route(harness: Any) -> None:
    served = {
        (method, route.path)
        for route in protected_routes(harness.app)
        if route.path.startswith("/partner")
        for method in route.methods
    }
    assert served == set(PARTNER_ROUTES)


async def test_another_partner_gets_404_on_every_route(harness: Any) -> None:
    case_id, victim_id = await harness.open_case(consent_to=("prosecutor",))
    mine = await harness.institution("prosecutor")
    theirs = await harness.institution("prosecutor")
    mine_key = await harness.partner(mine)
    their_key = await harness.partner(theirs)
    worker = harness.staff()
    rid = (await harness.refer(case_id, victim_id, mine, worker, shared_facts="Hechos")).json()[
        "referral_id"
    ]
    unsent = (await harness.refer(case_id, victim_id, mine, worker)).json()["referral_id"]
    sent = await harness.act(f"/referrals/{rid}/send", worker)
    version = sent.headers["ETag"]

    for (method, template), body in PARTNER_ROUTES.items():
        if "{referral_id}" not in template:
            listed = await harness.client.get(template, headers=their_key)
            assert listed.status_code == 200
            assert listed.json()["items"] == []
            mine_listed = await harness.client.get(template, headers=mine_key)
            assert [r["referral_id"] for r in mine_listed.json()["items"]] == [rid]
            continue
        for target, key, who in ((rid, their_key, "other partner"), (unsent, mine_key, "unsent")):
            path = template.format(referral_id=target)
            headers = {**key, "If-Match": version}
            response = await harness.client.request(method, path, headers=headers, json=body)
            assert response.status_code == 404, (who, method, path, response.text)
            assert response.json() == {"detail": "Derivación no encontrada."}

    # Nothing the other partner tried changed the referral.
    after = await harness.client.get(f"/partner/referrals/{rid}", headers=mine_key)
    assert after.headers["ETag"] == version
    assert after.json()["status"] == "sent"
    notes = await harness.client.get(f"/partner/referrals/{rid}/details", headers=mine_key)
    assert notes.json()["progress_notes"] == []


async def test_partners_cannot_use_staff_routes_nor_staff_partner_routes(harness: Any) -> None:
    case_id, victim_id = await harness.open_case()
    fistrap = await harness.institution()
    key = await harness.partner(fistrap)
    worker = harness.staff()
    rid = (await harness.refer(case_id, victim_id, fistrap, worker)).json()["referral_id"]
    await harness.act(f"/referrals/{rid}/send", worker)
    staff_calls = [
        ("GET", "/referrals"),
        ("GET", f"/referrals/{rid}"),
        ("GET", f"/referrals/{rid}/details"),
        ("GET", f"/cases/{case_id}/route"),
        ("GET", "/institutions"),
        ("GET", "/webhooks/deliveries"),
    ]
    for method, path in staff_calls:
        response = await harness.client.request(method, path, headers=key)
        assert response.status_code == 403, (path, response.text)
    refused = await harness.refer(case_id, victim_id, fistrap, key)
    assert refused.status_code == 403
    staff_on_partner = await harness.client.get("/partner/referrals", headers=worker)
    assert staff_on_partner.status_code == 403
    coordinator = harness.staff(Role.COORDINATOR)
    assert (await harness.client.get("/partner/referrals", headers=coordinator)).status_code == 403
    bad_key = await harness.client.get(
        "/partner/referrals", headers={"X-API-Key": "ruta-partner-0000.nope"}
    )
    assert bad_key.status_code == 401
