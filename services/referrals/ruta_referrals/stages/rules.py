"""Pure rules of route stages: the stored occurrence, its events, leaving, overdue, the views."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from ruta_shared.aggregate import RuleViolationError
from ruta_shared.events.catalog.referrals import (
    RouteStageEntered,
    RouteStageLeft,
    RouteStageOverdue,
)
from ruta_shared.lima import lima_day_start
from ruta_shared.reference import ROUTE_INSTITUTION_KINDS, ROUTE_STAGES

from ruta_referrals.stages.models import (
    StageCatalogue,
    StageCatalogueEntry,
    StageEnter,
    StageRead,
)

Document = dict[str, Any]
DAY = 86400.0


def catalogue(targets: dict[str, float]) -> StageCatalogue:
    """The protocol's stages in order, with their Spanish labels and target durations (days)."""
    return StageCatalogue(
        stages=[
            StageCatalogueEntry(code=code, label=label, order=n, target_days=targets[code] / DAY)
            for n, (code, label) in enumerate(ROUTE_STAGES.items(), start=1)
        ],
        institution_kinds=dict(ROUTE_INSTITUTION_KINDS),
    )


def note_field(occurrence_id: str) -> str:
    """The encryption field name of a stage occurrence's note (binds the ciphertext to it)."""
    return f"route_stage.{occurrence_id}.note"


def target_at(entered_on: date, seconds: float) -> datetime:
    """When an occurrence entered on `entered_on` (a day in Lima) passes its target."""
    return lima_day_start(entered_on) + timedelta(seconds=seconds)


def stage_entry(
    body: StageEnter,
    *,
    occurrence_id: str,
    author_id: str,
    now: datetime,
    target_seconds: float,
    note: str | None,
) -> Document:
    """A stage occurrence as stored in the case's `stages` (`note` already encrypted)."""
    return {
        "stage_occurrence_id": occurrence_id,
        "victim_id": body.victim_id,
        "stage": body.stage,
        "institution_kind": body.institution_kind,
        "project_code": body.project_code,
        "entered_on": body.entered_on.isoformat(),
        "left_on": None,
        "target_at": target_at(body.entered_on, target_seconds),
        # The overdue check looks for this and clears it in the same write: reported once.
        "deadline_at": target_at(body.entered_on, target_seconds),
        "overdue_since": None,
        "note": note,
        "recorded_at": now,
        "recorded_by": author_id,
    }


def _common(case: Document, entry: Document) -> dict[str, Any]:
    return {
        "case_id": case["_id"],
        "stage_occurrence_id": entry["stage_occurrence_id"],
        "victim_id": entry["victim_id"],
        "office": case["office"],
        "stage": entry["stage"],
        "institution_kind": entry["institution_kind"],
        "project_code": entry.get("project_code"),
        "entered_on": date.fromisoformat(entry["entered_on"]),
    }


def entered(case: Document, entry: Document) -> RouteStageEntered:
    """The event of entering a stage (codes and dates only)."""
    return RouteStageEntered(**_common(case, entry), target_at=entry["target_at"])


def find_stage(case: Document, occurrence_id: str) -> tuple[int, Document] | None:
    """The position and entry of one occurrence in the case's stages."""
    for index, entry in enumerate(case.get("stages") or []):
        if entry["stage_occurrence_id"] == occurrence_id:
            return index, entry
    return None


def leave(case: Document, entry: Document, left_on: date) -> tuple[Document, RouteStageLeft]:
    """The occurrence closed on `left_on` and its event; 409 if already left, 422 if too early."""
    if entry.get("left_on") is not None:
        raise RuleViolationError(None, "La etapa ya fue cerrada.", status_code=409)
    entered_on = date.fromisoformat(entry["entered_on"])
    if left_on < entered_on:
        raise RuleViolationError(
            "body.left_on", "La fecha de salida no puede ser anterior a la de ingreso."
        )
    updated = {**entry, "left_on": left_on.isoformat(), "deadline_at": None}
    event = RouteStageLeft(
        **_common(case, entry), left_on=left_on, days_in_stage=(left_on - entered_on).days
    )
    return updated, event


def overdue_change(
    case: Document, entry: Document, now: datetime
) -> tuple[Document, RouteStageOverdue] | None:
    """The occurrence marked overdue when it is open past its target, else None."""
    due = entry.get("deadline_at")
    if due is None or entry.get("left_on") is not None or due > now:
        return None
    updated = {**entry, "deadline_at": None, "overdue_since": now}
    return updated, RouteStageOverdue(**_common(case, entry), target_at=due, overdue_at=now)


def is_overdue(entry: Document) -> bool:
    """Whether the occurrence is still open past its target."""
    return entry.get("overdue_since") is not None and entry.get("left_on") is None


def stage_read(case: Document, entry: Document) -> StageRead:
    """The read model of a stored occurrence (the note only as whether there is one)."""
    return StageRead(
        stage_occurrence_id=entry["stage_occurrence_id"],
        case_id=case["_id"],
        victim_id=entry["victim_id"],
        stage=entry["stage"],
        stage_label=ROUTE_STAGES[entry["stage"]],
        institution_kind=entry["institution_kind"],
        project_code=entry.get("project_code"),
        entered_on=entry["entered_on"],
        left_on=entry.get("left_on"),
        target_at=entry.get("target_at"),
        overdue=is_overdue(entry),
        overdue_since=entry.get("overdue_since"),
        has_note=entry.get("note") is not None,
        recorded_at=entry["recorded_at"],
    )
