"""Pure rules of the protocol pages: form → request body, Spanish labels of plan codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ruta_console.rules import compact, text

# Plan goals and template tasks (codes of referrals' plan templates) in Spanish.
GOALS: Final[dict[str, str]] = {
    "protection": "Protección",
    "wellbeing": "Bienestar y salud",
    "justice": "Acceso a la justicia",
    "rights": "Derechos e identidad",
    "reintegration": "Reintegración",
}
TASKS: Final[dict[str, str]] = {
    "upe_referral": "Derivación a la UPE",
    "psychological_assessment": "Evaluación psicológica",
    "legal_counselling": "Orientación legal",
    "identity_documents": "Documentos de identidad",
    "education_plan": "Plan educativo",
    "employment_plan": "Plan de empleo",
    "custom": "Tarea propia",
}
TASK_STATUSES: Final[dict[str, str]] = {
    "open": "Pendiente",
    "done": "Hecha",
    "cancelled": "Cancelada",
}
CLOSURE_STATUSES: Final[dict[str, str]] = {
    "pending": "Pendiente de aprobación",
    "approved": "Aprobada",
    "returned": "Devuelta",
}
PROTOCOL_LABELS: Final[dict[str, dict[str, str]]] = {
    "goals": GOALS,
    "tasks": TASKS,
    "task_statuses": TASK_STATUSES,
    "closure_statuses": CLOSURE_STATUSES,
}
# Where each form's fields are named in the services' errors (the rest joins the sentence).
STAGE_FIELDS: Final = frozenset({"stage", "institution_kind", "entered_on", "note", "victim_id"})


def stage_body(form: Mapping[str, Any]) -> dict[str, Any]:
    """Entering a stage: the whole case unless a victim is chosen; the note is optional."""
    return compact(
        {
            "stage": text(form, "stage"),
            "institution_kind": text(form, "institution_kind"),
            "entered_on": text(form, "entered_on"),
            "victim_id": text(form, "victim_id"),
            "note": text(form, "note"),
        }
    )


def leave_body(form: Mapping[str, Any]) -> dict[str, Any]:
    """Leaving a stage on a day."""
    return compact({"left_on": text(form, "left_on")})


def plan_body(form: Mapping[str, Any], user_id: str) -> dict[str, Any]:
    """Starting a victim's plan from the template, assigned to me unless someone is named."""
    return compact(
        {"assignee_id": text(form, "assignee_id") or user_id, "starts_on": text(form, "starts_on")}
    )


def task_body(form: Mapping[str, Any], user_id: str) -> dict[str, Any]:
    """A task added by hand: goal, what (kept encrypted), who and when."""
    return compact(
        {
            "goal": text(form, "goal"),
            "title": text(form, "title"),
            "assignee_id": text(form, "assignee_id") or user_id,
            "due_on": text(form, "due_on"),
        }
    )


def closure_request_body(form: Mapping[str, Any]) -> dict[str, Any]:
    """Asking for closure: the reason and an optional note (kept encrypted)."""
    return compact({"closure_reason": text(form, "closure_reason"), "note": text(form, "note")})


def project_body(form: Mapping[str, Any]) -> dict[str, Any]:
    """A project of the registry: code, name, funder, period and offices."""
    offices = form.getlist("offices") if hasattr(form, "getlist") else form.get("offices", [])
    return compact(
        {
            "code": (text(form, "code") or "").upper() or None,
            "name": text(form, "name"),
            "funder": text(form, "funder"),
            "starts_on": text(form, "starts_on"),
            "ends_on": text(form, "ends_on"),
            "offices": list(offices),
        }
    )


def victims_by_id(case: Mapping[str, Any]) -> dict[str, str]:
    """«Víctima 1», «Víctima 2»… by victim id, as the case page numbers them."""
    return {v["victim_id"]: f"Víctima {n}" for n, v in enumerate(case.get("victims", []), 1)}


def plan_by_victim(tasks: list[dict[str, Any]], case: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each victim of the case with her plan's tasks (due day first), in the case's order."""
    names = victims_by_id(case)
    return [
        {
            "victim_id": victim_id,
            "name": name,
            "tasks": sorted(
                (t for t in tasks if t["victim_id"] == victim_id),
                key=lambda t: (t["due_on"], t["task_id"]),
            ),
        }
        for victim_id, name in names.items()
    ]
