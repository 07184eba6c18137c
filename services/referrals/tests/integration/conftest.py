"""One running referrals app for the session, on the real Kafka and FerretDB, and its helpers.

Intake's events are fed by publishing real intake events onto `ruta.intake.events`; the
webhook receiver is a real HTTP server on 127.0.0.1 that verifies Standard Webhooks
signatures with the `standardwebhooks` package. A real intake app is served beside it
(`settings.intake_url`), which referrals asks for the facts whose events have not arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from ruta_intake.main import create_app as create_intake_app
from ruta_intake.settings import IntakeSettings
from ruta_local.infra import free_port
from ruta_referrals.main import create_app
from ruta_referrals.settings import ReferralsSettings
from ruta_shared.events import Actor, EventData, new_event
from ruta_shared.events.catalog.intake import (
    CaseOpened,
    ConsentRecorded,
    ConsentWithdrawn,
    VictimRegistered,
)
from ruta_shared.kafka.admin import ensure_topics
from ruta_shared.kafka.publisher import EventPublisher
from ruta_shared.reference import ROUTE_STAGES
from ruta_shared.security.jwt import sign_token
from ruta_shared.security.keys import load_signing_keys
from ruta_shared.security.partners import PartnerCredentialStore
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.testing.kafka import wait_for
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

Doc = dict[str, Any]
INTAKE_ACTOR = Actor(id="u-intake", role="case_worker")
A_DAY_EACH = dict.fromkeys(("critical", "high", "normal", "low"), 86400.0)
A_YEAR_EACH_STAGE = dict.fromkeys(ROUTE_STAGES, 365 * 86400.0)


class QuietServer(uvicorn.Server):
    """A uvicorn server run as a task of the test's loop (no signal handlers of its own)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(app: Any) -> tuple[QuietServer, asyncio.Task[None], str]:
    """Serve an ASGI app on a free local port in this loop; returns the server and its URL."""
    port = free_port()
    server = QuietServer(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    return server, task, f"http://127.0.0.1:{port}"


@dataclass
class Received:
    """One request the receiver got."""

    name: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int


@dataclass
class WebhookReceiver:
    """A partner's webhook endpoint: verifies signatures, drops repeated ids, fails on demand."""

    url: str = ""
    secrets: dict[str, str] = field(default_factory=dict)
    failures_left: dict[str, int] = field(default_factory=dict)  # -1: fail forever
    seen_ids: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)

    def endpoint(self, name: str) -> str:
        """The URL of one institution's hook."""
        return f"{self.url}/hooks/{name}"

    async def handle(self, request: Request) -> JSONResponse:
        """Verify, then answer 503 while told to fail, 409 for a repeated id, else 200."""
        name = request.path_params["name"]
        body = await request.body()
        headers = dict(request.headers)

        def answer(status: int, *, verified: bool = True) -> JSONResponse:
            self.received.append(Received(name, headers, body, verified, status))
            return JSONResponse({"status": status}, status_code=status)

        try:
            Webhook(self.secrets[name]).verify(body, headers)
        except (WebhookVerificationError, KeyError):
            return answer(400, verified=False)
        left = self.failures_left.get(name, 0)
        if left != 0:
            self.failures_left[name] = left - 1 if left > 0 else -1
            return answer(503)
        if headers["webhook-id"] in self.seen_ids:
            return answer(409)
        self.seen_ids.add(headers["webhook-id"])
        return answer(200)

    def for_name(self, name: str) -> list[Received]:
        """What one institution's hook received, in order."""
        return [r for r in self.received if r.name == name]


@dataclass
class IntakeFeed:
    """Publishes real intake events, keeping each case's sequence."""

    publisher: EventPublisher
    sequences: dict[str, int] = field(default_factory=dict)

    async def publish(self, case_id: str, *payloads: EventData) -> None:
        """Publish payloads about one case, in order."""
        envelopes = []
        for payload in payloads:
            self.sequences[case_id] = self.sequences.get(case_id, 0) + 1
            envelopes.append(
                new_event(
                    payload, subject=case_id, sequence=self.sequences[case_id], actor=INTAKE_ACTOR
                )
            )
        await self.publisher.publish_many(envelopes)


