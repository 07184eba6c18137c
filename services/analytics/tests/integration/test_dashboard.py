"""The live dashboard end to end in headless Chromium (Debian's package, driven by Playwright).

Everything is real: the session's Kafka and FerretDB, the faust worker as a subprocess, the
analytics app and intake's token issuer served over HTTP by uvicorn, and a browser that logs
in through the page's own form. The login is the real flow: a coordinator user is created in
the auth database, the page posts the form to analytics' /dashboard/login, which forwards it
to intake's POST /auth/token; the page then streams the figures with the token in the
Authorization header. After an event is published the numbers on the page must change within
2 seconds of the projection holding it in MongoDB.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Page, Request, async_playwright, expect
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from ruta_analytics.figures.models import Filters
from ruta_analytics.figures.service import exact_figures
from ruta_analytics.main import create_app as create_analytics_app
from ruta_analytics.projection.models import AUDIT
from ruta_analytics.projection.store import active_generation
from ruta_analytics.settings import AnalyticsSettings
from ruta_intake.main import create_app as create_intake_app
from ruta_intake.settings import IntakeSettings
from ruta_local.infra import free_port
from ruta_shared.security.jwt import sign_token
from ruta_shared.security.keys import load_signing_keys
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.security.users import UserStore
from ruta_shared.testing.kafka import wait_for
from ruta_shared.testing.synthetic import StreamBuilder, random_stream

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

Doc = dict[str, Any]

CHROMIUM: Final = Path("/usr/bin/chromium")
CHROMIUM_ARGS: Final = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]
UPDATE_WITHIN_SECONDS: Final = 2.0
CARDS: Final = (
    "cases-opened",
    "victims-total",
    "victims-minor",
    "referrals-total",
    "returns-home",
    "people-reached",
)
READ_CARDS: Final = """(ids) => Object.fromEntries(ids.map((id) => {
    const text = document.getElementById(id).textContent;
    const digits = text.replace(/\\D/g, "");
    return [id, digits === "" ? null : Number(digits)];
}))"""


@contextlib.asynccontextmanager
async def served(app: FastAPI, name: str) -> AsyncIterator[str]:
    """Serve `app` over real HTTP on 127.0.0.1 (uvicorn in a thread); yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        loop="asyncio",
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{name}", daemon=True)
    thread.start()

    async def up() -> bool:
        if not thread.is_alive():
            raise AssertionError(f"the {name} server exited while starting (see the log above)")
        return server.started

    try:
        await wait_for(up, timeout=30, interval=0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 15)


def figures_on_record(figures: Doc) -> dict[str, int | None]:
    """What the cards should show for `figures` (the exact ones a coordinator sees)."""
    victims = figures["victims"]
    return {
        "cases-opened": figures["cases_opened"],
        "victims-total": victims["total"],
        "victims-minor": victims["column_totals"][victims["columns"].index("minor")],
        "referrals-total": figures["referrals"]["by_institution_and_outcome"]["total"],
        "returns-home": figures["returns_home"]["by_region_of_origin"]["total"],
        "people-reached": figures["training"]["people_reached"],
    }


async def cards(page: Page) -> dict[str, int | None]:
    """The numbers the page's cards show, read from the DOM."""
    values: dict[str, int | None] = await page.evaluate(READ_CARDS, list(CARDS))
    return values


def issuer_settings(kafka_bootstrap: str, mongo_url: str, unique: str) -> IntakeSettings:
    """Intake as this test's token issuer (its own database, no relay)."""
    return IntakeSettings(
        environment="test",
        kafka_bootstrap_servers=kafka_bootstrap,
        mongo_url=mongo_url,
        mongo_database=f"intake_{unique}",
        run_outbox_relay=False,
    )


