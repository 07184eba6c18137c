"""What is written beside a case counts only once the case lists it (interrupted requests)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from ruta_intake.duplicates.rules import new_possible_duplicate
from ruta_shared.security.principal import Role
from ruta_shared.testing.leak_check import LeakChecker

pytestmark = pytest.mark.integration


async def lima_victim(served: Any, data: dict[str, Any]) -> tuple[str, str]:
    """A Lima case with one adult victim: (case id, victim id)."""
    opened = await served.client.post(
        "/cases",
        json={
            "office": "lima",
            "crime_types": ["trafficking"],
            "arrival_channel": "walk_in",
            "victims": [{"sex": "female", "age_at_intake": 30, "personal_data": data}],
        },
        headers=served.auth(),
    )
    assert opened.status_code == 201, opened.text
    return opened.json()["case_id"], opened.json()["victims"][0]["victim_id"]


async def test_a_possible_duplicate_its_case_never_listed_is_not_shown(served: Any) -> None:
    case_id, victim_id = await lima_victim(served, {})
    other_case, other_victim = await lima_victim(served, {})
    # As a registration interrupted after writing it, before the case change.
    orphan = new_possible_duplicate(
        case_id=case_id,
        office="lima",
        victim_id=victim_id,
        other_case_id=other_case,
        other_office="iquitos",
        other_victim_id=other_victim,
        now=datetime.now(UTC),
    )
    await served.db["possible_duplicates"].insert_one({**orphan, "_seq": 0})
    coordinator = served.auth(Role.COORDINATOR)
    listed = await served.client.get(
        "/possible-duplicates", params={"limit": 100}, headers=coordinator
    )
    assert listed.status_code == 200
    assert orphan["_id"] not in [d["duplicate_id"] for d in listed.json()["items"]]
    resolved = await served.client.post(
        f"/possible-duplicates/{orphan['_id']}/resolution",
        json={"outcome": "same_person"},
        headers=coordinator,
    )
    assert resolved.status_code == 404


async def test_a_rectification_counts_exactly_when_its_case_change_was_written(
    served: Any,
) -> None:
    client, worker = served.client, served.auth()
    leaks = LeakChecker()
    person, corrected = leaks.new_person(), leaks.new_person()
    case_id, victim_id = await lima_victim(
        served, {"given_names": person.given_names, "phone": person.phone}
    )
    path = f"/cases/{case_id}/victims/{victim_id}/personal-data"
    data = served.db["victim_personal_data"]
    before = await data.find_one({"_id": victim_id})
    tag = (await client.get(f"/cases/{case_id}", headers=worker)).headers["ETag"]
    done = await client.patch(
        path,
        json={"personal_data": {"given_names": corrected.given_names}},
        headers={**worker, "If-Match": tag},
    )
    assert done.status_code == 200, done.text
    after = await data.find_one({"_id": victim_id})
    case = await served.db["cases"].find_one({"_id": case_id})
    committed = case["victims"][0]["rectification_id"]

    # Interrupted after the case change, before the data moved: reads finish it.
    await data.update_one(
        {"_id": victim_id},
        {
            "$set": {
                "fields": before["fields"],
                "pending": {
                    "id": committed,
                    "fields": after["fields"],
                    "document_index": after["document_index"],
                },
            }
        },
    )
    params = {"purpose": "case_work"}
    read = await client.get(path, params=params, headers=worker)
    assert read.json()["given_names"] == corrected.given_names
    assert "pending" not in await data.find_one({"_id": victim_id})

    # Interrupted before the case change (or refused by it): the pending data never counts.
    await data.update_one(
        {"_id": victim_id},
        {"$set": {"pending": {"id": "never-committed", "fields": before["fields"]}}},
    )
    read = await client.get(path, params=params, headers=worker)
    assert read.json()["given_names"] == corrected.given_names
    assert read.json()["phone"] == person.phone
    # The next rectification replaces it.
    again = await client.patch(
        path,
        json={"personal_data": {"phone": None}},
        headers={**worker, "If-Match": done.headers["ETag"]},
    )
    assert again.status_code == 200, again.text
    final = await client.get(path, params=params, headers=worker)
    assert (final.json()["given_names"], final.json()["phone"]) == (corrected.given_names, None)
    assert "pending" not in await data.find_one({"_id": victim_id})
