"""Test helper: leave an Idempotency-Key claim as a crashed first attempt would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


async def crash_before_done(collection: Any, key: str) -> None:
    """Turn the key's finished claim back to `running` with its lease past (a crash after
    the write, before the outcome was recorded): a retry now takes it over and re-runs."""
    claims = [c for c in await collection.find({}).to_list() if str(c["_id"]).endswith(key)]
    assert len(claims) == 1
    assert claims[0]["state"] == "done"
    past = datetime.now(UTC) - timedelta(minutes=5)
    await collection.update_one(
        {"_id": claims[0]["_id"]},
        {"$set": {"state": "running", "lease_until": past}, "$unset": {"status": "", "body": ""}},
    )
