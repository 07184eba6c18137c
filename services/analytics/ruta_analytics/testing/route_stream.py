"""Test streams: a synthetic stream with route stages, plan tasks and projects added."""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta
from typing import Any, Final, get_args

from ruta_shared.events import EventEnvelope
from ruta_shared.reference import RouteStage

PROJECTS: Final = ("DTZ-2016", "SERV-INTEG")
STAGE_CODES: Final[tuple[str, ...]] = get_args(RouteStage)
KINDS: Final = ("police", "prosecutor", "own_organisation", "civil_registry")
Doc = dict[str, Any]


def with_routes(rng: random.Random, envelopes: list[EventEnvelope]) -> list[EventEnvelope]:
    """The stream with, for each case, a project now and then (on the case or on a stage),
    stage occurrences (entered; some left, some flagged overdue; some for the whole case) and
    plan tasks (open, done, cancelled, reopened, flagged overdue), inserted after the case's
    events; every subject's sequences renumbered in the new order."""
    after: dict[int, list[tuple[str, str, Doc]]] = defaultdict(list)
    by_subject: dict[str, list[int]] = defaultdict(list)
    victims: dict[str, list[str]] = defaultdict(list)
    for index, envelope in enumerate(envelopes):
        by_subject[envelope.subject].append(index)
        if envelope.type == "victim.registered":
            victims[envelope.subject].append(envelope.data["victim_id"])
    for index, envelope in enumerate(envelopes):
        if envelope.type != "case.opened":
            continue
        d, case_id = envelope.data, envelope.subject
        later = [i for i in by_subject[case_id] if i >= index]
        base = {"case_id": case_id, "office": d["office"]}
        if rng.random() < 0.5:
            assigned = {**base, "project_code": rng.choice((*PROJECTS, None))}
            assigned["assigned_at"] = envelope.occurred_at.isoformat()
            after[rng.choice(later)].append(("intake", "case.project_assigned", assigned))
        people: list[str | None] = [*victims[case_id]]
        for _ in range(rng.choice((0, 1, 2, 3, 4))):
            anchor = rng.choice(later)
            whose = rng.choice([*people, None])
            after[anchor] += _stage(rng, envelopes[anchor], base, whose)
        for victim_id in victims[case_id]:
            for _ in range(rng.choice((0, 0, 1, 2))):
                anchor = rng.choice(later)
                after[anchor] += _task(rng, envelopes[anchor], base, victim_id)
    out: list[EventEnvelope] = []
    sequences: Counter[str] = Counter()
    for index, envelope in enumerate(envelopes):
        inserted = [
            envelope.model_copy(
                update={"id": uuid.uuid4(), "source": source, "type": kind, "data": data}
            )
            for source, kind, data in after[index]
        ]
        for item in [envelope, *inserted]:
            sequences[item.subject] += 1
            out.append(item.model_copy(update={"sequence": sequences[item.subject]}))
    return out


def _stage(
    rng: random.Random, anchor: EventEnvelope, base: Doc, victim_id: str | None
) -> list[tuple[str, str, Doc]]:
    entered = (anchor.occurred_at - timedelta(hours=5)).date()
    target = datetime.combine(entered + timedelta(days=rng.choice((5, 30, 400))), time(17), UTC)
    occurrence = {
        **base,
        "stage_occurrence_id": f"stg-{uuid.uuid4().hex[:12]}",
        "victim_id": victim_id,
        "stage": rng.choice(STAGE_CODES[:6]),  # a few stages, so several stays share one
        "institution_kind": rng.choice(KINDS),
        "project_code": rng.choice((None, None, None, *PROJECTS)),
        "entered_on": entered.isoformat(),
    }
    events = [("referrals", "route_stage.entered", {**occurrence, "target_at": target.isoformat()})]
    roll = rng.random()
    if roll < 0.6:
        days = rng.choice((0, 1, 3, 3, 7, 12, 30, 45, 90))
        left = {"left_on": (entered + timedelta(days=days)).isoformat(), "days_in_stage": days}
        events.append(("referrals", "route_stage.left", {**occurrence, **left}))
    elif roll < 0.8:
        flagged = {"target_at": target.isoformat(), "overdue_at": target.isoformat()}
        events.append(("referrals", "route_stage.overdue", {**occurrence, **flagged}))
    return events


def _task(
    rng: random.Random, anchor: EventEnvelope, base: Doc, victim_id: str
) -> list[tuple[str, str, Doc]]:
    added = (anchor.occurred_at - timedelta(hours=5)).date()
    task = {
        **base,
        "task_id": f"tsk-{uuid.uuid4().hex[:12]}",
        "victim_id": victim_id,
        "goal": "salud",
        "task": rng.choice(("control_medico", "custom")),
        "assignee_id": "user-worker-1",
        "due_on": (added + timedelta(days=rng.choice((3, 20, 900)))).isoformat(),
    }
    events = [("referrals", "case_plan.task_added", task)]
    status = "open"
    for _ in range(rng.choice((0, 1, 1, 2))):
        to = rng.choice(("done", "cancelled", "open"))
        if to == status:
            continue
        at = anchor.occurred_at.isoformat()
        changed = {"from_status": status, "to_status": to, "changed_at": at}
        events.append(("referrals", "case_plan.task_status_changed", {**task, **changed}))
        status = to
    if status == "open" and rng.random() < 0.3:
        flagged = {"overdue_at": anchor.occurred_at.isoformat()}
        events.append(("referrals", "case_plan.task_overdue", {**task, **flagged}))
    return events