@dataclass
class Harness:
    """The running app and everything tests need to drive it."""

    app: FastAPI
    client: httpx.AsyncClient
    db: AsyncDatabase[Doc]
    auth_db: AsyncDatabase[Doc]
    security: SecuritySettings
    settings: ReferralsSettings
    feed: IntakeFeed
    receiver: WebhookReceiver
    kafka_bootstrap: str

    def staff(self, role: Role = Role.CASE_WORKER, *, offices: tuple[str, ...] = ("lima",)) -> Doc:
        """Bearer headers for a staff member."""
        principal = Principal(
            id=f"user-{role.value}-{uuid.uuid4().hex[:6]}",
            role=role,
            offices=frozenset(offices) if role is not Role.PARTNER else frozenset(),
            auth="password",
        )
        token = sign_token(
            principal,
            keys=load_signing_keys(self.security),
            issuer=self.security.jwt_issuer,
            audience=self.security.jwt_audience,
            lifetime=timedelta(minutes=10),
        )
        return {"Authorization": f"Bearer {token}"}

    async def serve_app(self) -> tuple[QuietServer, asyncio.Task[None], str]:
        """Serve the running app over real HTTP too (for tools that need a URL)."""
        return await serve(self.app)

    async def partner(self, institution_id: str) -> Doc:
        """X-API-Key headers for a fresh credential of the institution."""
        issued = await PartnerCredentialStore(self.auth_db).issue(institution_id)
        return {"X-API-Key": issued.api_key}

    async def institution(
        self, kind: str = "prosecutor", integration: str = "partner_api", **extra: Any
    ) -> str:
        """Register an institution with a unique id; returns the id."""
        institution_id = f"{kind.replace('_', '-')}-{uuid.uuid4().hex[:10]}"
        response = await self.client.post(
            "/institutions",
            json={
                "id": institution_id,
                "kind": kind,
                "name": f"Institución de prueba {institution_id}",
                "region": "15",
                "integration": integration,
                **extra,
            },
            headers=self.staff(Role.COORDINATOR),
        )
        assert response.status_code == 201, response.text
        return institution_id

    async def open_case(
        self, *, office: str = "lima", consent_to: tuple[str, ...] = ("prosecutor",)
    ) -> tuple[str, str]:
        """Publish case.opened, victim.registered and consents; wait until referrals knows them."""
        case_id = f"case-{uuid.uuid4().hex[:12]}"
        victim_id = f"victim-{uuid.uuid4().hex[:12]}"
        now = datetime.now(UTC)
        payloads: list[EventData] = [
            CaseOpened(
                case_id=case_id,
                case_code=f"LIM-2026-{uuid.uuid4().int % 100000:05d}",
                office=office,
                opened_at=now,
                crime_types=["trafficking"],
                exploitation_purposes=["sexual"],
                region_of_exploitation="16",
                arrival_channel="institution_referral",
            ),
            VictimRegistered(
                case_id=case_id,
                victim_id=victim_id,
                office=office,
                sex="female",
                age_group="minor",
                region_of_origin="16",
                registered_at=now,
            ),
        ]
        payloads += [
            ConsentRecorded(
                case_id=case_id,
                victim_id=victim_id,
                consent_id=f"consent-{kind}",
                consent_version=1,
                purpose="disclosure",
                institution_kind=kind,
                given_by="guardian",
                granted=True,
                recorded_at=now,
            )
            for kind in consent_to
        ]
        await self.feed.publish(case_id, *payloads)

        async def known() -> bool:
            victim = await self.db["victims"].find_one({"_id": victim_id})
            case = await self.db["case_routes"].find_one({"_id": case_id})
            consents = (victim or {}).get("consents", {})
            return case is not None and victim is not None and set(consent_to) <= set(consents)

        await wait_for(known, timeout=30)
        return case_id, victim_id

    async def withdraw_consent(self, case_id: str, victim_id: str, kind: str) -> None:
        """Publish consent.withdrawn and wait until referrals applied it."""
        await self.feed.publish(
            case_id,
            ConsentWithdrawn(
                case_id=case_id,
                victim_id=victim_id,
                consent_id=f"consent-{kind}",
                consent_version=1,
                purpose="disclosure",
                institution_kind=kind,
                withdrawn_at=datetime.now(UTC),
            ),
        )

        async def withdrawn() -> bool:
            victim = await self.db["victims"].find_one({"_id": victim_id}) or {}
            return victim.get("consents", {}).get(kind, {}).get("granted") is False

        await wait_for(withdrawn, timeout=30)

    async def refer(
        self,
        case_id: str,
        victim_id: str,
        institution_id: str,
        headers: Doc | None = None,
        **body: Any,
    ) -> httpx.Response:
        """POST a referral."""
        payload = {
            "victim_id": victim_id,
            "institution_id": institution_id,
            "reason": "Requiere protección y acompañamiento en la investigación.",
            "services_requested": ["legal"],
            "urgency": "high",
            **body,
        }
        return await self.client.post(
            f"/cases/{case_id}/referrals", json=payload, headers=headers or self.staff()
        )

    async def act(
        self, path: str, headers: Doc, *, read_path: str | None = None, json: Any = None
    ) -> httpx.Response:
        """Read the resource's ETag, then POST the action with If-Match."""
        read = await self.client.get(read_path or path.rsplit("/", 1)[0], headers=headers)
        assert read.status_code == 200, read.text
        return await self.client.post(
            path, headers={**headers, "If-Match": read.headers["ETag"]}, json=json
        )


