"""Synthetic event streams that follow the catalog: the report's 344 victims, random routes of
care and training. Used by the tests and the benchmarks (never by a running service)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, Final, get_args

from ruta_shared.events import Actor, EventEnvelope
from ruta_shared.reference import (
    AgeGroup,
    Audience,
    CareType,
    CrimeType,
    InstitutionKind,
    Office,
    ReintegrationMilestone,
    Sex,
)

WORKER: Final = Actor(id="user-worker-1", role="case_worker")
PARTNER: Final = Actor(id="partner-fistrap", role="partner")
TRAINER: Final = Actor(id="user-trainer-1", role="trainer")

# The report's table: victims by sex and age group over three years (total 344).
REPORT_TABLE: Final[dict[tuple[str, str], int]] = {
    ("female", "adult"): 97,
    ("female", "minor"): 189,
    ("female", "unknown"): 4,
    ("male", "adult"): 10,
    ("male", "minor"): 42,
    ("male", "unknown"): 0,
    ("unknown", "adult"): 0,
    ("unknown", "minor"): 0,
    ("unknown", "unknown"): 2,
}

OFFICES: Final[tuple[str, ...]] = get_args(Office)
SEXES: Final[tuple[str, ...]] = get_args(Sex)
AGE_GROUPS: Final[tuple[str, ...]] = get_args(AgeGroup)
CRIME_TYPES: Final[tuple[str, ...]] = get_args(CrimeType)
CARE_TYPES: Final[tuple[str, ...]] = get_args(CareType)
INSTITUTION_KINDS: Final[tuple[str, ...]] = get_args(InstitutionKind)
MILESTONES: Final[tuple[str, ...]] = get_args(ReintegrationMilestone)
AUDIENCES: Final[tuple[str, ...]] = get_args(Audience)
REGIONS: Final[tuple[str, ...]] = tuple(f"{n:02d}" for n in range(1, 26))
LIMA_OFFSET: Final = timedelta(hours=-5)
DAYS_10: Final = timedelta(days=10)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class StreamBuilder:
    """Builds envelopes with correct per-(service, subject) sequences."""

    prefix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    envelopes: list[EventEnvelope] = field(default_factory=list)
    _sequences: dict[tuple[str, str], int] = field(default_factory=dict)
    _counter: int = 0

    def new_id(self, kind: str) -> str:
        """A unique pseudonymous id."""
        self._counter += 1
        return f"{kind}-{self.prefix}-{self._counter}"

    def emit(
        self,
        event_type: str,
        source: str,
        subject: str,
        data: dict[str, Any],
        *,
        at: datetime,
        actor: Actor = WORKER,
    ) -> EventEnvelope:
        """Append an event (data in JSON form, as it travels)."""
        key = (source, subject)
        sequence = self._sequences.get(key, 0) + 1
        self._sequences[key] = sequence
        envelope = EventEnvelope(
            type=event_type,
            version=1,
            source=source,
            subject=subject,
            sequence=sequence,
            occurred_at=at,
            actor=actor,
            correlation_id=f"corr-{self.prefix}-{self._counter}",
            data=data,
        )
        self.envelopes.append(envelope)
        return envelope

    def open_case(
        self,
        *,
        at: datetime,
        office: str = "lima",
        crime_types: list[str] | None = None,
        region: str | None = "15",
    ) -> str:
        """case.opened; returns the case id."""
        case_id = self.new_id("case")
        self.emit(
            "case.opened",
            "intake",
            case_id,
            {
                "case_id": case_id,
                "case_code": f"{office[:3].upper()}-{at.year}-{self._counter:04d}",
                "office": office,
                "opened_at": _iso(at),
                "crime_types": crime_types or ["trafficking"],
                "exploitation_purposes": [],
                "region_of_exploitation": region,
                "arrival_channel": "institution_referral",
                "referring_institution_kind": "prosecutor",
            },
            at=at,
        )
        return case_id

    def register_victim(
        self,
        case_id: str,
        *,
        at: datetime,
        office: str = "lima",
        sex: str = "female",
        age_group: str = "minor",
        region_of_origin: str | None = "16",
    ) -> str:
        """victim.registered; returns the victim id."""
        victim_id = self.new_id("vic")
        self.emit(
            "victim.registered",
            "intake",
            case_id,
            {
                "case_id": case_id,
                "victim_id": victim_id,
                "office": office,
                "sex": sex,
                "age_group": age_group,
                "nationality": "PE",
                "region_of_origin": region_of_origin,
                "registered_at": _iso(at),
            },
            at=at,
        )
        return victim_id


def report_stream(years: tuple[int, int, int], prefix: str | None = None) -> list[EventEnvelope]:
    """Cases and victims reproducing the report's 344-victim table, spread over three years."""
    builder = StreamBuilder(prefix=prefix or uuid.uuid4().hex[:8])
    victims = [cell for cell, count in REPORT_TABLE.items() for _ in range(count)]
    index = 0
    case_number = 0
    while index < len(victims):
        size = 1 + case_number % 3
        year = years[case_number % 3]
        at = datetime(year, 1 + case_number % 12, 1 + case_number % 28, 15, tzinfo=UTC)
        case_id = builder.open_case(at=at, office=OFFICES[case_number % len(OFFICES)])
        for sex, age_group in victims[index : index + size]:
            builder.register_victim(case_id, at=at, sex=sex, age_group=age_group)
        index += size
        case_number += 1
    return builder.envelopes


