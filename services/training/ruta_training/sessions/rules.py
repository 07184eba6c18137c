"""Pure domain rules of training: status changes, hours, scores, certificates and reach."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruta_training.models import AssessmentSummary, ReachRead

# scheduled → held, scheduled → cancelled; a held session is history and stays held.
TRANSITIONS: dict[str, frozenset[str]] = {
    "scheduled": frozenset({"held", "cancelled"}),
    "held": frozenset(),
    "cancelled": frozenset(),
}
STATUS_LABELS = {"scheduled": "programada", "held": "realizada", "cancelled": "cancelada"}


class RuleError(ValueError):
    """A domain rule refused the change; `field` names the input at fault, message in Spanish."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


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
            raise RuleError("modules_attended", "la sesión no tiene módulos")
        unknown = [n for n in numbers if not 1 <= n <= len(module_hours)]
        if unknown:
            raise RuleError(
                "modules_attended", f"la sesión tiene módulos del 1 al {len(module_hours)}"
            )
        from_modules = round(sum(module_hours[n - 1] for n in numbers), 2)
        if hours is not None and hours != from_modules:
            raise RuleError("hours_attended", "no coincide con las horas de los módulos indicados")
        return from_modules, numbers
    if hours is None:
        return pedagogic_hours, []
    if hours > pedagogic_hours:
        raise RuleError(
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


@dataclass(frozen=True)
class Attendee:
    """A participant's attributes as recorded at one session."""

    participant_id: str
    sex: str
    audience: str


@dataclass(frozen=True)
class SessionFacts:
    """What reach needs from one session."""

    session_id: str
    starts_on: str
    region: str
    attendees: Sequence[Attendee] = ()
    headcounts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


def compute_reach(sessions: Iterable[SessionFacts]) -> ReachRead:
    """Distinct people reached: each named participant once (at their first session), plus
    head counts (which cannot be deduplicated). Regions are where the training happened."""
    ordered = sorted(sessions, key=lambda s: (s.starts_on, s.session_id))
    seen: set[str] = set()
    by_sex: Counter[str] = Counter()
    by_audience: Counter[str] = Counter()
    by_region: Counter[str] = Counter()
    attendances = headcount = 0
    for session in ordered:
        for attendee in session.attendees:
            attendances += 1
            if attendee.participant_id in seen:
                continue
            seen.add(attendee.participant_id)
            by_sex[attendee.sex] += 1
            by_audience[attendee.audience] += 1
            by_region[session.region] += 1
        for audience, counts in session.headcounts.items():
            for sex in ("female", "male", "unknown"):
                people = int(counts.get(sex, 0))
                if people:
                    headcount += people
                    by_sex[sex] += people
                    by_audience[audience] += people
                    by_region[session.region] += people
    return ReachRead(
        sessions=len(ordered),
        attendances=attendances,
        distinct_participants=len(seen),
        headcount=headcount,
        total_reach=len(seen) + headcount,
        by_sex=dict(sorted(by_sex.items())),
        by_audience=dict(sorted(by_audience.items())),
        by_region=dict(sorted(by_region.items())),
    )
