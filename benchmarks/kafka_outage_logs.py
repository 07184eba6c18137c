"""Benchmark: WARNING/ERROR lines of intake, referrals and the analytics consumer without Kafka.

Starts its own Kafka node and FerretDB on free ports (127.0.0.1), then intake
(`python -m ruta_intake.main`), referrals (`python -m ruta_referrals.main`, reading intake's
events) and the analytics faust worker as subprocesses. A trickle of case openings goes to
intake (which referrals and the consumer consume) and of route-stage entries (on one of
those cases) to referrals; after a warm-up Kafka is stopped for --outage seconds (default
60), started again, and the script waits until both outboxes have drained. It prints, per
process, the WARNING/ERROR lines logged from the stop until then, and the most frequent.

    uv run python benchmarks/kafka_outage_logs.py [--outage 60] [--warmup 20]

Progress goes to stderr; the figures to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient
from ruta_local.infra import FerretDBServer, KafkaServer, free_port
from ruta_shared.security.settings import SecuritySettings
from support import Child, case_body, case_worker_token, note, say, wait_ready

Doc = dict[str, Any]
LOUD = ("WARNING", "ERROR", "CRITICAL")


def level_of(line: str) -> str | None:
    """The level of a log line: ours are JSON; anything else (faust's own) by its text."""
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if isinstance(record, dict):
        return str(record.get("level"))
    return next((word for word in LOUD if word in line), None)


def loud_lines(path: Path, start: int) -> list[str]:
    """The WARNING/ERROR/CRITICAL lines of a log file from line `start` on."""
    lines = path.read_text(errors="replace").splitlines()[start:]
    return [line for line in lines if level_of(line) in LOUD]


def outage_lines(path: Path, start: int) -> dict[str, int]:
    """How often the process said Kafka went away and came back (`ruta_shared.outage_log`)."""
    counts = dict.fromkeys(
        ("kafka unreachable", "kafka still unreachable", "kafka reachable again"), 0
    )
    for line in path.read_text(errors="replace").splitlines()[start:]:
        try:
            message = json.loads(line).get("message")
        except (ValueError, AttributeError):
            continue
        if message in counts:
            counts[message] += 1
    return counts


def summary(lines: list[str]) -> tuple[Counter[str], Counter[str]]:
    """Lines per level and the most frequent (logger, message) of loud lines."""
    levels: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    for line in lines:
        levels[str(level_of(line))] += 1
        try:
            record = json.loads(line)
            messages[f"{record.get('logger')}: {str(record.get('message'))[:90]}"] += 1
        except ValueError:
            messages[line[:110]] += 1
    return levels, messages


def children(kafka: str, mongo_url: str, root: Path, unique: str) -> dict[str, Child]:
    """Intake, referrals and the analytics worker, not started."""
    common = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "RUTA_ENVIRONMENT": "test",
        "RUTA_KAFKA_BOOTSTRAP_SERVERS": kafka,
        "RUTA_MONGO_URL": mongo_url,
        "RUTA_LOG_LEVEL": "INFO",
        "RUTA_KEY_DIR": str(root / "keys"),
        "RUTA_AUTH_MONGO_DATABASE": f"bench_auth_{unique}",
        "RUTA_HOST": "127.0.0.1",
    }
    intake_port = free_port()
    return {
        "intake": Child(
            "intake",
            [sys.executable, "-m", "ruta_intake.main"],
            {
                **common,
                "RUTA_PORT": str(intake_port),
                "RUTA_MONGO_DATABASE": f"bench_intake_{unique}",
            },
            root / "intake.log",
        ),
        "referrals": Child(
            "referrals",
            [sys.executable, "-m", "ruta_referrals.main"],
            {
                **common,
                "RUTA_PORT": str(free_port()),
                "RUTA_MONGO_DATABASE": f"bench_referrals_{unique}",
                "RUTA_INTAKE_URL": f"http://127.0.0.1:{intake_port}",
            },
            root / "referrals.log",
        ),
        "analytics consumer": Child(
            "analytics consumer",
            [
                sys.executable,
                "-m",
                "ruta_analytics.workers.consumer",
                "worker",
                "--loglevel",
                "warn",
            ],
            {
                **common,
                "RUTA_MONGO_DATABASE": f"bench_analytics_{unique}",
                "RUTA_FAUST_APP_ID": f"bench-analytics-{unique}",
                "RUTA_FAUST_DATA_DIR": str(root / "faust"),
                "RUTA_FAUST_WEB_PORT": str(free_port()),
            },
            root / "consumer.log",
        ),
    }


async def trickle(
    url: str,
    path: Callable[[], str],
    headers: dict[str, str],
    body: Callable[[], Doc],
    *,
    stop: asyncio.Event,
    opened: list[str] | None = None,
) -> Counter[int | None]:
    """POST every 0.5 s until `stop`; the answers by status (None: no answer)."""
    answers: Counter[int | None] = Counter()
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while not stop.is_set():
            try:
                response = await client.post(path(), json=body(), headers=headers)
                answers[response.status_code] += 1
                if opened is not None and response.status_code == 201:
                    opened.append(response.json()["case_id"])
            except httpx.HTTPError:
                answers[None] += 1
            await asyncio.sleep(0.5)
    return answers


