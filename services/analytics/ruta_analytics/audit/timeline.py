"""A case's route of care as a timeline (pure logic): its audit entries in time order, the
time spent in each stage, intake → first care → referral → acceptance → return home → closure,
and the route step by step with the protocol's stages, the plan's tasks and closure approval."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Final

from ruta_shared.lima import lima_date
from ruta_shared.reference import ROUTE_INSTITUTION_KINDS, ROUTE_STAGES

Document = dict[str, Any]

# stage: (label, event type, payload field holding the moment it happened)
STAGES: Final[tuple[tuple[str, str, str, str], ...]] = (
    ("intake", "Ingreso", "case.opened", "opened_at"),
    ("first_care", "Primera atención", "care.provided", "provided_on"),
    ("referral", "Derivación", "referral.sent", "sent_at"),
    ("acceptance", "Aceptación de la derivación", "referral.accepted", "accepted_at"),
    ("return_home", "Retorno al lugar de origen", "victim.returned_home", "returned_on"),
    ("closure", "Cierre", "case.closed", "closed_at"),
)
ACCESS_EVENTS: Final = frozenset({"pii.accessed", "access.break_glass_granted"})

# The route's steps: event type → (Spanish label, payload field holding when it happened;
# None: the event's own time). Reads of personal data are in the access log, not here.
STEPS: Final[Mapping[str, tuple[str, str | None]]] = {
    "case.opened": ("Ingreso del caso", "opened_at"),
    "victim.registered": ("Registro de una víctima", "registered_at"),
    "care.provided": ("Atención brindada", "provided_on"),
    "referral.sent": ("Derivación enviada", "sent_at"),
    "referral.accepted": ("Derivación aceptada", "accepted_at"),
    "referral.declined": ("Derivación rechazada", "declined_at"),
    "victim.returned_home": ("Retorno al lugar de origen", "returned_on"),
    "route_stage.entered": ("Entra en una etapa del protocolo", "entered_on"),
    "route_stage.left": ("Sale de una etapa del protocolo", "left_on"),
    "route_stage.overdue": ("Etapa del protocolo vencida", "overdue_at"),
    "case_plan.task_added": ("Tarea añadida al plan de atención", None),
    "case_plan.task_status_changed": ("Cambio de estado de una tarea del plan", "changed_at"),
    "case_plan.task_overdue": ("Tarea del plan vencida", "overdue_at"),
    "case.closure_requested": ("Solicitud de cierre", "requested_at"),
    "case.closure_approved": ("Cierre aprobado por coordinación", "approved_at"),
    "case.closure_returned": ("Solicitud de cierre devuelta con comentario", "returned_at"),
    "case.closed": ("Cierre del caso", "closed_at"),
    "case.reopened": ("Reapertura del caso", "reopened_at"),
}
TASK_STATUSES: Final[Mapping[str, str]] = {
    "open": "Pendiente",
    "done": "Hecha",
    "cancelled": "Cancelada",
}
# Codes (never free text) a step carries from its event, by kind of step.
STEP_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "route_stage": ("stage_occurrence_id", "victim_id", "target_at", "days_in_stage"),
    "case_plan": ("task_id", "victim_id", "goal", "task", "assignee_id", "due_on"),
    "case": ("request_id", "closure_reason"),
    "referral": ("referral_id", "institution_kind"),
    "victim": ("victim_id",),
    "care": ("victim_id", "care_type"),
}


def _moment(value: str) -> datetime:
    if len(value) == 10:  # a date: the day's start, in UTC, is precise enough for durations
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def ordered(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Entries in time order (ties broken by chain and position, so the order is stable)."""
    return sorted(entries, key=lambda e: (e["occurred_at"], e["chain"], e["position"]))


def stages(entries: Iterable[Mapping[str, Any]]) -> list[Document]:
    """When each stage was first reached and how long the case stayed in it (days)."""
    reached: dict[str, datetime] = {}
    for entry in ordered(entries):
        event = entry["event"]
        for stage, _label, event_type, field in STAGES:
            if event["type"] == event_type and stage not in reached:
                value = event["data"].get(field)
                reached[stage] = (
                    _moment(value) if isinstance(value, str) else _moment(event["occurred_at"])
                )
    if "closure" in reached:
        # The last closure counts (a reopened case closes again).
        closures = [
            _moment(e["event"]["data"]["closed_at"])
            for e in entries
            if e["event"]["type"] == "case.closed"
        ]
        reached["closure"] = max(closures)
    timeline = []
    present = sorted((s for s in STAGES if s[0] in reached), key=lambda s: reached[s[0]])
    for index, (stage, label, _type, _field) in enumerate(present):
        start = reached[stage]
        following = present[index + 1][0] if index + 1 < len(present) else None
        end = reached[following] if following else None
        timeline.append(
            {
                "stage": stage,
                "label": label,
                "reached_at": start.isoformat(),
                "days_in_stage": round((end - start).total_seconds() / 86400, 2)
                if end is not None
                else None,
            }
        )
    return timeline


def entry_view(entry: Mapping[str, Any]) -> Document:
    """One audit entry as the auditor reads it."""
    event = entry["event"]
    return {
        "event_id": entry["_id"],
        "type": event["type"],
        "occurred_at": event["occurred_at"],
        "source": event["source"],
        "actor": event["actor"],
        "chain": entry["chain"],
        "position": entry["position"],
        "hash": entry["hash"],
        "prev_hash": entry["prev_hash"],
        "access_event": event["type"] in ACCESS_EVENTS,
        "data": event["data"],
    }


def _when(value: str) -> str:
    """A day as given (`2024-03-01`), an instant in UTC."""
    return value if len(value) == 10 else _moment(value).isoformat()


def _day(step: Mapping[str, Any]) -> date:
    """The Lima day of a step (its own day when the event gave a date)."""
    at = step["at"]
    return date.fromisoformat(at) if len(at) == 10 else lima_date(datetime.fromisoformat(at))


def _step(event: Mapping[str, Any]) -> Document:
    """One event as a step of the route: when, what (Spanish), and its codes."""
    event_type = event["type"]
    label, field = STEPS[event_type]
    data = event["data"]
    value = data.get(field) if field else None
    step: Document = {
        "at": _when(value if isinstance(value, str) else event["occurred_at"]),
        "type": event_type,
        "label": label,
        "source": event["source"],
    }
    for name in STEP_FIELDS.get(event_type.split(".")[0], ()):
        if data.get(name) is not None:
            step[name] = data[name]
    if event_type.startswith("route_stage."):
        step["stage"] = data["stage"]
        step["stage_label"] = ROUTE_STAGES.get(data["stage"], data["stage"])
        step["institution_kind"] = data["institution_kind"]
        kind = data["institution_kind"]
        step["institution_label"] = ROUTE_INSTITUTION_KINDS.get(kind, kind)
    if event_type == "case_plan.task_added":
        step["status"], step["status_label"] = "open", TASK_STATUSES["open"]
    if event_type == "case_plan.task_status_changed":
        step["status"] = data["to_status"]
        step["status_label"] = TASK_STATUSES.get(data["to_status"], data["to_status"])
    return step


def route(entries: Iterable[Mapping[str, Any]]) -> list[Document]:
    """The case's route step by step in time order: intake, care, referrals, the protocol's
    stages entered and left, the plan's tasks, closure request, approval and closure."""
    steps = [_step(e["event"]) for e in ordered(entries) if e["event"]["type"] in STEPS]
    # Stages, care and returns carry a day, other steps an instant: order by day, and within
    # a day by when each was recorded (a stage left, then the next one entered).
    return sorted(steps, key=_day)
