"""Login throttling on the real server: no lockout by strangers, X-Forwarded-For only from proxies.

The issuer runs under uvicorn over real HTTP with `proxy_headers=False`, as the services
must run it: Ruta reads X-Forwarded-For itself, believing it only from
`RUTA_TRUSTED_PROXIES` (uvicorn's own handling would believe any local process).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pymongo import AsyncMongoClient
from ruta_local.infra import free_port
from ruta_shared.security.principal import Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.security.users import UserStore
from ruta_shared.service import create_service_app
from ruta_shared.settings import ServiceSettings
from ruta_shared.testing.leak_check import LeakChecker

pytestmark = pytest.mark.integration

Doc = dict[str, Any]
PASSWORD = "la-clave-correcta-de-la-duena"


class QuietServer(uvicorn.Server):
    """A uvicorn server run as a task of the test's loop (no signal handlers of its own)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def issuer(
    mongo_url: str, unique: str, keys: Path, **security: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """An app issuing tokens, served over HTTP on 127.0.0.1; a client of it."""
    settings = SecuritySettings(
        environment="test",
        key_dir=keys,
        auth_mongo_database=f"auth_{unique}",
        login_free_failures=1,
        login_base_delay_seconds=30,
        login_user_delay_max_seconds=0.3,
        **security,
    )
    app = create_service_app(
        ServiceSettings(
            environment="test",
            mongo_url=mongo_url,
            mongo_database=f"svc_{unique}",
            run_outbox_relay=False,
        ),
        title="t",
        description="d",
        security=settings,
        issue_tokens=True,
    )
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, proxy_headers=False, lifespan="on"
    )
    server = QuietServer(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield client
    finally:
        server.should_exit = True
        await task
        mongo: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url)
        await mongo.drop_database(f"auth_{unique}")
        await mongo.drop_database(f"svc_{unique}")
        await mongo.close()


async def attempt(
    client: httpx.AsyncClient, username: str, password: str, forwarded_for: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    form = {"grant_type": "password", "username": username, "password": password}
    return await client.post("/auth/token", data=form, headers=headers)


async def test_a_stranger_elsewhere_cannot_lock_the_owner_out(
    mongo_url: str, unique: str, tmp_path: Path
) -> None:
    async with issuer(
        mongo_url, unique, tmp_path / "keys", trusted_proxies=("127.0.0.1",)
    ) as client:
        client_db: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
        await UserStore(client_db[f"auth_{unique}"]).create(
            username="duena.rosa", password=PASSWORD, role=Role.COORDINATOR, offices=[]
        )
        await client_db.close()
        leaks = LeakChecker()
        leaks.add_needle("username", "duena.rosa")
        with leaks.capture_logs() as logs:
            # A stranger guesses from six addresses (behind the trusted proxy): each address
            # is refused after its first failure, even with the right password...
            for n in range(6):
                stranger = f"203.0.113.{n + 1}"
                assert (
                    await attempt(client, "duena.rosa", f"adivina-{n}", stranger)
                ).status_code == 400
                blocked = await attempt(client, "duena.rosa", PASSWORD, stranger)
                assert blocked.status_code == 429, blocked.text
                assert int(blocked.headers["Retry-After"]) > 0
            # ...while the owner, from her own address, gets in with her password at once
            # (slowed a little: six failures on her username from everywhere).
            owner = await attempt(client, "duena.rosa", PASSWORD, "198.51.100.20")
            assert owner.status_code == 200, owner.text
        text = logs.getvalue()
        assert text.count("login throttled") == 6
        assert "login delayed" in text
        leaks.assert_clean()
        # Her success forgets the failures on her username: her next login is not delayed.
        with leaks.capture_logs() as logs:
            assert (
                await attempt(client, "duena.rosa", PASSWORD, "198.51.100.20")
            ).status_code == 200
        assert "login delayed" not in logs.getvalue()


async def test_forwarded_for_counts_only_from_a_trusted_proxy(
    mongo_url: str, unique: str, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    # Nobody trusted: a local process writing X-Forwarded-For is still one address (its own),
    # so inventing a new address per attempt does not escape the per-address limit (5 here).
    async with issuer(mongo_url, unique, keys, trusted_proxies=()) as client:
        answers = [
            (await attempt(client, f"nadie-{n}", "x", f"192.0.2.{n}")).status_code for n in range(6)
        ]
    assert answers == [400] * 5 + [429]
    # 127.0.0.1 trusted (the dashboard's login proxy): each browser address counts apart.
    async with issuer(mongo_url, f"{unique}b", keys, trusted_proxies=("127.0.0.1",)) as client:
        answers = [
            (await attempt(client, f"nadie-{n}", "x", f"192.0.2.{n}")).status_code for n in range(6)
        ]
        assert answers == [400] * 6
        # A client cannot hide behind addresses it writes to the left of the proxy's entry.
        forged = [
            (await attempt(client, f"otro-{n}", "x", f"10.0.0.{n}, 192.0.2.99")).status_code
            for n in range(6)
        ]
    assert forged == [400] * 5 + [429]
