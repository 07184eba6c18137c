"""Pure rules of the session aggregate: status, schedule, hours, and each change it accepts.

Every change is planned here as a function of the session document that returns a
`ruta_shared.aggregate.Change` (update, events, result) or raises `RuleViolationError`;
`service.py` hands the plan to the session `Aggregates`, which writes it (or plans again).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ruta_shared.aggregate import Change, RuleViolationError
from ruta_shared.events import EventData
from ruta_shared.events.catalog.training import (
    TrainingAssessmentRecorded,
    TrainingAttendanceRecorded,
    TrainingHeadcountRecorded,
    TrainingSessionCancelled,
    TrainingSessionHeld,
)
from ruta_shared.security.permissions import OFFICE_SCOPE
from ruta_shared.security.principal import Principal

from ruta_training.sessions.models import (
    AssessmentSummary,
    AttendanceRead,
    HeadcountRead,
    SessionCreate,
)

Document = dict[str, Any]

# scheduled → held, scheduled → cancelled; a held session is history and stays held.
TRANSITIONS: dict[str, frozenset[str]] = {
    "scheduled": frozenset({"held", "cancelled"}),
    "held": frozenset(),
    "cancelled": frozenset(),
}
STATUS_LABELS = {"scheduled": "programada", "held": "realizada", "cancelled": "cancelada"}


def invalid(field: str, message: str) -> RuleViolationError:
    """A refused value, answered as a 422 naming the field (type "invalid", as ever)."""
    return RuleViolationError(field, message, kind="invalid")


def conflict(message: str) -> RuleViolationError:
    """A change the session's state does not allow: 409 with a Spanish sentence."""
    return RuleViolationError(None, message, status_code=409)


def visible_offices(principal: Principal) -> list[str] | None:
    """The offices whose sessions (and participants) the caller sees (None: all)."""
    if OFFICE_SCOPE.get(principal.role) == "all":
        return None
    if OFFICE_SCOPE.get(principal.role) == "own":
        return sorted(principal.offices)
    return []


def can_transition(current: str, target: str) -> bool:
    """Whether a session in `current` may move to `target`."""
    return target in TRANSITIONS.get(current, frozenset())


def accepts_attendance(status: str) -> bool:
    """Attendance, head counts and scores go on scheduled (under way) or held sessions."""
    return status in {"scheduled", "held"}


def default_certificate_min_hours(pedagogic_hours: float, ratio: float) -> float:
    """The hours a certificate needs when the session does not say: a share of its hours."""
    return round(pedagogic_hours * ratio, 2)


def attended_hours(
    *,
    pedagogic_hours: float,
    module_hours: Sequence[float],
    hours: float | None,
    modules: Iterable[int] | None,
) -> tuple[float, list[int]]:
    """Hours and module numbers attended, from explicit hours or from the modules attended."""
    numbers = sorted(set(modules or ()))
    if numbers:
        if not module_hours:
            raise invalid("modules_attended", "la sesión no tiene módulos")
        unknown = [n for n in numbers if not 1 <= n <= len(module_hours)]
        if unknown:
            raise invalid(
                "modules_attended", f"la sesión tiene módulos del 1 al {len(module_hours)}"
            )
        from_modules = round(sum(module_hours[n - 1] for n in numbers), 2)
        if hours is not None and hours != from_modules:
            raise invalid("hours_attended", "no coincide con las horas de los módulos indicados")
        return from_modules, numbers
    if hours is None:
        return pedagogic_hours, []
    if hours > pedagogic_hours:
        raise invalid(
            "hours_attended", f"supera las horas pedagógicas de la sesión ({pedagogic_hours:g})"
        )
    return round(hours, 2), []


def merge_attendance(
    existing: Mapping[str, Any] | None,
    hours: float,
    modules: Sequence[int],
    module_hours: Sequence[float],
) -> tuple[float, list[int]] | None:
    """The participant's new totals, or None when nothing changes (a repeat is a no-op).

    Modules accumulate (module 1 today, module 2 next week); plain hours never go down.
    """
    if existing is None:
        return hours, list(modules)
    old_modules = [int(n) for n in existing.get("modules", [])]
    if modules or old_modules:
        merged = sorted(set(old_modules) | set(modules))
        total = round(sum(module_hours[n - 1] for n in merged), 2) if merged else 0.0
        total = max(total, float(existing["hours"]))
    else:
        merged, total = [], max(hours, float(existing["hours"]))
    if merged == old_modules and total == float(existing["hours"]):
        return None
    return total, merged


