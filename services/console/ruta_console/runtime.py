"""The one per-app object: the HTTP client, the database (sessions, jobs), the templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jinja2
from pymongo import AsyncMongoClient
from ruta_shared.mongo import Document, create_mongo_client, service_database

from ruta_console.auth.store import SessionStore
from ruta_console.jobs.runner import Jobs
from ruta_console.jobs.store import JobStore
from ruta_console.settings import ConsoleSettings
from ruta_console.upstream import Service, Upstream

PACKAGE = Path(__file__).parent
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"


@dataclass
class Runtime:
    """Built once per app in its lifespan; routes reach it through `deps.RuntimeDep`."""

    settings: ConsoleSettings
    client: httpx.AsyncClient
    upstream: Upstream
    mongo: AsyncMongoClient[Document]
    sessions: SessionStore
    jobs: Jobs
    templates: jinja2.Environment
    # intake's catalogue (codes and Spanish labels), read once with the first user's token.
    catalogue: dict[str, dict[str, str]] = field(default_factory=dict)

    async def close(self) -> None:
        """Stop the running jobs, close the HTTP client and the database client."""
        await self.jobs.close()
        await self.client.aclose()
        await self.mongo.close()


def build_runtime(settings: ConsoleSettings, templates: jinja2.Environment) -> Runtime:
    """The runtime of one app (called in its lifespan, never at import)."""
    client = httpx.AsyncClient(
        timeout=settings.upstream_timeout_seconds,
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        headers={"User-Agent": "ruta-console"},
    )
    urls = {
        Service.INTAKE: settings.intake_url,
        Service.REFERRALS: settings.referrals_url,
        Service.TRAINING: settings.training_url,
        Service.ANALYTICS: settings.analytics_url,
    }
    mongo = create_mongo_client(settings)
    database = service_database(mongo, settings)
    return Runtime(
        settings=settings,
        client=client,
        upstream=Upstream(client, urls),
        mongo=mongo,
        sessions=SessionStore(
            database["sessions"],
            idle_seconds=settings.session_idle_minutes * 60.0,
            max_sessions=settings.max_sessions,
        ),
        jobs=Jobs(
            JobStore(
                database["jobs"],
                database["job_files"],
                lease_seconds=settings.job_lease_seconds,
                keep_minutes=settings.job_keep_minutes,
            )
        ),
        templates=templates,
    )


def template_environment(globals_: dict[str, Any]) -> jinja2.Environment:
    """Jinja2 with autoescaping on every template (HTML-escaped by default, always)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.Undefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(globals_)
    return environment
