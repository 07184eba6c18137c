"""The real local servers: Apache Kafka (KRaft, one node or a cluster) and FerretDB (SQLite)."""

from __future__ import annotations

import asyncio
import base64
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ruta_local.build import (
    DEPLOY_LOCAL,
    REPO_ROOT,
    InfraError,
    cache_dir,
    ferretdb_binary,
    kafka_libs,
    require_tool,
    run_build,
)
from ruta_local.process import Server, free_port, pid_alive, port_open


def new_cluster_id() -> str:
    """A random KRaft cluster id (base64url of a UUID, never starting with '-')."""
    cluster_id = "-"
    while cluster_id.startswith("-"):  # the storage tool would read it as an option
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    return cluster_id


@dataclass
class KafkaServer(Server):
    """One Apache Kafka node in KRaft mode (broker and controller), from Maven Central jars."""

    port: int = 9092
    controller_port: int = 9093
    heap: str = "768m"
    node_id: int = 1
    # Every node's `id@host:port` (a cluster); None: this node is its own quorum of one.
    quorum_voters: str | None = None
    cluster_id: str | None = None  # the nodes of one cluster are formatted with the same id

    @property
    def bootstrap(self) -> str:
        """The bootstrap servers string clients use."""
        return f"127.0.0.1:{self.port}"

    @property
    def voters(self) -> str:
        """The static controller quorum: the cluster's, else this node alone."""
        return self.quorum_voters or f"{self.node_id}@127.0.0.1:{self.controller_port}"

    def ports(self) -> list[int]:
        """Client and controller ports."""
        return [self.port, self.controller_port]

    def prepare(self) -> None:
        """Fetch the jars, write the configuration, format the storage on first start."""
        libs = kafka_libs()
        java = require_tool("java", "install a Java 17+ runtime")
        data = self.workdir / "data"
        replicas = min(3, self.voters.count("@"))
        in_sync = 2 if replicas >= 3 else 1
        properties = self.workdir / "server.properties"
        properties.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    f"node.id={self.node_id}",
                    f"controller.quorum.voters={self.voters}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={data}",
                    "num.partitions=6",
                    "auto.create.topics.enable=true",
                    # Internal topics (and faust's) are replicated like the event topics: a
                    # single node has one replica, a cluster three with two in sync.
                    f"offsets.topic.replication.factor={replicas}",
                    "offsets.topic.num.partitions=6",
                    f"default.replication.factor={replicas}",
                    f"min.insync.replicas={in_sync}",
                    f"transaction.state.log.replication.factor={replicas}",
                    f"transaction.state.log.min.isr={in_sync}",
                    "transaction.state.log.num.partitions=6",
                    f"share.coordinator.state.topic.replication.factor={replicas}",
                    f"share.coordinator.state.topic.min.isr={in_sync}",
                    "group.initial.rebalance.delay.ms=0",
                    # Projections are rebuilt from the start of the topics: keep everything.
                    "log.retention.ms=-1",
                    "",
                ]
            )
        )
        (self.workdir / "log4j2.properties").write_text(
            "\n".join(
                [
                    "rootLogger.level = WARN",
                    "rootLogger.appenderRef.stdout.ref = STDOUT",
                    "appender.stdout.type = Console",
                    "appender.stdout.name = STDOUT",
                    "appender.stdout.layout.type = PatternLayout",
                    "appender.stdout.layout.pattern = [%d] %p %m (%c)%n",
                    "logger.server.name = kafka.server.KafkaRaftServer",
                    "logger.server.level = INFO",
                    "",
                ]
            )
        )
        if not (data / "meta.properties").exists():
            cluster_id = self.cluster_id or new_cluster_id()
            run_build(
                [
                    java,
                    "-cp",
                    f"{libs}/*",
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    cluster_id,
                    "-c",
                    str(properties),
                ],
                self.workdir,
                self.workdir / "format.log",
                "formatting Kafka storage",
            )

    def command(self) -> list[str]:
        """java … kafka.Kafka server.properties."""
        return [
            require_tool("java", "install a Java 17+ runtime"),
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={self.workdir / 'log4j2.properties'}",
            "-cp",
            f"{kafka_libs()}/*",
            "kafka.Kafka",
            str(self.workdir / "server.properties"),
        ]

    def ready(self) -> bool:
        """The broker answers a metadata request."""
        if not port_open(self.port):
            return False
        return asyncio.run(_kafka_metadata(self.bootstrap))


