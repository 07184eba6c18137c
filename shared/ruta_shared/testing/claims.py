"""Test helper: leave an Idempotency-Key claim as a crashed first attempt would."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ruta_shared.testing.kafka import read_topic, wait_for


def crashed(claims: list[dict[str, Any]], key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The filter and update that turn the key's finished claim back to `running` with its
    lease past (a crash after the write, before the outcome was recorded)."""
    mine = [c for c in claims if str(c["_id"]).endswith(key)]
    assert len(mine) == 1
    assert mine[0]["state"] == "done"
    past = datetime.now(UTC) - timedelta(minutes=5)
    return {"_id": mine[0]["_id"]}, {
        "$set": {"state": "running", "lease_until": past},
        "$unset": {"status": "", "body": ""},
    }


async def crash_before_done(collection: Any, key: str) -> None:
    """Leave the key's claim (async collection) as a crash would: a retry now re-runs."""
    await collection.update_one(*crashed(await collection.find({}).to_list(), key))


async def post_after_crash(
    client: Any, claims: Any, url: str, body: Any, headers: dict[str, str], *, status: int = 201
) -> tuple[Any, Any]:
    """POST with an Idempotency-Key, leave its claim as a crash would, POST again after
    the lease: both answers (the second one ran the operation again, it was not replayed)."""
    first, retry = await post_after_crash_raw(client, claims, url, body, headers)
    assert first.status_code == status, first.text
    assert retry.status_code == status, retry.text
    return first.json(), retry.json()


async def post_after_crash_raw(
    client: Any, claims: Any, url: str, body: Any, headers: dict[str, str]
) -> tuple[Any, Any]:
    """As `post_after_crash`, the two HTTP responses themselves (headers, status)."""
    first = await client.post(url, json=body, headers=headers)
    assert first.status_code < 300, first.text
    await crash_before_done(claims, headers["Idempotency-Key"])
    retry = await client.post(url, json=body, headers=headers)
    assert retry.headers.get("Idempotent-Replayed") is None  # it ran again, not replayed
    return first, retry


async def announced(kafka: str, topic: str, collection: Any, subject: str, event_type: str) -> int:
    """How many events of `event_type` `subject` has on `topic`, once its outbox is empty
    (a second announcement, the bug a re-run must not cause, would be on Kafka by then)."""

    async def drained() -> bool:
        doc = await collection.find_one({"_id": subject})
        return doc is not None and not doc.get("_outbox_pending")

    await wait_for(drained, timeout=30, interval=0.3)
    found: list[Any] = []

    async def arrived() -> bool:
        records = await read_topic(kafka, topic, idle=1.0)
        found[:] = [
            e
            for e in (json.loads(r.value) for r in records if r.value is not None)
            if e["subject"] == subject and e["type"] == event_type
        ]
        return bool(found)

    await wait_for(arrived, timeout=30, interval=0.3)
    return len(found)
