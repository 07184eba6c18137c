"""A keyed POST re-run after its claim's lease (a crash) writes and announces nothing twice."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ruta_shared.testing.claims import crash_before_done
from ruta_shared.testing.kafka import read_topic, wait_for
from ruta_shared.topics import REFERRALS_EVENTS

pytestmark = pytest.mark.integration


async def test_a_referral_rerun_after_a_crash_finds_the_one_it_wrote(harness: Any) -> None:
    case_id, victim_id = await harness.open_case()
    fistrap = await harness.institution()
    headers = {**harness.staff(), "Idempotency-Key": "derivacion-tras-caida-0001"}
    first = await harness.refer(case_id, victim_id, fistrap, headers)
    assert first.status_code == 201, first.text
    await crash_before_done(harness.db.idempotency, headers["Idempotency-Key"])

    retry = await harness.refer(case_id, victim_id, fistrap, headers)
    assert retry.status_code == 201, retry.text
    assert retry.headers.get("Idempotent-Replayed") is None  # it ran again, not replayed
    assert retry.json()["referral_id"] == first.json()["referral_id"]
    route = await harness.client.get(f"/cases/{case_id}/route", headers=harness.staff())
    assert len(route.json()["referrals"]) == 1

    requested: list[dict[str, Any]] = []

    async def announced() -> bool:
        records = await read_topic(harness.kafka_bootstrap, REFERRALS_EVENTS, idle=1.0)
        requested[:] = [
            event
            for event in (json.loads(r.value) for r in records)
            if event["subject"] == case_id and event["type"] == "referral.requested"
        ]
        return bool(requested)

    async def drained() -> bool:
        route = await harness.db.case_routes.find_one({"_id": case_id})
        return route is not None and not route.get("_outbox_pending")

    # Once the case's outbox is empty, a second announcement (the bug) would be on Kafka.
    await wait_for(drained, timeout=30, interval=0.3)
    await wait_for(announced, timeout=30, interval=0.3)
    assert len(requested) == 1