def random_stream(
    rng: random.Random,
    *,
    cases: int,
    years: tuple[int, ...],
    sessions: int = 0,
    prefix: str | None = None,
    security_events: bool = True,
) -> list[EventEnvelope]:
    """Random routes of care (and training sessions), in a realistic per-case order."""
    builder = StreamBuilder(prefix=prefix or uuid.uuid4().hex[:8])
    for _ in range(cases):
        _random_case(builder, rng, years, security_events=security_events)
    for _ in range(sessions):
        _random_session(builder, rng, years)
    return builder.envelopes


def _moment(rng: random.Random, years: tuple[int, ...]) -> datetime:
    year = rng.choice(years)
    start = datetime(year, 1, 1, tzinfo=UTC) - LIMA_OFFSET  # Lima's new year, in UTC
    # Some instants fall in the last hours of 31 December in Lima (already 1 January in UTC).
    return start + timedelta(seconds=rng.randrange(365 * 86400) - rng.choice([0, 0, 0, 18000]))


def _random_case(
    builder: StreamBuilder, rng: random.Random, years: tuple[int, ...], *, security_events: bool
) -> None:
    at = _moment(rng, years)
    office = rng.choice(OFFICES)
    case_id = builder.open_case(
        at=at,
        office=office,
        crime_types=sorted(set(rng.sample(CRIME_TYPES, rng.choice([1, 1, 2])))),
        region=rng.choice((*REGIONS[:5], "16", "15", None)),
    )
    victims = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        at += timedelta(minutes=rng.randrange(1, 120))
        victims.append(
            builder.register_victim(
                case_id,
                at=at,
                office=office,
                sex=rng.choice(("female", "female", "male", "unknown")),
                age_group=rng.choice(("minor", "minor", "adult", "unknown")),
                region_of_origin=rng.choice((*REGIONS[10:16], "VE", None)),
            )
        )
    emit = partial(builder.emit, subject=case_id)
    for victim_id in victims:
        whose = {"case_id": case_id, "victim_id": victim_id, "office": office}
        for _ in range(rng.randrange(0, 4)):
            at += timedelta(days=rng.randrange(0, 20), hours=1)
            care = {"care_id": builder.new_id("care"), "care_type": rng.choice(CARE_TYPES)}
            given = {"provided_on": lima_day(at).isoformat(), "professional_id": "user-worker-1"}
            emit("care.provided", "intake", data={**whose, **care, **given}, at=at)
        if security_events and rng.random() < 0.3:
            _pii_read(builder, case_id, victim_id, at)
        if rng.random() < 0.6:
            at = _random_referral(
                builder, rng, case_id=case_id, victim_id=victim_id, office=office, at=at
            )
        if rng.random() < 0.3:
            at += timedelta(days=rng.randrange(1, 60))
            home = {"region_of_origin": rng.choice(REGIONS), "funded": rng.random() < 0.7}
            back = {**whose, **home, "returned_on": lima_day(at).isoformat()}
            emit("victim.returned_home", "referrals", data=back, at=at)
        if rng.random() < 0.2:
            at += timedelta(days=rng.randrange(1, 60))
            reached = {
                "milestone": rng.choice(MILESTONES),
                "region": rng.choice(("16", "15", None)),
            }
            step = {**whose, **reached, "reached_on": lima_day(at).isoformat()}
            emit("reintegration.milestone_reached", "referrals", data=step, at=at)
    if rng.random() < 0.4:
        at += timedelta(days=rng.randrange(1, 90))
        builder.emit(
            "case.closed",
            "intake",
            case_id,
            {"case_id": case_id, "closure_reason": "reintegrated", "closed_at": _iso(at)},
            at=at,
        )


def _pii_read(builder: StreamBuilder, case_id: str, victim_id: str, at: datetime) -> None:
    builder.emit(
        "pii.accessed",
        "intake",
        case_id,
        {
            "access_id": builder.new_id("acc"),
            "subject_type": "victim",
            "subject_id": victim_id,
            "case_id": case_id,
            "purpose": "case_work",
            "fields": ["names", "document_number"],
            "accessed_at": _iso(at),
        },
        at=at,
    )


