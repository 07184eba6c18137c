"""What `ruta-dlq` shows of a dead letter, and what a replayed message carries."""

from __future__ import annotations

import json

import pytest
from ruta_shared.kafka.dead_letters import dead_letter_headers
from ruta_shared.kafka.dlq import (
    REPLAYED_FROM,
    DeadLetterError,
    describe,
    envelope_summary,
    format_table,
    parse_ref,
    replay_headers,
    source_topic,
)

HEADERS = dead_letter_headers(
    topic="ruta.intake.events",
    partition=3,
    offset=41,
    reason="invalid",
    detail="ValidationError: 1 error",
    group="analytics",
    original=[("event-type", b"case.opened"), ("correlation-id", b"c-1")],
)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (b'{"type": "case.opened", "subject": "case-7", "data": {}}', ("case.opened", "case-7")),
        (b'{"type": "case.opened", "subject": "Rosa Quispe"}', ("case.opened", "-")),
        (b'{"type": "Rosa Quispe", "subject": "case-7"}', ("-", "case-7")),
        (b'{"type": 7, "subject": ["case-7"]}', ("-", "-")),
        (b"\x00\x01 not json", ("-", "-")),
        (b'["case.opened"]', ("-", "-")),
        (None, ("-", "-")),
    ],
)
def test_only_an_event_type_and_an_id_shaped_subject_are_shown(
    value: bytes | None, shown: tuple[str, str]
) -> None:
    assert envelope_summary(value) == shown


def test_a_dead_letter_is_described_from_its_headers_and_never_its_data() -> None:
    value = json.dumps(
        {"type": "case.opened", "subject": "case-7", "data": {"name": "Rosa Quispe"}}
    ).encode()

    letter = describe(2, 9, value, HEADERS)

    assert (letter.ref, letter.reason, letter.group) == ("2:9", "invalid", "analytics")
    assert (letter.original_topic, letter.original_partition, letter.original_offset) == (
        "ruta.intake.events",
        "3",
        "41",
    )
    assert (letter.event_type, letter.subject) == ("case.opened", "case-7")
    table = format_table([(letter, False)])
    assert "Rosa" not in table
    assert "ValidationError" not in table  # details may quote input: not shown
    assert table.splitlines()[1].split() == [
        "2:9",
        "invalid",
        "ruta.intake.events[3]@41",
        "analytics",
        "case.opened",
        "case-7",
        letter.failed_at,
        "no",
    ]


def test_the_analytics_consumers_own_headers_are_read_too() -> None:
    headers = [
        ("dlq-reason", b"invalid"),
        ("dlq-original-topic", b"ruta.training.events"),
        ("dlq-original-partition", b"0"),
        ("dlq-original-offset", b"5"),
    ]

    letter = describe(0, 0, b"{}", headers)

    assert (letter.original_topic, letter.group, letter.failed_at) == (
        "ruta.training.events",
        "-",
        "-",
    )


def test_a_replayed_message_keeps_its_own_headers_and_says_where_it_came_from() -> None:
    headers = replay_headers([*HEADERS, (REPLAYED_FROM, b"old")], "ruta.intake.events.dlq", (2, 9))

    assert headers == [
        ("event-type", b"case.opened"),
        ("correlation-id", b"c-1"),
        (REPLAYED_FROM, b"ruta.intake.events.dlq:2:9"),
    ]


def test_refs_and_topic_names_are_checked() -> None:
    assert parse_ref("3:41") == (3, 41)
    assert source_topic("ruta.referrals.events.dlq") == "ruta.referrals.events"
    for text in ("41", "a:1", "1:", "-1:2"):
        with pytest.raises(DeadLetterError, match="is not partition:offset"):
            parse_ref(text)
    with pytest.raises(DeadLetterError, match="not a dead-letter topic"):
        source_topic("ruta.referrals.events")
