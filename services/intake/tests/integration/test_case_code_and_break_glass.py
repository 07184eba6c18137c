"""GET /cases?code= finds one case by its exact code within the caller's offices; a too-short
break-the-glass justification is a 422 naming the field (what the console shows next to it)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

pytestmark = pytest.mark.integration


async def test_case_code_filter_and_short_justification(served: Any) -> None:
    client = served.client
    iquitos = served.auth(offices=frozenset({"iquitos"}))
    victim = {
        "sex": "female",
        "age_at_intake": 25,
        "personal_data": {
            "document_type": "dni",
            "document_number": f"{secrets.randbelow(10**8):08d}",
        },
    }
    opened = await client.post(
        "/cases",
        json={
            "office": "iquitos",
            "crime_types": ["trafficking"],
            "arrival_channel": "walk_in",
            "victims": [victim],
        },
        headers=iquitos,
    )
    assert opened.status_code == 201, opened.text
    case_id, code = opened.json()["case_id"], opened.json()["case_code"]

    found = await client.get("/cases", params={"code": code}, headers=iquitos)
    assert found.status_code == 200
    assert [c["case_id"] for c in found.json()["items"]] == [case_id]
    assert found.json()["total"] == 1
    # Another office's worker does not learn that the code exists.
    lima = served.auth()
    hidden = await client.get("/cases", params={"code": code}, headers=lima)
    assert hidden.status_code == 200
    assert hidden.json()["items"] == []
    assert hidden.json()["total"] == 0
    # Not a case code: a Spanish 422 naming the parameter.
    bad = await client.get("/cases", params={"code": "no-es-un-codigo"}, headers=iquitos)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.code"

    short = await client.post(
        f"/cases/{case_id}/break-glass", json={"justification": "corta"}, headers=lima
    )
    assert short.status_code == 422
    assert short.json()["errors"][0]["field"] == "body.justification"
    assert "justificación" in short.json()["errors"][0]["message"]
