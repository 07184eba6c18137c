"""`ruta-dlq` on the real broker: lists dead letters without their data, replays each once."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from ruta_shared.events import EVENTS, Actor, EventEnvelope, new_event
from ruta_shared.events.catalog.intake import CaseOpened
from ruta_shared.kafka.admin import ensure_topics
from ruta_shared.kafka.dead_letters import dead_letter_headers
from ruta_shared.kafka.dlq import REPLAYED_FROM, main, parse_ref, read_topic
from ruta_shared.topics import (
    ANALYTICS_EVENTS,
    INTAKE_EVENTS,
    REFERRALS_EVENTS,
    TRAINING_EVENTS,
    dead_letter_topic,
)

pytestmark = pytest.mark.integration

ACTOR = Actor(id="u-1", role="case_worker")
PERSONAL = "María Rosa Quispe Huamán"


def envelope(subject: str) -> EventEnvelope:
    opened = CaseOpened(
        case_id=subject,
        case_code="LIM-2026-0001",
        office="lima",
        opened_at=datetime(2026, 1, 5, tzinfo=UTC),
        crime_types=["trafficking"],
        region_of_exploitation="15",
        arrival_channel="hotline",
    )
    return new_event(opened, subject=subject, sequence=1, actor=ACTOR)


async def dead_letter(
    bootstrap: str, topic: str, value: bytes, key: bytes, group: str, *, publish: bool = True
) -> str:
    """Publish `value` to `topic`, then dead-letter it as a consumer does; its ref in the DLQ.

    With `publish=False` only the dead letter is written (a message no test consumer of the
    session's shared topics should see).
    """
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        partition, offset = 0, 0
        if publish:
            original = await producer.send_and_wait(topic, value, key=key)
            partition, offset = original.partition, original.offset
        headers = dead_letter_headers(
            topic=topic,
            partition=partition,
            offset=offset,
            reason="handler_failed",
            detail="RuntimeError",
            group=group,
            original=[("event-type", b"case.opened")],
        )
        failed = await producer.send_and_wait(
            dead_letter_topic(topic), value, key=key, headers=headers
        )
        return f"{failed.partition}:{failed.offset}"
    finally:
        await producer.stop()


async def move(bootstrap: str, source: str, target: str) -> None:
    """Copy every record of `source` (headers included) to `target`, as a misrouted writer would."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for record in await read_topic(bootstrap, source):
            await producer.send_and_wait(
                target, record.value, key=record.key, headers=list(record.headers or ())
            )
    finally:
        await producer.stop()


def run_cli(capsys: pytest.CaptureFixture[str], bootstrap: str, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["--bootstrap-servers", bootstrap, *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def replayed_copies(bootstrap: str, topic: str, dlq: str) -> dict[str, list[tuple[bytes, bytes]]]:
    """Records of `topic` replayed from `dlq`, by the DLQ ref they came from: (key, value)."""
    copies: dict[str, list[tuple[bytes, bytes]]] = {}
    for record in asyncio.run(read_topic(bootstrap, topic)):
        origin = dict(record.headers or ()).get(REPLAYED_FROM, b"").decode()
        if origin.startswith(f"{dlq}:"):
            copies.setdefault(origin.removeprefix(f"{dlq}:"), []).append((record.key, record.value))
    return copies


@pytest.mark.parametrize(
    "topic", [INTAKE_EVENTS, REFERRALS_EVENTS, TRAINING_EVENTS, ANALYTICS_EVENTS]
)
def test_list_then_replay_chosen_messages_of_each_service_topic_once(
    capsys: pytest.CaptureFixture[str], kafka_bootstrap: str, unique: str, topic: str
) -> None:
    dlq = dead_letter_topic(topic)
    asyncio.run(ensure_topics(kafka_bootstrap))
    events = [envelope(f"{unique}-{n}") for n in range(3)]
    refs = [
        asyncio.run(dead_letter(kafka_bootstrap, topic, EVENTS.encode(e), e.key, f"g-{unique}"))
        for e in events
    ]
    # A message that failed validation may carry anything, personal data included.
    leaky = json.dumps({"type": "case.opened", "subject": PERSONAL, "data": {"name": PERSONAL}})
    leaky_ref = asyncio.run(
        dead_letter(
            kafka_bootstrap, topic, leaky.encode(), unique.encode(), f"g-{unique}", publish=False
        )
    )

    code, listing = run_cli(capsys, kafka_bootstrap, "list", dlq, "--json")
    assert code == 0, listing
    rows = {row["ref"]: row for row in map(json.loads, listing.splitlines())}
    for ref, event in zip(refs, events, strict=True):
        assert rows[ref]["reason"] == "handler_failed"
        assert rows[ref]["original_topic"] == topic
        assert rows[ref]["group"] == f"g-{unique}"
        assert (rows[ref]["event_type"], rows[ref]["subject"]) == ("case.opened", event.subject)
        assert rows[ref]["replayed"] is False
    assert rows[leaky_ref]["subject"] == "-"
    code, table = run_cli(capsys, kafka_bootstrap, "list", dlq)
    assert code == 0
    assert "Quispe" not in listing + table
    assert "trafficking" not in listing + table  # nothing of the payload beyond type and subject

    chosen = refs[:2]
    code, said = run_cli(capsys, kafka_bootstrap, "replay", dlq, *(f"--offset={r}" for r in chosen))
    assert code == 0, said
    assert f"replayed 2 to {topic}: {' '.join(sorted(chosen, key=parse_ref))}" in said
    code, said = run_cli(capsys, kafka_bootstrap, "replay", dlq, f"--offset={refs[0]}")
    assert code == 0, said
    assert f"replayed 0 to {topic}" in said
    assert f"already replayed, skipped: {refs[0]}" in said

    copies = replayed_copies(kafka_bootstrap, topic, dlq)
    for ref, event in zip(chosen, events[:2], strict=True):
        assert copies[ref] == [(event.key, EVENTS.encode(event))]  # once, the original bytes
        assert EVENTS.decode(copies[ref][0][1]).id == event.id
    assert refs[2] not in copies
    code, listing = run_cli(capsys, kafka_bootstrap, "list", dlq, "--json")
    rows = {row["ref"]: row for row in map(json.loads, listing.splitlines())}
    assert [rows[ref]["replayed"] for ref in refs] == [True, True, False]


def test_replay_all_sends_every_message_once_and_a_second_run_nothing(
    capsys: pytest.CaptureFixture[str], kafka_bootstrap: str, unique: str
) -> None:
    topic = f"test.replay.{unique}"
    dlq = dead_letter_topic(topic)
    asyncio.run(ensure_topics(kafka_bootstrap, [topic, dlq], partitions=2))
    events = [envelope(f"{unique}-{n}") for n in range(5)]
    refs = [
        asyncio.run(dead_letter(kafka_bootstrap, topic, EVENTS.encode(e), e.key, "g"))
        for e in events
    ]

    first = run_cli(capsys, kafka_bootstrap, "replay", dlq, "--all")
    second = run_cli(capsys, kafka_bootstrap, "replay", dlq, "--all")

    assert first[0] == 0, first[1]
    assert f"replayed 5 to {topic}" in first[1]
    assert second[0] == 0, second[1]
    assert f"replayed 0 to {topic}" in second[1]
    copies = replayed_copies(kafka_bootstrap, topic, dlq)
    assert sorted(copies) == sorted(refs)
    originals = asyncio.run(read_topic(kafka_bootstrap, topic))
    assert len(originals) == 2 * len(events)  # each event: its first publication and one replay


def test_unknown_offsets_and_foreign_topics_are_refused_and_nothing_is_sent(
    capsys: pytest.CaptureFixture[str], kafka_bootstrap: str, unique: str
) -> None:
    topic = f"test.refuse.{unique}"
    dlq = dead_letter_topic(topic)
    other = f"{topic}.other"
    asyncio.run(
        ensure_topics(kafka_bootstrap, [topic, dlq, other, dead_letter_topic(other)], partitions=1)
    )
    event = envelope(unique)
    ref = asyncio.run(dead_letter(kafka_bootstrap, topic, EVENTS.encode(event), event.key, "g"))

    foreign = asyncio.run(dead_letter(kafka_bootstrap, f"{topic}.other", b"{}", b"k", "g"))
    asyncio.run(move(kafka_bootstrap, dead_letter_topic(f"{topic}.other"), dlq))

    unknown = run_cli(capsys, kafka_bootstrap, "replay", dlq, f"--offset={ref}", "--offset=0:999")
    mixed = run_cli(capsys, kafka_bootstrap, "replay", dlq, "--all")
    not_dlq = run_cli(capsys, kafka_bootstrap, "list", topic)
    bad_ref = run_cli(capsys, kafka_bootstrap, "replay", dlq, "--offset=seven")

    assert unknown == (2, f"ruta-dlq: not in {dlq}: 0:999\n")
    assert not_dlq == (2, f"ruta-dlq: {topic} is not a dead-letter topic (its name ends in .dlq)\n")
    assert mixed == (2, f"ruta-dlq: not dead-lettered from {topic}: 0:1\n")
    assert foreign == "0:0"
    assert bad_ref[0] == 2
    assert "is not partition:offset" in bad_ref[1]
    assert replayed_copies(kafka_bootstrap, topic, dlq) == {}
