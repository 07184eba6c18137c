"""Pytest fixtures: the test session's own Kafka and FerretDB, on free ports in a temp folder."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from ruta_local.infra import FerretDBServer, KafkaServer, free_port


@dataclass(frozen=True)
class SessionInfra:
    """Addresses of the servers this test session started."""

    kafka: KafkaServer
    ferretdb: FerretDBServer

    @property
    def kafka_bootstrap(self) -> str:
        """Kafka bootstrap servers."""
        return self.kafka.bootstrap

    @property
    def mongo_url(self) -> str:
        """MongoDB connection string (FerretDB)."""
        return self.ferretdb.url


def start_kafka(workdir: Path) -> KafkaServer:
    """A fresh Kafka node on free ports in `workdir` (the caller stops it)."""
    server = KafkaServer(
        name="kafka", workdir=workdir, port=free_port(), controller_port=free_port()
    )
    server.start()
    return server


def start_ferretdb(workdir: Path) -> FerretDBServer:
    """A fresh FerretDB on a free port in `workdir` (the caller stops it)."""
    server = FerretDBServer(name="ferretdb", workdir=workdir, port=free_port())
    server.start()
    return server


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionInfra]:
    """Kafka and FerretDB for the whole session, started in parallel, stopped at the end."""
    root = tmp_path_factory.mktemp("infra")
    with ThreadPoolExecutor(max_workers=2) as pool:
        kafka_future = pool.submit(start_kafka, root / "kafka")
        ferret_future = pool.submit(start_ferretdb, root / "ferretdb")
        servers = SessionInfra(kafka=kafka_future.result(), ferretdb=ferret_future.result())
    try:
        yield servers
    finally:
        servers.kafka.stop()
        servers.ferretdb.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(infra: SessionInfra) -> str:
    """The session's Kafka bootstrap servers."""
    return infra.kafka_bootstrap


@pytest.fixture(scope="session")
def mongo_url(infra: SessionInfra) -> str:
    """The session's MongoDB-compatible server."""
    return infra.mongo_url


@pytest.fixture
def unique() -> str:
    """A short unique token for names of test databases, topics, groups and subjects."""
    return uuid.uuid4().hex[:12]
