"""Benchmark: sealing, whole-ledger verification and one trail's read + verify as the ledger grows.

Starts its own Kafka node and FerretDB (`support.servers`). Fills the audit ledger with N
chains (a case opened and two victims registered: three entries each, hashed as the consumer
hashes them, written in bulk), then measures, at 1,000 chains and at 100,000:
- `seal`: one signed checkpoint of every chain (and a second one after 100 chains changed:
  only their buckets are rewritten);
- `GET /audit/trails/{id}` and `GET /audit/trails/{id}/verify` on the in-process app, the
  median over 50 random trails (every read is by `_id`, so the ratio 100,000/1,000 should be
  close to 1);
- at the largest size, the whole-ledger verification (`ruta-audit-verify-ledger`'s work).

    uv run python benchmarks/audit_ledger.py [--sizes 1000,100000] [--trails 50]

Progress goes to stderr; the figures to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient, InsertOne
from ruta_analytics.audit.checkpoints import seal
from ruta_analytics.audit.ledger import verify_ledger
from ruta_analytics.audit.rules import GENESIS, build_entry
from ruta_analytics.main import create_app
from ruta_analytics.projection.store import LEDGER, ensure_ledger_indexes
from ruta_analytics.runtime import audit_keys
from ruta_analytics.settings import AnalyticsSettings
from ruta_shared.security.principal import Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.testing.synthetic import StreamBuilder
from support import MACHINE, note, say, servers, staff_token

Doc = dict[str, Any]
START = datetime(2024, 1, 1, 12, tzinfo=UTC)
WRITE_BATCH = 5_000


def chain_documents(count: int, prefix: str) -> tuple[list[Doc], list[Doc]]:
    """`count` chains of three entries each, and their heads."""
    entries, heads = [], []
    for number in range(count):
        builder = StreamBuilder(prefix=f"{prefix}{number}")
        case_id = builder.open_case(at=START)
        builder.register_victim(case_id, at=START + timedelta(days=1))
        builder.register_victim(case_id, at=START + timedelta(days=2))
        prev, ids = GENESIS, []
        for position, envelope in enumerate(builder.envelopes, start=1):
            entry = build_entry(envelope, position=position, prev_hash=prev)
            prev = entry["hash"]
            entries.append(entry)
            ids.append(entry["_id"])
        heads.append(
            {"_id": case_id, "trail": case_id, "position": 3, "hash": prev, "entries": ids}
        )
    return entries, heads


async def grow(db: Any, start: int, stop: int) -> list[str]:
    """Write chains `start`..`stop`; their trail ids."""
    trails = []
    for low in range(start, stop, WRITE_BATCH):
        entries, heads = chain_documents(min(WRITE_BATCH, stop - low), f"b{low}x")
        await db[LEDGER["audit"]].bulk_write([InsertOne(e) for e in entries], ordered=False)
        await db[LEDGER["audit_heads"]].bulk_write([InsertOne(h) for h in heads], ordered=False)
        trails += [h["_id"] for h in heads]
        note(f"  ledger: {low + len(heads):,} chains")
    return trails


async def append_victim(db: Any, trail: str) -> None:
    """One more entry on a chain, as the consumer appends it (a victim registered)."""
    heads = db[LEDGER["audit_heads"]]
    head = await heads.find_one({"_id": trail})
    builder = StreamBuilder(prefix=f"more{trail}")
    builder._sequences[("intake", trail)] = 3  # continue the case's sequence
    builder.register_victim(trail, at=START + timedelta(days=3))
    entry = build_entry(builder.envelopes[-1], position=4, prev_hash=head["hash"])
    await db[LEDGER["audit"]].insert_one(entry)
    update = {"position": 4, "hash": entry["hash"], "entries": [*head["entries"], entry["_id"]]}
    await heads.update_one({"_id": trail}, {"$set": update})


async def timed_reads(
    client: httpx.AsyncClient, token: str, trails: list[str]
) -> tuple[float, float]:
    """Median milliseconds of one trail's read and of its verification."""
    headers = {"Authorization": f"Bearer {token}"}
    reads, verifies = [], []
    for trail in trails:
        started = time.perf_counter()
        response = await client.get(f"/audit/trails/{trail}", headers=headers)
        reads.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
        started = time.perf_counter()
        body = (await client.get(f"/audit/trails/{trail}/verify", headers=headers)).json()
        verifies.append(time.perf_counter() - started)
        assert body["valid"] is True, body
    return 1000 * statistics.median(reads), 1000 * statistics.median(verifies)


async def main(sizes: list[int], trail_count: int) -> None:
    """Run the measurements at every size."""
    with servers() as infra:
        settings = AnalyticsSettings(
            environment="test",
            mongo_url=infra.mongo_url,
            mongo_database="bench_audit",
            kafka_bootstrap_servers=infra.kafka,
            audit_checkpoint_topic="bench.checkpoints",
            audit_key_dir=Path(infra.root) / "audit-keys",
            run_outbox_relay=False,
        )
        security = SecuritySettings(environment="test", key_dir=Path(infra.root) / "keys")
        token = staff_token(security, Role.AUDITOR, "bench-auditor")
        mongo: AsyncMongoClient[Doc] = AsyncMongoClient(infra.mongo_url)
        db = mongo[settings.mongo_database]
        await ensure_ledger_indexes(db)
        keys = audit_keys(settings)
        app = create_app(settings, security=security)
        rng = random.Random(11)
        results: dict[int, tuple[float, float]] = {}
        trails: list[str] = []
        say(f"audit ledger benchmark ({MACHINE}), 3 entries per chain")
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://analytics"
            ) as client:
                for size in sizes:
                    trails += await grow(db, len(trails), size)
                    seal_args = {
                        "db": db,
                        "keys": keys,
                        "bootstrap_servers": infra.kafka,
                        "topic": settings.audit_checkpoint_topic,
                    }
                    started = time.perf_counter()
                    await seal(**seal_args)  # type: ignore[arg-type]
                    sealed = time.perf_counter() - started
                    for trail in rng.sample(trails, 100):
                        await append_victim(db, trail)
                    started = time.perf_counter()
                    await seal(**seal_args)  # type: ignore[arg-type]
                    resealed = time.perf_counter() - started
                    read_ms, verify_ms = await timed_reads(
                        client, token, rng.sample(trails, trail_count)
                    )
                    results[size] = (read_ms, verify_ms)
                    say(
                        f"{size:>9,} chains: seal {sealed:.2f} s, second seal (100 chains "
                        f"changed) {resealed:.2f} s, trail read {read_ms:.1f} ms, trail verify "
                        f"{verify_ms:.1f} ms (medians of {trail_count})"
                    )
                started = time.perf_counter()
                report = await verify_ledger(
                    db=db,
                    public_keys=keys.public_keys,
                    bootstrap_servers=infra.kafka,
                    topic=settings.audit_checkpoint_topic,
                )
                whole = time.perf_counter() - started
                assert report["valid"] is True, report["problems"]
                say(
                    f"whole-ledger verify at {report['chains']:,} chains "
                    f"({report['checkpoints']} checkpoints): {whole:.1f} s"
                )
        small, large = results[min(results)], results[max(results)]
        say(
            f"ratio {max(results):,}/{min(results):,}: read {large[0] / small[0]:.2f}, "
            f"verify {large[1] / small[1]:.2f}"
        )
        await mongo.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--trails", type=int, default=50)
    arguments = parser.parse_args()
    asyncio.run(main([int(s) for s in arguments.sizes.split(",")], arguments.trails))
