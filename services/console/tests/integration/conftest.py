"""Fixtures of the console's browser tests: the real stack, Chromium, checked pages, screenshots."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest
import uvicorn
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from ruta_analytics.main import create_app as create_analytics
from ruta_analytics.settings import AnalyticsSettings
from ruta_console.main import create_app as create_console
from ruta_console.settings import ConsoleSettings
from ruta_intake.main import create_app as create_intake
from ruta_intake.settings import IntakeSettings
from ruta_local.infra import free_port
from ruta_referrals.main import create_app as create_referrals
from ruta_referrals.settings import ReferralsSettings
from ruta_shared.security.partners import PartnerCredentialStore
from ruta_shared.security.principal import Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.security.users import UserStore
from ruta_shared.testing.kafka import wait_for
from ruta_training.main import create_app as create_training
from ruta_training.settings import TrainingSettings

Doc = dict[str, Any]
DAY = 86400.0


@contextlib.asynccontextmanager
async def served(app: Any, name: str) -> AsyncIterator[str]:
    """Serve an app over real HTTP on 127.0.0.1 (uvicorn in its own thread and loop)."""
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
        await wait_for(up, timeout=60, interval=0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 15)


@dataclass
class Stack:
    """Where each part answers, the auth database, and the users made so far."""

    console: str
    urls: dict[str, str]
    auth_db: AsyncDatabase[Doc]
    security: SecuritySettings
    console_settings: ConsoleSettings  # a second console replica is built from these
    passwords: dict[str, str] = field(default_factory=dict)

    async def user(
        self, role: Role, offices: tuple[str, ...] = ("lima",), institution: str | None = None
    ) -> tuple[str, str]:
        """A new user of `role` in the auth database; returns (username, password)."""
        username = f"{role.value.replace('_', '-')}-{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(18)
        await UserStore(self.auth_db).create(
            username=username,
            password=password,
            role=role,
            offices=list(offices),
            institution_id=institution,
        )
        self.passwords[username] = password
        return username, password

    async def partner_credential(self, institution_id: str) -> tuple[str, str]:
        """A new credential of a partner institution; returns (client id, secret)."""
        issued = await PartnerCredentialStore(self.auth_db).issue(institution_id)
        return issued.client_id, issued.client_secret


def start_worker(settings: AnalyticsSettings, log_path: Path) -> subprocess.Popen[bytes]:
    """The analytics faust worker as a real subprocess, on the services' default topics."""
    env = dict(os.environ)
    env.update(
        RUTA_ENVIRONMENT="test",
        RUTA_KAFKA_BOOTSTRAP_SERVERS=settings.kafka_bootstrap_servers,
        RUTA_MONGO_URL=settings.mongo_url,
        RUTA_MONGO_DATABASE=settings.mongo_database,
        RUTA_FAUST_DATA_DIR=settings.faust_data_dir,
        RUTA_FAUST_WEB_PORT=str(settings.faust_web_port),
        RUTA_FAUST_APP_ID=settings.faust_app_id,
        RUTA_LOG_LEVEL="WARNING",
    )
    print(f"analytics worker log: {log_path}")
    return subprocess.Popen(
        [sys.executable, "-m", "ruta_analytics.workers.consumer", "worker", "--loglevel", "warn"],
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
    )


