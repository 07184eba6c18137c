"""Data keys on FerretDB (shredding, rotation), the access log and break-glass through Kafka."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, HTTPException
from prometheus_client import CollectorRegistry, generate_latest
from pymongo.asynchronous.database import AsyncDatabase
from ruta_shared.events import EVENTS
from ruta_shared.events.catalog.security import BreakGlassGranted, PiiAccessed
from ruta_shared.kafka.admin import ensure_topics
from ruta_shared.kafka.publisher import EventPublisher
from ruta_shared.outbox import Outbox, OutboxRelay
from ruta_shared.security.access_log import ACCESS_LOG_COLLECTION, AccessLog, AccessLogMetrics
from ruta_shared.security.break_glass import (
    BREAK_GLASS_COLLECTION,
    BreakGlass,
    BreakGlassError,
    BreakGlassMetrics,
)
from ruta_shared.security.crypto import DataErasedError, DataKeyStore, UnknownSubjectKeyError
from ruta_shared.security.keys import MasterKeyring
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.service import create_service_app
from ruta_shared.settings import ServiceSettings
from ruta_shared.testing.kafka import read_topic
from ruta_shared.testing.leak_check import LeakChecker
from ruta_shared.testing.tokens import TokenFactory, principal
from ruta_shared.topics import TRAINING_EVENTS

pytestmark = pytest.mark.integration

Doc = dict[str, Any]


def ring(**versions: bytes) -> MasterKeyring:
    keys = {int(v): k for v, k in versions.items()}
    return MasterKeyring(keys=keys, current=max(keys))


@pytest.fixture
def database(
    scratch_database: Callable[[str], AsyncDatabase[Doc]], unique: str
) -> AsyncDatabase[Doc]:
    return scratch_database(f"svc_{unique}")


async def test_shredding_makes_every_field_unreadable(database: AsyncDatabase[Doc]) -> None:
    keyring = ring(**{"1": secrets.token_bytes(32)})
    store = DataKeyStore(database, keyring)
    await store.ensure_indexes()
    key = await store.create("victim", "v-1")
    assert (await store.create("victim", "v-1")).key_id == key.key_id  # one key per subject
    names, document = key.encrypt("names", "Rosa"), key.encrypt("document_number", "12345678")
    assert (await store.for_ciphertext(names)).decrypt("names", names) == "Rosa"

    assert await store.destroy("victim", "v-1")
    record = await database["data_keys"].find_one({"_id": key.key_id})
    assert record is not None
    assert record["wrapped"] is None
    for token in (names, document):
        with pytest.raises(DataErasedError):
            await store.for_ciphertext(token)
    with pytest.raises(DataErasedError):
        await store.get("victim", "v-1")
    with pytest.raises(DataErasedError):
        await store.create("victim", "v-1")  # an erased subject never gets a new key
    assert not await store.destroy("victim", "v-1")

    # Erasing a subject that had no key yet is final too.
    assert await store.destroy("victim", "v-2")
    with pytest.raises(DataErasedError):
        await store.create("victim", "v-2")
    with pytest.raises(UnknownSubjectKeyError):
        await store.get("victim", "v-3")


async def test_master_key_rotation_without_downtime(database: AsyncDatabase[Doc]) -> None:
    v1, v2 = secrets.token_bytes(32), secrets.token_bytes(32)
    old = DataKeyStore(database, ring(**{"1": v1}))
    await old.ensure_indexes()
    tokens = {}
    for n in range(3):
        key = await old.create("participant", f"p-{n}")
        tokens[f"p-{n}"] = key.encrypt("names", f"persona {n}")
    both = DataKeyStore(database, ring(**{"1": v1, "2": v2}))
    # While both versions are configured, old and new wrappings read alike.
    assert (await both.get("participant", "p-0")).decrypt("names", tokens["p-0"]) == "persona 0"
    assert await both.rewrap() == 3
    assert await both.rewrap() == 0
    only_new = DataKeyStore(database, ring(**{"2": v2}))
    for subject, token in tokens.items():
        key = await only_new.get("participant", subject)
        assert key.master_version == 2
        assert key.decrypt("names", token) == f"persona {subject[-1]}"


async def test_erased_data_answers_410_in_spanish(tmp_path: Path, make_token: TokenFactory) -> None:
    router = APIRouter()

    @router.get("/victims/{victim_id}")
    async def read_victim(
        victim_id: str, who: Annotated[Principal, require("victim_pii:read")]
    ) -> dict[str, str]:
        raise DataErasedError("victim", victim_id)

    app = create_service_app(
        ServiceSettings(environment="test"),
        title="t",
        description="d",
        routers=[router],
        security=SecuritySettings(environment="test", key_dir=tmp_path / "keys"),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ruta") as client:
        response = await client.get(
            "/victims/v-1", headers={"Authorization": f"Bearer {make_token()}"}
        )
    assert response.status_code == 410
    assert "eliminados" in response.json()["detail"]


async def relay_once(
    bootstrap: str, outbox: Outbox, database: AsyncDatabase[Doc], collections: list[str]
) -> int:
    publisher = EventPublisher(bootstrap_servers=bootstrap, client_id="test-security-relay")

    async def factory() -> EventPublisher:
        await publisher.start()
        return publisher

    relay = OutboxRelay(
        outbox=outbox,
        collections=[database[name] for name in collections],
        publisher_factory=factory,
        service="training",
    )
    try:
        return await relay.run_once()
    finally:
        await publisher.stop()


async def test_access_log_and_break_glass_publish_events_without_the_data(
    database: AsyncDatabase[Doc], kafka_bootstrap: str, tmp_path: Path
) -> None:
    await ensure_topics(kafka_bootstrap)
    settings = SecuritySettings(environment="test", key_dir=tmp_path / "keys")
    registry = CollectorRegistry()
    outbox = Outbox()
    keys = DataKeyStore(database, ring(**{"1": secrets.token_bytes(32)}))
    leaks = LeakChecker()
    person = leaks.new_person()
    participant_id = f"p-{uuid.uuid4().hex[:10]}"
    case_id = f"c-{uuid.uuid4().hex[:10]}"
    justification = f"Llamada urgente de la fiscalía sobre {person.full_name} esta noche"
    leaks.add_needle("justification", justification)

    # A participant's personal data is stored encrypted and read back: the read is recorded.
    trainer = principal(Role.TRAINER, offices=frozenset({"iquitos"}))
    key = await keys.create("participant", participant_id)
    stored = {name: key.encrypt(name, value) for name, value in person.fields().items()}
    with leaks.capture_logs():
        access_log = AccessLog(
            database=database,
            outbox=outbox,
            service="training",
            metrics=AccessLogMetrics(registry),
        )
        access_id = await access_log.record(
            principal=trainer,
            subject_type="participant",
            subject_id=participant_id,
            purpose="training",
            fields=list(stored),
        )
        assert key.decrypt("given_names", stored["given_names"]) == person.given_names

        # A case worker of Lima breaks the glass on an Iquitos case.
        worker = principal(Role.CASE_WORKER, id="u-lima-7", offices=frozenset({"lima"}))
        break_glass = BreakGlass(
            database=database,
            outbox=outbox,
            service="training",
            settings=settings,
            data_keys=keys,
            metrics=BreakGlassMetrics(registry),
        )
        await break_glass.ensure_indexes()
        with pytest.raises(BreakGlassError, match="al menos 30"):
            await break_glass.grant(
                principal=worker, case_id=case_id, office="iquitos", justification="porque sí"
            )
        with pytest.raises(BreakGlassError, match="Ya tiene acceso"):
            await break_glass.grant(
                principal=worker, case_id=case_id, office="lima", justification=justification
            )
        with pytest.raises(HTTPException) as out_of_scope:
            await break_glass.ensure_case_access(
                principal=worker, case_id=case_id, office="iquitos"
            )
        assert out_of_scope.value.status_code == 404
        grant = await break_glass.grant(
            principal=worker, case_id=case_id, office="iquitos", justification=justification
        )
        allowed = await break_glass.ensure_case_access(
            principal=worker, case_id=case_id, office="iquitos"
        )
        assert allowed is not None
        assert allowed.id == grant.id
        other = principal(Role.CASE_WORKER, id="u-lima-8", offices=frozenset({"lima"}))
        assert await break_glass.active_grant(principal=other, case_id=case_id) is None

    # Stored: the access record and the grant, the justification encrypted.
    record = await database[ACCESS_LOG_COLLECTION].find_one({"_id": access_id})
    assert record is not None
    assert (record["user_id"], record["role"], record["purpose"]) == (
        "user-trainer",
        "trainer",
        "training",
    )
    grant_doc = await database[BREAK_GLASS_COLLECTION].find_one({"_id": grant.id})
    assert grant_doc is not None
    assert grant_doc["justification"].startswith("rk1:")
    leaks.scan_text("database", "break_glass_grants", json.dumps(grant_doc, default=str))

    # Metrics count the grant and the read, with no personal data in labels.
    assert (
        registry.get_sample_value(
            "ruta_break_glass_grants_total", {"service": "training", "role": "case_worker"}
        )
        == 1.0
    )
    assert (
        registry.get_sample_value(
            "ruta_pii_reads_total",
            {"service": "training", "purpose": "training", "break_glass": "no"},
        )
        == 1.0
    )
    leaks.scan_metrics(generate_latest(registry).decode())

    # Published through the outbox to the serving service's topic.
    assert (
        await relay_once(
            kafka_bootstrap, outbox, database, [ACCESS_LOG_COLLECTION, BREAK_GLASS_COLLECTION]
        )
        == 2
    )
    records = await read_topic(kafka_bootstrap, TRAINING_EVENTS)
    envelopes = [EVENTS.decode(r.value) for r in records]
    accessed = [
        e for e in envelopes if e.type == "pii.accessed" and e.data["access_id"] == access_id
    ]
    granted = [
        e
        for e in envelopes
        if e.type == "access.break_glass_granted" and e.data["grant_id"] == grant.id
    ]
    assert len(accessed) == len(granted) == 1
    assert accessed[0].source == "training"
    assert accessed[0].actor.id == "user-trainer"
    assert isinstance(EVENTS.payload(accessed[0]), PiiAccessed)
    assert sorted(accessed[0].data["fields"]) == sorted(person.fields())
    assert granted[0].actor.id == "u-lima-7"
    payload = EVENTS.payload(granted[0])
    assert isinstance(payload, BreakGlassGranted)
    assert payload.justification_length == len(justification)
    await leaks.scan_kafka(kafka_bootstrap, topics=[TRAINING_EVENTS])
    leaks.assert_clean()


def test_master_key_json_example() -> None:
    # The documented key-file format round-trips through base64.
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    assert len(base64.b64decode(json.loads(json.dumps({"1": key}))["1"])) == 32
