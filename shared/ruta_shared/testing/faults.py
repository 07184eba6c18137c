"""Fault drills for tests: an intake process to kill, keyed case openings under load, recounts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ruta_shared.events import EventEnvelope
from ruta_shared.security.principal import Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.testing.kafka import read_topic, wait_for
from ruta_shared.testing.tokens import bearer
from ruta_shared.topics import INTAKE_EVENTS

SUCCESS = (200, 201)


@dataclass
class ServiceProcess:
    """A service under uvicorn in its own process (so that a test can SIGKILL it)."""

    app: str  # "ruta_intake.main:create_app"
    port: int
    env: Mapping[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        """The service's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        """Start the process and wait until /healthz answers."""
        command = [sys.executable, "-m", "uvicorn", self.app, "--factory", "--host", "127.0.0.1"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and app)
                [*command, "--port", str(self.port), "--log-level", "warning"],
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                msg = f"{self.app} exited at start: {self.log_path.read_text()[-2000:]}"
                raise RuntimeError(msg)
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.25)
        msg = f"{self.app} did not answer /healthz in {timeout}s"
        raise RuntimeError(msg)

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing is flushed, nothing is released."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after 20 s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON log lines the process wrote (other lines skipped)."""
        lines = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    lines.append(record)
        return lines


def service_env(
    *, kafka: str, mongo_url: str, database: str, key_dir: Path, auth_database: str, **extra: str
) -> dict[str, str]:
    """RUTA_* variables for a service process on the given servers (test environment)."""
    env = {
        "RUTA_ENVIRONMENT": "test",
        "RUTA_KAFKA_BOOTSTRAP_SERVERS": kafka,
        "RUTA_MONGO_URL": mongo_url,
        "RUTA_MONGO_DATABASE": database,
        "RUTA_KEY_DIR": str(key_dir),
        "RUTA_AUTH_MONGO_DATABASE": auth_database,
        "RUTA_OUTBOX_POLL_INTERVAL_SECONDS": "0.2",
        "RUTA_LOG_LEVEL": "INFO",
    }
    env.update({f"RUTA_{name.upper()}": value for name, value in extra.items()})
    return env


def intake_process(
    *, kafka: str, mongo_url: str, workdir: Path, database: str, port: int, **settings: str
) -> tuple[ServiceProcess, dict[str, str]]:
    """An intake process (not started) on the given servers, and a case worker's token for it."""
    key_dir = workdir / "keys"
    process = ServiceProcess(
        app="ruta_intake.main:create_app",
        port=port,
        env=service_env(
            kafka=kafka,
            mongo_url=mongo_url,
            database=database,
            key_dir=key_dir,
            auth_database=f"auth_{database}",
            **settings,
        ),
        log_path=workdir / "intake.log",
    )
    security = SecuritySettings(environment="test", key_dir=key_dir)
    return process, bearer(security, Role.CASE_WORKER)


def case_body(number: int) -> dict[str, Any]:
    """A case with one victim whose document number is unique to `number` (synthetic data)."""
    return {
        "office": "lima",
        "crime_types": ["trafficking"],
        "exploitation_purposes": ["labour"],
        "region_of_exploitation": "17",
        "arrival_channel": "institution_referral",
        "referring_institution_kind": "prosecutor",
        "victims": [
            {
                "sex": "female" if number % 2 else "male",
                "nationality": "PE",
                "region_of_origin": "16",
                "personal_data": {
                    "given_names": "Persona",
                    "family_names": f"Sintetica {number}",
                    "document_type": "dni",
                    "document_number": f"{70_000_000 + number:08d}",
                    "birth_date": "2010-03-04",
                },
            }
        ],
    }


