"""Account administration over HTTP on the real FerretDB and Kafka: codes, changes, events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import StreamingResponse
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from ruta_shared.events import EVENTS
from ruta_shared.security.authentication import still_authorised
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.security.users import UserStore
from ruta_shared.service import create_service_app
from ruta_shared.settings import ServiceSettings
from ruta_shared.testing.kafka import read_topic, wait_for
from ruta_shared.testing.leak_check import LeakChecker
from ruta_shared.topics import INTAKE_EVENTS

pytestmark = pytest.mark.integration

Doc = dict[str, Any]
ADMIN_PASSWORD = "clave-de-la-administradora-1"
OWNER_PASSWORD = "clave-elegida-por-su-duena-7"
REVOKED_WITHIN_SECONDS = 5.0

streams = APIRouter()


@streams.get("/stream")
async def stream(request: Request, who: Annotated[Principal, require("self:read")]) -> Any:
    """A long-lived response that ends once the caller's account changes."""

    async def events() -> AsyncIterator[bytes]:
        yield b"event: open\n\n"
        # Polling is the point here: a stream re-checks the account now and then.
        while await still_authorised(request):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        yield b"event: revoked\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


@pytest.fixture
async def auth_db(mongo_url: str, unique: str) -> AsyncIterator[AsyncDatabase[Doc]]:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    try:
        yield client[f"auth_{unique}"]
    finally:
        await client.drop_database(f"auth_{unique}")
        await client.drop_database(f"svc_{unique}")
        await client.close()


