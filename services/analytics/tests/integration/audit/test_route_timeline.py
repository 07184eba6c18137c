"""The route-of-care timeline on the real servers: one case through the protocol's stages, its
plan's tasks and closure approval, published on Kafka, projected, read back through the API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from ruta_shared.events import EventData
from ruta_shared.events.catalog.intake import (
    CaseClosed,
    CaseClosureApproved,
    CaseClosureRequested,
)
from ruta_shared.events.catalog.referrals import (
    CasePlanTaskAdded,
    CasePlanTaskStatusChanged,
    RouteStageEntered,
    RouteStageLeft,
    RouteStageOverdue,
)
from ruta_shared.events.envelope import Actor
from ruta_shared.reference import ROUTE_STAGES
from ruta_shared.testing.synthetic import StreamBuilder

Doc = dict[str, Any]
BOSS = Actor(id="user-coordinator-1", role="coordinator")
START = datetime(2024, 3, 1, 12, tzinfo=UTC)


def _at(days: int) -> datetime:
    return START + timedelta(days=days)


def _on(days: int) -> date:
    return _at(days).date()


def _emit(builder: StreamBuilder, event: EventData, days: int, actor: Actor | None = None) -> None:
    data = event.model_dump(mode="json")
    extra = {} if actor is None else {"actor": actor}
    builder.emit(event.event_type, event.source, data["case_id"], data, at=_at(days), **extra)


def _route(builder: StreamBuilder) -> str:
    """A case of one victim: detection, rescue, first attention, shelter (overdue), a plan
    task done, a closure request approved; returns the case id."""
    case_id = builder.open_case(at=START, office="iquitos", region="16")
    victim_id = builder.register_victim(case_id, at=START, office="iquitos")
    common = {"case_id": case_id, "office": "iquitos"}

    def stage(name: str, kind: str, entered: int, number: int) -> dict[str, Any]:
        return {
            **common,
            "stage_occurrence_id": f"stg-{builder.prefix}-{number}",
            "victim_id": victim_id,
            "stage": name,
            "institution_kind": kind,
            "entered_on": _on(entered),
        }

    detection = stage("detection_report", "police", 0, 1)
    _emit(builder, RouteStageEntered(**detection), 0)
    _emit(builder, RouteStageLeft(**detection, left_on=_on(1), days_in_stage=1), 1)
    rescue = stage("rescue_intervention", "prosecutor", 1, 2)
    _emit(builder, RouteStageEntered(**rescue), 1)
    _emit(builder, RouteStageLeft(**rescue, left_on=_on(2), days_in_stage=1), 2)
    shelter = stage("shelter", "shelter_car", 2, 3)
    _emit(builder, RouteStageEntered(**shelter, target_at=_at(32)), 2)
    task = {
        **common,
        "task_id": f"tsk-{builder.prefix}-1",
        "victim_id": victim_id,
        "goal": "wellbeing",
        "task": "psychological_assessment",
        "assignee_id": "user-worker-1",
        "due_on": _on(9),
    }
    _emit(builder, CasePlanTaskAdded(**task), 3)
    done = CasePlanTaskStatusChanged(
        **task, from_status="open", to_status="done", changed_at=_at(8)
    )
    _emit(builder, done, 8)
    _emit(builder, RouteStageOverdue(**shelter, target_at=_at(32), overdue_at=_at(33)), 33)
    _emit(builder, RouteStageLeft(**shelter, left_on=_on(40), days_in_stage=38), 40)
    request = {
        **common,
        "request_id": f"clo-{builder.prefix}-1",
        "closure_reason": "reintegrated",
        "requested_at": _at(41),
    }
    _emit(builder, CaseClosureRequested(**request), 41)
    _emit(builder, CaseClosureApproved(**request, approved_at=_at(42)), 42, BOSS)
    closed = CaseClosed(case_id=case_id, closure_reason="reintegrated", closed_at=_at(42))
    _emit(builder, closed, 42, BOSS)
    return case_id


async def test_the_timeline_shows_the_protocol_stages_plan_and_closure_in_order(
    ledger: Any,
) -> None:
    builder = StreamBuilder()
    case_id = _route(builder)
    await ledger.add(builder.envelopes)

    answer = await ledger.client.get(f"/audit/trails/{case_id}", headers=ledger.headers())
    assert answer.status_code == 200, answer.text
    route: list[Doc] = answer.json()["route"]
    assert [(s["type"], s.get("stage")) for s in route] == [
        ("case.opened", None),
        ("victim.registered", None),
        ("route_stage.entered", "detection_report"),
        ("route_stage.left", "detection_report"),
        ("route_stage.entered", "rescue_intervention"),
        ("route_stage.left", "rescue_intervention"),
        ("route_stage.entered", "shelter"),
        ("case_plan.task_added", None),
        ("case_plan.task_status_changed", None),
        ("route_stage.overdue", "shelter"),
        ("route_stage.left", "shelter"),
        ("case.closure_requested", None),
        ("case.closure_approved", None),
        ("case.closed", None),
    ]
    days = [s["at"][:10] for s in route]
    assert days == sorted(days)
    assert route[2]["at"] == _on(0).isoformat()  # a stage's day, as recorded
    shelter_in = route[6]
    assert shelter_in["stage_label"] == ROUTE_STAGES["shelter"]
    assert shelter_in["institution_kind"] == "shelter_car"
    assert shelter_in["institution_label"] == "Centro de Acogida Residencial (CAR)"
    assert shelter_in["label"] == "Entra en una etapa del protocolo"
    assert route[10]["days_in_stage"] == 38
    assert (route[8]["status"], route[8]["status_label"]) == ("done", "Hecha")
    assert route[12]["label"] == "Cierre aprobado por coordinación"
    assert route[13]["closure_reason"] == "reintegrated"
    # The older stage summary still reads intake → closure from the same trail.
    stages = [s["stage"] for s in answer.json()["stages"]]
    assert (stages[0], stages[-1]) == ("intake", "closure")