@dataclass
class Attempt:
    """One keyed POST: its key and body, every answer it got (None: no answer), latencies."""

    key: str
    body: dict[str, Any]
    statuses: list[int | None] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    retry_after: list[str] = field(default_factory=list)
    refusals: list[Any] = field(default_factory=list)  # bodies of 4xx answers
    case_id: str | None = None

    @property
    def succeeded(self) -> bool:
        """The last answer was a 2xx."""
        return bool(self.statuses) and self.statuses[-1] in SUCCESS


async def post_once(client: httpx.AsyncClient, attempt: Attempt, headers: dict[str, str]) -> None:
    """POST /cases with the attempt's key and body; record what came back."""
    started = time.monotonic()
    try:
        response = await client.post(
            "/cases", json=attempt.body, headers={**headers, "Idempotency-Key": attempt.key}
        )
    except httpx.HTTPError:
        attempt.statuses.append(None)
        attempt.latencies.append(time.monotonic() - started)
        return
    attempt.statuses.append(response.status_code)
    attempt.latencies.append(time.monotonic() - started)
    if "Retry-After" in response.headers:
        attempt.retry_after.append(response.headers["Retry-After"])
    if response.status_code in SUCCESS:
        attempt.case_id = response.json()["case_id"]
    elif 400 <= response.status_code < 500:
        attempt.refusals.append(response.json())


async def load(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    prefix: str,
    stop: asyncio.Event,
    concurrency: int = 4,
    pause: float = 0.0,
) -> list[Attempt]:
    """Open cases with fresh keys from `concurrency` clients until `stop` is set."""
    attempts: list[Attempt] = []

    async def worker(number: int) -> None:
        while not stop.is_set():
            n = len(attempts)
            attempt = Attempt(key=f"{prefix}-{number}-{n:06d}", body=case_body(n))
            attempts.append(attempt)
            await post_once(client, attempt, headers)
            await asyncio.sleep(pause)

    await asyncio.gather(*(worker(number) for number in range(concurrency)))
    return attempts


async def retry_until_done(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    attempts: list[Attempt],
    *,
    timeout: float = 120.0,
) -> None:
    """Retry every attempt without a 2xx with its own key and body until it gets one."""
    deadline = time.monotonic() + timeout
    for attempt in attempts:
        while not attempt.succeeded and time.monotonic() < deadline:
            await post_once(client, attempt, headers)
            if not attempt.succeeded:
                wait = float(attempt.retry_after[-1]) if attempt.retry_after else 0.5
                await asyncio.sleep(min(wait, 2.0))


async def opened_events(kafka: str, topic: str, case_ids: set[str]) -> dict[str, set[str]]:
    """Distinct `case.opened` event ids on `topic` per case among `case_ids`."""
    found: dict[str, set[str]] = {}
    for record in await read_topic(kafka, topic, timeout=60.0, idle=3.0):
        if record.value is None:
            continue
        envelope = EventEnvelope.model_validate_json(record.value)
        if envelope.type == "case.opened" and envelope.subject in case_ids:
            found.setdefault(envelope.subject, set()).add(str(envelope.id))
    return found


async def check_opened_once(db: Any, kafka: str, attempts: list[Attempt]) -> set[str]:
    """Every attempt opened one case, stored once and announced by one `case.opened`."""
    case_ids = {a.case_id for a in attempts if a.case_id is not None}
    assert len(case_ids) == len(attempts), "an attempt has no case, or two share one"
    stored = {doc["_id"] for doc in await db.cases.find({}, {"_id": 1}).to_list()}
    assert stored == case_ids, "the stored cases are not the answered ones"
    assert await db.idempotency_keys.count_documents({"state": {"$ne": "done"}}) == 0

    async def drained() -> bool:
        return bool(await db.cases.count_documents({"_outbox_pending": True}) == 0)

    await wait_for(drained, timeout=60)
    events = await opened_events(kafka, INTAKE_EVENTS, case_ids)
    assert set(events) == case_ids, "a case has no case.opened event"
    assert all(len(ids) == 1 for ids in events.values()), "a case was opened twice"
    return case_ids
