"""Fixtures for the analytics tests: databases, topics, a real faust worker, tokens."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from ruta_analytics.main import create_app
from ruta_analytics.projection.models import AUDIT
from ruta_analytics.projection.store import Generation, active_generation
from ruta_analytics.settings import AnalyticsSettings
from ruta_local.infra import free_port
from ruta_shared.events import EventEnvelope
from ruta_shared.kafka.admin import ensure_topics
from ruta_shared.kafka.publisher import EventPublisher
from ruta_shared.security.jwt import sign_token
from ruta_shared.security.keys import load_signing_keys
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.testing.kafka import wait_for
from ruta_shared.topics import dead_letter_topic

Doc = dict[str, Any]
SOURCES = ("intake", "referrals", "training")
WORKER_MODULE = "ruta_analytics.workers.consumer"


@pytest.fixture
def security_settings(tmp_path: Path) -> SecuritySettings:
    """Keys in this test's folder (shared by the app under test and the token factory)."""
    return SecuritySettings(environment="test", key_dir=tmp_path / "keys")


@pytest.fixture
def token_for(security_settings: SecuritySettings) -> Callable[[Role], str]:
    """A signed token for a user of `role`."""
    keys = load_signing_keys(security_settings)

    def make(role: Role) -> str:
        who = Principal(
            id=f"user-{role.value}",
            role=role,
            offices=frozenset({"lima"}),
            institution_id="inst-1" if role is Role.PARTNER else None,
            auth="client_credentials" if role is Role.PARTNER else "password",
        )
        return sign_token(
            who,
            keys=keys,
            issuer=security_settings.jwt_issuer,
            audience=security_settings.jwt_audience,
            lifetime=timedelta(minutes=10),
        )

    return make


@pytest.fixture
def topics(unique: str) -> dict[str, str]:
    """This test's own event topics, by publishing service."""
    return {source: f"t{unique}.{source}.events" for source in SOURCES}


@pytest.fixture
def settings(
    mongo_url: str, kafka_bootstrap: str, unique: str, topics: dict[str, str], tmp_path: Path
) -> AnalyticsSettings:
    """Analytics settings on the session's servers, with this test's database and topics."""
    return AnalyticsSettings(
        environment="test",
        mongo_url=mongo_url,
        mongo_database=f"analytics_{unique}",
        kafka_bootstrap_servers=kafka_bootstrap,
        event_topics=list(topics.values()),
        faust_app_id=f"analytics-{unique}",
        faust_data_dir=str(tmp_path / "faust"),
        faust_web_port=free_port(),
        run_outbox_relay=False,
        audit_checkpoint_topic=f"t{unique}.checkpoints",  # Kafka's latest is this test's
    )


@pytest.fixture
async def db(settings: AnalyticsSettings) -> AsyncIterator[AsyncDatabase[Doc]]:
    """This test's analytics database, dropped afterwards."""
    client: AsyncMongoClient[Doc] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    try:
        yield client[settings.mongo_database]
    finally:
        await client.drop_database(settings.mongo_database)
        await client.close()


@pytest.fixture
async def generation(db: AsyncDatabase[Doc]) -> Generation:
    """The active generation of this test's database."""
    return await active_generation(db)


