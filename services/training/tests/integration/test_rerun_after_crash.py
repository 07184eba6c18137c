"""A keyed POST re-run after its claim's lease (a crash) writes and announces nothing twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ruta_shared.testing.claims import crashed

pytestmark = pytest.mark.integration


def test_a_session_rerun_after_a_crash_schedules_it_once(
    training: Any, new_session_body: Callable[..., dict[str, Any]]
) -> None:
    trainer = training.auth()
    headers = {**trainer, "Idempotency-Key": "sesion-tras-caida-0001"}
    first = training.client.post("/sessions", json=new_session_body(), headers=headers)
    assert first.status_code == 201, first.text
    claims = training.db.idempotency
    claims.update_one(*crashed(list(claims.find({})), "sesion-tras-caida-0001"))

    retry = training.client.post("/sessions", json=new_session_body(), headers=headers)
    assert retry.status_code == 201, retry.text
    assert retry.headers.get("Idempotent-Replayed") is None  # it ran again, not replayed
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert training.client.get("/sessions", headers=trainer).json()["total"] == 1
    scheduled = [
        e for e in training.events(first.json()["id"]) if e.type == "training.session_scheduled"
    ]
    assert len(scheduled) == 1
