"""Idempotent retries, optimistic concurrency, duplicate warnings and field-naming 4xx errors."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ruta_shared.lima import today_lima
from ruta_shared.testing.leak_check import LeakChecker

pytestmark = pytest.mark.integration


def victim(number: str | None = None, **overrides: Any) -> dict[str, Any]:
    """An adult victim, with a DNI when `number` is given."""
    body: dict[str, Any] = {"sex": "male", "age_at_intake": 30, "personal_data": {}}
    if number is not None:
        body["personal_data"] = {"document_type": "dni", "document_number": number}
    body.update(overrides)
    return body


def case(*victims: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A Lima walk-in labour exploitation case."""
    body: dict[str, Any] = {
        "office": "lima",
        "crime_types": ["labour_exploitation"],
        "arrival_channel": "walk_in",
        "victims": list(victims) or [victim()],
    }
    body.update(overrides)
    return body


async def count_cases(served: Any) -> int:
    return await served.db["cases"].count_documents({})


async def test_a_retried_post_creates_nothing_twice(served: Any, unique: str) -> None:
    client, auth = served.client, served.auth()
    headers = {**auth, "Idempotency-Key": f"open-{unique}"}
    first = await client.post("/cases", json=case(), headers=headers)
    assert first.status_code == 201, first.text
    before = await count_cases(served)
    retry = await client.post("/cases", json=case(), headers=headers)
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert await count_cases(served) == before
    # The same key with another request is refused, naming the header.
    other = await client.post("/cases", json=case(crime_types=["csec"]), headers=headers)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"

    # Appends too: a retried care record is stored once.
    case_id, victim_id = first.json()["case_id"], first.json()["victims"][0]["victim_id"]
    care = {"care_type": "legal", "provided_on": today_lima().isoformat()}
    care_headers = {**auth, "Idempotency-Key": f"care-{unique}"}
    answers = [
        await client.post(
            f"/cases/{case_id}/victims/{victim_id}/care", json=care, headers=care_headers
        )
        for _ in range(3)
    ]
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["care_id"] for a in answers}) == 1
    listed = await client.get(f"/cases/{case_id}/care", headers=auth)
    assert listed.json()["total"] == 1


async def test_two_workers_never_silently_overwrite_each_other(served: Any) -> None:
    client = served.client
    ana, beto = served.auth(id="u-ana"), served.auth(id="u-beto")
    opened = await client.post("/cases", json=case(), headers=ana)
    case_id = opened.json()["case_id"]
    etag_ana = (await client.get(f"/cases/{case_id}", headers=ana)).headers["ETag"]
    etag_beto = (await client.get(f"/cases/{case_id}", headers=beto)).headers["ETag"]
    assert etag_ana == etag_beto

    first = await client.patch(
        f"/cases/{case_id}",
        json={"crime_types": ["forced_labour"]},
        headers={**ana, "If-Match": etag_ana},
    )
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] != etag_ana
    second = await client.patch(
        f"/cases/{case_id}",
        json={"region_of_exploitation": "16"},
        headers={**beto, "If-Match": etag_beto},
    )
    assert second.status_code == 412
    stale_status = await client.post(
        f"/cases/{case_id}/status",
        json={"status": "in_care"},
        headers={**beto, "If-Match": etag_beto},
    )
    assert stale_status.status_code == 412
    missing = await client.patch(
        f"/cases/{case_id}", json={"region_of_exploitation": "16"}, headers=beto
    )
    assert missing.status_code == 428
    now = (await client.get(f"/cases/{case_id}", headers=beto)).json()
    assert now["crime_types"] == ["forced_labour"]
    assert now["region_of_exploitation"] is None

    # Concurrent appends (care records) do not conflict: each is retried on the fresh case.
    victim_id = now["victims"][0]["victim_id"]
    care = {"care_type": "psychological", "provided_on": today_lima().isoformat()}
    answers = await asyncio.gather(
        *(
            client.post(f"/cases/{case_id}/victims/{victim_id}/care", json=care, headers=ana)
            for _ in range(4)
        )
    )
    assert [a.status_code for a in answers] == [201] * 4
    final = await client.get(f"/cases/{case_id}", headers=ana)
    assert final.json()["care_count"] == 4
    assert final.headers["ETag"] == f'"{now["version"] + 4}"'


