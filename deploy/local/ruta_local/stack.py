"""The whole local stack: Kafka, FerretDB, four services, the analytics consumer, the console."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ruta_local.infra import (
    REPO_ROOT,
    FerretDBServer,
    InfraError,
    KafkaCluster,
    KafkaServer,
    Server,
    port_open,
)

STATE_DIR = Path(os.environ.get("RUTA_LOCAL_DIR", REPO_ROOT / ".local"))
# Shifts every port of the stack, so a second stack (a test of this command) can run beside one.
PORT_OFFSET = int(os.environ.get("RUTA_LOCAL_PORT_OFFSET", "0"))

SERVICES = {
    name: port + PORT_OFFSET
    for name, port in {
        "intake": 8001,
        "referrals": 8002,
        "training": 8003,
        "analytics": 8004,
        "console": 8005,  # the web console: it calls the four services above
    }.items()
}
CONSUMER_WEB_PORT = 6066 + PORT_OFFSET
REPLICA_PORT_STEP = 10  # replica n of a service listens on its port + 10 * (n - 1)
SCALED = ("intake", "referrals", "training", "analytics")  # one console is enough locally
LAYOUT_FILE = STATE_DIR / "stack.json"


@dataclass(frozen=True)
class Layout:
    """How many Kafka nodes and replicas of each service the stack runs (kept in stack.json,
    so `down` and `status` find what `up` started)."""

    brokers: int = 1
    replicas: int = 1

    def save(self) -> None:
        """Remember this layout for the next commands."""
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        LAYOUT_FILE.write_text(json.dumps({"brokers": self.brokers, "replicas": self.replicas}))

    @classmethod
    def load(cls) -> Layout:
        """The layout `up` last started (one node, one replica when none was saved)."""
        try:
            saved = json.loads(LAYOUT_FILE.read_text())
        except (OSError, ValueError):
            return cls()
        return cls(brokers=int(saved["brokers"]), replicas=int(saved["replicas"]))


def kafka(layout: Layout | None = None) -> list[KafkaServer]:
    """The local stack's Kafka nodes: one, or a cluster on ports 9092, 9094, 9096, ..."""
    brokers = (layout or Layout.load()).brokers
    if brokers == 1:
        return [
            KafkaServer(
                name="kafka",
                workdir=STATE_DIR / "kafka",
                port=9092 + PORT_OFFSET,
                controller_port=9093 + PORT_OFFSET,
            )
        ]
    ports = [(9092 + PORT_OFFSET + 2 * n, 9093 + PORT_OFFSET + 2 * n) for n in range(brokers)]
    return KafkaCluster.create(STATE_DIR / "kafka-cluster", ports).nodes


def bootstrap(nodes: list[KafkaServer]) -> str:
    """The bootstrap servers string of the nodes."""
    return ",".join(node.bootstrap for node in nodes)


def ferretdb() -> FerretDBServer:
    """The local stack's FerretDB."""
    return FerretDBServer(name="ferretdb", workdir=STATE_DIR / "ferretdb", port=27017 + PORT_OFFSET)


def kafka_environment(brokers: int) -> dict[str, str]:
    """The topic layout for `brokers` nodes: three replicas, two in sync, on a cluster."""
    if brokers < 3:
        return {}
    return {"RUTA_KAFKA_REPLICATION_FACTOR": "3", "RUTA_KAFKA_MIN_INSYNC_REPLICAS": "2"}


def stack_environment(nodes: list[KafkaServer], mongo: FerretDBServer) -> dict[str, str]:
    """Environment every service of the local stack runs with."""
    return {
        **os.environ,
        "RUTA_ENVIRONMENT": os.environ.get("RUTA_ENVIRONMENT", "local"),
        "RUTA_KAFKA_BOOTSTRAP_SERVERS": bootstrap(nodes),
        **kafka_environment(len(nodes)),
        "RUTA_MONGO_URL": mongo.url,
        # Local keys (token signing, field encryption) generated once, shared by every service.
        "RUTA_KEY_DIR": os.environ.get("RUTA_KEY_DIR", str(STATE_DIR / "keys")),
        # Where the console finds each service (the services themselves ignore these).
        **{
            f"RUTA_{name.upper()}_URL": f"http://127.0.0.1:{port}"
            for name, port in SERVICES.items()
            if name != "console"
        },
    }


@dataclass
class ServiceProcess(Server):
    """A Ruta service (uvicorn) or the analytics consumer, run from this environment."""

    module: str = ""
    port: int = 0
    health_path: str = "/healthz"
    env: dict[str, str] | None = None
    ready_timeout: float = 60.0

    def ports(self) -> list[int]:
        """The HTTP port."""
        return [self.port]

    def command(self) -> list[str]:
        """python -m <module>."""
        return [sys.executable, "-m", self.module]

    def ready(self) -> bool:
        """The health endpoint answers 200."""
        if not port_open(self.port):
            return False
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}{self.health_path}", timeout=2
            ) as response:
                return int(response.status) == 200
        except (urllib.error.URLError, OSError):
            return False

    def environment(self) -> dict[str, str] | None:
        """The stack's environment (given per process, so several can start at once)."""
        return self.env


