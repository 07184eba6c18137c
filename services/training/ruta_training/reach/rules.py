"""Pure rules of reach: distinct people reached, each named participant counted once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ruta_training.reach.models import ReachRead


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