def _random_referral(
    builder: StreamBuilder,
    rng: random.Random,
    *,
    case_id: str,
    victim_id: str,
    office: str,
    at: datetime,
) -> datetime:
    referral_id = builder.new_id("ref")
    base = {
        "case_id": case_id,
        "referral_id": referral_id,
        "victim_id": victim_id,
        "institution_id": "inst-1",
        "institution_kind": rng.choice(INSTITUTION_KINDS),
        "office": office,
    }
    at += timedelta(hours=rng.randrange(1, 48))
    due = (at + LIMA_OFFSET + timedelta(days=rng.choice([3, 10, 4000]))).date()
    # Every referral event is about the case, published by referrals.
    emit = partial(builder.emit, source="referrals", subject=case_id)
    asked = {"direction": "outgoing", "services_requested": ["legal"], "urgency": "normal"}
    when = {"due_on": due.isoformat(), "requested_at": _iso(at)}
    emit("referral.requested", data={**base, **asked, **when}, at=at)
    at += timedelta(hours=rng.randrange(1, 10))
    emit("referral.sent", data={**base, "channel": "manual", "sent_at": _iso(at)}, at=at)
    roll = rng.random()
    if roll < 0.55:
        at += timedelta(hours=rng.randrange(1, 24 * 20))
        emit("referral.accepted", data={**base, "accepted_at": _iso(at)}, at=at, actor=PARTNER)
        if rng.random() < 0.4:
            at += timedelta(days=rng.randrange(1, 30))
            completed = {**base, "completed_at": _iso(at)}
            emit("referral.completed", data=completed, at=at, actor=PARTNER)
    elif roll < 0.75:
        at += timedelta(hours=rng.randrange(1, 24 * 20))
        declined = {**base, "reason": "no_capacity", "declined_at": _iso(at)}
        emit("referral.declined", data=declined, at=at, actor=PARTNER)
    elif roll < 0.85:
        at += timedelta(days=4)
        overdue = {**base, "stage": "answer", "due_at": _iso(at), "detected_at": _iso(at)}
        emit("referral.overdue", data=overdue, at=at)
    return at


def _random_session(builder: StreamBuilder, rng: random.Random, years: tuple[int, ...]) -> None:
    session_id = builder.new_id("ses")
    day = (_moment(rng, years) + LIMA_OFFSET).date()
    region = rng.choice(("16", "15", "17", "08"))
    office = rng.choice(OFFICES)
    audiences = sorted(set(rng.sample(AUDIENCES, 2)))
    at = datetime(day.year, day.month, day.day, 14, tzinfo=UTC)
    # Every training event is about the session, published by training, caused by a trainer.
    emit = partial(builder.emit, source="training", subject=session_id, actor=TRAINER)
    session = {"session_id": session_id}
    where = {**session, "office": office, "format": "workshop", "region": region}
    scheduled = {"topics": ["trafficking"], "audiences": audiences, "modality": "in_person"}
    span = {"starts_on": day.isoformat(), "ends_on": day.isoformat(), "pedagogic_hours": 4.0}
    emit("training.session_scheduled", data={**where, **scheduled, **span}, at=at - DAYS_10)
    if rng.random() < 0.1:
        cancelled = {**session, "cancelled_at": _iso(at - timedelta(days=1))}
        emit("training.session_cancelled", data=cancelled, at=at - timedelta(days=1))
        return
    held_on = day + timedelta(days=rng.choice([0, 0, 1]))
    held = {**where, "audiences": audiences, "held_on": held_on.isoformat()}
    emit("training.session_held", data=held, at=at)
    # Participants come back to later sessions sometimes: a shared pool per builder.
    pool = [f"par-{builder.prefix}-{n}" for n in range(40)]
    for participant_id in rng.sample(pool, rng.randrange(3, 15)):
        person = {**session, "participant_id": participant_id}
        sex, audience = (
            _pool_attribute(participant_id, SEXES),
            _pool_attribute(participant_id, AUDIENCES),
        )
        attended = {**person, "sex": sex, "audience": audience, "hours_attended": 4.0}
        emit("training.attendance_recorded", data=attended, at=at)
        if rng.random() < 0.5:
            pre = float(rng.randrange(0, 80))
            scores = {"pre_score": pre, "post_score": min(100.0, pre + rng.randrange(0, 30))}
            emit("training.assessment_recorded", data={**person, **scores}, at=at)
    if rng.random() < 0.3:
        counts = {
            "female": rng.randrange(0, 30),
            "male": rng.randrange(0, 30),
            "unknown": rng.randrange(0, 3),
        }
        headcount = {**session, "audience": audiences[0], **counts}
        emit("training.headcount_recorded", data=headcount, at=at)


def _pool_attribute(participant_id: str, values: tuple[str, ...]) -> str:
    return values[int(participant_id.rsplit("-", 1)[1]) % len(values)]


def chunked(items: list[EventEnvelope], size: int) -> Iterator[list[EventEnvelope]]:
    """Consecutive slices of `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def lima_day(moment: datetime) -> date:
    """Lima's calendar day of an instant (for recounts in tests)."""
    return (moment.astimezone(UTC) + LIMA_OFFSET).date()
