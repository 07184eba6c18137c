"""Builds (cached) and runs the real local servers: Apache Kafka (KRaft) and FerretDB (SQLite)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

DEPLOY_LOCAL = Path(__file__).resolve().parents[1]
REPO_ROOT = DEPLOY_LOCAL.parents[1]
KAFKA_POM = DEPLOY_LOCAL / "kafka" / "pom.xml"
FERRETDB_MODULE = DEPLOY_LOCAL / "ferretdb"


class InfraError(RuntimeError):
    """A server could not be built, started or reached; the message says what to do."""


def cache_dir() -> Path:
    """Where downloads and builds are kept between runs (RUTA_CACHE_DIR, else ~/.cache/ruta)."""
    configured = os.environ.get("RUTA_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "ruta"


def require_tool(tool: str, hint: str) -> str:
    """The path of `tool`, or a one-line error naming what to install."""
    path = shutil.which(tool)
    if path is None:
        msg = f"ruta-local: '{tool}' was not found on PATH; {hint}"
        raise InfraError(msg)
    return path


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _run_build(command: list[str], cwd: Path, log_path: Path, what: str) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        result = subprocess.run(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        msg = (
            f"ruta-local: {what} failed (exit {result.returncode}); see {log_path}:\n"
            + "\n".join(tail)
        )
        raise InfraError(msg)


def kafka_libs() -> Path:
    """The Kafka broker's jars, fetched from Maven Central once per pom.xml version."""
    target = cache_dir() / "kafka" / _digest(KAFKA_POM) / "libs"
    if (target / ".complete").exists():
        return target
    require_tool(
        "java", "install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)"
    )
    mvn = require_tool("mvn", "install Apache Maven (Debian: apt-get install maven)")
    staging = target.with_name(f"libs.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    _run_build(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(KAFKA_POM),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ],
        DEPLOY_LOCAL / "kafka",
        target.parent / "mvn.log",
        "fetching Kafka from Maven Central",
    )
    (staging / ".complete").touch()
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


FERRETDB_PATCHES = FERRETDB_MODULE / "patches"
FERRETDB_PATH = "github.com/FerretDB/FerretDB"


