"""Referrals answers at once after intake registered a victim or recorded consent (asking
intake's own API as the caller), 503 when intake cannot be asked, and lists by office."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from ruta_local.infra import free_port
from ruta_shared.security.principal import Role

pytestmark = pytest.mark.integration

ADULT = {"sex": "female", "age_at_intake": 24, "personal_data": {}}
HOME = {"region_of_origin": "16", "returned_on": "2026-11-20", "funded": False}


@pytest.fixture
async def intake(harness: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the real intake app that referrals asks."""
    async with httpx.AsyncClient(base_url=harness.settings.intake_url) as client:
        yield client


async def open_in_intake(intake: httpx.AsyncClient, worker: dict[str, str]) -> tuple[str, str]:
    """Open a case with one adult victim through intake's API; returns case and victim ids."""
    opened = await intake.post(
        "/cases",
        json={
            "office": "lima",
            "crime_types": ["trafficking"],
            "arrival_channel": "walk_in",
            "victims": [ADULT],
        },
        headers=worker,
    )
    assert opened.status_code == 201, opened.text
    return opened.json()["case_id"], opened.json()["victims"][0]["victim_id"]


async def consent(
    intake: httpx.AsyncClient, worker: dict[str, str], case_id: str, victim_id: str
) -> None:
    """Record the victim's consent to disclose to prosecutors, through intake's API."""
    recorded = await intake.post(
        f"/cases/{case_id}/victims/{victim_id}/consents",
        json={
            "purpose": "disclosure",
            "institution_kind": "prosecutor",
            "given_by": "victim",
            "granted": True,
        },
        headers=worker,
    )
    assert recorded.status_code == 201, recorded.text


async def consented_case(harness: Any, intake: httpx.AsyncClient) -> tuple[Any, str, str, str]:
    """A case worker, a prosecutor's office, and a case and victim who consented to it."""
    worker = harness.staff()
    fistrap = await harness.institution("prosecutor")
    case_id, victim_id = await open_in_intake(intake, worker)
    await consent(intake, worker, case_id, victim_id)
    return worker, fistrap, case_id, victim_id


async def test_a_referral_right_after_registering_and_consenting(
    harness: Any, intake: httpx.AsyncClient
) -> None:
    worker, fistrap, case_id, victim_id = await consented_case(harness, intake)
    # No waiting for intake's events: referrals asks intake itself.
    created = await harness.refer(case_id, victim_id, fistrap, worker)
    assert created.status_code == 201, created.text
    assert created.json()["case_code"].startswith("LIM-")
    assert created.json()["office"] == "lima"
    # The referral really went into the case's route, and the case reads as in intake.
    route = await harness.client.get(f"/cases/{case_id}/route", headers=worker)
    assert route.status_code == 200
    assert [r["referral_id"] for r in route.json()["referrals"]] == [created.json()["referral_id"]]
    # And sent at once: the consent check of sending asks intake too.
    sent = await harness.act(f"/referrals/{created.json()['referral_id']}/send", worker)
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "sent"


async def test_consent_is_still_required_when_intake_has_none(
    harness: Any, intake: httpx.AsyncClient
) -> None:
    worker = harness.staff()
    fistrap = await harness.institution("prosecutor")
    case_id, victim_id = await open_in_intake(intake, worker)
    refused = await harness.refer(case_id, victim_id, fistrap, worker)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "consent_required"
    unknown = await harness.refer(case_id, "victim-not-in-this-case", fistrap, worker)
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "La víctima no está registrada en este caso."


async def test_a_return_home_and_a_milestone_right_after_registering(
    harness: Any, intake: httpx.AsyncClient
) -> None:
    worker = harness.staff()
    for path, body in (
        ("return-home", HOME),
        (
            "reintegration-milestones",
            {"milestone": "entrepreneurship_plan_funded", "reached_on": "2026-11-25"},
        ),
    ):
        case_id, victim_id = await open_in_intake(intake, worker)
        recorded = await harness.client.post(
            f"/cases/{case_id}/victims/{victim_id}/{path}", json=body, headers=worker
        )
        assert recorded.status_code == 201, (path, recorded.text)


async def test_another_office_is_still_not_found_through_intake(
    harness: Any, intake: httpx.AsyncClient
) -> None:
    _, fistrap, case_id, victim_id = await consented_case(harness, intake)
    cusco = harness.staff(offices=("cusco",))
    assert (await harness.refer(case_id, victim_id, fistrap, cusco)).status_code == 404
    home = await harness.client.post(
        f"/cases/{case_id}/victims/{victim_id}/return-home",
        json=HOME,
        headers=cusco,
    )
    assert home.status_code == 404


async def test_intake_unreachable_is_503_with_retry_after_never_404(harness: Any) -> None:
    runtime = harness.app.state.runtime
    fistrap = await harness.institution("prosecutor")
    before = runtime.intake
    runtime.intake = httpx.AsyncClient(base_url=f"http://127.0.0.1:{free_port()}", timeout=2.0)
    try:
        answer = await harness.refer("case-not-arrived-yet", "victim-x", fistrap)
        home = await harness.client.post(
            "/cases/case-not-arrived-yet/victims/victim-x/return-home",
            json=HOME,
            headers=harness.staff(),
        )
    finally:
        await runtime.intake.aclose()
        runtime.intake = before
    for response in (answer, home):
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == str(harness.settings.intake_retry_after_seconds)
        assert response.json()["code"] == "intake_unavailable"
    # A case intake does not have is a 404 again once intake answers.
    assert (await harness.refer("case-not-arrived-yet", "victim-x", fistrap)).status_code == 404


async def test_referrals_are_listed_by_office_within_the_callers_offices(harness: Any) -> None:
    fistrap = await harness.institution("prosecutor")
    ids = {}
    for office in ("lima", "iquitos"):
        case_id, victim_id = await harness.open_case(office=office)
        worker = harness.staff(offices=(office,))
        created = await harness.refer(case_id, victim_id, fistrap, worker)
        ids[office] = created.json()["referral_id"]

    async def listed(headers: dict[str, str], office: str | None) -> set[str]:
        params = {"institution_id": fistrap, **({"office": office} if office else {})}
        page = await harness.client.get("/referrals", params=params, headers=headers)
        assert page.status_code == 200, page.text
        return {r["referral_id"] for r in page.json()["items"]}

    both = harness.staff(offices=("lima", "iquitos"))
    assert await listed(both, None) == set(ids.values())
    assert await listed(both, "iquitos") == {ids["iquitos"]}
    lima = harness.staff(offices=("lima",))
    assert await listed(lima, "lima") == {ids["lima"]}
    assert await listed(lima, "iquitos") == set()  # another office: like an empty one
    coordinator = harness.staff(Role.COORDINATOR, offices=())
    assert await listed(coordinator, "iquitos") == {ids["iquitos"]}
    bad = await harness.client.get("/referrals", params={"office": "atlantis"}, headers=lima)
    assert bad.status_code == 422