@pytest.fixture
async def issuer(
    mongo_url: str, kafka_bootstrap: str, unique: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """An app issuing tokens (as intake does), with its outbox relay publishing to Kafka."""
    app: FastAPI = create_service_app(
        ServiceSettings(
            environment="test",
            mongo_url=mongo_url,
            mongo_database=f"svc_{unique}",
            kafka_bootstrap_servers=kafka_bootstrap,
            outbox_poll_interval_seconds=0.2,
        ),
        title="t",
        description="d",
        routers=[streams],
        security=SecuritySettings(
            environment="test", key_dir=tmp_path / "keys", auth_mongo_database=f"auth_{unique}"
        ),
        issue_tokens=True,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.9.8.7", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://ruta") as client:
            yield client


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    form = {"grant_type": "password", "username": username, "password": password}
    return await client.post("/auth/token", data=form)


async def bearer(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    response = await login(client, username, password)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def admin_headers(client: httpx.AsyncClient, auth_db: AsyncDatabase[Doc]) -> dict[str, str]:
    store = UserStore(auth_db)
    await store.ensure_indexes()
    await store.create(username="admin", password=ADMIN_PASSWORD, role=Role.ADMIN, offices=[])
    return await bearer(client, "admin", ADMIN_PASSWORD)


async def new_account(
    client: httpx.AsyncClient, admin: dict[str, str], username: str, **access: Any
) -> Doc:
    """Create an account and set its password with the code, as its owner would."""
    body = {"username": username, "role": "case_worker", "offices": ["lima"], **access}
    created = await client.post("/admin/users", json=body, headers=admin)
    assert created.status_code == 201, created.text
    code = created.json()["password_code"]["code"]
    answer = await client.post("/auth/password", json={"code": code, "password": OWNER_PASSWORD})
    assert answer.status_code == 204, answer.text
    account: Doc = created.json()
    return account


async def refused_within(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    async def refused() -> bool:
        return (await client.get("/me", headers=headers)).status_code == 401

    await wait_for(refused, timeout=REVOKED_WITHIN_SECONDS, interval=0.1)


async def test_the_owner_sets_the_password_with_a_one_time_code_never_seen_in_logs(
    issuer: httpx.AsyncClient, auth_db: AsyncDatabase[Doc]
) -> None:
    admin = await admin_headers(issuer, auth_db)
    leaks = LeakChecker()
    leaks.add_needle("password", OWNER_PASSWORD)
    with leaks.capture_logs():
        created = await issuer.post(
            "/admin/users",
            json={"username": "Rosa.Q", "role": "case_worker", "offices": ["cusco"]},
            headers=admin,
        )
        assert created.status_code == 201, created.text
        account = created.json()
        code = account["password_code"]["code"]
        leaks.add_needle("code", code.split(".", 1)[1])
        assert (account["username"], account["offices"], account["disabled"]) == (
            "rosa.q",
            ["cusco"],
            False,
        )
        assert "password_hash" not in account
        # No password yet: nobody can log in as the new account.
        assert (await login(issuer, "rosa.q", OWNER_PASSWORD)).status_code == 400
        weak = await issuer.post("/auth/password", json={"code": code, "password": "corta"})
        assert weak.status_code == 422
        assert weak.json()["errors"][0]["field"] == "body.password"
        ok = await issuer.post("/auth/password", json={"code": code, "password": OWNER_PASSWORD})
        assert ok.status_code == 204, ok.text
        again = await issuer.post(
            "/auth/password", json={"code": code, "password": "otra-clave-larga-9"}
        )
        assert again.status_code == 400
        assert again.json()["errors"][0]["field"] == "body.code"
        for bad in ("nada", "x" * 40 + ".abc", account["id"] + ".adivinado"):
            wrong = await issuer.post(
                "/auth/password", json={"code": bad, "password": "otra-clave-larga-9"}
            )
            assert wrong.status_code == 400, (bad, wrong.text)
        me = await issuer.get("/me", headers=await bearer(issuer, "rosa.q", OWNER_PASSWORD))
    assert (me.json()["role"], me.json()["offices"]) == ("case_worker", ["cusco"])
    stored = await auth_db["users"].find_one({"_id": account["id"]})
    assert stored is not None
    assert code not in str(stored)
    assert OWNER_PASSWORD not in str(stored)
    leaks.assert_clean()


async def test_accounts_are_listed_page_by_page(
    issuer: httpx.AsyncClient, auth_db: AsyncDatabase[Doc]
) -> None:
    admin = await admin_headers(issuer, auth_db)
    for name in ("ana", "beto", "carla"):
        body = {"username": name, "role": "coordinator"}
        assert (await issuer.post("/admin/users", json=body, headers=admin)).status_code == 201
    first = (await issuer.get("/admin/users", params={"limit": 2}, headers=admin)).json()
    assert [a["username"] for a in first["items"]] == ["admin", "ana"]
    assert first["next_after"] == first["items"][-1]["id"]
    params = {"limit": 2, "after": first["next_after"]}
    second = (await issuer.get("/admin/users", params=params, headers=admin)).json()
    assert [a["username"] for a in second["items"]] == ["beto", "carla"]
    params["after"] = second["next_after"]
    last = (await issuer.get("/admin/users", params=params, headers=admin)).json()
    assert last == {"items": [], "next_after": None}
    assert "password" not in str(first) + str(second)
    one = await issuer.get(f"/admin/users/{first['items'][1]['id']}", headers=admin)
    assert one.json()["username"] == "ana"
    assert (await issuer.get("/admin/users/no-such-id", headers=admin)).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"username": "p1", "role": "partner"}, 422, "body.institution_id"),
        (
            {"username": "p2", "role": "partner", "institution_id": "i-1", "offices": ["lima"]},
            422,
            "body.offices",
        ),
        (
            {"username": "c1", "role": "coordinator", "institution_id": "i-1"},
            422,
            "body.institution_id",
        ),
        ({"username": "w1", "role": "case_worker"}, 422, "body.offices"),
        ({"username": "Ñandú!", "role": "auditor"}, 422, "body.username"),
        ({"username": "admin", "role": "auditor"}, 409, "body.username"),
        ({"username": "w2", "role": "case_worker", "offices": ["marte"]}, 422, "body.offices.0"),
    ],
)
async def test_bad_accounts_are_refused_naming_the_field(
    issuer: httpx.AsyncClient,
    auth_db: AsyncDatabase[Doc],
    body: Doc,
    status: int,
    field: str,
) -> None:
    admin = await admin_headers(issuer, auth_db)
    response = await issuer.post("/admin/users", json=body, headers=admin)
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["field"] == field
    assert await auth_db["users"].count_documents({}) == 1  # nothing half-written


async def test_an_admin_cannot_lock_themselves_out(
    issuer: httpx.AsyncClient, auth_db: AsyncDatabase[Doc]
) -> None:
    admin = await admin_headers(issuer, auth_db)
    me = (await issuer.get("/me", headers=admin)).json()
    disabled = await issuer.post(f"/admin/users/{me['id']}/disable", headers=admin)
    assert disabled.status_code == 409
    demoted = await issuer.patch(
        f"/admin/users/{me['id']}", json={"role": "auditor"}, headers=admin
    )
    assert demoted.status_code == 409
    assert (await issuer.get("/me", headers=admin)).status_code == 200


