"""Pure rules of the training pages: form -> request body."""

from __future__ import annotations

from typing import Any, Final

from ruta_console.cases.rules import many
from ruta_console.rules import compact, number, text

SESSION_PAGE_SIZE: Final = 20


def session_body(form: Any) -> dict[str, Any]:
    """SessionCreate."""
    return compact(
        {
            "office": text(form, "office"),
            "title": text(form, "title"),
            "format": text(form, "format"),
            "topics": many(form, "topics"),
            "audiences": many(form, "audiences"),
            "region": text(form, "region"),
            "modality": text(form, "modality"),
            "venue": text(form, "venue"),
            "starts_on": text(form, "starts_on"),
            "ends_on": text(form, "ends_on") or text(form, "starts_on"),
            "pedagogic_hours": number(form, "pedagogic_hours"),
            "funder": text(form, "funder"),
        }
    ) | {"topics": many(form, "topics"), "audiences": many(form, "audiences")}


def participant_body(form: Any) -> dict[str, Any]:
    """ParticipantCreate."""
    return compact(
        {
            "office": text(form, "office"),
            "given_names": text(form, "given_names"),
            "family_names": text(form, "family_names"),
            "sex": text(form, "sex"),
            "audience": text(form, "audience"),
            "institution_kind": text(form, "institution_kind"),
            "role": text(form, "role"),
            "region": text(form, "region"),
            "document_type": text(form, "document_type"),
            "document_number": text(form, "document_number"),
            "email": text(form, "email"),
        }
    )


def attendance_body(form: Any) -> dict[str, Any]:
    """AttendanceCreate."""
    return compact(
        {"participant_id": text(form, "participant_id"), "hours_attended": number(form, "hours")}
    )


def headcount_body(form: Any) -> dict[str, Any]:
    """HeadcountSet (empty counts are zero)."""
    return {name: number(form, name) or 0 for name in ("female", "male", "unknown")}


def assessment_body(form: Any) -> dict[str, Any]:
    """AssessmentCreate."""
    return compact(
        {
            "participant_id": text(form, "participant_id"),
            "pre_score": number(form, "pre_score"),
            "post_score": number(form, "post_score"),
        }
    )