def check_schedule(body: SessionCreate) -> None:
    """What a session to schedule must satisfy beyond the shape of its fields."""
    if body.ends_on < body.starts_on:
        raise invalid("ends_on", "no puede ser anterior a la fecha de inicio")
    if body.modality == "in_person" and not body.venue:
        raise invalid("venue", "indique el lugar de una sesión presencial")
    if body.modules and round(sum(m.hours for m in body.modules), 2) != round(
        body.pedagogic_hours, 2
    ):
        raise invalid("modules", "las horas de los módulos deben sumar las horas pedagógicas")
    if body.certificate_min_hours is not None and body.certificate_min_hours > body.pedagogic_hours:
        raise invalid("certificate_min_hours", "supera las horas pedagógicas de la sesión")


def ensure_accepts_records(doc: Document) -> None:
    """Refuse attendance, head counts and scores on a cancelled session."""
    if not accepts_attendance(doc["status"]):
        raise conflict(f"La sesión está {STATUS_LABELS[doc['status']]}: no admite registros.")


def plan_hold(doc: Document, held_on: date | None) -> Change[None]:
    """Mark a scheduled session as held (training.session_held)."""
    if not can_transition(doc["status"], "held"):
        raise conflict(f"La sesión está {STATUS_LABELS[doc['status']]}.")
    day = held_on or date.fromisoformat(doc["ends_on"])
    if day < date.fromisoformat(doc["starts_on"]):
        raise invalid("held_on", "no puede ser anterior a la fecha de inicio")
    event = TrainingSessionHeld(
        session_id=doc["_id"],
        office=doc["office"],
        format=doc["format"],
        region=doc["region"],
        audiences=doc["audiences"],
        held_on=day,
        project_code=doc.get("project_code"),
    )
    return Change({"$set": {"status": "held", "held_on": day.isoformat()}}, [event])


def plan_cancel(doc: Document, reason: str | None, now: datetime) -> Change[None]:
    """Cancel a scheduled session that has nothing recorded (training.session_cancelled)."""
    if not can_transition(doc["status"], "cancelled"):
        raise conflict(f"La sesión está {STATUS_LABELS[doc['status']]}.")
    if doc.get("attendance") or doc.get("headcounts"):
        raise conflict("La sesión ya tiene asistencia registrada: no se puede cancelar.")
    event = TrainingSessionCancelled(session_id=doc["_id"], cancelled_at=now)
    update = {"$set": {"status": "cancelled", "cancelled_at": now, "cancel_reason": reason}}
    return Change(update, [event])


def summarise_assessments(scores: Iterable[tuple[float, float]]) -> AssessmentSummary:
    """Average pre, post and gain of a session's tests."""
    pairs = list(scores)
    if not pairs:
        return AssessmentSummary(count=0, average_pre=None, average_post=None, average_gain=None)
    count = len(pairs)
    pre = sum(p for p, _ in pairs) / count
    post = sum(q for _, q in pairs) / count
    return AssessmentSummary(
        count=count,
        average_pre=round(pre, 2),
        average_post=round(post, 2),
        average_gain=round(post - pre, 2),
    )


# --- attendance, assessments, head counts -----------------------------------------------


@dataclass(frozen=True)
class AttendanceInput:
    """One participant's attendance to record, with their attributes at that time."""

    participant_id: str
    attributes: dict[str, Any]  # sex, audience, institution_kind, role, region
    hours: float | None = None
    modules: Sequence[int] | None = None


@dataclass(frozen=True)
class ScoreInput:
    """One participant's pre and post test scores."""

    participant_id: str
    pre: float
    post: float


@dataclass
class ParticipationOutcome:
    """Per input, what happened: created, updated or unchanged."""

    attendance: list[AttendanceRead]
    scores: list[str]  # "created" | "updated" | "unchanged" per score input