def stage_entry() -> Doc:
    """A route stage entered today (a referrals write with its event)."""
    today = datetime.now(UTC).date().isoformat()
    return {"stage": "shelter", "institution_kind": "shelter_car", "entered_on": today}


async def known_case(url: str, headers: dict[str, str], opened: list[str]) -> str:
    """A case intake opened that referrals has projected from its events."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        for _ in range(240):
            if opened:
                case_id = opened[0]
                if (await client.get(f"/cases/{case_id}/stages", headers=headers)).is_success:
                    return case_id
            await asyncio.sleep(0.5)
    msg = "referrals never learnt of a case intake opened"
    raise RuntimeError(msg)


async def drained(mongo: AsyncMongoClient[Doc], outboxes: list[tuple[str, str]]) -> float:
    """Seconds until no (database, collection) has pending events (at most 180 s)."""
    started = time.monotonic()
    while time.monotonic() - started < 180:
        pending = [
            await mongo[db][name].count_documents({"_outbox_pending": True})
            for db, name in outboxes
        ]
        if not any(pending):
            break
        await asyncio.sleep(0.5)
    return time.monotonic() - started


async def run(kafka: KafkaServer, mongo_url: str, root: Path, args: argparse.Namespace) -> None:
    """Start the three processes, load them, stop Kafka, start it again, count log lines."""
    unique = uuid.uuid4().hex[:8]
    security = SecuritySettings(environment="test", key_dir=root / "keys")
    headers = {"Authorization": f"Bearer {case_worker_token(security)}"}
    procs = children(kafka.bootstrap, mongo_url, root, unique)
    urls = {
        name: f"http://127.0.0.1:{procs[name].env['RUTA_PORT']}" for name in ("intake", "referrals")
    }
    mongo: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    stop = asyncio.Event()
    try:
        for child in procs.values():
            child.start()
        await wait_ready(f"{urls['intake']}/readyz", procs["intake"], 120)
        await wait_ready(f"{urls['referrals']}/readyz", procs["referrals"], 120)
        web = procs["analytics consumer"].env["RUTA_FAUST_WEB_PORT"]
        await wait_ready(f"http://127.0.0.1:{web}/healthz", procs["analytics consumer"], 180)
        opened: list[str] = []
        cases = trickle(
            urls["intake"], lambda: "/cases", headers, case_body, stop=stop, opened=opened
        )
        loads = [asyncio.create_task(cases)]
        case_id = await known_case(urls["referrals"], headers, opened)
        stages = trickle(
            urls["referrals"], lambda: f"/cases/{case_id}/stages", headers, stage_entry, stop=stop
        )
        loads.append(asyncio.create_task(stages))
        note(f"all up; warming up {args.warmup:.0f} s under a trickle ...")
        await asyncio.sleep(args.warmup)
        marks = {
            name: len(c.log_path.read_text(errors="replace").splitlines())
            for name, c in procs.items()
        }
        note(f"stopping Kafka for {args.outage:.0f} s ...")
        await asyncio.to_thread(kafka.stop)
        await asyncio.sleep(args.outage)
        await asyncio.to_thread(kafka.start)
        note("Kafka started again; waiting for the outboxes to drain ...")
        outboxes = [
            (procs["intake"].env["RUTA_MONGO_DATABASE"], "cases"),
            (procs["referrals"].env["RUTA_MONGO_DATABASE"], "case_routes"),
        ]
        took = await drained(mongo, outboxes)
        await asyncio.sleep(10)  # consumers rejoin their groups and report the end
        stop.set()
        answers = [await task for task in loads]
        say(
            f"Kafka stopped {args.outage:.0f} s under a trickle (2 POST/s to intake and "
            f"referrals); the backlogs drained {took:.0f} s after the restart"
        )
        say(f"answers: intake {dict(answers[0])}, referrals {dict(answers[1])}")
        for name, child in procs.items():
            lines = loud_lines(child.log_path, marks[name])
            levels, messages = summary(lines)
            said = outage_lines(child.log_path, marks[name])
            say(
                f"{name}: {len(lines)} WARNING+ lines {dict(levels)}; outage start/end lines "
                f"{said}; alive={child.alive()}"
            )
            for message, count in messages.most_common(args.top):
                say(f"  {count:6d}  {message}")
    finally:
        stop.set()
        for child in procs.values():
            child.stop()
        await mongo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=60.0, help="seconds without Kafka")
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds before the stop")
    parser.add_argument("--top", type=int, default=8, help="messages listed per process")
    args = parser.parse_args()
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
            asyncio.run(run(kafka, ferret.url, root, args))
        finally:
            kafka.stop()
            ferret.stop()


if __name__ == "__main__":
    main()