async def test_concurrent_openings_get_distinct_case_codes(served: Any) -> None:
    auth = served.auth(offices=frozenset({"cusco"}))
    answers = await asyncio.gather(
        *(served.client.post("/cases", json=case(office="cusco"), headers=auth) for _ in range(6))
    )
    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    codes = [a.json()["case_code"] for a in answers]
    assert len(set(codes)) == 6
    assert all(code.startswith("CUS-") for code in codes)


async def test_a_known_document_number_warns_with_the_existing_victim(served: Any) -> None:
    client, auth = served.client, served.auth()
    number = LeakChecker().new_person().document_number  # random, e.g. 1234-5678
    first = await client.post("/cases", json=case(victim(number)), headers=auth)
    assert first.status_code == 201, first.text
    existing = first.json()["victims"][0]["victim_id"]
    before = await count_cases(served)
    # The same number written differently is the same document.
    spaced = number.replace("-", " ")
    duplicate = await client.post("/cases", json=case(victim(spaced)), headers=auth)
    assert duplicate.status_code == 409
    body = duplicate.json()
    assert body["existing_victim_id"] == existing
    assert body["errors"][0]["field"] == "body.victims.0.personal_data.document_number"
    assert number not in duplicate.text
    assert spaced not in duplicate.text
    assert await count_cases(served) == before
    # Into an existing case too.
    case_id = first.json()["case_id"]
    again = await client.post(f"/cases/{case_id}/victims", json=victim(number), headers=auth)
    assert again.status_code == 409
    assert again.json()["existing_victim_id"] == existing
    # After review, a person may register it anyway.
    forced = await client.post(
        "/cases", json=case(victim(number, allow_duplicate=True)), headers=auth
    )
    assert forced.status_code == 201
    assert forced.json()["victims"][0]["victim_id"] != existing


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"office": "arequipa"}, "body.office"),
        ({"crime_types": ["smuggling_of_goods"]}, "body.crime_types.0"),
        ({"crime_types": []}, "body.crime_types"),
        ({"victims": []}, "body.victims"),
        ({"region_of_exploitation": "26"}, "body.region_of_exploitation"),
        ({"opened_at": "2999-01-01T00:00:00Z"}, "body.opened_at"),
        ({"arrival_channel": "institution_referral"}, "body.referring_institution_kind"),
        ({"victims": [victim(age_at_intake=200)]}, "body.victims.0.age_at_intake"),
        ({"victims": [victim(age_group="minor")]}, "body.victims.0.age_group"),
        (
            {"victims": [victim(age_at_intake=20, personal_data={"birth_date": "2015-03-01"})]},
            "body.victims.0.age_at_intake",
        ),
        (
            {"victims": [victim(age_at_intake=None, personal_data={"birth_date": "2999-03-01"})]},
            "body.victims.0.personal_data.birth_date",
        ),
        (
            {"victims": [victim(personal_data={"document_number": "12345678"})]},
            "body.victims.0.personal_data.document_type",
        ),
        ({"victims": [victim(nationality="peru")]}, "body.victims.0.nationality"),
    ],
)
async def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(
    served: Any, change: dict[str, Any], field: str
) -> None:
    before = await count_cases(served)
    answer = await served.client.post("/cases", json=case(**change), headers=served.auth())
    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert await count_cases(served) == before


async def test_care_dates_and_consent_purposes_are_checked(served: Any) -> None:
    client, auth = served.client, served.auth()
    opened = (await client.post("/cases", json=case(), headers=auth)).json()
    path = f"/cases/{opened['case_id']}/victims/{opened['victims'][0]['victim_id']}"
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    future = await client.post(
        f"{path}/care", json={"care_type": "legal", "provided_on": tomorrow}, headers=auth
    )
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "body.provided_on"
    before_opening = await client.post(
        f"{path}/care", json={"care_type": "legal", "provided_on": "2020-01-01"}, headers=auth
    )
    assert before_opening.json()["errors"][0]["field"] == "body.provided_on"
    no_kind = await client.post(
        f"{path}/consents",
        json={"purpose": "disclosure", "given_by": "victim", "granted": True},
        headers=auth,
    )
    assert no_kind.status_code == 422
    assert no_kind.json()["errors"][0]["field"] == "body.institution_kind"
    unknown = await client.get(f"/cases/{opened['case_id']}/victims/nobody", headers=auth)
    assert unknown.status_code == 404
