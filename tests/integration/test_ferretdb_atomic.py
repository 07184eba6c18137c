"""FerretDB with our patches: updates, findAndModify and deletes are atomic across clients."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

pytestmark = pytest.mark.integration

Document = dict[str, Any]

CLIENTS = 8
UPDATES_PER_CLIENT = 500
# Each push rewrites the whole (growing) list: fewer of them, still 8 clients racing.
PUSHES_PER_CLIENT = 200


@pytest.fixture
async def clients(mongo_url: str) -> AsyncIterator[list[AsyncMongoClient[Document]]]:
    """Eight separate clients (each its own connection pool), as eight processes would be."""
    opened: list[AsyncMongoClient[Document]] = [
        AsyncMongoClient(mongo_url, serverSelectionTimeoutMS=10_000) for _ in range(CLIENTS)
    ]
    try:
        yield opened
    finally:
        for client in opened:
            await client.close()


def collections(
    clients: list[AsyncMongoClient[Document]], database: str, name: str
) -> list[AsyncCollection[Document]]:
    return [client[database][name] for client in clients]


async def concurrent_updates(
    colls: list[AsyncCollection[Document]],
    update: Any,
    doc_id: str,
    times: int = UPDATES_PER_CLIENT,
) -> None:
    """Every client applies `update(client, i)` `times` times to one document."""

    async def worker(number: int, coll: AsyncCollection[Document]) -> None:
        for i in range(times):
            result = await coll.update_one({"_id": doc_id}, update(number, i))
            assert result.modified_count == 1

    await asyncio.gather(*(worker(number, coll) for number, coll in enumerate(colls)))


async def test_concurrent_inc_on_one_document_loses_nothing(
    clients: list[AsyncMongoClient[Document]], unique: str
) -> None:
    colls = collections(clients, f"atomic_{unique}", "counters")
    await colls[0].insert_one({"_id": "one", "n": 0})

    await concurrent_updates(colls, lambda number, i: {"$inc": {"n": 1}}, "one")

    doc = await colls[0].find_one({"_id": "one"})
    assert doc is not None
    assert doc["n"] == CLIENTS * UPDATES_PER_CLIENT


# Each update rewrites the whole (growing) document: slow on a loaded machine.
@pytest.mark.timeout(900)
async def test_concurrent_push_on_one_document_loses_nothing(
    clients: list[AsyncMongoClient[Document]], unique: str
) -> None:
    colls = collections(clients, f"atomic_{unique}", "lists")
    await colls[0].insert_one({"_id": "one", "items": []})

    push = lambda number, i: {"$push": {"items": number * PUSHES_PER_CLIENT + i}}  # noqa: E731
    await concurrent_updates(colls, push, "one", PUSHES_PER_CLIENT)

    doc = await colls[0].find_one({"_id": "one"})
    assert doc is not None
    assert len(doc["items"]) == CLIENTS * PUSHES_PER_CLIENT
    assert sorted(doc["items"]) == list(range(CLIENTS * PUSHES_PER_CLIENT))


async def test_compare_and_set_races_let_each_version_win_once(
    clients: list[AsyncMongoClient[Document]], unique: str
) -> None:
    colls = collections(clients, f"atomic_{unique}", "aggregates")
    await colls[0].insert_one({"_id": "case", "version": 0, "winners": []})
    wins: list[int] = []
    attempts = 150

    async def worker(number: int, coll: AsyncCollection[Document]) -> None:
        for _ in range(attempts):
            current = await coll.find_one({"_id": "case"})
            assert current is not None
            version = current["version"]
            result = await coll.update_one(
                {"_id": "case", "version": version},
                {
                    "$set": {"version": version + 1},
                    "$push": {"winners": {"v": version, "by": number}},
                },
            )
            if result.modified_count == 1:
                wins.append(version)

    await asyncio.gather(*(worker(number, coll) for number, coll in enumerate(colls)))

    doc = await colls[0].find_one({"_id": "case"})
    assert doc is not None
    twice = [version for version, count in Counter(wins).items() if count > 1]
    assert twice == []
    assert doc["version"] == len(wins)
    assert [winner["v"] for winner in doc["winners"]] == list(range(len(wins)))
    # The races were real: more attempts than wins, several clients winning.
    assert len(wins) < CLIENTS * attempts
    assert len({winner["by"] for winner in doc["winners"]}) > 1


async def test_find_one_and_update_hands_out_every_number_once(
    clients: list[AsyncMongoClient[Document]], unique: str
) -> None:
    colls = collections(clients, f"atomic_{unique}", "sequences")
    await colls[0].insert_one({"_id": "codes", "last": 0})
    per_client = 100
    handed: list[int] = []

    async def worker(coll: AsyncCollection[Document]) -> None:
        for _ in range(per_client):
            doc = await coll.find_one_and_update(
                {"_id": "codes"}, {"$inc": {"last": 1}}, return_document=ReturnDocument.AFTER
            )
            assert doc is not None
            handed.append(doc["last"])

    await asyncio.gather(*(worker(coll) for coll in colls))

    assert sorted(handed) == list(range(1, CLIENTS * per_client + 1))


async def test_delete_and_update_of_one_version_never_both_succeed(
    clients: list[AsyncMongoClient[Document]], unique: str
) -> None:
    colls = collections(clients, f"atomic_{unique}", "claims")
    documents = 200
    await colls[0].insert_many([{"_id": f"d{n}", "state": "open"} for n in range(documents)])
    outcomes: dict[str, list[str]] = {f"d{n}": [] for n in range(documents)}

    async def take(coll: AsyncCollection[Document]) -> None:
        for doc_id, outcome in outcomes.items():
            result = await coll.update_one(
                {"_id": doc_id, "state": "open"}, {"$set": {"state": "taken"}}
            )
            if result.modified_count:
                outcome.append("taken")

    async def discard(coll: AsyncCollection[Document]) -> None:
        for doc_id, outcome in outcomes.items():
            result = await coll.delete_one({"_id": doc_id, "state": "open"})
            if result.deleted_count:
                outcome.append("deleted")

    half = CLIENTS // 2
    await asyncio.gather(*(take(c) for c in colls[:half]), *(discard(c) for c in colls[half:]))

    assert all(len(outcome) == 1 for outcome in outcomes.values()), outcomes
    remaining = {doc["_id"] async for doc in colls[0].find({})}
    assert remaining == {doc_id for doc_id, outcome in outcomes.items() if outcome == ["taken"]}


async def test_id_in_lookups_return_exactly_the_listed_documents(
    clients: list[AsyncMongoClient[Document]], unique: str
) -> None:
    coll = clients[0][f"atomic_{unique}"]["lookups"]
    await coll.insert_many([{"_id": f"k{n:05d}", "n": n} for n in range(2_000)])
    wanted = [f"k{n:05d}" for n in range(0, 2_000, 97)] + ["missing"]

    found = [doc["n"] async for doc in coll.find({"_id": {"$in": wanted}})]
    narrowed = [doc["n"] async for doc in coll.find({"_id": {"$in": wanted}, "n": {"$gt": 1000}})]
    explained = await coll.find({"_id": {"$in": wanted}}).explain()

    assert sorted(found) == list(range(0, 2_000, 97))
    assert sorted(narrowed) == [n for n in range(0, 2_000, 97) if n > 1000]
    assert explained.get("filterPushdown") is True
    plan = " ".join(str(step) for step in explained["queryPlanner"]["Plan"])
    assert "USING INDEX" in plan