async def _kafka_metadata(bootstrap: str) -> bool:
    from aiokafka import AIOKafkaClient  # noqa: PLC0415 (keeps `ruta-local --help` fast)

    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
    try:
        await asyncio.wait_for(client.bootstrap(), 3)
        return bool(client.cluster.brokers())
    except Exception:
        return False
    finally:
        await client.close()


@dataclass
class KafkaCluster:
    """Kafka nodes from the same jars on different ports, each broker and controller, with a
    static quorum of all of them (three nodes: one may die and the cluster keeps working)."""

    nodes: list[KafkaServer] = field(default_factory=list)

    @classmethod
    def create(
        cls, workdir: Path, ports: list[tuple[int, int]], heap: str = "512m"
    ) -> KafkaCluster:
        """Nodes 1..n in workdir/kafka-<n>, on the given (client, controller) ports."""
        voters = ",".join(
            f"{number}@127.0.0.1:{controller}"
            for number, (_, controller) in enumerate(ports, start=1)
        )
        cluster_id = new_cluster_id()
        ids = workdir / "cluster.id"  # a restarted cluster keeps the id its storage has
        if ids.exists():
            cluster_id = ids.read_text().strip()
        return cls(
            [
                KafkaServer(
                    name=f"kafka-{number}",
                    workdir=workdir / f"kafka-{number}",
                    port=port,
                    controller_port=controller,
                    heap=heap,
                    node_id=number,
                    quorum_voters=voters,
                    cluster_id=cluster_id,
                )
                for number, (port, controller) in enumerate(ports, start=1)
            ]
        )

    @classmethod
    def on_free_ports(cls, workdir: Path, size: int = 3) -> KafkaCluster:
        """A cluster of `size` nodes on free ports (tests)."""
        return cls.create(workdir, [(free_port(), free_port()) for _ in range(size)])

    @property
    def bootstrap(self) -> str:
        """Every node's address: clients find the cluster through any that answers."""
        return ",".join(node.bootstrap for node in self.nodes)

    def start(self) -> list[bool]:
        """Start every node at once (none is ready before a quorum runs); True for each
        node started now."""
        cluster_id = self.nodes[0].cluster_id
        if cluster_id is not None:
            self.nodes[0].workdir.parent.mkdir(parents=True, exist_ok=True)
            (self.nodes[0].workdir.parent / "cluster.id").write_text(cluster_id)
        with ThreadPoolExecutor(max_workers=len(self.nodes)) as pool:
            return list(pool.map(KafkaServer.start, self.nodes))

    def stop(self) -> list[bool]:
        """Stop every node; True for each one that was running."""
        return [node.stop() for node in self.nodes]


@dataclass
class FerretDBServer(Server):
    """FerretDB v1 (MongoDB wire protocol) on its SQLite backend."""

    port: int = 27017
    ready_timeout: float = 30.0

    @property
    def url(self) -> str:
        """The MongoDB connection string."""
        return f"mongodb://127.0.0.1:{self.port}/"

    def ports(self) -> list[int]:
        """The wire-protocol port."""
        return [self.port]

    def prepare(self) -> None:
        """Build the binary (cached)."""
        ferretdb_binary()

    def command(self) -> list[str]:
        """ferretdb -listen-addr … -data-dir …."""
        return [
            str(ferretdb_binary()),
            "-listen-addr",
            f"127.0.0.1:{self.port}",
            "-data-dir",
            str(self.workdir / "data"),
            "-log-level",
            "warn",
        ]

    def ready(self) -> bool:
        """The server answers a ping."""
        if not port_open(self.port):
            return False
        from pymongo import MongoClient  # noqa: PLC0415

        client: MongoClient[dict[str, object]] = MongoClient(
            self.url, serverSelectionTimeoutMS=1000
        )
        try:
            client.admin.command("ping")
        except Exception:
            return False
        finally:
            client.close()
        return True


__all__ = [
    "DEPLOY_LOCAL",
    "REPO_ROOT",
    "FerretDBServer",
    "InfraError",
    "KafkaCluster",
    "KafkaServer",
    "Server",
    "cache_dir",
    "ferretdb_binary",
    "free_port",
    "kafka_libs",
    "new_cluster_id",
    "pid_alive",
    "port_open",
    "require_tool",
]
