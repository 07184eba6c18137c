"""`ruta-analytics-rebuild`: rebuild every projection from the start of the topics.

Reads every partition of every event topic from its beginning, projecting in memory, then
inserts every resulting document into a fresh generation of collections in bulk (inserts
only: FerretDB inserts far faster than it replaces), catches up with
whatever arrived meanwhile, switches the active-generation pointer, and catches up once
more so nothing the live consumer wrote to the old generation in between is missing. Then
generations older than the previous one are dropped. Prints a progress line to stderr.

The audit trail is not rebuilt: it is a ledger the live consumer appends to, kept across
generations (`projection.store.LEDGER`); regenerating it would replace evidence with a copy.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo.asynchronous.database import AsyncDatabase
from ruta_shared.events import EVENTS, EventEnvelope, EventError
from ruta_shared.logging import configure_logging
from ruta_shared.mongo import create_mongo_client

from ruta_analytics.projection.cube import CUBE, PRESENCE
from ruta_analytics.projection.effects import everything
from ruta_analytics.projection.handlers import apply_event
from ruta_analytics.projection.models import Document, FactBatch
from ruta_analytics.projection.storage import encode_presence
from ruta_analytics.projection.store import (
    GENERATIONS,
    Generation,
    new_generation_name,
    project,
    switch_generation,
)
from ruta_analytics.settings import AnalyticsSettings

log = logging.getLogger(__name__)

WRITE_CHUNK: Final = 10_000  # documents per insert command
FETCH_RECORDS: Final = 5_000
Progress = Callable[[int, int], None]


@dataclass
class RebuildResult:
    """What a rebuild did."""

    generation: str
    previous: str | None
    events: int
    skipped: int
    seconds: float


class ProgressLine:
    """A one-line progress bar on stderr (no dependency needed)."""

    def __init__(
        self, stream: Any = None, every: float = 0.5, label: str = "rebuild", unit: str = "events"
    ) -> None:
        self.stream = stream or sys.stderr
        self.label = label
        self.unit = unit
        self.every = every
        self.started = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int, total: int, *, final: bool = False) -> None:
        """Redraw the line (at most every `every` seconds, and at the end)."""
        now = time.perf_counter()
        if not final and now - self.last < self.every:
            return
        self.last = now
        share = done / total if total else 1.0
        filled = int(share * 30)
        rate = done / max(now - self.started, 1e-9)
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,} "
            f"{self.unit} ({share:6.1%}) {rate:,.0f}/s"
        )
        if final:
            self.stream.write("\n")
        self.stream.flush()


async def _partitions(consumer: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    partitions = []
    for topic in topics:
        numbers = consumer.partitions_for_topic(topic)
        if numbers is None:
            await consumer._client.force_metadata_update()
            numbers = consumer.partitions_for_topic(topic) or set()
        partitions += [TopicPartition(topic, n) for n in sorted(numbers)]
    return partitions


def _decode(records: list[Any]) -> tuple[list[EventEnvelope], int]:
    envelopes, skipped = [], 0
    for record in records:
        try:
            envelopes.append(EVENTS.decode(record.value))
        except EventError:
            skipped += 1  # the live consumer dead-lettered it already
    return envelopes, skipped


async def _read_until(
    consumer: AIOKafkaConsumer,
    end: dict[TopicPartition, int],
    handle: Callable[[list[EventEnvelope]], Any],
    progress: Callable[[int], None],
) -> tuple[int, int]:
    """Feed every record up to `end` to `handle`, partition batch by partition batch."""
    remaining = {tp for tp, offset in end.items() if await consumer.position(tp) < offset}
    done = skipped = 0
    while remaining:
        batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=FETCH_RECORDS)
        for tp, records in batches.items():
            wanted = [r for r in records if r.offset < end[tp]]
            envelopes, bad = _decode(wanted)
            skipped += bad
            if envelopes:
                await handle(envelopes)
            done += len(wanted)
            progress(done)
            if await consumer.position(tp) >= end[tp]:
                # Records fetched past `end` were not handled: the next read starts at `end`.
                consumer.seek(tp, end[tp])
                remaining.discard(tp)
                consumer.pause(tp)
    return done, skipped


async def rebuild(settings: AnalyticsSettings, *, show_progress: bool = True) -> RebuildResult:
    """Rebuild every projection into a fresh generation and switch to it."""
    started = time.perf_counter()
    client = create_mongo_client(settings)
    db: AsyncDatabase[dict[str, Any]] = client[settings.mongo_database]
    target = Generation(db, new_generation_name())
    await db[GENERATIONS].insert_one({"_id": f"gen:{target.name}", "name": target.name})
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        isolation_level="read_committed",
        group_id=None,
    )
    await consumer.start()
    try:
        partitions = await _partitions(consumer, settings.event_topics)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        beginnings = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        total = sum(end[tp] - beginnings[tp] for tp in partitions)
        bar = ProgressLine() if show_progress else None
        cache = FactBatch(audit=False)

        async def keep(envelopes: list[EventEnvelope]) -> None:
            for envelope in envelopes:
                apply_event(cache, envelope)

        def report(done: int) -> None:
            if bar is not None:
                bar(done, total)

        events, skipped = await _read_until(consumer, end, keep, report)
        if bar is not None:
            bar(events, total, final=True)
        await _write_all(target, cache, show_progress=show_progress)
        await target.ensure_indexes()

        async def apply(envelopes: list[EventEnvelope]) -> None:
            await project(target, envelopes, audit=False)

        previous: str | None = None
        # Catch up with what arrived while rebuilding, switch, and catch up once more: the
        # live consumer may have written a batch to the old generation just before the switch.
        for step in ("before", "after"):
            if step == "after":
                previous = await switch_generation(db, target)
            consumer.resume(*partitions)
            later = await consumer.end_offsets(partitions)
            more, bad = await _read_until(consumer, later, apply, lambda _: None)
            events, skipped = events + more, skipped + bad
        await _drop_old(db, keep={target.name, previous or ""})
        return RebuildResult(
            generation=target.name,
            previous=previous,
            events=events,
            skipped=skipped,
            seconds=time.perf_counter() - started,
        )
    finally:
        await consumer.stop()
        await client.close()


# The in-memory projection a forked child computes the presences and aggregates from: it
# reads the parent's memory as it was at the fork, so the facts are never copied to it.
_FORKED: FactBatch | None = None


def _rolled_up() -> tuple[list[Document], list[Document]]:
    """The presence documents (as stored) and aggregate documents of `_FORKED`."""
    if _FORKED is None:
        msg = "nothing to roll up"
        raise RuntimeError(msg)
    return _rolled_up_of(_FORKED)


async def _write_all(target: Generation, cache: FactBatch, *, show_progress: bool) -> None:
    """Insert every document of the in-memory projection into the fresh generation.

    The presences and aggregates are computed while the facts are inserted (the facts are
    final): in a forked child process where the platform forks, so that computing them does
    not take the interpreter lock from the inserts (in a thread they took a third longer);
    otherwise in a thread."""
    global _FORKED  # noqa: PLW0603 (read by the forked child only)
    final = sorted(cache.dirty)  # deleted documents are never in `dirty`
    bar = ProgressLine(label="write", unit="documents") if show_progress else None
    by_collection: dict[str, list[Any]] = {}
    for collection, doc_id in final:
        by_collection.setdefault(collection, []).append(cache.docs[(collection, doc_id)])
    loop = asyncio.get_running_loop()
    with contextlib.ExitStack() as stack:
        if "fork" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("fork")
            pool = stack.enter_context(ProcessPoolExecutor(1, mp_context=context))
            _FORKED = cache
            try:
                rolled_up = loop.run_in_executor(pool, _rolled_up)  # forks now
            finally:
                _FORKED = None
        else:
            rolled_up = asyncio.ensure_future(asyncio.to_thread(_rolled_up_of, cache))
        try:
            done = await _insert(target, by_collection, bar, done=0, total=len(final))
            presence, aggregates = await rolled_up
        finally:
            rolled_up.cancel()  # a failed insert: the result is not waited for
    rest = {PRESENCE: presence, CUBE: aggregates}
    total = done + sum(len(documents) for documents in rest.values())
    done = await _insert(target, rest, bar, done=done, total=total)
    if bar is not None:
        bar(done, total, final=True)


def _rolled_up_of(cache: FactBatch) -> tuple[list[Document], list[Document]]:
    """`_rolled_up` of `cache`, in this process (a thread)."""
    presence, aggregates = everything(cache)
    return [encode_presence(d) for d in presence.values()], list(aggregates.values())


async def _insert(
    target: Generation,
    by_collection: dict[str, list[Any]],
    bar: ProgressLine | None,
    *,
    done: int,
    total: int,
) -> int:
    """Insert the documents in chunks; how many are done after them."""
    for collection, documents in by_collection.items():
        for start in range(0, len(documents), WRITE_CHUNK):
            chunk = documents[start : start + WRITE_CHUNK]
            await target.collection(collection).insert_many(chunk, ordered=False)
            done += len(chunk)
            if bar is not None:
                bar(done, total)
    return done


async def _drop_old(db: AsyncDatabase[dict[str, Any]], *, keep: set[str]) -> None:
    """Drop generations other than `keep` (the new one and the previous one)."""
    async for document in db[GENERATIONS].find({"_id": {"$regex": "^gen:"}}):
        name = str(document["name"])
        if name not in keep:
            await Generation(db, name).drop()
            await db[GENERATIONS].delete_one({"_id": document["_id"]})


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    args = parser.parse_args(argv)
    settings = AnalyticsSettings()
    configure_logging("analytics-rebuild", settings.log_level)
    result = asyncio.run(rebuild(settings, show_progress=not args.quiet))
    sys.stderr.write(
        f"rebuilt generation {result.generation} from {result.events:,} events "
        f"({result.skipped} unreadable skipped) in {result.seconds:.1f}s; "
        f"previous: {result.previous}\n"
    )


if __name__ == "__main__":
    main()
