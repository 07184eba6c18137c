"""Fixtures for the analytics tests: databases, topics, a real faust worker, tokens, recounts."""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
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
LIMA = timedelta(hours=-5)
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


# --- a plain recount of the figures, straight from the events ---------------------------


def _lima_year(text: str) -> tuple[int, int]:
    moment = datetime.fromisoformat(text) + LIMA
    return moment.year, moment.month


def recount_figures(envelopes: list[EventEnvelope], year: int | None = None) -> Doc:
    """The figures, recounted naively from the distinct events (no database)."""
    seen: dict[Any, EventEnvelope] = {}
    for envelope in envelopes:
        seen.setdefault(envelope.id, envelope)
    events = list(seen.values())
    cases: dict[str, Doc] = {}
    for e in events:
        if e.type == "case.opened":
            cases[e.data["case_id"]] = e.data

    def in_period(y: int) -> bool:
        return year is None or y == year

    sex_age: Counter[tuple[str, str]] = Counter()
    origin: Counter[str] = Counter()
    exploitation: Counter[str] = Counter()
    care: Counter[str] = Counter()
    cases_opened = 0
    per_year_cases: Counter[int] = Counter()
    per_year_victims: Counter[int] = Counter()
    referrals: dict[str, Doc] = {}
    returns: Counter[str] = Counter()
    milestones: Counter[str] = Counter()
    for e in events:
        d = e.data
        if e.type == "case.opened":
            y, _ = _lima_year(d["opened_at"])
            per_year_cases[y] += 1
            cases_opened += in_period(y)
        elif e.type == "victim.registered":
            y, _ = _lima_year(d["registered_at"])
            per_year_victims[y] += 1
            if in_period(y):
                sex_age[(d["sex"], d["age_group"])] += 1
                origin[d.get("region_of_origin") or "sin_dato"] += 1
                case = cases.get(d["case_id"], {})
                exploitation[case.get("region_of_exploitation") or "sin_dato"] += 1
        elif e.type == "care.provided" and in_period(date.fromisoformat(d["provided_on"]).year):
            care[d["care_type"]] += 1
        elif e.type.startswith("referral."):
            ref = referrals.setdefault(d["referral_id"], {"kind": d["institution_kind"]})
            stamp_field = {
                "referral.requested": "requested_at",
                "referral.sent": "sent_at",
                "referral.accepted": "accepted_at",
                "referral.declined": "declined_at",
                "referral.completed": "completed_at",
            }.get(e.type)
            if stamp_field:
                ref[stamp_field] = datetime.fromisoformat(d[stamp_field])
            if e.type == "referral.requested":
                ref["year"] = _lima_year(d["requested_at"])[0]
            outcome = {
                "referral.requested": "pending",
                "referral.accepted": "accepted",
                "referral.declined": "declined",
                "referral.completed": "completed",
            }.get(e.type)
            if outcome:
                ref["outcome"] = outcome
        elif e.type == "victim.returned_home" and in_period(
            date.fromisoformat(d["returned_on"]).year
        ):
            returns[d["region_of_origin"]] += 1
        elif e.type == "reintegration.milestone_reached" and in_period(
            date.fromisoformat(d["reached_on"]).year
        ):
            milestones[d["milestone"]] += 1
    refs = [r for r in referrals.values() if in_period(r["year"])]
    by_kind_outcome: Counter[tuple[str, str]] = Counter((r["kind"], r["outcome"]) for r in refs)
    accepted = [r for r in refs if "accepted_at" in r]
    declined = [r for r in refs if r["outcome"] == "declined"]
    days = [
        (r["accepted_at"] - r.get("sent_at", r["requested_at"])).total_seconds() / 86400
        for r in accepted
    ]
    return {
        "cases_opened": cases_opened,
        "sex_age": dict(sex_age),
        "victims_total": sum(sex_age.values()),
        "origin": dict(origin),
        "exploitation": dict(exploitation),
        "care": dict(care),
        "per_year_cases": dict(per_year_cases),
        "per_year_victims": dict(per_year_victims),
        "referrals": dict(by_kind_outcome),
        "acceptance_rate_pct": round(len(accepted) * 100 / (len(accepted) + len(declined)), 1)
        if accepted or declined
        else None,
        "median_days": round(statistics.median(days), 1) if days else None,
        "returns": dict(returns),
        "milestones": dict(milestones),
    }


@pytest.fixture
def recount() -> Callable[..., Doc]:
    """The plain recount, as a fixture (test modules import nothing from each other)."""
    return recount_figures


def figures_as_recount(figures: Doc) -> Doc:
    """Exact figures reshaped like `recount_figures`, for one equality assertion."""
    victims = figures["victims"]
    sex_age = {
        (row, column): victims["cells"][i][j]
        for i, row in enumerate(victims["rows"])
        for j, column in enumerate(victims["columns"])
        if victims["cells"][i][j]
    }
    refs = figures["referrals"]["by_institution_and_outcome"]
    referrals = {
        (row, column): refs["cells"][i][j]
        for i, row in enumerate(refs["rows"])
        for j, column in enumerate(refs["columns"])
        if refs["cells"][i][j]
    }

    def vec(v: Doc) -> dict[str, int]:
        return {k: n for k, n in zip(v["keys"], v["values"], strict=True) if n}

    return {
        "cases_opened": figures["cases_opened"],
        "sex_age": sex_age,
        "victims_total": victims["total"],
        "origin": vec(figures["victims_by_region_of_origin"]),
        "exploitation": vec(figures["victims_by_region_of_exploitation"]),
        "care": vec(figures["care"]["by_type"]),
        "per_year_cases": {r["year"]: r["cases"] for r in figures["per_year"] if r["cases"]},
        "per_year_victims": {r["year"]: r["victims"] for r in figures["per_year"] if r["victims"]},
        "referrals": referrals,
        "acceptance_rate_pct": figures["referrals"]["acceptance_rate_pct"],
        "median_days": figures["referrals"]["median_days_to_acceptance"],
        "returns": vec(figures["returns_home"]["by_region_of_origin"]),
        "milestones": vec(figures["reintegration"]["by_milestone"]),
    }


@pytest.fixture
def reshape() -> Callable[[Doc], Doc]:
    """`figures_as_recount` as a fixture."""
    return figures_as_recount
