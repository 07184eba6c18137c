"""Benchmark: reading the figures (exact and suppressed) as the projection grows; write rate.

Starts its own Kafka node and FerretDB (`support.servers`; only FerretDB is used). For each
size, projects that many synthetic events (`random_stream`, routes of care and training)
through the live write path (`projection.store.project`, batches of `--batch`, audit ledger
included) into a fresh database, timing it (the write rate); sizes above `--live-up-to` are
filled as `ruta-analytics-rebuild` does (the same documents, in minutes rather than an hour).
Then it times reads:
- exact: `exact_figures` without filters, and with year + office + region + crime type (the
  same filters again in the same projection state: the progress document, the cells read
  kept for that state), and with every memo emptied before each read (what a read of
  changed cells costs: their documents read, every cell decoded, every figure computed);
- suppressed: `figures.published.publish` for all time and for one year, in a new process
  (the scope's stored solution: what another replica or a restarted one reads), warm (the
  same projection state, in memory), and after a batch (one small batch projected before
  each read: the reader gets the latest solution while the new one is solved in the
  background); the exact figures without filters after a batch too (their cells changed);
- not a read, printed after them: the solve of one state (`published.solution`), what the
  background refresh costs once per state and scope (and the first read of a scope in a
  generation, when nothing is stored yet).
Prints p50/p99 per read and size, and per read the ratio of the p99 at the largest size to the
p99 at the smallest (targets: p99 < 100 ms at 1,000,000 events, ratio <= 1.5). The write
rate is compared by running the same script with `--write-only` on main's code (see the
analytics README); target >= 0.8 of today's.

    uv run python benchmarks/figures_read.py [--sizes 10000,100000] [--reads 300] [--batch 500]
        [--write-only] [--seed 7]

Progress goes to stderr; the figures to stdout. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import multiprocessing
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Final

from pymongo import AsyncMongoClient
from ruta_analytics.figures.models import Filters
from ruta_analytics.figures.service import exact_figures
from ruta_analytics.projection.handlers import apply_event
from ruta_analytics.projection.models import FactBatch
from ruta_analytics.projection.store import active_generation, project
from ruta_analytics.testing.route_stream import with_routes
from ruta_shared.events import EventEnvelope
from ruta_shared.testing.synthetic import chunked, random_stream
from support import MACHINE, Servers, note, percentile, say, servers

Doc = dict[str, Any]
YEARS: Final = (2016, 2017, 2018)
K: Final = 5


def synthetic(size: int, seed: int) -> list[EventEnvelope]:
    """About `size` events: routes of care (about 10 events a case) with protocol stages, plan
    tasks and projects (`with_routes`), and some sessions."""
    rng = random.Random(seed)
    events: list[EventEnvelope] = []
    while len(events) < size:
        stream = random_stream(rng, cases=500, years=YEARS, sessions=5, security_events=False)
        events += with_routes(rng, stream)
    return events[:size]


async def fill_as_rebuild(generation: Any, events: list[EventEnvelope]) -> None:
    """The documents `ruta-analytics-rebuild` writes for `events` (the same as the live path's,
    as `test_aggregates` checks), inserted in bulk: minutes for 1,000,000 events where the
    live path would take an hour on this machine. The audit ledger is left out."""
    rebuild = importlib.import_module("ruta_analytics.workers.rebuild")
    cache = FactBatch(audit=False)
    for envelope in events:
        apply_event(cache, envelope)
    await rebuild._write_all(generation, cache, show_progress=False)


async def timed(read: Callable[[], Awaitable[Any]], count: int) -> list[float]:
    """Durations of `count` calls of `read`, in seconds, after one untimed call (imports,
    connections and the first page-in of the documents are not what is measured)."""
    await read()
    out = []
    for _ in range(count):
        started = time.perf_counter()
        await read()
        out.append(time.perf_counter() - started)
    return out


async def load(generation: Any, size: int, args: argparse.Namespace) -> None:
    """Project `size` synthetic events (live, or as a rebuild above `--live-up-to`) and print
    the write rate."""
    events = synthetic(size, args.seed)
    started = time.perf_counter()
    if size > args.live_up_to:
        await fill_as_rebuild(generation, events)
        seconds = time.perf_counter() - started
        say(f"{size:>10,} events filled as a rebuild does in {seconds:8.1f}s")
    else:
        for index, batch in enumerate(chunked(events, args.batch)):
            await project(generation, batch)
            if index % 20 == 0:
                note(f"{size:,}: {(index + 1) * args.batch:,} events projected")
        seconds = time.perf_counter() - started
        rate = size / seconds
        say(f"{size:>10,} events projected in {seconds:8.1f}s: {rate:8,.0f} events/s")
    # A reading service does not hold the synthetic input: drop it, so that collecting the
    # millions of objects it is made of is not what the reads are timed on.
    del events
    gc.collect()


def reads_apart(mongo_url: str, name: str, size: int, args: argparse.Namespace) -> dict[str, Any]:
    """`time_reads` in this (fresh) process."""
    return asyncio.run(time_reads(mongo_url, name, size, args))


async def time_reads(
    mongo_url: str, name: str, size: int, args: argparse.Namespace
) -> dict[str, list[float]]:
    """Time every read on the database `name` (filled by the parent process)."""
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    try:
        generation = await active_generation(client[name], create=False)
        # Looked up here so that `--write-only` also runs on main's code, which lacks it.
        published = importlib.import_module("ruta_analytics.figures.published")
        solved_states = importlib.import_module("ruta_analytics.figures.solved").SolvedStates
        # As the analytics service does once started (`ruta_shared.service`).
        getattr(importlib.import_module("ruta_shared.service"), "freeze_start_up", lambda: None)()
        filtered = Filters(year=2017, office="lima", region="15", crime_type="trafficking")
        warm = solved_states()

        def suppressed(year: int | None, cache: Any) -> Awaitable[Doc]:
            chosen = solved_states() if cache is None else cache
            read: Awaitable[Doc] = published.publish(
                generation, cache=chosen, k=K, year=year, offices=None
            )
            return read

        reads: dict[str, Callable[[], Awaitable[Any]]] = {
            "exact, no filter": lambda: exact_figures(generation, Filters()),
            "exact, year+office+region+crime": lambda: exact_figures(generation, filtered),
            "suppressed, all time, new process": lambda: suppressed(None, None),
            "suppressed, one year, new process": lambda: suppressed(2017, None),
            "suppressed, all time, warm": lambda: suppressed(None, warm),
            "suppressed, one year, warm": lambda: suppressed(2017, warm),
        }
        results = {}
        for label, read in reads.items():
            note(f"{size:,}: {label} ...")
            results[label] = await timed(read, args.reads)
            show(size, label, results[label])
        # The same read with every memo emptied before each (the cells read per projection
        # state, the figures per stored content, the decoded cells): what a read costs when
        # its cells changed since the last read of the same filters, every cell decoded and
        # every figure computed. Looked up by name: main's code before the memos lacks them.
        service = importlib.import_module("ruta_analytics.figures.service")
        cells = importlib.import_module("ruta_analytics.figures.cells")
        memos = [
            getattr(service, "_STATE_READS", None),
            getattr(service, "_figures", None),
            getattr(cells, "decoded", None),
        ]

        async def unmemoised() -> Doc:
            for memo in memos:
                if isinstance(memo, dict):
                    memo.clear()
                elif memo is not None:
                    memo.cache_clear()
            return await exact_figures(generation, filtered)

        label = "exact, filtered, not memoised"
        results[label] = await timed(unmemoised, args.reads)
        show(size, label, results[label])
        # What a reader pays right after each projected batch: the exact figures of the
        # changed cells; the suppressed view's latest solution, while the new state is solved
        # in the background.
        after = solved_states()
        await suppressed(None, after)
        rng = random.Random(args.seed + 1)
        batched: dict[str, Callable[[], Awaitable[Any]]] = {
            "exact, no filter, after a batch": lambda: exact_figures(generation, Filters()),
            "suppressed, all time, after a batch": lambda: suppressed(None, after),
        }
        for label, read in batched.items():
            durations = []
            for index in range(args.reads):
                prefix = f"after{label[:5]}{index}"
                more = random_stream(rng, cases=2, years=YEARS, sessions=0, prefix=prefix)
                await project(generation, more)
                started = time.perf_counter()
                await read()
                durations.append(time.perf_counter() - started)
            results[label] = durations
            show(size, label, durations)
        # Not a read: what the background solve of one state costs (once per state and
        # scope, under the scope's lease, whatever the number of readers and replicas).
        label = "solve of a state (background)"
        solves = await timed(
            lambda: published.solution(generation, None, K), max(args.reads // 10, 5)
        )
        show(size, label, solves)
        return results
    finally:
        await client.close()


async def one_size(mongo_url: str, size: int, args: argparse.Namespace) -> dict[str, list[float]]:
    """Load `size` events, print the write rate, and time the reads."""
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    name = f"bench_figures_{uuid.uuid4().hex[:8]}"
    try:
        generation = await active_generation(client[name])
        await load(generation, size, args)
        if args.write_only:
            return {}
        # Read by a fresh process, as a reading service (another replica of analytics) is: it
        # holds none of the writer's caches, and the heap the fill left is not what its
        # reads are timed on.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(pool, reads_apart, mongo_url, name, size, args)
    finally:
        await client.drop_database(name)
        await client.close()


def show(size: int, label: str, durations: list[float]) -> None:
    """One read's p50 and p99 at one size."""
    say(
        f"{size:>10,} {label:<36} p50 {percentile(durations, 50):9.1f} ms"
        f"  p99 {percentile(durations, 99):9.1f} ms"
    )


async def run(running: Servers, args: argparse.Namespace) -> None:
    """The benchmark on the started servers."""
    say(f"machine: {os.cpu_count()} CPUs; {MACHINE}; k = {K}; batches of {args.batch}")
    sizes = [int(s) for s in args.sizes.split(",")]
    by_size = {size: await one_size(running.mongo_url, size, args) for size in sizes}
    if args.write_only or len(sizes) < 2:
        return
    small, large = by_size[min(sizes)], by_size[max(sizes)]
    for label in small:
        ratio = percentile(large[label], 99) / percentile(small[label], 99)
        say(f"p99 ratio {max(sizes):,}/{min(sizes):,} events, {label:<36} {ratio:8.2f}")


def main() -> None:
    """Start the servers in a temporary folder, run, stop them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--reads", type=int, default=300, help="timed reads per kind and size")
    parser.add_argument("--batch", type=int, default=500, help="events per projected batch")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write-only", action="store_true", help="only the write rate")
    parser.add_argument(
        "--live-up-to",
        type=int,
        default=100_000,
        help="sizes above this are filled as a rebuild does instead of batch by batch",
    )
    args = parser.parse_args()
    with servers() as running:
        asyncio.run(run(running, args))


if __name__ == "__main__":
    main()