def _replica_name(name: str, replica: int) -> str:
    return name if replica == 1 else f"{name}-{replica}"


def service_processes(
    nodes: list[KafkaServer], mongo: FerretDBServer, replicas: int = 1
) -> list[ServiceProcess]:
    """The services (`replicas` of each but the console) and as many analytics consumers
    (one consumer group), in start order."""
    env = stack_environment(nodes, mongo)
    processes = [
        ServiceProcess(
            name=_replica_name(name, replica),
            workdir=STATE_DIR / "services",
            module=f"ruta_{name}.main",
            port=port + REPLICA_PORT_STEP * (replica - 1),
            env={**env, "RUTA_PORT": str(port + REPLICA_PORT_STEP * (replica - 1))},
        )
        for replica in range(1, replicas + 1)
        for name, port in SERVICES.items()
        if replica == 1 or name in SCALED
    ]
    for replica in range(1, replicas + 1):
        web_port = CONSUMER_WEB_PORT + replica - 1
        processes.append(
            ServiceProcess(
                name=_replica_name("analytics-consumer", replica),
                workdir=STATE_DIR / "services",
                module="ruta_analytics.workers.consumer",
                port=web_port,
                health_path="/",
                env={
                    **env,
                    "RUTA_FAUST_DATA_DIR": str(STATE_DIR / _replica_name("faust", replica)),
                    "RUTA_FAUST_WEB_PORT": str(web_port),
                },
                ready_timeout=120.0,
            )
        )
    return processes


def _say(line: str) -> None:
    print(line, flush=True)


def infra_up(layout: Layout | None = None) -> tuple[list[KafkaServer], FerretDBServer]:
    """Start Kafka and FerretDB (harmless when they already run)."""
    nodes, mongo = kafka(layout), ferretdb()
    started = time.monotonic()
    fresh = KafkaCluster(nodes).start()  # a cluster's nodes start together
    for node, node_fresh in zip(nodes, fresh, strict=True):
        verb = "started" if node_fresh else "already running"
        _say(f"{node.name:<19} {verb} in {time.monotonic() - started:5.1f}s")
    started = time.monotonic()
    verb = "started" if mongo.start() else "already running"
    _say(f"{mongo.name:<19} {verb} in {time.monotonic() - started:5.1f}s")
    return nodes, mongo


def up(layout: Layout | None = None) -> None:
    """Start everything (`layout`: Kafka nodes and replicas) and print where each part is."""
    layout = layout or Layout.load()
    running = Layout.load()
    if (
        LAYOUT_FILE.exists()
        and running != layout
        and any(server.pid() for server in _everything(running))
    ):
        msg = (
            f"ruta-local: the stack runs with {running.brokers} Kafka node(s) and "
            f"{running.replicas} replica(s); run `ruta-local down` first"
        )
        raise InfraError(msg)
    layout.save()
    nodes, mongo = infra_up(layout)
    processes = service_processes(nodes, mongo, layout.replicas)
    for process in processes:
        started = time.monotonic()
        fresh = process.start()
        verb = "started" if fresh else "already running"
        _say(f"{process.name:<19} {verb} in {time.monotonic() - started:5.1f}s")
    _say("")
    _say(where(nodes, mongo, processes))


def where(nodes: list[KafkaServer], mongo: FerretDBServer, processes: list[ServiceProcess]) -> str:
    """A table of the parts, their addresses and logs."""
    rows = [(f"Kafka ({node.name})", node.bootstrap, node.log_path) for node in nodes]
    rows.append(("FerretDB (MongoDB)", mongo.url, mongo.log_path))
    for process in processes:
        address = f"http://127.0.0.1:{process.port}"
        if process.name == "console":
            address += "  (open it in a browser)"
        elif process.module.endswith(".main"):  # a service (any replica), not a consumer
            address += "  (docs: /docs, health: /healthz, metrics: /metrics)"
        rows.append((process.name, address, process.log_path))
    width = max(len(name) for name, _, _ in rows)
    lines = [
        f"{name:<{width}}  {address}\n{'':<{width}}  log: {log}" for name, address, log in rows
    ]
    return "\n".join(lines) + f"\nData and logs: {STATE_DIR}"


def _everything(layout: Layout) -> list[Server]:
    """Every part of the stack in start order: Kafka, FerretDB, services, consumers."""
    nodes, mongo = kafka(layout), ferretdb()
    return [*nodes, mongo, *service_processes(nodes, mongo, layout.replicas)]


def down() -> None:
    """Stop everything that runs."""
    for server in reversed(_everything(Layout.load())):
        stopped = server.stop()
        _say(f"{server.name:<19} {'stopped' if stopped else 'not running'}")


def status() -> int:
    """Print each part's state; 0 when all run and answer."""
    healthy = True
    for server in _everything(Layout.load()):
        pid = server.pid()
        if pid is None:
            state = "stopped"
            healthy = False
        elif server.ready():
            state = f"running (pid {pid}), ready"
        else:
            state = f"running (pid {pid}), NOT answering"
            healthy = False
        _say(f"{server.name:<19} {state}")
    return 0 if healthy else 1


__all__ = ["InfraError", "Layout", "down", "infra_up", "status", "up"]