def plan_participation(
    doc: Document,
    attendances: Sequence[AttendanceInput],
    scores: Sequence[ScoreInput],
    now: datetime,
) -> Change[ParticipationOutcome]:
    """Attendance (and test scores) in one update of the session; repeats publish nothing."""
    ensure_accepts_records(doc)
    session_id = doc["_id"]
    module_hours = [float(m["hours"]) for m in doc.get("modules", [])]
    recorded: dict[str, Any] = dict(doc.get("attendance", {}))
    sets: dict[str, Any] = {}
    payloads: list[EventData] = []
    reads: list[AttendanceRead] = []
    for item in attendances:
        hours, modules = attended_hours(
            pedagogic_hours=float(doc["pedagogic_hours"]),
            module_hours=module_hours,
            hours=item.hours,
            modules=item.modules,
        )
        existing = recorded.get(item.participant_id)
        merged = merge_attendance(existing, hours, modules, module_hours)
        if merged is None:
            assert existing is not None
            reads.append(attendance_read(item.participant_id, existing, "unchanged"))
            continue
        total, all_modules = merged
        attributes = attendance_attributes(doc, item.attributes)
        entry = {**attributes, "hours": total, "modules": all_modules, "recorded_at": now}
        recorded[item.participant_id] = entry
        sets[f"attendance.{item.participant_id}"] = entry
        payloads.append(
            TrainingAttendanceRecorded(
                session_id=session_id,
                participant_id=item.participant_id,
                hours_attended=total,
                **attributes,
            )
        )
        outcome = "created" if existing is None else "updated"
        reads.append(attendance_read(item.participant_id, entry, outcome))
    score_outcomes = _plan_scores(doc, scores, recorded, sets, payloads)
    update = {"$set": sets} if sets else {}
    return Change(update, payloads, ParticipationOutcome(reads, score_outcomes))


def _plan_scores(
    doc: Document,
    scores: Sequence[ScoreInput],
    recorded: Mapping[str, Any],
    sets: dict[str, Any],
    payloads: list[EventData],
) -> list[str]:
    """Add the scores that changed to `sets` and `payloads`; one outcome per score."""
    assessments: dict[str, Any] = doc.get("assessments", {})
    outcomes: list[str] = []
    for score in scores:
        if score.participant_id not in recorded:
            raise invalid("participant_id", "no tiene asistencia registrada en la sesión")
        old = assessments.get(score.participant_id)
        if old is not None and (float(old["pre"]), float(old["post"])) == (score.pre, score.post):
            outcomes.append("unchanged")
            continue
        sets[f"assessments.{score.participant_id}"] = {"pre": score.pre, "post": score.post}
        payloads.append(
            TrainingAssessmentRecorded(
                session_id=doc["_id"],
                participant_id=score.participant_id,
                pre_score=score.pre,
                post_score=score.post,
            )
        )
        outcomes.append("created" if old is None else "updated")
    return outcomes


def attendance_attributes(doc: Document, attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The attendance's non-identifying attributes; audience defaults to the session's first."""
    return {
        "sex": attributes.get("sex") or "unknown",
        "audience": attributes.get("audience") or doc["audiences"][0],
        "institution_kind": attributes.get("institution_kind"),
        "role": attributes.get("role"),
        "region": attributes.get("region"),
    }


def attendance_read(participant_id: str, entry: Document, outcome: str | None) -> AttendanceRead:
    """One stored attendance as the API shows it."""
    return AttendanceRead(
        participant_id=participant_id,
        hours_attended=entry["hours"],
        modules_attended=entry.get("modules", []),
        sex=entry["sex"],
        audience=entry["audience"],
        institution_kind=entry.get("institution_kind"),
        role=entry.get("role"),
        region=entry.get("region"),
        recorded=outcome,
    )


def plan_headcount(doc: Document, audience: str, values: dict[str, int]) -> Change[HeadcountRead]:
    """Set the head count of one audience (training.headcount_recorded; same numbers: no-op)."""
    ensure_accepts_records(doc)
    read = HeadcountRead(audience=audience, total=sum(values.values()), **values)
    if doc.get("headcounts", {}).get(audience) == values:
        return Change(result=read)
    event = TrainingHeadcountRecorded(session_id=doc["_id"], audience=audience, **values)
    return Change({"$set": {f"headcounts.{audience}": values}}, [event], read)
