"""Fixtures for shared's integration tests: databases on the session's FerretDB, dropped after."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]


@pytest.fixture
async def scratch_database(mongo_url: str) -> AsyncIterator[Callable[[str], AsyncDatabase[Doc]]]:
    """`scratch_database(name)`: that database, dropped when the test ends."""
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    names: list[str] = []

    def database(name: str) -> AsyncDatabase[Doc]:
        names.append(name)
        return client[name]

    try:
        yield database
    finally:
        for name in names:
            await client.drop_database(name)
        await client.close()
