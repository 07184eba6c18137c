"""Kafka stops under the analytics consumer: its /healthz says so, and its log stays short."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from ruta_local.infra import free_port
from ruta_local.pytest_plugin import start_kafka

pytestmark = pytest.mark.integration

# Bounded whatever the outage's length (before: about 7,000 lines in 76 s).
MAX_LINES = 15


async def health(port: int) -> tuple[int, dict[str, object]]:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"http://127.0.0.1:{port}/healthz")
        return response.status_code, response.json()


async def wait_health(port: int, status: int, timeout: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            code, body = await health(port)
            if code == status:
                return body
        await asyncio.sleep(1)
    msg = f"/healthz did not answer {status} within {timeout}s"
    raise AssertionError(msg)


def loud_lines(text: str) -> list[str]:
    """Lines at WARNING or above, JSON (ours) or not (anything that bypassed our handler)."""
    loud = []
    for line in text.splitlines():
        try:
            level = json.loads(line).get("level")
        except (ValueError, AttributeError):
            level = next((w for w in ("WARNING", "ERROR", "CRITICAL") if w in line), None)
        if level in {"WARNING", "ERROR", "CRITICAL"}:
            loud.append(line)
    return loud


async def test_consumer_health_names_kafka_and_its_log_stays_short(
    mongo_url: str, tmp_path: Path
) -> None:
    kafka = await asyncio.to_thread(start_kafka, tmp_path / "kafka")
    port = free_port()
    log_path = tmp_path / "consumer.log"
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",  # every line in the file as it is written
        "RUTA_ENVIRONMENT": "test",
        "RUTA_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
        "RUTA_MONGO_URL": mongo_url,
        "RUTA_MONGO_DATABASE": f"analytics_{uuid.uuid4().hex[:8]}",
        "RUTA_FAUST_DATA_DIR": str(tmp_path / "faust"),
        "RUTA_FAUST_WEB_PORT": str(port),
        "RUTA_FAUST_APP_ID": f"ruta-analytics-{uuid.uuid4().hex[:8]}",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: ASYNC220 (started once, not awaited)
            [sys.executable, "-m", "ruta_analytics.workers.consumer"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        await wait_health(port, 200, timeout=150)
        await asyncio.sleep(5)  # settled into its consumer group
        before = len(log_path.read_text(errors="replace").splitlines())
        await asyncio.to_thread(kafka.stop)
        down = await wait_health(port, 503, timeout=30)
        await asyncio.sleep(15)
        during = loud_lines("\n".join(log_path.read_text(errors="replace").splitlines()[before:]))
        await asyncio.to_thread(kafka.start)
        back = await wait_health(port, 200, timeout=90)
        print(f"\nconsumer WARNING/ERROR lines in ~20 s without Kafka: {len(during)}")
        print("\n".join(line[:200] for line in during))
        assert down["checks"] == {"kafka": "unavailable", "mongodb": "ok"}
        assert back["checks"] == {"kafka": "ok", "mongodb": "ok"}
        assert len(during) <= MAX_LINES, during[:40]
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        kafka.stop()
