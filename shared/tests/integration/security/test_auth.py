"""Users, the token endpoint, login throttling and partner credentials on the real FerretDB."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase
from ruta_shared.security import create_user as create_user_cli
from ruta_shared.security.partners import CredentialExistsError, PartnerCredentialStore
from ruta_shared.security.principal import Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.security.users import UserExistsError, UserStore
from ruta_shared.service import create_service_app
from ruta_shared.settings import ServiceSettings
from ruta_shared.testing.leak_check import LeakChecker

pytestmark = pytest.mark.integration

Doc = dict[str, Any]
PASSWORD = "correcto-caballo-bateria-grapa"


@pytest.fixture
def auth_settings(tmp_path: Path, unique: str) -> SecuritySettings:
    return SecuritySettings(
        environment="test",
        key_dir=tmp_path / "keys",
        auth_mongo_database=f"auth_{unique}",
        login_free_failures=2,
        login_base_delay_seconds=30,
    )


@pytest.fixture
def auth_db(
    scratch_database: Callable[[str], AsyncDatabase[Doc]], unique: str
) -> AsyncDatabase[Doc]:
    return scratch_database(f"auth_{unique}")


@pytest.fixture
async def served(
    mongo_url: str, unique: str, auth_settings: SecuritySettings
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app issuing tokens and accepting partner API keys, running its lifespan."""
    app = create_service_app(
        ServiceSettings(
            environment="test",
            mongo_url=mongo_url,
            mongo_database=f"svc_{unique}",
            run_outbox_relay=False,
        ),
        title="t",
        description="d",
        security=auth_settings,
        issue_tokens=True,
        accept_partner_api_keys=True,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://ruta") as client:
            yield app, client


async def test_users_are_created_once_and_authenticate(auth_db: AsyncDatabase[Doc]) -> None:
    store = UserStore(auth_db)
    await store.ensure_indexes()
    user = await store.create(
        username="Ana.Lima", password=PASSWORD, role=Role.CASE_WORKER, offices=["lima"]
    )
    assert user.username == "ana.lima"
    stored = await auth_db["users"].find_one({"_id": user.id})
    assert stored is not None
    assert PASSWORD not in str(stored)
    assert stored["password_hash"].startswith("$argon2id$")
    with pytest.raises(UserExistsError):
        await store.create(username="ana.lima", password=PASSWORD, role=Role.ADMIN, offices=[])
    assert (await store.authenticate("ANA.LIMA", PASSWORD)) == user
    assert await store.authenticate("ana.lima", PASSWORD + "x") is None
    assert await store.authenticate("nobody", PASSWORD) is None
    await store.set_disabled(user.id, disabled=True)
    assert await store.authenticate("ana.lima", PASSWORD) is None
    with pytest.raises(ValueError, match="al menos una oficina"):
        await store.create(username="x1", password=PASSWORD, role=Role.CASE_WORKER, offices=[])


async def test_password_grant_gives_a_token_that_works(
    served: tuple[FastAPI, httpx.AsyncClient], auth_db: AsyncDatabase[Doc]
) -> None:
    _, client = served
    await UserStore(auth_db).create(
        username="coord", password=PASSWORD, role=Role.COORDINATOR, offices=[]
    )
    response = await client.post(
        "/auth/token", data={"grant_type": "password", "username": "coord", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert response.headers["Cache-Control"] == "no-store"
    me = await client.get("/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["role"] == "coordinator"


async def test_failed_logins_are_slowed_down_and_logged_without_secrets(
    served: tuple[FastAPI, httpx.AsyncClient], auth_db: AsyncDatabase[Doc]
) -> None:
    _, client = served
    await UserStore(auth_db).create(
        username="maria.q", password=PASSWORD, role=Role.CASE_WORKER, offices=["cusco"]
    )
    leaks = LeakChecker()
    leaks.add_needle("username", "maria.q")
    leaks.add_needle("password", PASSWORD)
    leaks.add_needle("wrong password", "wrong-password-typed")
    form = {"username": "maria.q", "password": "wrong-password-typed"}
    with leaks.capture_logs() as logs:
        first = await client.post("/auth/token", data=form)
        second = await client.post("/auth/token", data=form)
        # Two free failures are used up: now even the right password must wait.
        blocked = await client.post("/auth/token", data={**form, "password": PASSWORD})
    for response in (first, second, blocked):
        leaks.record_error_response("POST /auth/token", response.status_code, response.text)
    assert (first.status_code, second.status_code) == (400, 400)
    assert first.json() == {"error": "invalid_grant", "detail": "Usuario o contraseña incorrectos."}
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Demasiados intentos" in blocked.json()["detail"]
    assert logs.getvalue().count("login failed") == 2
    assert "username_hash" in logs.getvalue()
    leaks.assert_clean()
    failures = await auth_db["login_failures"].find({}).to_list()
    assert {doc["_id"].split(":")[0] for doc in failures} == {"user", "client"}


async def test_the_token_endpoint_refuses_bad_requests(
    served: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = served
    assert (await client.post("/auth/token", json={"username": "x"})).status_code == 400
    unsupported = await client.post("/auth/token", data={"grant_type": "implicit"})
    assert unsupported.json()["error"] == "unsupported_grant_type"
    missing = await client.post("/auth/token", data={"grant_type": "password"})
    assert missing.json()["error"] == "invalid_request"


async def test_partner_credentials_issue_rotate_revoke(
    served: tuple[FastAPI, httpx.AsyncClient], auth_db: AsyncDatabase[Doc]
) -> None:
    _, client = served
    store = PartnerCredentialStore(auth_db)
    await store.ensure_indexes()
    first = await store.issue("fistrap-lima")
    stored = await auth_db["partner_credentials"].find_one({"_id": "fistrap-lima"})
    assert stored is not None
    assert first.client_secret not in str(stored)
    with pytest.raises(CredentialExistsError):
        await store.issue("fistrap-lima")

    async def me_with_key(api_key: str) -> httpx.Response:
        return await client.get("/me", headers={"X-API-Key": api_key})

    ok = await me_with_key(first.api_key)
    assert ok.status_code == 200
    assert ok.json()["institution_id"] == "fistrap-lima"
    assert ok.json()["role"] == "partner"
    assert ok.json()["auth"] == "api_key"

    # Client credentials grant: a short-lived partner token.
    token = await client.post(
        "/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(first.client_id, first.client_secret),
    )
    assert token.status_code == 200, token.text
    assert token.json()["expires_in"] == 15 * 60
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert (await client.get("/me", headers=bearer)).json()["institution_id"] == "fistrap-lima"

    # Rotation with a grace period: both work for now.
    second = await store.rotate("fistrap-lima", grace=timedelta(hours=1))
    assert second.client_id == first.client_id
    assert (await me_with_key(first.api_key)).status_code == 200
    assert (await me_with_key(second.api_key)).status_code == 200

    # Rotation without grace: the previous secrets stop at once.
    third = await store.rotate("fistrap-lima")
    assert (await me_with_key(second.api_key)).status_code == 401
    assert (await me_with_key(first.api_key)).status_code == 401
    assert (await me_with_key(third.api_key)).status_code == 200

    # Revocation: nothing works, and a new credential can be issued afterwards.
    assert await store.revoke("fistrap-lima")
    refused = await me_with_key(third.api_key)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    bad_client = await client.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": third.client_id,
            "client_secret": third.client_secret,
        },
    )
    assert bad_client.status_code == 401
    assert bad_client.json()["error"] == "invalid_client"
    fresh = await store.issue("fistrap-lima")
    assert fresh.client_id != first.client_id
    assert (await me_with_key(fresh.api_key)).status_code == 200


async def test_create_user_command(
    mongo_url: str,
    unique: str,
    auth_db: AsyncDatabase[Doc],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RUTA_AUTH_MONGO_DATABASE", f"auth_{unique}")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    args = ["--username", "admin", "--role", "admin", "--office", "lima"]
    args += ["--password-stdin", "--mongo-url", mongo_url]
    # main() runs its own event loop, so it runs in a worker thread here.
    code = await asyncio.to_thread(create_user_cli.main, args)
    assert code == 0
    out = capsys.readouterr().out
    assert "usuario creado" in out
    assert PASSWORD not in out
    user = await UserStore(auth_db).authenticate("admin", PASSWORD)
    assert user is not None
    assert user.role is Role.ADMIN
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert await asyncio.to_thread(create_user_cli.main, args) == 1  # already exists