@pytest.fixture
async def api(
    settings: AnalyticsSettings, security_settings: SecuritySettings
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The analytics app with its lifespan running, called in-process."""
    app = create_app(settings, security=security_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://analytics") as client:
            yield app, client


@dataclass
class Publisher:
    """Publishes envelopes onto this test's topics (the real broker)."""

    publisher: EventPublisher
    topics: dict[str, str]

    async def publish(self, envelopes: list[EventEnvelope]) -> None:
        """Publish in order, each to its service's topic."""
        by_topic: dict[str, list[EventEnvelope]] = defaultdict(list)
        for envelope in envelopes:
            by_topic[self.topics[envelope.source]].append(envelope)
        for topic, batch in by_topic.items():
            for start in range(0, len(batch), 2000):
                await self.publisher.publish_many(batch[start : start + 2000], topic=topic)


@pytest.fixture
async def publisher(kafka_bootstrap: str, topics: dict[str, str]) -> AsyncIterator[Publisher]:
    """A publisher onto this test's topics (created with few partitions to start fast)."""
    names = [*topics.values(), *(dead_letter_topic(t) for t in topics.values())]
    await ensure_topics(kafka_bootstrap, names, partitions=3)
    producer = EventPublisher(bootstrap_servers=kafka_bootstrap, client_id="analytics-tests")
    await producer.start()
    try:
        yield Publisher(producer, topics)
    finally:
        await producer.stop()


@dataclass
class Worker:
    """`python -m ruta_analytics.workers.consumer worker` as a real subprocess."""

    settings: AnalyticsSettings
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = field(default=0)

    def env(self) -> dict[str, str]:
        """The worker's environment: RUTA_ settings for this test."""
        s = self.settings
        env = dict(os.environ)
        env.update(
            RUTA_ENVIRONMENT="test",
            RUTA_KAFKA_BOOTSTRAP_SERVERS=s.kafka_bootstrap_servers,
            RUTA_MONGO_URL=s.mongo_url,
            RUTA_MONGO_DATABASE=s.mongo_database,
            RUTA_FAUST_DATA_DIR=s.faust_data_dir,
            RUTA_FAUST_WEB_PORT=str(s.faust_web_port),
            RUTA_FAUST_APP_ID=s.faust_app_id,
            RUTA_EVENT_TOPICS="[" + ",".join(f'"{t}"' for t in s.event_topics) + "]",
            RUTA_BATCH_SIZE=str(s.batch_size),
            RUTA_LOG_LEVEL=os.environ.get("RUTA_TEST_WORKER_RUTA_LOG", "WARNING"),
        )
        return env

    def start(self) -> None:
        """Start (or restart) the worker."""
        self.starts += 1
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ruta_analytics.workers.consumer",
                "worker",
                "--loglevel",
                "warn",
            ],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no commit, no flush."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM and wait; SIGKILL if it hangs."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process is not None and self.process.poll() is None

    def log_tail(self) -> str:
        """The end of the worker's log, for failure messages."""
        return self.log_path.read_text(errors="replace")[-12000:]


@pytest.fixture
def worker(settings: AnalyticsSettings, tmp_path: Path, publisher: Publisher) -> Iterator[Worker]:
    """A started faust worker for this test (topics exist before it starts)."""
    process = Worker(
        settings,
        Path(os.environ.get("RUTA_TEST_WORKER_LOG_DIR", str(tmp_path)))
        / f"worker-{settings.faust_app_id}.log",
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


async def wait_projected(
    db: AsyncDatabase[Doc],
    envelopes: list[EventEnvelope],
    worker: Worker | None = None,
    timeout: float = 90.0,
) -> None:
    """Wait until every distinct event has its audit entry in the active generation."""
    expected = len({e.id for e in envelopes})

    async def done() -> bool:
        if worker is not None and not worker.alive():
            raise AssertionError("worker exited:\n" + worker.log_tail())
        generation = await active_generation(db)
        return await generation.collection(AUDIT).count_documents({}) >= expected

    try:
        await wait_for(done, timeout=timeout, interval=0.25)
    except AssertionError:
        generation = await active_generation(db)
        count = await generation.collection(AUDIT).count_documents({})
        tail = worker.log_tail() if worker is not None else ""
        if worker is not None and worker.process is not None:
            worker.process.send_signal(signal.SIGUSR1)  # mode dumps every task's stack
            await asyncio.sleep(2)
            tail = worker.log_tail()
        raise AssertionError(f"projected {count} of {expected} events\n{tail}") from None


@pytest.fixture
def projected() -> Callable[..., Any]:
    """`await projected(db, envelopes, worker)`: wait until the worker projected them all."""
    return wait_projected