async def test_dashboard_logs_in_and_shows_new_events_within_two_seconds(
    db: AsyncDatabase[Doc],
    settings: AnalyticsSettings,
    security_settings: SecuritySettings,
    publisher: Any,
    worker: Any,
    projected: Callable[..., Any],
    mongo_url: str,
    kafka_bootstrap: str,
    unique: str,
    tmp_path: Path,
) -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Debian's chromium is not installed at {CHROMIUM}: the dashboard test needs it "
            "(./scripts/test installs it; or `apt-get install chromium`)"
        )

    # Some history first, so every card and chart has something to show.
    seed = random_stream(random.Random(7), cases=30, years=(2024, 2025), sessions=3)
    await publisher.publish(seed)
    await projected(db, seed, worker)

    # Intake hosts Ruta's token issuer; both apps share the keys and a per-test auth database.
    security = security_settings.model_copy(update={"auth_mongo_database": f"auth_{unique}"})
    intake_settings = issuer_settings(kafka_bootstrap, mongo_url, unique)
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    password = secrets.token_urlsafe(18)
    users = UserStore(client[security.auth_mongo_database])
    await users.ensure_indexes()
    await users.create(
        username=f"coord-{unique}", password=password, role=Role.COORDINATOR, offices=["lima"]
    )
    try:
        async with (
            served(create_intake_app(intake_settings, security=security), "intake") as intake,
            served(
                create_analytics_app(
                    settings.model_copy(update={"auth_token_url": f"{intake}/auth/token"}),
                    security=security,
                ),
                "analytics",
            ) as analytics,
            async_playwright() as playwright,
        ):
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
            try:
                await check_dashboard(
                    browser, analytics, f"coord-{unique}", password, db, publisher, worker, tmp_path
                )
            finally:
                await browser.close()
    finally:
        await client.drop_database(security.auth_mongo_database)
        await client.drop_database(intake_settings.mongo_database)
        await client.close()


