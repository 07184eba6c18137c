"""Two console replicas on one database: a login on one holds on the other; so does a logout."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from ruta_console.main import create_app
from ruta_console.settings import ConsoleSettings
from ruta_shared.security.principal import Role
from ruta_shared.security.users import UserStore
from ruta_shared.testing.kafka import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@contextlib.asynccontextmanager
async def replica(settings: ConsoleSettings) -> AsyncIterator[httpx.AsyncClient]:
    """One more console app (its own process state) on the stack's console database."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://console.test"
        ) as client,
    ):
        yield client


def csrf(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found is not None, page.text[:300]
    return found.group(1)


async def log_in(client: httpx.AsyncClient, username: str, password: str) -> None:
    form = await client.get("/entrar")
    answer = await client.post(
        "/entrar", data={"csrf": csrf(form), "username": username, "password": password}
    )
    assert (answer.status_code, answer.headers["location"]) == (303, "/")


async def logged_in(client: httpx.AsyncClient, cookies: httpx.Cookies) -> bool:
    """Whether this browser's cookie (sent to this replica) opens the case list."""
    client.cookies = cookies
    page = await client.get("/casos")
    if page.status_code == 303:
        assert page.headers["location"] == "/entrar"
        return False
    assert page.status_code == 200, page.text[:300]
    return True


async def test_a_session_is_valid_on_every_replica(stack: Any) -> None:
    username, password = await stack.user(Role.CASE_WORKER)
    async with replica(stack.console_settings) as one, replica(stack.console_settings) as two:
        await log_in(one, username, password)
        browser = httpx.Cookies(one.cookies)
        assert await logged_in(two, browser)
        page = await two.get("/casos")
        assert username in page.text
        assert await logged_in(one, browser)

        logout = await two.post("/salir", data={"csrf": csrf(page)})
        assert (logout.status_code, logout.headers["location"]) == (303, "/entrar")
        after_logout = httpx.Cookies(two.cookies)
        assert not await logged_in(one, browser)
        assert not await logged_in(two, browser)
        # The message queued by the replica that logged out is shown by the other one.
        one.cookies = after_logout
        assert "Cerró su sesión." in (await one.get("/entrar")).text

        # Revocation: the account disabled, its session ends on both replicas.
        await log_in(one, username, password)
        again = httpx.Cookies(one.cookies)
        assert await logged_in(two, again)
        found = await UserStore(stack.auth_db).get_by_username(username)
        assert found is not None
        await UserStore(stack.auth_db).set_disabled(found[0].id, disabled=True)

        async def ended() -> bool:
            return not await logged_in(two, again)

        await wait_for(ended, timeout=60, interval=0.5)
        assert not await logged_in(one, again)
