"""Case plans on the real servers: template by age group, tasks by hand, status, overdue once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ruta_shared.testing.kafka import read_topic, wait_for
from ruta_shared.topics import REFERRALS_EVENTS

pytestmark = pytest.mark.integration

TITLE = "Acompañar a la adolescente a la audiencia en la fiscalía de Maynas."


async def plan_events(harness: Any, case_id: str) -> list[dict[str, Any]]:
    """The case's case-plan events on Kafka now."""
    records = await read_topic(harness.kafka_bootstrap, REFERRALS_EVENTS, idle=0.5)
    events = [json.loads(r.value) for r in records]
    return [e for e in events if e["subject"] == case_id and e["type"].startswith("case_plan.")]


async def test_a_minor_gets_the_child_template_and_tasks_change_status(harness: Any) -> None:
    case_id, victim_id = await harness.open_case(consent_to=())
    worker = harness.staff()
    base = f"/cases/{case_id}/victims/{victim_id}/plan"
    body = {"assignee_id": "user-ana", "starts_on": "2025-01-01"}
    started = await harness.client.post(base, json=body, headers=worker)
    assert started.status_code == 201, started.text
    tasks = started.json()
    assert tasks[0]["task"] == "upe_referral"  # the victim is a minor
    assert tasks[0]["due_on"] == "2025-01-03"
    assert {t["status"] for t in tasks} == {"open"}
    again = await harness.client.post(base, json=body, headers=worker)
    assert again.status_code == 409

    custom = {"goal": "justice", "title": TITLE, "assignee_id": "user-beto", "due_on": "2030-01-10"}
    added = await harness.client.post(f"{base}/tasks", json=custom, headers=worker)
    assert added.status_code == 201, added.text
    assert added.json()["task"] == "custom"
    assert TITLE not in added.text
    task_id = added.json()["task_id"]
    done = await harness.client.post(
        f"/cases/{case_id}/plan/tasks/{task_id}/status", json={"status": "done"}, headers=worker
    )
    assert done.json()["status"] == "done"
    bad = await harness.client.post(
        f"/cases/{case_id}/plan/tasks/{task_id}/status", json={"status": "maybe"}, headers=worker
    )
    assert bad.status_code == 422
    assert "status" in bad.text
    details = await harness.client.get(
        f"/cases/{case_id}/plan/tasks/{task_id}/details", headers=worker
    )
    assert details.json()["title"] == TITLE
    stranger = await harness.client.get(
        f"/cases/{case_id}/plan", headers=harness.staff(offices=("cusco",))
    )
    assert stranger.status_code == 404

    # The template's tasks were due in 2025: overdue, each published once.
    async def overdue_for_ana() -> bool:
        page = await harness.client.get(
            "/plan-tasks/overdue", params={"assignee_id": "user-ana"}, headers=worker
        )
        return {t["task_id"] for t in tasks} <= {t["task_id"] for t in page.json()}

    await wait_for(overdue_for_ana, timeout=30)
    for_beto = await harness.client.get(
        "/plan-tasks/overdue", params={"assignee_id": "user-beto"}, headers=worker
    )
    assert task_id not in {t["task_id"] for t in for_beto.json()}
    cusco = await harness.client.get(
        "/plan-tasks/overdue", headers=harness.staff(offices=("cusco",))
    )
    assert not {t["task_id"] for t in tasks} & {t["task_id"] for t in cusco.json()}
    assert await harness.app.state.runtime.workers.overdue.run_once() >= 0

    found: list[dict[str, Any]] = []

    async def published() -> bool:
        found[:] = await plan_events(harness, case_id)
        return [e["type"] for e in found].count("case_plan.task_overdue") == len(tasks)

    await wait_for(published, timeout=30, interval=0.3)
    assert [e["type"] for e in found].count("case_plan.task_added") == len(tasks) + 1
    changed = next(e for e in found if e["type"] == "case_plan.task_status_changed")
    assert (changed["data"]["from_status"], changed["data"]["to_status"]) == ("open", "done")
    assert all(TITLE not in json.dumps(e) for e in found)
    metrics = (await harness.client.get("/metrics")).text
    assert 'ruta_plan_tasks_overdue_total{goal="protection"}' in metrics
