"""Two replicas of each service and two consumers on a three-node Kafka survive kill -9s exactly.

Against a three-node KRaft cluster (topics: replication factor 3, min.insync.replicas 2), two
replicas of intake, referrals and training, one analytics API and two analytics consumers (one
consumer group) take a steady load through both replicas; mid-load one broker, one intake
replica and one consumer are killed with SIGKILL. Requests left unanswered are resent with
their Idempotency-Key to the surviving replica. Then every case answered 201 is in the figures
exactly once, and every case's audit chain verifies. Nothing here uses a lock of one process.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from ruta_analytics.projection.models import CASES, VICTIMS
from ruta_analytics.projection.store import active_generation
from ruta_local.infra import KafkaCluster, free_port
from ruta_local.pytest_plugin import start_ferretdb
from ruta_local.stack import ServiceProcess
from ruta_shared.security.principal import Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.testing.kafka import read_topic
from ruta_shared.testing.scale import Replicas, Tally, case_body, session_body, victim_body
from ruta_shared.testing.tokens import bearer
from ruta_shared.topics import INTAKE_EVENTS

pytestmark = pytest.mark.integration

LOAD_SECONDS = 24.0  # the load runs this long (bounded), the kills at a third and a half
CASES_PER_SECOND = 5.0  # a steady rate, so the kills land mid-load on a fast or slow machine
MAX_CASES = 150  # each chain's verification scans the ledger (see check): keep it small
VERIFY_AT_ONCE = 4
CONVERGE_SECONDS = 60.0
Doc = dict[str, Any]


def processes(root: Path, bootstrap: str, mongo_url: str, unique: str) -> dict[str, ServiceProcess]:
    """Two replicas of intake, referrals and training, the analytics API, two consumers."""
    common = {
        **os.environ,
        "RUTA_ENVIRONMENT": "test",
        "RUTA_LOG_LEVEL": "WARNING",
        "RUTA_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "RUTA_KAFKA_REPLICATION_FACTOR": "3",
        "RUTA_KAFKA_MIN_INSYNC_REPLICAS": "2",
        "RUTA_KAFKA_TOPIC_PARTITIONS": "6",
        "RUTA_MONGO_URL": mongo_url,
        "RUTA_KEY_DIR": str(root / "keys"),
        "RUTA_AUTH_MONGO_DATABASE": f"scale_auth_{unique}",
        # The relays' rescan finds a dead replica's pending events within seconds.
        "RUTA_OUTBOX_SCAN_INTERVAL_SECONDS": "2",
        "RUTA_OUTBOX_POLL_INTERVAL_SECONDS": "0.2",
    }
    ports = {name: free_port() for name in ("intake-1", "intake-2")}
    found: dict[str, ServiceProcess] = {}

    def add(name: str, module: str, port: int, health: str = "/healthz", **env: str) -> None:
        found[name] = ServiceProcess(
            name=name,
            workdir=root / "services",
            module=module,
            port=port,
            health_path=health,
            env={**common, "RUTA_PORT": str(port), **env},
            ready_timeout=150.0,
        )

    for replica in (1, 2):
        add(
            f"intake-{replica}",
            "ruta_intake.main",
            ports[f"intake-{replica}"],
            RUTA_MONGO_DATABASE=f"scale_intake_{unique}",
        )
        add(
            f"referrals-{replica}",
            "ruta_referrals.main",
            free_port(),
            RUTA_MONGO_DATABASE=f"scale_referrals_{unique}",
            RUTA_INTAKE_URL=f"http://127.0.0.1:{ports['intake-1']}",
        )
        add(
            f"training-{replica}",
            "ruta_training.main",
            free_port(),
            RUTA_MONGO_DATABASE=f"scale_training_{unique}",
        )
        web = free_port()
        add(
            f"consumer-{replica}",
            "ruta_analytics.workers.consumer",
            web,
            "/",
            RUTA_MONGO_DATABASE=f"scale_analytics_{unique}",
            RUTA_FAUST_APP_ID=f"scale-analytics-{unique}",
            RUTA_FAUST_DATA_DIR=str(root / f"faust-{replica}"),
            RUTA_FAUST_WEB_PORT=str(web),
        )
    add(
        "analytics",
        "ruta_analytics.main",
        free_port(),
        RUTA_MONGO_DATABASE=f"scale_analytics_{unique}",
    )
    return found


def note(text: str) -> None:
    """Progress on stderr (seen with -s): where a slow run spends its time."""
    sys.stderr.write(f"[scale-out {time.strftime('%H:%M:%S')}] {text}\n")
    sys.stderr.flush()


def url(process: ServiceProcess) -> str:
    return f"http://127.0.0.1:{process.port}"


async def load(
    intake: Replicas,
    referrals: Replicas,
    training: Replicas,
    coordinator: Replicas,
    tally: Tally,
    kills: Any,
) -> None:
    """Cases (and now and then a second victim, a session, a referral) through both
    replicas in turn, three requests at a time, for LOAD_SECONDS; `kills` runs alongside."""
    started = time.monotonic()
    numbers = iter(range(1, 10 * MAX_CASES))
    institution = f"prosecutor-{uuid.uuid4().hex[:8]}"
    made = await coordinator.post(
        tally,
        "institution",
        "/institutions",
        {
            "id": institution,
            "kind": "prosecutor",
            "name": "Fiscalía de prueba",
            "region": "15",
            "integration": "partner_api",
        },
    )
    assert made is not None
    assert made.status_code == 201, made.text

    async def worker(slot: int) -> None:
        while time.monotonic() - started < LOAD_SECONDS and len(tally.cases) < MAX_CASES:
            number = next(numbers)
            await asyncio.sleep(max(0.0, started + number / CASES_PER_SECOND - time.monotonic()))
            opened = await intake.post(tally, "case", "/cases", case_body(number))
            if opened is None or opened.status_code != 201:
                continue
            case = opened.json()
            tally.cases.append(case["case_id"])
            tally.victims.append(case["victims"][0]["victim_id"])
            if number % 3 == 0:
                extra = await intake.post(
                    tally, "victim", f"/cases/{case['case_id']}/victims", victim_body(number + 5000)
                )
                if extra is not None and extra.status_code == 201:
                    tally.victims.append(extra.json()["victim_id"])
            if number % 7 == 0:
                session = await training.post(tally, "session", "/sessions", session_body())
                if session is not None and session.status_code == 201:
                    tally.sessions.append(session.json()["id"])
            if number % 11 == 0:
                await refer(intake, referrals, tally, case, institution)

    await asyncio.gather(kills(started), *(worker(slot) for slot in range(3)))


async def refer(
    intake: Replicas, referrals: Replicas, tally: Tally, case: Doc, institution: str
) -> None:
    """Consent for prosecutors, then a referral to one (referrals asks intake if needed)."""
    case_id, victim_id = case["case_id"], case["victims"][0]["victim_id"]
    consent = await intake.post(
        tally,
        "consent",
        f"/cases/{case_id}/victims/{victim_id}/consents",
        {
            "purpose": "disclosure",
            "institution_kind": "prosecutor",
            "given_by": "guardian",
            "granted": True,
        },
    )
    if consent is None or consent.status_code != 201:
        return
    referral = await referrals.post(
        tally,
        "referral",
        f"/cases/{case_id}/referrals",
        {
            "victim_id": victim_id,
            "institution_id": institution,
            "urgency": "high",
            "reason": "Requiere protección y acompañamiento.",
            "services_requested": ["legal"],
        },
    )
    if referral is not None and referral.status_code == 201:
        tally.referrals.append(referral.json()["referral_id"])


def test_replicas_survive_kill_9_with_nothing_lost_or_doubled(tmp_path: Path) -> None:
    unique = uuid.uuid4().hex[:8]
    cluster = KafkaCluster.on_free_ports(tmp_path / "kafka")
    with ThreadPoolExecutor(max_workers=2) as pool:
        ferret_started = pool.submit(start_ferretdb, tmp_path / "ferretdb")
        cluster.start()
        ferret = ferret_started.result()
    note(f"three Kafka nodes and FerretDB up: {cluster.bootstrap}")
    security = SecuritySettings(
        environment="test", key_dir=tmp_path / "keys", auth_mongo_database=f"scale_auth_{unique}"
    )
    headers = {
        role: bearer(security, role) for role in (Role.CASE_WORKER, Role.COORDINATOR, Role.TRAINER)
    }  # signing also writes the keys every process reads
    parts = processes(tmp_path, cluster.bootstrap, ferret.url, unique)
    try:
        with ThreadPoolExecutor(max_workers=len(parts)) as pool:
            list(pool.map(ServiceProcess.start, parts.values()))
        note(f"{len(parts)} service processes ready")
        asyncio.run(scenario(cluster, parts, headers, ferret.url, unique))
    finally:
        for part in parts.values():
            part.stop(timeout=10)
        cluster.stop()
        ferret.stop()


async def scenario(
    cluster: KafkaCluster,
    parts: dict[str, ServiceProcess],
    headers: dict[Role, Doc],
    mongo_url: str,
    unique: str,
) -> None:
    tally = Tally()
    intake = Replicas([url(parts["intake-1"]), url(parts["intake-2"])], headers[Role.CASE_WORKER])
    referrals = Replicas(
        [url(parts["referrals-1"]), url(parts["referrals-2"])], headers[Role.CASE_WORKER]
    )
    coordinator = Replicas([url(parts["referrals-1"])], headers[Role.COORDINATOR])
    training = Replicas([url(parts["training-1"]), url(parts["training-2"])], headers[Role.TRAINER])
    killed: list[str] = []
    before_kills: list[int] = []  # cases answered 201 when the last kill came

    async def kills(started: float) -> None:
        await asyncio.sleep(LOAD_SECONDS / 3)
        cluster.nodes[1].kill()
        killed.append(cluster.nodes[1].name)
        note(f"killed {cluster.nodes[1].name}; cases 201 so far: {len(tally.cases)}")
        await asyncio.sleep(LOAD_SECONDS / 6)
        for name in ("intake-2", "consumer-2"):
            parts[name].kill()
            killed.append(name)
        note(f"killed intake-2 and consumer-2; cases 201 so far: {len(tally.cases)}")
        before_kills.append(len(tally.cases))

    try:
        await load(intake, referrals, training, coordinator, tally, kills)
    finally:
        await asyncio.gather(
            intake.close(), referrals.close(), coordinator.close(), training.close()
        )
    note(f"load done: {tally.sent} sent, {dict(tally.statuses)}")
    assert killed == [cluster.nodes[1].name, "intake-2", "consumer-2"]
    assert len(tally.cases) > before_kills[0]  # the load went on after the kills
    await check(cluster, parts, headers, tally, mongo_url, unique)


async def check(
    cluster: KafkaCluster,
    parts: dict[str, ServiceProcess],
    headers: dict[Role, Doc],
    tally: Tally,
    mongo_url: str,
    unique: str,
) -> None:
    """Figures equal the 2xx answers; every chain verifies; print what was measured."""
    mongo: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url)
    analytics = httpx.AsyncClient(base_url=url(parts["analytics"]), timeout=30)
    answered, allowance = len(tally.cases), len(tally.unresolved)
    figures: Doc = {}
    try:
        deadline = time.monotonic() + CONVERGE_SECONDS
        while time.monotonic() < deadline:
            got = await analytics.get("/figures/exact", headers=headers[Role.COORDINATOR])
            assert got.status_code == 200, got.text
            figures = got.json()
            if figures["cases_opened"] >= answered:
                break
            note(f"figures: {figures['cases_opened']} of {answered} cases")
            await asyncio.sleep(2.0)
        generation = await active_generation(mongo[f"scale_analytics_{unique}"])
        facts = generation.collection(CASES)
        missing = [c for c in tally.cases if await facts.find_one({"_id": c}, {"_id": 1}) is None]
        people = generation.collection(VICTIMS)
        missing += [
            v for v in tally.victims if await people.find_one({"_id": v}, {"_id": 1}) is None
        ]
        slots = asyncio.Semaphore(VERIFY_AT_ONCE)

        async def verify(case_id: str) -> Doc:
            async with slots:
                answer = await analytics.get(
                    f"/audit/trails/{case_id}/verify", headers=headers[Role.COORDINATOR]
                )
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        chains = await asyncio.gather(*(verify(case_id) for case_id in tally.cases))
        broken = [c["trail"] for c in chains if c["valid"] is not True or c["entries"] < 2]
        verified = len(chains) - len(broken)
        note(f"{verified} chains verified; reading {INTAKE_EVENTS}")
        records = await read_topic(cluster.bootstrap, INTAKE_EVENTS, timeout=30)
    finally:
        await analytics.aclose()
        await mongo.close()
    events = [json.loads(r.value) for r in records]
    opened_ids = {e["id"] for e in events if e["type"] == "case.opened"}
    print(
        "\nscale-out figures: "
        + json.dumps(
            {
                "requests_sent": tally.sent,
                "answers": dict(sorted(tally.statuses.items())),
                "resent_to_other_replica": tally.retried,
                "unresolved": tally.unresolved,
                "cases_2xx": answered,
                "victims_2xx": len(tally.victims),
                "sessions_2xx": len(tally.sessions),
                "referrals_2xx": len(tally.referrals),
                "cases_in_figures": figures.get("cases_opened"),
                "intake_events_on_kafka": len(records),
                "distinct_intake_event_ids": len({e["id"] for e in events}),
                "case_opened_events": len(opened_ids),
                "chains_verified": verified,
            }
        )
    )
    assert missing == []  # every case and victim answered 201 is in the figures' facts
    assert broken == []  # every chain verifies (and holds case.opened and victim.registered)
    assert answered <= figures["cases_opened"] <= answered + allowance
    assert answered <= len(opened_ids) <= answered + allowance
    assert tally.ok("case") == answered
    assert len(tally.referrals) >= 1
    assert len(tally.sessions) >= 1