def ferretdb_binary() -> Path:
    """FerretDB v1 built from the Go module proxy through our own module, once per go.sum.

    FerretDB's source is downloaded (and checked against go.sum) as a module, copied, patched
    with `deploy/local/ferretdb/patches/*.patch` and built through a `replace` in a copy of
    our go.mod, so the committed go.mod and go.sum stay those of the released v1.24.2.
    """
    patches = sorted(FERRETDB_PATCHES.glob("*.patch"))
    sources = [FERRETDB_MODULE / name for name in ("go.mod", "go.sum", "main.go")]
    target = cache_dir() / "ferretdb" / _digest(*sources, *patches) / "ferretdb"
    if target.exists():
        return target
    go = require_tool("go", "install Go 1.24+ (https://go.dev/doc/install or Debian's golang)")
    git = require_tool("git", "install git (it applies our patches to FerretDB's source)")
    work = target.with_name(f"build.{os.getpid()}.tmp")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env_build = ["env", "GOFLAGS=-mod=readonly", "CGO_ENABLED=0"]
    log = target.parent / "go-build.log"
    _run_build(
        [*env_build, go, "mod", "download", FERRETDB_PATH],
        FERRETDB_MODULE,
        log,
        "downloading FerretDB",
    )
    listed = subprocess.run(
        [*env_build, go, "mod", "download", "-json", FERRETDB_PATH],
        cwd=FERRETDB_MODULE,
        capture_output=True,
        check=True,
        text=True,
    )
    downloaded = json.loads(listed.stdout)
    source = work / "FerretDB"
    shutil.copytree(downloaded["Dir"], source)
    for path in source.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    for patch in patches:
        _run_build([git, "apply", "-p1", str(patch)], source, log, f"applying {patch.name}")
    modfile = work / "go.mod"
    modfile.write_text(
        (FERRETDB_MODULE / "go.mod").read_text() + f"\nreplace {FERRETDB_PATH} => {source}\n"
    )
    shutil.copyfile(FERRETDB_MODULE / "go.sum", work / "go.sum")
    staging = work / "ferretdb"
    _run_build(
        [*env_build, go, "build", "-trimpath", f"-modfile={modfile}", "-o", str(staging), "."],
        FERRETDB_MODULE,
        log,
        "building FerretDB",
    )
    staging.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    return target


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def pid_alive(pid: int) -> bool:
    """True when a process with this id exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


@dataclass
class Server:
    """A server process with its own folder: data/, a log file and a pid file."""

    name: str
    workdir: Path
    ready_timeout: float = 60.0
    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def log_path(self) -> Path:
        """Where the server's output goes."""
        return self.workdir / f"{self.name}.log"

    @property
    def pid_path(self) -> Path:
        """Where the running server's process id is kept."""
        return self.workdir / f"{self.name}.pid"

    def command(self) -> list[str]:
        """The command line that runs the server in the foreground."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Build or fetch what the server needs and write its configuration."""

    def ready(self) -> bool:
        """True when the server answers a real request."""
        raise NotImplementedError

    def ports(self) -> list[int]:
        """Ports the server listens on."""
        raise NotImplementedError

    def pid(self) -> int | None:
        """The recorded process id, if that process still runs."""
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def start(self) -> bool:
        """Start unless already running; wait until ready. True when it was started now."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.pid() is not None:
            self.wait_ready()
            return False
        busy = [port for port in self.ports() if port_open(port)]
        if busy:
            msg = f"ruta-local: cannot start {self.name}: port(s) {busy} in use by another process"
            raise InfraError(msg)
        self.prepare()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.pid_path.write_text(str(self.process.pid))
        self.wait_ready()
        return True

    def wait_ready(self) -> None:
        """Block until the server is ready, or fail with the end of its log."""
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.ready():
                return
            if self.pid() is None:
                msg = (
                    f"ruta-local: {self.name} exited during start; "
                    f"end of {self.log_path}:\n{self.log_tail()}"
                )
                raise InfraError(msg)
            time.sleep(0.25)
        msg = (
            f"ruta-local: {self.name} not ready after {self.ready_timeout:.0f}s; "
            f"end of {self.log_path}:\n{self.log_tail()}"
        )
        raise InfraError(msg)

    def stop(self, timeout: float = 20.0) -> bool:
        """Stop the server (SIGTERM, then SIGKILL). True when one was running."""
        pid = self.pid()
        if pid is None:
            self.pid_path.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.1)
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        self._reap(wait=True)
        self.pid_path.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """Kill the server at once, as a crash would."""
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            self._reap(wait=True)
        self.pid_path.unlink(missing_ok=True)

    def _reap(self, wait: bool = False) -> None:
        if self.process is not None:
            if wait:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=10)
            else:
                self.process.poll()

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server's log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class KafkaServer(Server):
    """One Apache Kafka node in KRaft mode (broker and controller), from Maven Central jars."""

    port: int = 9092
    controller_port: int = 9093
    heap: str = "768m"

    @property
    def bootstrap(self) -> str:
        """The bootstrap servers string clients use."""
        return f"127.0.0.1:{self.port}"

    def ports(self) -> list[int]:
        """Client and controller ports."""
        return [self.port, self.controller_port]

    def prepare(self) -> None:
        """Fetch the jars, write the configuration, format the storage on first start."""
        libs = kafka_libs()
        java = require_tool("java", "install a Java 17+ runtime")
        data = self.workdir / "data"
        properties = self.workdir / "server.properties"
        properties.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={data}",
                    "num.partitions=6",
                    "auto.create.topics.enable=true",
                    # One node: every internal topic has a single replica.
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=6",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "transaction.state.log.num.partitions=6",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
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
            cluster_id = "-"
            while cluster_id.startswith("-"):  # the storage tool would read it as an option
                cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            _run_build(
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
