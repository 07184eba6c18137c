"""`ruta-dlq`: list a dead-letter topic's messages and replay them to their topic, once each.

A replay sends the dead-lettered message's own key and value bytes back to the topic it came
from, so the event keeps its id and idempotent consumers apply it once. Each replay is recorded
in the `ruta.dlq.replays` topic in the same Kafka transaction as the replayed message: a message
is never replayed twice, and a crash leaves either both or neither.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from ruta_shared.ids import ID_PATTERN
from ruta_shared.kafka import dead_letters
from ruta_shared.kafka.admin import ensure_topics
from ruta_shared.settings import ServiceSettings
from ruta_shared.topics import DEAD_LETTER_SUFFIX, DLQ_REPLAYS

Header = tuple[str, bytes]
Ref = tuple[int, int]  # (partition, offset) in the dead-letter topic

REPLAYED_FROM: Final = "dlq-replayed-from"
_EVENT_TYPE = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
_SUBJECT = re.compile(ID_PATTERN)
_UNKNOWN: Final = "-"
_TRANSACTION_SIZE: Final = 100
_UNKNOWN_TOPIC: Final = 3


class DeadLetterError(RuntimeError):
    """The request cannot be carried out (unknown topic or offsets, foreign messages)."""


@dataclass(frozen=True)
class DeadLetter:
    """What may be shown of a dead-lettered message: where it failed and why, never its data."""

    partition: int
    offset: int
    reason: str
    original_topic: str
    original_partition: str
    original_offset: str
    group: str
    failed_at: str
    event_type: str
    subject: str

    @property
    def ref(self) -> str:
        """How the operator names it: partition:offset in the dead-letter topic."""
        return f"{self.partition}:{self.offset}"


def source_topic(dead_letter_topic: str) -> str:
    """The topic whose failed messages `dead_letter_topic` holds."""
    if not dead_letter_topic.endswith(DEAD_LETTER_SUFFIX):
        msg = f"{dead_letter_topic} is not a dead-letter topic (its name ends in .dlq)"
        raise DeadLetterError(msg)
    return dead_letter_topic.removesuffix(DEAD_LETTER_SUFFIX)


def envelope_summary(value: bytes | None) -> tuple[str, str]:
    """The event type and subject of a message, when they look like them; nothing else is read.

    The payload may hold anything (it failed to be read), so only the two envelope fields are
    taken, and only when they match the shape of an event type and of an id.
    """
    try:
        envelope = json.loads(value or b"")
    except ValueError:
        return _UNKNOWN, _UNKNOWN
    if not isinstance(envelope, dict):
        return _UNKNOWN, _UNKNOWN
    event_type, subject = envelope.get("type"), envelope.get("subject")
    shown_type = (
        event_type if isinstance(event_type, str) and _EVENT_TYPE.match(event_type) else _UNKNOWN
    )
    shown_subject = subject if isinstance(subject, str) and _SUBJECT.match(subject) else _UNKNOWN
    return shown_type, shown_subject


def describe(
    partition: int, offset: int, value: bytes | None, headers: Iterable[Header]
) -> DeadLetter:
    """A dead-lettered record as it may be listed (headers by dead_letters.dead_letter_headers)."""
    found = {name: raw.decode(errors="replace") for name, raw in headers}
    event_type, subject = envelope_summary(value)
    return DeadLetter(
        partition=partition,
        offset=offset,
        reason=found.get(dead_letters.REASON, _UNKNOWN),
        original_topic=found.get(dead_letters.ORIGINAL_TOPIC, _UNKNOWN),
        original_partition=found.get(dead_letters.ORIGINAL_PARTITION, _UNKNOWN),
        original_offset=found.get(dead_letters.ORIGINAL_OFFSET, _UNKNOWN),
        group=found.get(dead_letters.CONSUMER_GROUP, _UNKNOWN),
        failed_at=found.get(dead_letters.FAILED_AT, _UNKNOWN),
        event_type=event_type,
        subject=subject,
    )


def replay_headers(headers: Iterable[Header], topic: str, ref: Ref) -> list[Header]:
    """The message's own headers without the dead-letter ones, plus where it was replayed from."""
    kept = [(name, raw) for name, raw in headers if name not in dead_letters.DLQ_HEADERS]
    kept = [(name, raw) for name, raw in kept if name != REPLAYED_FROM]
    return [*kept, (REPLAYED_FROM, f"{topic}:{ref[0]}:{ref[1]}".encode())]