@contextlib.asynccontextmanager
async def running_stack(
    *, kafka_bootstrap: str, mongo_url: str, key_dir: Path, token: str
) -> AsyncIterator[Stack]:
    """intake, referrals, training and the console on the session's Kafka and FerretDB."""
    security = SecuritySettings(
        environment="test", key_dir=key_dir, auth_mongo_database=f"auth_console_{token}"
    )
    common: dict[str, Any] = {
        "environment": "test",
        "kafka_bootstrap_servers": kafka_bootstrap,
        "mongo_url": mongo_url,
        "outbox_poll_interval_seconds": 0.1,
    }
    intake = IntakeSettings(**common, mongo_database=f"console_intake_{token}")
    referrals = ReferralsSettings(
        **common,
        mongo_database=f"console_referrals_{token}",
        consumer_group_prefix=f"console-referrals-{token}",
        overdue_check_interval_seconds=0.3,
        # Critical referrals are overdue for acknowledgement at once, the rest in a day.
        acknowledgement_deadline_seconds={"critical": 0.0, "high": DAY, "normal": DAY, "low": DAY},
        run_webhook_workers=False,
    )
    training = TrainingSettings(**common, mongo_database=f"console_training_{token}")
    analytics = AnalyticsSettings(
        **common,
        mongo_database=f"console_analytics_{token}",
        faust_app_id=f"console-analytics-{token}",
        faust_data_dir=str(key_dir.parent / f"faust-{token}"),
        faust_web_port=free_port(),
        run_outbox_relay=False,
    )
    # The console's sessions and jobs: its own database, shared by its replicas.
    console = ConsoleSettings(
        environment="test", mongo_url=mongo_url, mongo_database=f"console_console_{token}"
    )
    worker = start_worker(analytics, key_dir.parent / f"analytics-worker-{token}.log")
    mongo: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    auth_db = mongo[security.auth_mongo_database]
    await UserStore(auth_db).ensure_indexes()
    try:
        async with (
            served(create_intake(intake, security=security), "intake") as intake_url,
            # referrals asks intake's API when its projection lags behind intake's events.
            served(
                create_referrals(
                    referrals.model_copy(update={"intake_url": intake_url}), security=security
                ),
                "referrals",
            ) as referrals_url,
            served(create_training(training, security=security), "training") as training_url,
            served(create_analytics(analytics, security=security), "analytics") as analytics_url,
        ):
            urls = {
                "intake": intake_url,
                "referrals": referrals_url,
                "training": training_url,
                "analytics": analytics_url,
            }
            console_settings = console.model_copy(update={f"{k}_url": v for k, v in urls.items()})
            async with served(create_console(console_settings), "console") as console_url:
                yield Stack(console_url, urls, auth_db, security, console_settings)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        databases = [intake, referrals, training, analytics, console]
        for name in (settings.mongo_database for settings in databases):
            await mongo.drop_database(name)
        await mongo.drop_database(security.auth_mongo_database)
        await mongo.close()


CHROMIUM: Final = Path("/usr/bin/chromium")
CHROMIUM_ARGS: Final = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]
SERIOUS: Final = frozenset({"serious", "critical"})


def chromium_path() -> str:
    """Debian's chromium, or a clear failure saying how to get it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Debian's chromium is not installed at {CHROMIUM}: the console tests need it "
            "(./scripts/test installs it; or `apt-get install chromium`)"
        )
    return str(CHROMIUM)


@dataclass
class Visit:
    """One user's browser tab on the console; every page it sees is checked and photographed."""

    page: Page
    base: str
    shots: Path
    name: str
    axe: Axe = field(default_factory=Axe)
    checked: list[str] = field(default_factory=list)
    username: str = ""
    password: str = ""
    errors: list[str] = field(default_factory=list)

    async def go(self, path: str) -> None:
        """Open a console path."""
        await self.page.goto(self.base + path)

    async def check(self, label: str) -> Path:
        """axe-core finds no serious or critical violation; keep a screenshot of the page."""
        results = await self.axe.run(self.page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v.get("impact") in SERIOUS
        ]
        assert not bad, f"accessibility violations on {label}: {bad}"
        shot = self.shots / f"{self.name}-{len(self.checked):02d}-{label}.png"
        await self.page.screenshot(path=str(shot), full_page=True)
        self.checked.append(label)
        title = await self.page.title()
        assert title.endswith("· Ruta"), title
        return shot

    async def text(self, selector: str = "main") -> str:
        """The visible text of an element."""
        return await self.page.inner_text(selector)

    async def open_case(self, *, document: str, given_names: str, office: str = "lima") -> str:
        """Fill "Nuevo caso" with its first victim; returns the case's path."""
        page = self.page
        await self.go("/casos/nuevo")
        await page.select_option("#f-office", office)
        await page.select_option("#f-arrival_channel", "hotline")
        await page.check("input[name=crime_types][value=trafficking]")
        await page.check("input[name=exploitation_purposes][value=labour]")
        await page.select_option("#f-region_of_exploitation", "16")
        await page.select_option("#f-victims-0-sex", "female")
        await page.fill("#f-victims-0-age_at_intake", "24")
        await page.select_option("#f-victims-0-region_of_origin", "16")
        await page.fill("#f-victims-0-personal_data-given_names", given_names)
        await page.fill("#f-victims-0-personal_data-family_names", "Quispe Mamani")
        await page.select_option("#f-victims-0-personal_data-document_type", "dni")
        await page.fill("#f-victims-0-personal_data-document_number", document)
        await page.click("main button[type=submit]")
        await page.wait_for_url(re.compile(r"/casos/[A-Za-z0-9_-]+$"))
        return page.url.removeprefix(self.base)

    async def submit_in(self, summary: str) -> None:
        """Submit the form inside the <details> whose summary is `summary`."""
        summary_locator = self.page.locator("summary", has_text=summary)
        details = self.page.locator("details", has=summary_locator)
        await details.locator("button[type=submit]").click()
        await self.page.wait_for_load_state()

    async def login(self, username: str, password: str) -> None:
        """Log in through the console's form."""
        await self.go("/entrar")
        await self.page.fill("#username", username)
        await self.page.fill("#password", password)
        await self.page.click("button[type=submit]")
        await self.page.wait_for_load_state()


