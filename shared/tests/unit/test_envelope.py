"""Unit tests of the event envelope, the registry and upcasting (pure logic)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import ClassVar

import pytest
from pydantic import Field, ValidationError
from ruta_shared.events import (
    EVENTS,
    Actor,
    EventData,
    EventEnvelope,
    EventRegistry,
    InvalidEventError,
    UndecodableEventError,
    UnknownEventTypeError,
    new_event,
)
from ruta_shared.events.catalog.intake import CaseOpened

ACTOR = Actor(id="u-123", role="case_worker")


def _case_opened(**overrides: object) -> CaseOpened:
    values: dict[str, object] = {
        "case_id": "c1",
        "case_code": "LIM-2026-0001",
        "office": "lima",
        "opened_at": datetime(2026, 3, 1, 12, tzinfo=UTC),
        "crime_types": ["trafficking"],
        "region_of_exploitation": "16",
        "arrival_channel": "institution_referral",
    }
    values.update(overrides)
    return CaseOpened.model_validate(values)


def test_round_trip_through_wire_bytes_keeps_every_field() -> None:
    envelope = new_event(
        _case_opened(), subject="c1", sequence=1, actor=ACTOR, correlation_id="corr-1"
    )
    decoded = EVENTS.decode(EVENTS.encode(envelope))
    assert decoded == envelope
    assert decoded.type == "case.opened"
    assert decoded.version == 1
    assert decoded.source == "intake"
    assert decoded.key == b"c1"
    assert EVENTS.payload(decoded) == _case_opened()


def test_envelope_is_frozen() -> None:
    envelope = new_event(_case_opened(), subject="c1", sequence=1, actor=ACTOR)
    with pytest.raises(ValidationError):
        envelope.sequence = 2  # type: ignore[misc]


def test_ids_are_time_ordered_uuid7() -> None:
    ids = [new_event(_case_opened(), subject="c1", sequence=i, actor=ACTOR).id for i in (1, 2, 3)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids)


def test_occurred_at_is_stored_in_utc() -> None:
    lima = timezone(timedelta(hours=-5))
    envelope = new_event(
        _case_opened(),
        subject="c1",
        sequence=1,
        actor=ACTOR,
        occurred_at=datetime(2026, 12, 31, 22, 0, tzinfo=lima),
    )
    assert envelope.occurred_at == datetime(2027, 1, 1, 3, 0, tzinfo=UTC)
    assert envelope.occurred_at.utcoffset() == timedelta(0)


def test_naive_occurred_at_is_rejected() -> None:
    envelope = new_event(_case_opened(), subject="c1", sequence=1, actor=ACTOR)
    raw = envelope.model_dump(mode="json")
    raw["occurred_at"] = "2026-01-01T10:00:00"
    with pytest.raises(InvalidEventError, match="occurred_at"):
        EVENTS.decode(json.dumps(raw).encode())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", "CaseOpened"),
        ("version", 0),
        ("sequence", 0),
        ("subject", "has.dot"),
        ("subject", ""),
        ("actor", {"id": "u1"}),
    ],
)
def test_invalid_envelope_fields_are_named(field: str, value: object) -> None:
    raw = new_event(_case_opened(), subject="c1", sequence=1, actor=ACTOR).model_dump(mode="json")
    raw[field] = value
    with pytest.raises(InvalidEventError, match=field):
        EVENTS.decode(json.dumps(raw).encode())


def test_missing_field_is_named() -> None:
    raw = new_event(_case_opened(), subject="c1", sequence=1, actor=ACTOR).model_dump(mode="json")
    del raw["correlation_id"]
    with pytest.raises(InvalidEventError, match="correlation_id"):
        EVENTS.decode(json.dumps(raw).encode())


def test_extra_field_is_rejected() -> None:
    raw = new_event(_case_opened(), subject="c1", sequence=1, actor=ACTOR).model_dump(mode="json")
    raw["victim_name"] = "should never travel"
    with pytest.raises(InvalidEventError, match="victim_name"):
        EVENTS.decode(json.dumps(raw).encode())


def test_invalid_payload_names_the_field_without_echoing_the_value() -> None:
    raw = new_event(_case_opened(), subject="c1", sequence=1, actor=ACTOR).model_dump(mode="json")
    raw["data"]["office"] = "Maria Quispe"
    with pytest.raises(InvalidEventError, match=r"data\.office") as caught:
        EVENTS.decode(json.dumps(raw).encode())
    assert "Maria Quispe" not in str(caught.value)


def test_unknown_type_is_rejected_with_a_clear_error() -> None:
    raw = new_event(_case_opened(), subject="c1", sequence=1, actor=ACTOR).model_dump(mode="json")
    raw["type"] = "case.teleported"
    with pytest.raises(UnknownEventTypeError, match=r"unknown event type 'case\.teleported'"):
        EVENTS.decode(json.dumps(raw).encode())


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"not json", b"[1,2]", None])
def test_undecodable_bytes(raw: bytes | None) -> None:
    with pytest.raises(UndecodableEventError):
        EVENTS.decode(raw)


# A private registry with three versions of one event, to test chained upcasters.
registry = EventRegistry()


@registry.register
class ThingHappenedV1(EventData):
    """v1: a single name field."""

    event_type: ClassVar[str] = "thing.happened"
    event_version: ClassVar[int] = 1
    source: ClassVar[str] = "intake"
    label: str


@registry.register
class ThingHappenedV2(EventData):
    """v2: `label` renamed to `code`."""

    event_type: ClassVar[str] = "thing.happened"
    event_version: ClassVar[int] = 2
    source: ClassVar[str] = "intake"
    code: str


@registry.register
class ThingHappened(EventData):
    """v3: adds a count with a default for old events."""

    event_type: ClassVar[str] = "thing.happened"
    event_version: ClassVar[int] = 3
    source: ClassVar[str] = "intake"
    code: str
    count: int = Field(ge=0)


@registry.upcaster("thing.happened", 1)
def upcast_v1_v2(data: dict[str, object]) -> dict[str, object]:
    return {"code": data["label"]}


@registry.upcaster("thing.happened", 2)
def upcast_v2_v3(data: dict[str, object]) -> dict[str, object]:
    return {**data, "count": 1}


def test_old_versions_are_upcast_through_the_chain() -> None:
    old = new_event(ThingHappenedV1(label="x"), subject="s1", sequence=1, actor=ACTOR)
    decoded = registry.decode(registry.encode(old))
    assert decoded.version == 3
    assert decoded.data == {"code": "x", "count": 1}
    assert registry.payload(decoded) == ThingHappened(code="x", count=1)
    assert decoded.id == old.id


def test_a_version_newer_than_known_is_rejected() -> None:
    raw = new_event(ThingHappened(code="x", count=1), subject="s", sequence=1, actor=ACTOR)
    newer = raw.model_copy(update={"version": 4})
    with pytest.raises(UnknownEventTypeError, match="newer"):
        registry.decode(registry.encode(newer))


def test_registering_a_different_model_under_a_taken_name_fails() -> None:
    class Impostor(EventData):
        event_type: ClassVar[str] = "thing.happened"
        event_version: ClassVar[int] = 3
        source: ClassVar[str] = "intake"

    with pytest.raises(ValueError, match="already registered"):
        registry.register(Impostor)


def test_latest_version_and_types() -> None:
    assert registry.latest_version("thing.happened") == 3
    assert registry.types() == ["thing.happened"]
    assert isinstance(
        new_event(ThingHappened(code="a", count=0), subject="s", sequence=1, actor=ACTOR),
        EventEnvelope,
    )
