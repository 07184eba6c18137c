"""What the benchmarks share: their own servers, child processes, tokens, request bodies, figures.

Every benchmark starts its own Kafka node and FerretDB on free ports in a temporary folder
(127.0.0.1 only) with `servers()`, and stops them at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from ruta_local.infra import FerretDBServer, KafkaServer, free_port
from ruta_shared.security.jwt import sign_token
from ruta_shared.security.keys import load_signing_keys
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings

Body = dict[str, Any]
MACHINE = "Kafka 4.1 (KRaft, one node), FerretDB 1.24 (SQLite)"


@dataclass(frozen=True)
class Servers:
    """The benchmark's own servers and temporary folder."""

    kafka: str  # bootstrap servers
    mongo_url: str
    root: Path


@contextlib.contextmanager
def servers() -> Iterator[Servers]:
    """Start Kafka and FerretDB on free ports in a temporary folder; stop them at the end."""
    with tempfile.TemporaryDirectory(prefix="ruta-bench-") as tmp:
        root = Path(tmp)
        kafka = KafkaServer(
            name="kafka", workdir=root / "kafka", port=free_port(), controller_port=free_port()
        )
        ferret = FerretDBServer(name="ferretdb", workdir=root / "ferretdb", port=free_port())
        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                for future in [pool.submit(kafka.start), pool.submit(ferret.start)]:
                    future.result()
            yield Servers(kafka=kafka.bootstrap, mongo_url=ferret.url, root=root)
        finally:
            kafka.stop()
            ferret.stop()


def say(text: str = "") -> None:
    """A result line on stdout, flushed at once (runs are long)."""
    print(text, flush=True)


def note(text: str) -> None:
    """A progress line on stderr."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of durations in seconds, in milliseconds."""
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def case_body() -> Body:
    """A realistic case with one minor victim and all her personal data (fresh DNI each time)."""
    dni = "".join(secrets.choice("0123456789") for _ in range(8))
    return {
        "office": "lima",
        "crime_types": ["trafficking", "csec"],
        "exploitation_purposes": ["sexual"],
        "region_of_exploitation": "17",
        "arrival_channel": "institution_referral",
        "referring_institution_kind": "prosecutor",
        "victims": [
            {
                "sex": "female",
                "nationality": "PE",
                "region_of_origin": "16",
                "indigenous_people": False,
                "personal_data": {
                    "given_names": "María Rosa",
                    "family_names": "Quispe Huamán",
                    "document_type": "dni",
                    "document_number": dni,
                    "birth_date": "2010-04-12",
                    "phone": "+51 987 654 321",
                    "address": "Jr. Los Pinos 123, Iquitos",
                    "notes": "Llegó derivada por la fiscalía.",
                },
            }
        ],
    }


def case_worker_token(security: SecuritySettings) -> str:
    """A signed case_worker token for the Lima office (keys created in key_dir if absent)."""
    return staff_token(security, Role.CASE_WORKER, "bench-worker")


def staff_token(security: SecuritySettings, role: Role, user_id: str) -> str:
    """A signed token of a Lima staff user of `role` (keys created in key_dir if absent)."""
    return sign_token(
        Principal(id=user_id, role=role, offices=frozenset({"lima"}), auth="password"),
        keys=load_signing_keys(security),
        issuer=security.jwt_issuer,
        audience=security.jwt_audience,
        lifetime=timedelta(hours=2),
    )


@dataclass
class Child:
    """A service run as a subprocess, with its log in the temporary folder."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the process, logging to its file."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def alive(self) -> bool:
        """Whether it still runs."""
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit within 20 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def tail(self) -> str:
        """The end of its log."""
        return self.log_path.read_text(errors="replace")[-4000:]


async def wait_ready(url: str, child: Child, timeout: float) -> None:
    """Wait until `url` answers 200 (the child must stay alive)."""
    deadline = time.perf_counter() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while time.perf_counter() < deadline:
            if not child.alive():
                msg = f"{child.name} exited:\n{child.tail()}"
                raise RuntimeError(msg)
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.25)
    msg = f"{child.name} not ready within {timeout:.0f}s:\n{child.tail()}"
    raise RuntimeError(msg)
