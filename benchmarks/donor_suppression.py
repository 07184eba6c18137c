"""Benchmark: the suppressed view of a scope solved with the figures of every project in it.

Starts its own servers (`support.servers`; only FerretDB is used), projects a synthetic stream
(`random_stream` with routes of care, its facts spread over `--projects` funded projects by
`with_projects`, over `--years` years) through the live write path, then times, cold (the mask
recomputed, as after every projected batch; stored solutions are dropped before each call):
- the national view: `figures.published.publish` for all time, one request;
- every report: that request, then each project's donor report for all time, with one cache
  (one mask serves them all when the country and the projects are one problem; solved one
  project at a time, each donor report solves its own).
It prints p50/p99 per read, and the problem's size when `published.solution` exists. To
compare with main's method, run it with main's `figures/published.py`, `publication.py` and
`suppression.py` first on the path (the analytics README says how).

    uv run python benchmarks/donor_suppression.py [--events 10000] [--projects 9] [--years 5]
        [--reads 5] [--seed 7]

Progress goes to stderr; the figures to stdout. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
import uuid
from typing import Any, Final

from figures_read import timed
from pymongo import AsyncMongoClient
from ruta_analytics.figures import published
from ruta_analytics.figures.publication import build
from ruta_analytics.figures.solved import SolvedStates
from ruta_analytics.projection.store import active_generation, project
from ruta_analytics.testing.project_stream import with_projects
from ruta_analytics.testing.route_stream import with_routes
from ruta_shared.events import EventEnvelope
from ruta_shared.testing.synthetic import chunked, random_stream
from support import MACHINE, note, percentile, say, servers

Doc = dict[str, Any]
K: Final = 5


def synthetic(args: argparse.Namespace) -> list[EventEnvelope]:
    """About `--events` events of `--years` years, facts of `--projects` projects (and none)."""
    rng = random.Random(args.seed)
    years = tuple(range(2016, 2016 + args.years))
    codes = tuple(f"PRJ-{n:02d}" for n in range(1, args.projects + 1))
    events: list[EventEnvelope] = []
    while len(events) < args.events:
        stream = random_stream(rng, cases=200, years=years, sessions=4, security_events=False)
        events += with_projects(rng, with_routes(rng, stream), codes)
    return events[: args.events]


async def run(mongo_url: str, args: argparse.Namespace) -> None:
    """Load the stream and time the reads."""
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    name = f"bench_donor_{uuid.uuid4().hex[:8]}"
    try:
        generation = await active_generation(client[name])
        events = synthetic(args)
        started = time.perf_counter()
        for batch in chunked(events, 500):
            await project(generation, batch)
        say(f"{len(events):,} events projected in {time.perf_counter() - started:.1f}s")
        codes = [f"PRJ-{n:02d}" for n in range(1, args.projects + 1)]

        async def forget() -> None:
            # Cold: no solution stored by an earlier call (this branch stores them).
            await generation.collection("solved").delete_many({})

        async def national() -> None:
            await forget()
            await published.publish(generation, cache=SolvedStates(), k=K, year=None, offices=None)

        async def every_report() -> None:
            await forget()
            cache = SolvedStates()
            for whose in [None, *codes]:
                await published.publish(
                    generation, cache=cache, k=K, year=None, offices=None, project=whose
                )

        solution = getattr(published, "solution", None)
        if solution is not None:  # the one problem of the scope (this branch)
            solved = await solution(generation, None, K)
            problem = build(solved.by_period)
            say(
                f"problem: {len(solved.by_period)} (whose, period), {len(problem.values):,} "
                f"keys, {len(problem.lines):,} lines, {len(solved.hidden):,} hidden "
                f"({len(problem.unreleased):,} never released)"
            )
        reads = {"national view, cold": national, "view + every donor report, cold": every_report}
        for label, read in reads.items():
            note(f"{label} ...")
            durations = await timed(read, args.reads)
            say(
                f"{label:<34} p50 {percentile(durations, 50):9.1f} ms"
                f"  p99 {percentile(durations, 99):9.1f} ms"
            )
    finally:
        await client.drop_database(name)
        await client.close()


def main() -> None:
    """Start the servers in a temporary folder, run, stop them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--projects", type=int, default=9)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--reads", type=int, default=5, help="timed reads per kind")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    say(f"machine: {os.cpu_count()} CPUs; {MACHINE}; k = {K}; {args.projects} projects")
    say(f"{args.years} years, seed {args.seed}; module {published.__file__}")
    with servers() as running:
        asyncio.run(run(running.mongo_url, args))


if __name__ == "__main__":
    main()
