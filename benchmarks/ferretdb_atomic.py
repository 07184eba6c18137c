"""Benchmark: FerretDB with our patches, concurrent updates of one document and `_id: {$in}` cost.

Starts its own FerretDB on a free port (the build `ruta-local build` makes, or `--binary`, e.g.
an older build from ~/.cache/ruta/ferretdb/ to compare). Part one: 8 clients (separate
MongoClients) each apply `--updates` `$inc`, then `$push`, to one document, then race
compare-and-set writes on `{_id, version}`; it prints what was kept and how many versions won
twice. Part two: a lookup of `--ids` ids with `_id: {$in: [...]}` in a 200-document and in a
20,000-document collection (median of `--rounds`), with a filter on another field (a full scan,
as every `$in` was before our patch) as the baseline. Prints the ratio 20,000 / 200: about 1
when the `_id` index serves the lookup, about 100 for a scan.

    uv run python benchmarks/ferretdb_atomic.py [--updates 500] [--ids 50] [--rounds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from ruta_local.infra import FerretDBServer, ferretdb_binary, free_port

Document = dict[str, Any]
CLIENTS = 8
SMALL, LARGE = 200, 20_000


@dataclass
class ChosenFerretDB(FerretDBServer):
    """FerretDB from a given binary (default: the project's patched build)."""

    binary: Path | None = None

    def prepare(self) -> None:
        """Build the project's binary unless one was given."""
        if self.binary is None:
            ferretdb_binary()

    def command(self) -> list[str]:
        """The server's command line with the chosen binary."""
        command = super().command()
        if self.binary is not None:
            command[0] = str(self.binary)
        return command


async def on_one_document(
    colls: list[AsyncCollection[Document]], updates: int, update: Callable[[int, int], Document]
) -> None:
    """Every client applies `updates` updates to the document `one`."""

    async def worker(number: int, coll: AsyncCollection[Document]) -> None:
        for i in range(updates):
            await coll.update_one({"_id": "one"}, update(number, i))

    await asyncio.gather(*(worker(n, coll) for n, coll in enumerate(colls)))


async def compare_and_set_races(colls: list[AsyncCollection[Document]], attempts: int) -> int:
    """Versions that more than one client won."""
    await colls[0].insert_one({"_id": "one", "version": 0})
    wins: list[int] = []

    async def worker(coll: AsyncCollection[Document]) -> None:
        for _ in range(attempts):
            current = await coll.find_one({"_id": "one"})
            version = current["version"] if current else 0
            result = await coll.update_one(
                {"_id": "one", "version": version}, {"$set": {"version": version + 1}}
            )
            wins.extend([version] * result.modified_count)

    await asyncio.gather(*(worker(coll) for coll in colls))
    return sum(1 for count in Counter(wins).values() if count > 1)


async def concurrency(url: str, updates: int) -> None:
    """Part one: what concurrent clients' updates of one document keep."""
    clients: list[AsyncMongoClient[Document]] = [AsyncMongoClient(url) for _ in range(CLIENTS)]
    try:
        db = [client["bench_atomic"] for client in clients]
        await db[0]["inc"].insert_one({"_id": "one", "n": 0})
        started = time.perf_counter()
        await on_one_document([d["inc"] for d in db], updates, lambda n, i: {"$inc": {"n": 1}})
        inc_seconds = time.perf_counter() - started
        counted = (await db[0]["inc"].find_one({"_id": "one"}) or {}).get("n")
        await db[0]["push"].insert_one({"_id": "one", "items": []})
        started = time.perf_counter()
        await on_one_document(
            [d["push"] for d in db], updates, lambda n, i: {"$push": {"items": n * updates + i}}
        )
        push_seconds = time.perf_counter() - started
        kept = len((await db[0]["push"].find_one({"_id": "one"}) or {}).get("items", []))
        twice = await compare_and_set_races([d["cas"] for d in db], attempts=updates // 4)
        total = CLIENTS * updates
        print(f"$inc:  {counted} of {total} kept ({total / inc_seconds:.0f} updates/s)")
        print(f"$push: {kept} of {total} kept ({total / push_seconds:.0f} updates/s)")
        print(f"compare-and-set: {twice} versions won twice")
    finally:
        for client in clients:
            await client.close()


async def median_seconds(coll: AsyncCollection[Document], query: Document, rounds: int) -> float:
    """Median time of reading every document the query matches."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        found = await coll.find(query).to_list()
        times.append(time.perf_counter() - started)
        assert found, query
    return statistics.median(times)


async def lookups(url: str, ids: int, rounds: int) -> None:
    """Part two: an `_id: {$in}` lookup in a small and a large collection."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(url)
    try:
        db = client["bench_lookup"]
        for name, size in (("small", SMALL), ("large", LARGE)):
            docs = [{"_id": f"c{n:06d}", "n": n, "pad": "x" * 200} for n in range(size)]
            for start in range(0, size, 2_000):
                await db[name].insert_many(docs[start : start + 2_000])
        wanted = [n * (SMALL // ids) for n in range(ids)]  # present in both collections
        by_id = {"_id": {"$in": [f"c{n:06d}" for n in wanted]}}
        by_field = {"n": {"$in": wanted}}
        small = await median_seconds(db["small"], by_id, rounds)
        large = await median_seconds(db["large"], by_id, rounds)
        scan = await median_seconds(db["large"], by_field, max(3, rounds // 10))
        print(f"_id $in of {ids} ids, {SMALL:>6} docs: {small * 1000:8.2f} ms")
        print(f"_id $in of {ids} ids, {LARGE:>6} docs: {large * 1000:8.2f} ms")
        print(f"baseline, $in on another field, {LARGE} docs (full scan): {scan * 1000:8.2f} ms")
        print(f"ratio {LARGE} / {SMALL} docs: {large / small:.2f} (a scan: {scan / small:.1f})")
    finally:
        await client.close()


def main() -> None:
    """Run both parts on a FerretDB of its own."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=500, help="updates per client")
    parser.add_argument("--ids", type=int, default=50, help="ids per $in lookup")
    parser.add_argument("--rounds", type=int, default=30, help="lookups timed per collection")
    parser.add_argument("--binary", type=Path, help="a FerretDB binary (default: the build)")
    parser.add_argument("--skip-updates", action="store_true", help="only time the lookups")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ruta-bench-") as workdir:
        server = ChosenFerretDB(
            name="ferretdb", workdir=Path(workdir), port=free_port(), binary=args.binary
        )
        server.start()
        try:
            print(f"FerretDB: {args.binary or ferretdb_binary()}")
            if not args.skip_updates:
                asyncio.run(concurrency(server.url, args.updates))
            asyncio.run(lookups(server.url, args.ids, args.rounds))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