def parse_ref(text: str) -> Ref:
    """`partition:offset` as listed."""
    partition, sep, offset = text.partition(":")
    if not sep or not partition.isdigit() or not offset.isdigit():
        msg = f"{text!r} is not partition:offset (as `ruta-dlq list` shows them, e.g. 0:42)"
        raise DeadLetterError(msg)
    return int(partition), int(offset)


async def read_topic(bootstrap: str, topic: str, *, timeout: float = 120.0) -> list[Any]:
    """Every committed record of `topic` now, from the beginning to the current end."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        assigned = await _partitions(bootstrap, topic)
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        records: list[Any] = []
        remaining = {tp for tp in assigned if await consumer.position(tp) < ends[tp]}
        async with asyncio.timeout(timeout):
            while remaining:
                batch = await consumer.getmany(*remaining, timeout_ms=500)
                for tp, tp_records in batch.items():
                    records.extend(r for r in tp_records if r.offset < ends[tp])
                remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
        return records
    except TimeoutError:
        msg = f"could not read {topic} to its end within {timeout:.0f}s"
        raise DeadLetterError(msg) from None
    finally:
        await consumer.stop()


async def _partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    """The topic's partitions, once the cluster has leaders for them (a new topic may not)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        for _ in range(50):
            (described,) = await admin.describe_topics([topic])
            if described["error_code"] == _UNKNOWN_TOPIC:
                msg = f"topic {topic} does not exist"
                raise DeadLetterError(msg)
            partitions = described["partitions"]
            if described["error_code"] == 0 and all(p["leader"] >= 0 for p in partitions):
                return [TopicPartition(topic, p["partition"]) for p in partitions]
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
    msg = f"topic {topic} has no partition leaders"
    raise DeadLetterError(msg)


async def replayed(bootstrap: str, topic: str) -> set[Ref]:
    """The messages of dead-letter topic `topic` already replayed."""
    done: set[Ref] = set()
    for record in await read_topic(bootstrap, DLQ_REPLAYS):
        marker = json.loads(record.value)
        if marker.get("dead_letter_topic") == topic:
            done.add((int(marker["partition"]), int(marker["offset"])))
    return done


async def list_dead_letters(bootstrap: str, topic: str) -> list[tuple[DeadLetter, bool]]:
    """Every message of the dead-letter topic, and whether it was replayed already."""
    source_topic(topic)
    done = await replayed(bootstrap, topic)
    return [
        (
            describe(r.partition, r.offset, r.value, r.headers or ()),
            (r.partition, r.offset) in done,
        )
        for r in await read_topic(bootstrap, topic)
    ]


@dataclass(frozen=True)
class ReplayResult:
    """What a replay did."""

    replayed: list[str]
    already_replayed: list[str]


