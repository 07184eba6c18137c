"""The session and job stores on the session's FerretDB: what another replica reads back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from ruta_console.auth.models import Account
from ruta_console.auth.store import SessionStore, session_key
from ruta_console.jobs.runner import JobFailedError, Jobs, Progress
from ruta_console.jobs.store import DONE, FAILED, INTERRUPTED, RUNNING, FileRef, JobStore
from ruta_shared.security.principal import Role
from ruta_shared.testing.kafka import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
Doc = dict[str, Any]


@pytest.fixture
async def database(mongo_url: str) -> AsyncIterator[AsyncDatabase[Doc]]:
    """A database of its own, dropped afterwards."""
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    name = f"console_stores_{uuid.uuid4().hex[:10]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


def sessions(database: AsyncDatabase[Doc], max_sessions: int = 100) -> SessionStore:
    return SessionStore(database["sessions"], idle_seconds=600, max_sessions=max_sessions)


async def test_a_session_is_read_back_by_another_store(database: AsyncDatabase[Doc]) -> None:
    one, other = sessions(database), sessions(database)
    anonymous = await one.new()
    logged_in = await one.rotate(anonymous)
    assert await other.get(anonymous.id) is None  # rotated away: no fixation
    logged_in.token = "bearer-token-value"
    logged_in.expires_at = datetime.now(UTC) + timedelta(minutes=15)
    logged_in.account = Account("ana", "u-1", Role.COORDINATOR, ("lima", "cusco"))
    logged_in.flash("ok", "Bienvenida.")
    await one.save(logged_in)

    stored = await database["sessions"].find_one({"_id": session_key(logged_in.id)})
    assert stored is not None
    assert logged_in.id not in str(stored)
    assert "bearer-token-value" not in str(stored)
    assert logged_in.csrf not in str(stored)

    seen = await other.get(logged_in.id)
    assert seen is not None
    assert (seen.token, seen.csrf, seen.account) == (
        "bearer-token-value",
        logged_in.csrf,
        logged_in.account,
    )
    assert seen.take_flashes() == [("ok", "Bienvenida.")]
    await other.save(seen)
    again = await one.get(logged_in.id)
    assert again is not None
    assert again.flashes == []

    await other.drop(logged_in.id)
    assert await one.get(logged_in.id) is None


async def test_idle_and_ended_tokens_end_the_session(database: AsyncDatabase[Doc]) -> None:
    store = sessions(database)
    idle, ended = await store.new(), await store.new()
    past = datetime.now(UTC) - timedelta(hours=1)
    await database["sessions"].update_one(
        {"_id": session_key(idle.id)}, {"$set": {"seen_at": past}}
    )
    ended.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    await store.save(ended)
    assert await store.get(idle.id) is None
    assert await store.get(ended.id) is None
    assert await database["sessions"].count_documents({}) == 0  # deleted, not only refused


async def test_the_store_is_bounded(database: AsyncDatabase[Doc]) -> None:
    store = sessions(database, max_sessions=10)
    user = await store.new()
    user.account = Account("luis", "u-2", Role.CASE_WORKER, ("lima",))
    await store.save(user)
    for _ in range(12):
        await store.new()
    assert await database["sessions"].count_documents({}) <= 10
    assert await store.get(user.id) is not None  # unsent login forms went first


def jobs(database: AsyncDatabase[Doc], lease: float = 30.0) -> JobStore:
    return JobStore(database["jobs"], database["job_files"], lease_seconds=lease, keep_minutes=5)


async def test_a_job_reports_progress_files_and_result(database: AsyncDatabase[Doc]) -> None:
    runner, reader = Jobs(jobs(database)), jobs(database)
    release = asyncio.Event()
    ref = FileRef("tablas.csv", "ruta-informe-2026.csv", "text/csv", "Tablas (CSV)")

    async def work(progress: Progress) -> dict[str, Any]:
        await progress.step("Preparando: Tablas (CSV)", 1)
        await release.wait()
        await progress.keep(ref, b"a,b\n1,2\n")
        return {"rows_total": 2}

    job_id = await runner.start(kind="report", owner="u-1", title="T", total=2, back="/", work=work)

    async def stepped() -> bool:
        job = await reader.get(job_id, owner="u-1")
        return job is not None and job.done == 1

    await wait_for(stepped, timeout=10, interval=0.05)
    running = await reader.get(job_id, owner="u-1")
    assert running is not None
    assert running.state == RUNNING
    assert running.stage == "Preparando: Tablas (CSV)"
    assert await reader.get(job_id, owner="u-2") is None  # another user's job does not exist
    release.set()

    async def done() -> bool:
        job = await reader.get(job_id, owner="u-1")
        return job is not None and job.state == DONE

    await wait_for(done, timeout=10, interval=0.05)
    finished = await reader.get(job_id, owner="u-1")
    assert finished is not None
    assert finished.result == {"rows_total": 2}
    assert await reader.file(finished, "tablas.csv") == (ref, b"a,b\n1,2\n")
    assert await reader.file(finished, "otro.csv") is None


async def test_a_refused_job_fails_with_its_sentence(database: AsyncDatabase[Doc]) -> None:
    runner = Jobs(jobs(database))

    async def work(progress: Progress) -> None:
        raise JobFailedError("La hoja no tiene la columna «horas».")

    job_id = await runner.start(kind="import", owner="u-1", title="T", total=2, back="/", work=work)

    async def failed() -> bool:
        job = await runner.store.get(job_id, owner="u-1")
        return job is not None and job.state == FAILED

    await wait_for(failed, timeout=10, interval=0.05)
    job = await runner.store.get(job_id, owner="u-1")
    assert job is not None
    assert job.error == "La hoja no tiene la columna «horas»."


async def test_a_job_whose_process_died_fails_after_its_lease(
    database: AsyncDatabase[Doc],
) -> None:
    store = jobs(database, lease=0.3)
    # Created, then nobody renews it: its process died.
    job_id = await store.create(kind="report", owner="u-1", title="T", total=10, back="/")
    first = await store.get(job_id, owner="u-1")
    assert first is not None
    assert first.state == RUNNING

    async def given_up() -> bool:
        job = await store.get(job_id, owner="u-1")
        return job is not None and job.state == FAILED

    await wait_for(given_up, timeout=10, interval=0.1)
    await store.finish(job_id, result={"late": True})  # a process that comes back too late
    job = await store.get(job_id, owner="u-1")
    assert job is not None
    assert (job.state, job.error, job.result) == (FAILED, INTERRUPTED, None)
