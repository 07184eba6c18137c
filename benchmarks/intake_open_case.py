"""Benchmark: opening a case with one victim through intake's API against a bare insert route.

Both apps run in this process behind httpx's ASGI transport (no sockets: the HTTP layer
is equally absent from both sides) on one FerretDB and one Kafka node started here on
free ports. The intake side is the real app: JWT check, validation, blind index and
duplicate check, a data key per victim, field encryption, the case-code counter, the
Idempotency-Key store and the outbox, with its relay publishing to Kafka meanwhile.
The baseline is a bare FastAPI route inserting one document into the same database.
Prints throughputs, the ratio (intake / bare) and p50/p99 latencies. Target: 0.5 or better.

    uv run python benchmarks/intake_open_case.py [--requests 400] [--concurrency 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from ruta_intake.main import create_app
from ruta_intake.settings import IntakeSettings
from ruta_shared.security.settings import SecuritySettings
from support import Body, case_body, case_worker_token, percentile, servers


def bare_app(mongo_url: str, database: str) -> FastAPI:
    """The baseline: one route that inserts the request body as one document."""
    state: dict[str, AsyncMongoClient[Body]] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["client"] = AsyncMongoClient(mongo_url, tz_aware=True)
        yield
        await state["client"].close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/bare", status_code=201)
    async def bare(body: Body) -> Body:
        result = await state["client"][database]["bare"].insert_one(dict(body))
        return {"id": str(result.inserted_id)}

    return app


async def drive(
    client: httpx.AsyncClient,
    path: str,
    *,
    requests: int,
    concurrency: int,
    headers: Callable[[], dict[str, str]],
) -> tuple[float, list[float]]:
    """Send `requests` POSTs with `concurrency` in flight; returns (requests/s, latencies in s)."""
    latencies: list[float] = []
    queue: asyncio.Queue[Body] = asyncio.Queue()
    for _ in range(requests):
        queue.put_nowait(case_body())

    async def worker() -> None:
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            response = await client.post(path, json=body, headers=headers())
            latencies.append(time.perf_counter() - started)
            if response.status_code != 201:
                msg = f"{path} answered {response.status_code}: {response.text[:300]}"
                raise RuntimeError(msg)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests / (time.perf_counter() - started), latencies


async def bench(
    kafka: str, mongo_url: str, key_dir: Path, *, requests: int, concurrency: int, rounds: int
) -> None:
    """Alternate bare and intake runs; print medians of throughput and pooled latencies."""
    database = f"bench_intake_{uuid.uuid4().hex[:8]}"
    security = SecuritySettings(
        environment="test", key_dir=key_dir, auth_mongo_database="bench_auth"
    )
    intake = create_app(
        IntakeSettings(
            environment="test",
            kafka_bootstrap_servers=kafka,
            mongo_url=mongo_url,
            mongo_database=database,
            log_level="WARNING",
        ),
        security=security,
    )
    token = case_worker_token(security)

    def intake_headers() -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}

    bare = bare_app(mongo_url, database)
    results: dict[str, list[float]] = {"bare": [], "intake": []}
    latencies: dict[str, list[float]] = {"bare": [], "intake": []}
    async with intake.router.lifespan_context(intake), bare.router.lifespan_context(bare):
        intake_client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=intake), base_url="http://intake"
        )
        bare_client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=bare), base_url="http://bare"
        )
        async with intake_client, bare_client:
            # Warm up both (connections, indexes, topics, the relay's producer).
            await drive(bare_client, "/bare", requests=20, concurrency=4, headers=dict)
            await drive(intake_client, "/cases", requests=20, concurrency=4, headers=intake_headers)
            for _ in range(rounds):
                rate, lat = await drive(
                    bare_client, "/bare", requests=requests, concurrency=concurrency, headers=dict
                )
                results["bare"].append(rate)
                latencies["bare"] += lat
                rate, lat = await drive(
                    intake_client,
                    "/cases",
                    requests=requests,
                    concurrency=concurrency,
                    headers=intake_headers,
                )
                results["intake"].append(rate)
                latencies["intake"] += lat
    mongo: AsyncMongoClient[Body] = AsyncMongoClient(mongo_url)
    cases = await mongo[database]["cases"].count_documents({})
    pending = await mongo[database]["cases"].count_documents({"_outbox_pending": True})
    await mongo.drop_database(database)
    await mongo.close()

    med = {k: statistics.median(v) for k, v in results.items()}
    print(
        f"requests per run: {requests}, concurrency: {concurrency}, rounds: {rounds}; "
        "transport: httpx ASGI (in-process, no sockets), FerretDB 1.24 (SQLite) + Kafka 4.1"
    )
    print(f"{'':<34}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, label in (
        ("bare", "bare route (1 insert)"),
        ("intake", "intake POST /cases (1 victim)"),
    ):
        p50, p99 = percentile(latencies[name], 50), percentile(latencies[name], 99)
        print(f"{label:<34}{med[name]:>10,.1f}{p50:>10.1f}{p99:>10.1f}")
    print(f"ratio intake/bare: {med['intake'] / med['bare']:.2f} (target >= 0.50)")
    print(f"cases stored: {cases}; still waiting for the relay at the end: {pending}")


def main() -> None:
    """Start FerretDB and Kafka on free ports in a temporary folder, run, stop them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with servers() as running:
        asyncio.run(
            bench(
                running.kafka,
                running.mongo_url,
                running.root / "keys",
                requests=args.requests,
                concurrency=args.concurrency,
                rounds=args.rounds,
            )
        )


if __name__ == "__main__":
    main()