async def open_visit(
    browser: Browser, base: str, shots: Path, name: str, *, width: int = 1280, **options: Any
) -> Visit:
    """A fresh browser context (its own cookies) for one user."""
    context = await browser.new_context(
        viewport={"width": width, "height": 900},
        locale="es-PE",
        timezone_id="America/Lima",
        **options,
    )
    page = await context.new_page()
    visit = Visit(page=page, base=base, shots=shots, name=name)
    page.on("pageerror", lambda error: visit.errors.append(str(error)))
    page.on(
        "console",
        # A 4xx page the test asked for is logged as "Failed to load resource": expected.
        lambda message: (
            visit.errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    return visit


@pytest.fixture(scope="session")
async def stack(
    kafka_bootstrap: str, mongo_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """intake, referrals, training and the console, served over HTTP."""
    async with running_stack(
        kafka_bootstrap=kafka_bootstrap,
        mongo_url=mongo_url,
        key_dir=tmp_path_factory.mktemp("console-keys"),
        token=uuid.uuid4().hex[:10],
    ) as running:
        yield running


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's headless Chromium, driven by Playwright."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


SHOTS_FOLDERS: list[Path] = []


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go (printed at the end of the run, so a reader can find them)."""
    folder = tmp_path_factory.mktemp("console-screenshots")
    SHOTS_FOLDERS.append(folder)
    return folder


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Name the screenshots' folder in the run's summary."""
    for folder in SHOTS_FOLDERS:
        count = len(list(folder.glob("*.png")))
        terminalreporter.write_line(f"console screenshots ({count}): {folder}")


NewVisit = Callable[..., Awaitable[Visit]]


@pytest.fixture
async def new_visit(browser: Browser, stack: Stack, shots: Path) -> AsyncIterator[NewVisit]:
    """`await new_visit("name", role=Role.CASE_WORKER)`: a logged-in tab of a new user."""
    opened: list[Visit] = []

    async def make(
        name: str,
        role: Role | None = None,
        offices: tuple[str, ...] = ("lima",),
        institution: str | None = None,
        **options: Any,
    ) -> Visit:
        visit = await open_visit(browser, stack.console, shots, name, **options)
        opened.append(visit)
        if role is not None:
            username, password = await stack.user(role, offices, institution)
            await visit.login(username, password)
            visit.username, visit.password = username, password
        return visit

    yield make
    for visit in opened:
        assert not visit.errors, f"errors in the browser: {visit.errors}"
        await visit.page.context.close()