async def replay(
    bootstrap: str,
    topic: str,
    chosen: Sequence[Ref] | None,
    *,
    settings: ServiceSettings | None = None,
) -> ReplayResult:
    """Replay the chosen messages (all when None) to their topic, skipping replayed ones."""
    target = source_topic(topic)
    await ensure_topics(bootstrap, [target, DLQ_REPLAYS], settings=settings)
    records = {(r.partition, r.offset): r for r in await read_topic(bootstrap, topic)}
    wanted = sorted(records) if chosen is None else sorted(set(chosen))
    unknown = [ref for ref in wanted if ref not in records]
    if unknown:
        msg = f"not in {topic}: " + ", ".join(f"{p}:{o}" for p, o in unknown)
        raise DeadLetterError(msg)
    foreign = [
        ref
        for ref in wanted
        if describe(ref[0], ref[1], None, records[ref].headers or ()).original_topic != target
    ]
    if foreign:
        msg = f"not dead-lettered from {target}: " + ", ".join(f"{p}:{o}" for p, o in foreign)
        raise DeadLetterError(msg)
    done = await replayed(bootstrap, topic)
    todo = [ref for ref in wanted if ref not in done]
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        transactional_id=f"ruta-dlq-replay-{topic}",  # a second replayer fences the first
        enable_idempotence=True,
        acks="all",
    )
    await producer.start()
    try:
        for start in range(0, len(todo), _TRANSACTION_SIZE):
            async with producer.transaction():
                for ref in todo[start : start + _TRANSACTION_SIZE]:
                    record = records[ref]
                    await producer.send(
                        target,
                        value=record.value,
                        key=record.key,
                        headers=replay_headers(record.headers or (), topic, ref),
                    )
                    await producer.send(
                        DLQ_REPLAYS,
                        key=f"{topic}:{ref[0]}:{ref[1]}".encode(),
                        value=_marker(topic, target, ref),
                    )
    finally:
        await producer.stop()
    as_text = [f"{p}:{o}" for p, o in todo]
    return ReplayResult(
        replayed=as_text, already_replayed=[f"{p}:{o}" for p, o in wanted if (p, o) in done]
    )


def _marker(topic: str, target: str, ref: Ref) -> bytes:
    return json.dumps(
        {
            "dead_letter_topic": topic,
            "partition": ref[0],
            "offset": ref[1],
            "replayed_to": target,
            "replayed_at": datetime.now(UTC).isoformat(),
        }
    ).encode()


COLUMNS: Final = (
    "ref",
    "reason",
    "original",
    "group",
    "event_type",
    "subject",
    "failed_at",
    "replayed",
)


def _row(letter: DeadLetter, done: bool) -> tuple[str, ...]:
    original = f"{letter.original_topic}[{letter.original_partition}]@{letter.original_offset}"
    return (
        letter.ref,
        letter.reason,
        original,
        letter.group,
        letter.event_type,
        letter.subject,
        letter.failed_at,
        "yes" if done else "no",
    )


def format_table(rows: Sequence[tuple[DeadLetter, bool]]) -> str:
    """The listing as aligned columns."""
    table = [COLUMNS, *(_row(letter, done) for letter, done in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in table
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ruta-dlq", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--bootstrap-servers", help="Kafka (default RUTA_KAFKA_BOOTSTRAP_SERVERS)")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list a dead-letter topic's messages")
    listing.add_argument("topic", help="e.g. ruta.intake.events.dlq")
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    replaying = commands.add_parser("replay", help="replay messages to their original topic")
    replaying.add_argument("topic", help="e.g. ruta.intake.events.dlq")
    which = replaying.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--offset",
        action="append",
        metavar="PARTITION:OFFSET",
        help="a message as listed (repeatable)",
    )
    which.add_argument("--all", action="store_true", help="every message not replayed yet")
    return parser


async def _run(args: argparse.Namespace) -> int:
    settings = ServiceSettings()
    bootstrap = args.bootstrap_servers or settings.kafka_bootstrap_servers
    if args.command == "list":
        rows = await list_dead_letters(bootstrap, args.topic)
        if args.json:
            for letter, done in rows:
                _say(json.dumps({**asdict(letter), "ref": letter.ref, "replayed": done}))
        else:
            _say(format_table(rows))
            _say(f"{len(rows)} messages, {sum(done for _, done in rows)} replayed")
        return 0
    chosen = None if args.all else [parse_ref(text) for text in args.offset]
    result = await replay(bootstrap, args.topic, chosen, settings=settings)
    target = source_topic(args.topic)
    _say(f"replayed {len(result.replayed)} to {target}: {' '.join(result.replayed) or '-'}")
    if result.already_replayed:
        _say(f"already replayed, skipped: {' '.join(result.already_replayed)}")
    return 0


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `ruta-dlq`."""
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except DeadLetterError as exc:
        sys.stderr.write(f"ruta-dlq: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
