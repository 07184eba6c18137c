"""The whole local stack: Kafka, FerretDB, four services, the analytics consumer, the console."""

from __future__ import annotations

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


def kafka() -> KafkaServer:
    """The local stack's Kafka node."""
    return KafkaServer(
        name="kafka",
        workdir=STATE_DIR / "kafka",
        port=9092 + PORT_OFFSET,
        controller_port=9093 + PORT_OFFSET,
    )


def ferretdb() -> FerretDBServer:
    """The local stack's FerretDB."""
    return FerretDBServer(name="ferretdb", workdir=STATE_DIR / "ferretdb", port=27017 + PORT_OFFSET)


def stack_environment(kafka_server: KafkaServer, mongo: FerretDBServer) -> dict[str, str]:
    """Environment every service of the local stack runs with."""
    return {
        **os.environ,
        "RUTA_ENVIRONMENT": os.environ.get("RUTA_ENVIRONMENT", "local"),
        "RUTA_KAFKA_BOOTSTRAP_SERVERS": kafka_server.bootstrap,
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

    def start(self) -> bool:
        """Start with the stack's environment."""
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.env or saved)
        try:
            return super().start()
        finally:
            os.environ.clear()
            os.environ.update(saved)


def service_processes(kafka_server: KafkaServer, mongo: FerretDBServer) -> list[ServiceProcess]:
    """The four services and the analytics consumer, in start order."""
    env = stack_environment(kafka_server, mongo)
    processes = [
        ServiceProcess(
            name=name,
            workdir=STATE_DIR / "services",
            module=f"ruta_{name}.main",
            port=port,
            env={**env, "RUTA_PORT": str(port)},
        )
        for name, port in SERVICES.items()
    ]
    processes.append(
        ServiceProcess(
            name="analytics-consumer",
            workdir=STATE_DIR / "services",
            module="ruta_analytics.workers.consumer",
            port=CONSUMER_WEB_PORT,
            health_path="/",
            env={
                **env,
                "RUTA_FAUST_DATA_DIR": str(STATE_DIR / "faust"),
                "RUTA_FAUST_WEB_PORT": str(CONSUMER_WEB_PORT),
            },
            ready_timeout=120.0,
        )
    )
    return processes


def _say(line: str) -> None:
    print(line, flush=True)


def infra_up() -> tuple[KafkaServer, FerretDBServer]:
    """Start Kafka and FerretDB (harmless when they already run)."""
    kafka_server, mongo = kafka(), ferretdb()
    for server in (kafka_server, mongo):
        started = time.monotonic()
        fresh = server.start()
        verb = "started" if fresh else "already running"
        _say(f"{server.name:<19} {verb} in {time.monotonic() - started:5.1f}s")
    return kafka_server, mongo


def up() -> None:
    """Start everything and print where each part is."""
    kafka_server, mongo = infra_up()
    processes = service_processes(kafka_server, mongo)
    for process in processes:
        started = time.monotonic()
        fresh = process.start()
        verb = "started" if fresh else "already running"
        _say(f"{process.name:<19} {verb} in {time.monotonic() - started:5.1f}s")
    _say("")
    _say(where(kafka_server, mongo, processes))


def where(kafka_server: KafkaServer, mongo: FerretDBServer, processes: list[ServiceProcess]) -> str:
    """A table of the parts, their addresses and logs."""
    rows = [
        ("Kafka", kafka_server.bootstrap, kafka_server.log_path),
        ("FerretDB (MongoDB)", mongo.url, mongo.log_path),
    ]
    for process in processes:
        address = f"http://127.0.0.1:{process.port}"
        if process.name == "console":
            address += "  (open it in a browser)"
        elif process.name in SERVICES:
            address += "  (docs: /docs, health: /healthz, metrics: /metrics)"
        rows.append((process.name, address, process.log_path))
    width = max(len(name) for name, _, _ in rows)
    lines = [
        f"{name:<{width}}  {address}\n{'':<{width}}  log: {log}" for name, address, log in rows
    ]
    return "\n".join(lines) + f"\nData and logs: {STATE_DIR}"


def down() -> None:
    """Stop everything that runs."""
    kafka_server, mongo = kafka(), ferretdb()
    for server in [*reversed(service_processes(kafka_server, mongo)), mongo, kafka_server]:
        stopped = server.stop()
        _say(f"{server.name:<19} {'stopped' if stopped else 'not running'}")


def status() -> int:
    """Print each part's state; 0 when all run and answer."""
    kafka_server, mongo = kafka(), ferretdb()
    healthy = True
    for server in [kafka_server, mongo, *service_processes(kafka_server, mongo)]:
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


__all__ = ["InfraError", "down", "infra_up", "status", "up"]