async def check_dashboard(
    browser: Any,
    base_url: str,
    username: str,
    password: str,
    db: AsyncDatabase[Doc],
    publisher: Any,
    worker: Any,
    tmp_path: Path,
) -> None:
    """Log in through the form, read the figures, publish an event, see them change."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 1000}, locale="es-PE", timezone_id="America/Lima"
    )
    page = await context.new_page()
    requests: list[Request] = []
    # A lambda, not requests.append: Playwright sets an attribute on handlers.
    page.on("request", lambda request: requests.append(request))  # noqa: PLW0108
    browser_errors: list[str] = []
    page.on("pageerror", lambda error: browser_errors.append(str(error)))
    page.on(
        "console",
        lambda message: browser_errors.append(message.text) if message.type == "error" else None,
    )

    await page.goto(f"{base_url}/dashboard")
    await page.locator("#login").wait_for(state="visible", timeout=10_000)
    await page.screenshot(path=str(tmp_path / "dashboard-login.png"))

    # A wrong password: the issuer's Spanish refusal is shown and the board stays hidden.
    await page.fill("#username", username)
    await page.fill("#password", password + "-no")
    await page.click("#login-button")
    await expect(page.locator("#login-error")).to_have_text("Usuario o contraseña incorrectos.")
    assert await page.locator("#board").is_hidden()
    assert browser_errors == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
    browser_errors.clear()

    # The right one: the page gets a token and opens the stream.
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#login-button")
    await page.locator("#board").wait_for(state="visible", timeout=15_000)

    generation = await active_generation(db)
    expected = figures_on_record(await exact_figures(generation, Filters()))
    assert expected["victims-total"], "the seed stream should have victims"

    async def page_shows_expected() -> bool:
        return await cards(page) == expected

    try:
        await wait_for(page_shows_expected, timeout=15, interval=0.1)
    except AssertionError:
        raise AssertionError(
            f"the page shows {await cards(page)}, the projection {expected}; "
            f"status {await page.text_content('#status')!r}, "
            f"login error {await page.text_content('#login-error')!r}, errors {browser_errors}"
        ) from None
    assert await page.text_content("#status") == "En vivo"
    assert await page.locator("#chart-years rect").count() >= 2
    assert await page.locator("#chart-care rect").count() >= 1
    first_png = tmp_path / "dashboard-1.png"
    first = await page.screenshot(path=str(first_png), full_page=True)
    first_cards = await page.locator(".cards").screenshot()
    before = await cards(page)

    # The token travels in a header of the streamed fetch and never in a URL.
    token = await page.evaluate("sessionStorage.getItem('ruta.analytics.token')")
    assert token, "the page keeps the token it got from the login"
    assert all(token not in request.url for request in requests)
    streams = [r for r in requests if r.url.endswith("/dashboard/stream")]
    assert streams, "the page never opened the stream"
    assert (await streams[0].all_headers()).get("authorization") == f"Bearer {token}"

    # A new case with two victims, published now; the worker projects it.
    builder = StreamBuilder()
    now = datetime.now(UTC)
    case_id = builder.open_case(at=now, office="lima")
    builder.register_victim(case_id, at=now, sex="female", age_group="minor")
    builder.register_victim(case_id, at=now, sex="male", age_group="adult")
    await publisher.publish(builder.envelopes)
    new_ids = [str(envelope.id) for envelope in builder.envelopes]

    async def projection_has_them() -> bool:
        if not worker.alive():
            raise AssertionError("worker exited:\n" + worker.log_tail())
        audit = generation.collection(AUDIT)
        return await audit.count_documents({"_id": {"$in": new_ids}}) == len(new_ids)

    # Facts are written before audit entries, so this is the moment the figures changed.
    await wait_for(projection_has_them, timeout=60, interval=0.02)
    projected_at = time.monotonic()
    after = figures_on_record(await exact_figures(generation, Filters()))
    assert after["cases-opened"] == before["cases-opened"] + 1
    assert after["victims-total"] == before["victims-total"] + 2
    assert after["victims-minor"] == before["victims-minor"] + 1

    shown = await cards(page)
    while shown != after and time.monotonic() < projected_at + UPDATE_WITHIN_SECONDS:
        await asyncio.sleep(0.05)
        shown = await cards(page)
    waited = time.monotonic() - projected_at
    assert shown == after, (
        f"{waited:.2f}s after the projection changed the page still shows {shown}, "
        f"expected {after} (errors in the page: {browser_errors})"
    )
    print(f"the page showed the new figures {waited:.2f}s after the projection had them")

    second_png = tmp_path / "dashboard-2.png"
    second = await page.screenshot(path=str(second_png), full_page=True)
    assert first != second, "the screenshots before and after the event are identical"
    assert await page.locator(".cards").screenshot() != first_cards, "the cards look the same"

    text = await page.inner_text("body")
    assert await page.get_attribute("html", "lang") == "es"
    for spanish in ("Víctimas", "Casos abiertos", "Derivaciones", "Actualizado", "hora de Lima"):
        assert spanish in text, f"{spanish!r} is not on the page"
    assert str(now.astimezone(ZoneInfo("America/Lima")).year) in await page.inner_text("#per-year")
    assert not browser_errors, browser_errors
    await context.close()


async def test_the_stream_ends_when_its_token_expires(
    api: tuple[FastAPI, httpx.AsyncClient], security_settings: SecuritySettings
) -> None:
    _, client = api
    who = Principal(
        id="user-coordinator", role=Role.COORDINATOR, offices=frozenset({"lima"}), auth="password"
    )
    token = sign_token(
        who,
        keys=load_signing_keys(security_settings),
        issuer=security_settings.jwt_issuer,
        audience=security_settings.jwt_audience,
        lifetime=timedelta(seconds=2),
    )
    headers = {"Authorization": f"Bearer {token}"}
    # The response is complete only because the stream ended by itself at expiry.
    response = await asyncio.wait_for(client.get("/dashboard/stream", headers=headers), 30)
    assert response.status_code == 200
    events = [block.split("\n")[0] for block in response.text.split("\n\n") if block]
    assert events[0] == "event: figures"
    assert events[-1] == "event: expired"
    # Refused (401), or, within the verifier's clock-skew leeway, a stream that only says so.
    again = await client.get("/dashboard/stream", headers=headers)
    assert again.status_code == 401 or again.text.startswith("event: expired\n")
    assert "event: figures" not in again.text


async def test_the_login_proxy_passes_the_browser_address_to_the_issuer(
    settings: AnalyticsSettings,
    security_settings: SecuritySettings,
    mongo_url: str,
    kafka_bootstrap: str,
    unique: str,
) -> None:
    security = security_settings.model_copy(
        update={"auth_mongo_database": f"auth_{unique}", "login_free_failures": 1}
    )
    intake_settings = issuer_settings(kafka_bootstrap, mongo_url, unique)
    async with served(create_intake_app(intake_settings, security=security), "intake") as intake:
        app = create_analytics_app(
            settings.model_copy(update={"auth_token_url": f"{intake}/auth/token"}),
            security=security,
        )
        async with app.router.lifespan_context(app):

            async def login_from(address: str, n: int) -> int:
                transport = httpx.ASGITransport(app=app, client=(address, 50000))
                async with httpx.AsyncClient(transport=transport, base_url="http://a") as client:
                    form = {"username": f"nobody-{n}", "password": "wrong"}
                    return (await client.post("/dashboard/login", data=form)).status_code

            # Different usernames, one browser: only the per-address limit can apply.
            statuses = [await login_from("203.0.113.7", n) for n in range(6)]
            assert statuses == [400] * 5 + [429]
            # Another browser behind the same dashboard is not held back by the first one.
            assert await login_from("198.51.100.9", 99) == 400
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url)
    try:
        await client.drop_database(security.auth_mongo_database)
        await client.drop_database(intake_settings.mongo_database)
    finally:
        await client.close()