async def test_each_change_ends_the_accounts_tokens_and_is_published(
    issuer: httpx.AsyncClient, auth_db: AsyncDatabase[Doc], kafka_bootstrap: str
) -> None:
    admin = await admin_headers(issuer, auth_db)
    account = await new_account(issuer, admin, "lucia")
    user_id = account["id"]
    url = f"/admin/users/{user_id}"

    token = await bearer(issuer, "lucia", OWNER_PASSWORD)
    changed = await issuer.patch(url, json={"offices": ["lima", "iquitos"]}, headers=admin)
    assert changed.json()["offices"] == ["iquitos", "lima"]
    await refused_within(issuer, token)
    token = await bearer(issuer, "lucia", OWNER_PASSWORD)
    assert (await issuer.get("/me", headers=token)).json()["offices"] == ["iquitos", "lima"]

    assert (await issuer.post(f"{url}/disable", headers=admin)).json()["disabled"] is True
    await refused_within(issuer, token)
    assert (await login(issuer, "lucia", OWNER_PASSWORD)).status_code == 400
    assert (await issuer.post(f"{url}/enable", headers=admin)).json()["disabled"] is False
    token = await bearer(issuer, "lucia", OWNER_PASSWORD)

    reset = await issuer.post(f"{url}/password-code", headers=admin)
    assert reset.status_code == 201
    assert set(reset.json()) == {"code", "expires_at"}
    await refused_within(issuer, token)
    # A reset ends the old password at once, not only when the new one is set.
    assert (await login(issuer, "lucia", OWNER_PASSWORD)).status_code == 400
    new_password = {"code": reset.json()["code"], "password": "una-clave-nueva-de-lucia"}
    assert (await issuer.post("/auth/password", json=new_password)).status_code == 204
    assert (await login(issuer, "lucia", OWNER_PASSWORD)).status_code == 400
    assert (await login(issuer, "lucia", new_password["password"])).status_code == 200

    expected = [
        "account.created",
        "account.password_set",
        "account.access_changed",
        "account.disabled",
        "account.enabled",
        "account.password_code_issued",
        "account.password_set",
    ]
    found: list[Any] = []

    async def published() -> bool:
        records = await read_topic(kafka_bootstrap, INTAKE_EVENTS, timeout=5, idle=0.5)
        found[:] = [e for r in records if (e := EVENTS.decode(r.value)).subject == user_id]
        return len(found) >= len(expected)

    await wait_for(published, timeout=30, interval=0.5)
    assert [e.type for e in found] == expected
    assert [e.sequence for e in found] == list(range(1, len(expected) + 1))
    by_admin = [e.actor.role for e in found if e.type != "account.password_set"]
    assert set(by_admin) == {"admin"}
    assert {e.actor.id for e in found if e.type == "account.password_set"} == {user_id}
    access = next(e for e in found if e.type == "account.access_changed").data
    assert (access["previous_offices"], access["offices"]) == (["lima"], ["iquitos", "lima"])
    assert "lucia" not in str([e.model_dump(mode="json") for e in found])


async def test_partner_institutions_people_are_partner_accounts_of_their_institution(
    issuer: httpx.AsyncClient, auth_db: AsyncDatabase[Doc]
) -> None:
    admin = await admin_headers(issuer, auth_db)
    await new_account(
        issuer, admin, "fiscal.ana", role="partner", institution_id="fistrap-lima", offices=[]
    )
    me = (
        await issuer.get("/me", headers=await bearer(issuer, "fiscal.ana", OWNER_PASSWORD))
    ).json()
    assert (me["role"], me["institution_id"], me["offices"]) == ("partner", "fistrap-lima", [])
    # Admin routes are for admins only, partner people included.
    partner = await bearer(issuer, "fiscal.ana", OWNER_PASSWORD)
    assert (await issuer.get("/admin/users", headers=partner)).status_code == 403


async def test_accounts_stored_before_accounts_had_events_can_be_administered(
    issuer: httpx.AsyncClient, auth_db: AsyncDatabase[Doc]
) -> None:
    admin = await admin_headers(issuer, auth_db)
    legacy = {
        "_id": "legacy-user-1",
        "username": "antiguo",
        "password_hash": None,
        "role": "auditor",
        "offices": [],
        "disabled": False,
    }
    await auth_db["users"].insert_one(legacy)
    response = await issuer.post("/admin/users/legacy-user-1/disable", headers=admin)
    assert response.status_code == 200, response.text
    stored = await auth_db["users"].find_one({"_id": "legacy-user-1"})
    assert stored is not None
    assert (stored["disabled"], stored["_seq"], stored["token_version"]) == (True, 1, 1)


async def test_a_long_lived_response_ends_when_the_account_is_disabled(
    issuer: httpx.AsyncClient, auth_db: AsyncDatabase[Doc]
) -> None:
    admin = await admin_headers(issuer, auth_db)
    account = await new_account(issuer, admin, "miguel")
    token = await bearer(issuer, "miguel", OWNER_PASSWORD)
    streaming = asyncio.create_task(issuer.get("/stream", headers=token))
    await asyncio.sleep(0.5)
    assert not streaming.done()
    assert (
        await issuer.post(f"/admin/users/{account['id']}/disable", headers=admin)
    ).status_code == 200
    response = await asyncio.wait_for(streaming, timeout=REVOKED_WITHIN_SECONDS)
    assert response.text == "event: open\n\nevent: revoked\n\n"
