"""The shared change loop on the real server: one write per change, retries, If-Match, rules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import HTTPException
from pymongo import AsyncMongoClient
from ruta_shared.aggregate import Aggregates, Change, RuleViolationError
from ruta_shared.events import Actor
from ruta_shared.events.catalog.intake import CaseDetailsUpdated
from ruta_shared.outbox import OUTBOX_FIELD, SEQUENCE_FIELD, Outbox
from ruta_shared.testing.events import case_opened

pytestmark = pytest.mark.integration

ACTOR = Actor(id="u-1", role="case_worker")
Doc = dict[str, Any]


def details(case_id: str) -> CaseDetailsUpdated:
    return CaseDetailsUpdated(
        case_id=case_id,
        crime_types=["trafficking"],
        region_of_exploitation="16",
        arrival_channel="own_outreach",
        updated_at=datetime(2026, 2, 2, tzinfo=UTC),
    )


@pytest.fixture
async def cases(mongo_url: str, unique: str) -> AsyncIterator[Aggregates]:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    try:
        yield Aggregates(collection=client[f"agg_{unique}"]["cases"], outbox=Outbox(), name="case")
    finally:
        await client.drop_database(f"agg_{unique}")
        await client.close()


async def test_concurrent_changes_each_land_once(cases: Aggregates) -> None:
    await cases.insert({"_id": "c1", "notes": 0}, events=[case_opened("c1")], actor=ACTOR)

    def bump(doc: Doc) -> Change[int]:
        return Change({"$set": {"notes": doc["notes"] + 1}}, [details("c1")], doc["notes"] + 1)

    outcomes = await asyncio.gather(
        *(cases.change("c1", apply=bump, actor=ACTOR) for _ in range(4))
    )
    doc = await cases.collection.find_one({"_id": "c1"})
    assert doc is not None
    # Every change was planned on the document it wrote over: none lost, none doubled.
    assert doc["notes"] == 4
    assert doc[SEQUENCE_FIELD] == 5
    assert sorted(o.result for o in outcomes) == [1, 2, 3, 4]
    assert [e["sequence"] for e in doc[OUTBOX_FIELD]] == [1, 2, 3, 4, 5]
    # Reads hide the pending events.
    loaded = await cases.load("c1")
    assert OUTBOX_FIELD not in loaded


async def test_if_match_answers_412_and_a_change_without_events_writes_nothing(
    cases: Aggregates,
) -> None:
    await cases.insert({"_id": "c2", "notes": 0}, events=[case_opened("c2")], actor=ACTOR)
    with pytest.raises(HTTPException) as stale:
        await cases.change(
            "c2", apply=lambda doc: Change({}, [details("c2")]), actor=ACTOR, expected_version=7
        )
    assert stale.value.status_code == 412
    unchanged = await cases.change("c2", apply=lambda doc: Change(result="same"), actor=ACTOR)
    assert (unchanged.result, unchanged.version, unchanged.written) == ("same", 1, False)
    doc = await cases.collection.find_one({"_id": "c2"})
    assert doc is not None
    assert doc[SEQUENCE_FIELD] == 1


async def test_a_rule_violation_and_a_missing_document_write_nothing(cases: Aggregates) -> None:
    await cases.insert({"_id": "c3", "status": "closed"}, events=[case_opened("c3")], actor=ACTOR)

    async def refuse(doc: Doc) -> Change[None]:
        raise RuleViolationError("status", "el caso está cerrado", status_code=409)

    with pytest.raises(RuleViolationError) as refused:
        await cases.change("c3", apply=refuse, actor=ACTOR)
    assert refused.value.body()["errors"][0]["field"] == "status"
    with pytest.raises(HTTPException) as missing:
        await cases.change("nope", apply=lambda doc: Change(), actor=ACTOR)
    assert missing.value.status_code == 404
    doc = await cases.collection.find_one({"_id": "c3"})
    assert doc is not None
    assert doc[SEQUENCE_FIELD] == 1
