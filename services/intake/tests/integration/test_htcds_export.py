"""The HTCDS export on the real servers: who may export, no personal data, the k property."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from typing import Any

import pytest
from ruta_intake.exports import service
from ruta_intake.exports.models import HEADER
from ruta_intake.exports.rules import QUASI_IDENTIFIERS
from ruta_shared.security.principal import Role

pytestmark = pytest.mark.integration

SEED = 20261202
CASES = 60
SECRET = "Nombre-Secreto"


def _victim(rng: random.Random, number: int) -> dict[str, Any]:
    victim: dict[str, Any] = {
        "sex": rng.choice(["female", "female", "male", "unknown"]),
        "nationality": rng.choice(["PE", "PE", "PE", "VE", "CO", "BO"]),
        "personal_data": {
            "given_names": f"{SECRET} {number}",
            "document_type": "dni",
            "document_number": f"{40000000 + number}",
        },
        "allow_duplicate": True,
    }
    if rng.random() < 0.8:
        victim["age_at_intake"] = rng.randint(4, 60)
    return victim


def _population(rng: random.Random) -> list[dict[str, Any]]:
    """Cases of 1-4 victims across offices, regions and years (seeded)."""
    cases = []
    for number in range(CASES):
        cases.append(
            {
                "office": rng.choice(["lima", "iquitos", "cusco"]),
                "opened_at": f"{rng.randint(2018, 2025)}-0{rng.randint(1, 9)}-15T15:00:00Z",
                "crime_types": [rng.choice(["trafficking", "csec", "forced_labour"])],
                "exploitation_purposes": [rng.choice(["sexual", "labour", "begging"])],
                "region_of_exploitation": rng.choice(["15", "16", "08", "17", "20"]),
                "arrival_channel": "walk_in",
                "victims": [_victim(rng, number * 10 + i) for i in range(rng.randint(1, 4))],
            }
        )
    return cases


def _rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == HEADER
    return list(reader)


async def test_the_export_is_deidentified_and_k_anonymous_on_a_random_population(
    served: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small pages, so the export reads (and streams) many `_id` ranges.
    monkeypatch.setattr(service, "PAGE_SIZE", 7)
    client, boss = served.client, served.auth(Role.COORDINATOR)
    population = _population(random.Random(SEED))
    for body in population:
        opened = await client.post("/cases", json=body, headers=boss)
        assert opened.status_code == 201, opened.text
    victims = sum(len(body["victims"]) for body in population)

    plain = await client.get("/exports/htcds.csv", headers=served.auth(Role.AUDITOR))
    assert plain.status_code == 200, plain.text
    assert plain.headers["content-type"].startswith("text/csv")
    assert plain.headers["cache-control"] == "no-store"
    assert SECRET not in plain.text
    assert "4000" not in plain.text  # no document numbers
    rows = _rows(plain.text)
    assert len(rows) == victims  # every page, none twice
    assert {row["hte_State"] for row in rows} <= {"PE-LIM", "PE-LOR", "PE-CUS", "PE-MDD", "PE-PIU"}

    for k in (5, 11):
        answer = await client.get(
            "/exports/htcds.csv", params={"k_anonymity": "true", "k": k}, headers=boss
        )
        assert answer.status_code == 200, answer.text
        published = _rows(answer.text)
        combinations = Counter(tuple(row[c] for c in QUASI_IDENTIFIERS) for row in published)
        assert published, "a population this size keeps rows at k=11"
        assert min(combinations.values()) >= k
        assert len(published) <= victims
    default = await client.get("/exports/htcds.csv", params={"k_anonymity": "true"}, headers=boss)
    combinations = Counter(tuple(row[c] for c in QUASI_IDENTIFIERS) for row in _rows(default.text))
    assert min(combinations.values()) >= 11


async def test_who_may_export_and_bad_k_is_a_spanish_422_naming_k(served: Any) -> None:
    client = served.client
    worker = await client.get("/exports/htcds.csv", headers=served.auth())
    assert worker.status_code == 403
    trainer = await client.get("/exports/htcds.csv", headers=served.auth(Role.TRAINER))
    assert trainer.status_code == 403
    boss = served.auth(Role.COORDINATOR)
    for k in ("1", "101", "once"):
        bad = await client.get(
            "/exports/htcds.csv", params={"k_anonymity": "true", "k": k}, headers=boss
        )
        assert bad.status_code == 422, bad.text
        assert "query.k" in {error["field"] for error in bad.json()["errors"]}, bad.text
        assert "debe" in bad.text  # Spanish
    alone = await client.get("/exports/htcds.csv", params={"k": 11}, headers=boss)
    assert alone.status_code == 422
    assert alone.json()["errors"] == [
        {"field": "query.k", "type": "rule", "message": "solo se usa con k_anonymity=true"}
    ]