Waiter = Callable[[Callable[[], Awaitable[bool]]], Awaitable[None]]


@pytest.fixture(scope="session")
async def harness(
    kafka_bootstrap: str, mongo_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Harness]:
    """The referrals app with every background task running, and a webhook receiver."""
    token = uuid.uuid4().hex[:10]
    security = SecuritySettings(
        environment="test",
        key_dir=tmp_path_factory.mktemp("referrals-keys"),
        auth_mongo_database=f"auth_ref_{token}",
    )
    await ensure_topics(kafka_bootstrap)
    intake_app = create_intake_app(
        IntakeSettings(
            environment="test",
            kafka_bootstrap_servers=kafka_bootstrap,
            mongo_url=mongo_url,
            mongo_database=f"intake_{token}",
            outbox_poll_interval_seconds=0.2,
        ),
        security=security,
    )
    intake_context = intake_app.router.lifespan_context(intake_app)
    await intake_context.__aenter__()
    intake_server, intake_task, intake_url = await serve(intake_app)
    settings = ReferralsSettings(
        environment="test",
        kafka_bootstrap_servers=kafka_bootstrap,
        mongo_url=mongo_url,
        mongo_database=f"referrals_{token}",
        consumer_group_prefix=f"test-referrals-{token}",
        outbox_poll_interval_seconds=0.2,
        overdue_check_interval_seconds=0.2,
        # Critical referrals are overdue for acknowledgement at once; the rest never, here.
        acknowledgement_deadline_seconds={**A_DAY_EACH, "critical": 0.0},
        answer_deadline_seconds=A_DAY_EACH,
        # Rescue is overdue the day it starts; every other stage has a year.
        route_stage_target_seconds={**A_YEAR_EACH_STAGE, "rescue_intervention": 0.0},
        intake_url=intake_url,
        intake_timeout_seconds=5.0,
        webhook_max_attempts=3,
        webhook_backoff_base_seconds=0.05,
        webhook_backoff_max_seconds=0.2,
        webhook_poll_interval_seconds=0.1,
        webhook_timeout_seconds=5.0,
    )
    publisher = EventPublisher(bootstrap_servers=kafka_bootstrap, client_id=f"intake-feed-{token}")
    await publisher.start()
    receiver = WebhookReceiver()
    receiver_app = Starlette(routes=[Route("/hooks/{name}", receiver.handle, methods=["POST"])])
    receiver_server, receiver_task, receiver.url = await serve(receiver_app)
    mongo: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    app = create_app(settings, security=security)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ruta") as client:
                yield Harness(
                    app=app,
                    client=client,
                    db=mongo[settings.mongo_database],
                    auth_db=mongo[security.auth_mongo_database],
                    security=security,
                    settings=settings,
                    feed=IntakeFeed(publisher),
                    receiver=receiver,
                    kafka_bootstrap=kafka_bootstrap,
                )
    finally:
        receiver_server.should_exit = intake_server.should_exit = True
        await receiver_task
        await intake_task
        await intake_context.__aexit__(None, None, None)
        await mongo.drop_database(f"intake_{token}")
        await publisher.stop()
        await mongo.drop_database(settings.mongo_database)
        await mongo.drop_database(security.auth_mongo_database)
        await mongo.close()
