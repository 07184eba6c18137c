"""The progress page of a long action in the browser: "En curso: N de M", refreshing by itself."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect
from pymongo import AsyncMongoClient
from ruta_console.jobs.store import INTERRUPTED, FileRef, JobStore
from ruta_shared.security.principal import Role
from ruta_shared.security.users import UserStore

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def test_the_progress_page_follows_a_job_of_another_replica(
    new_visit: Any, stack: Any
) -> None:
    visit = await new_visit("progress", Role.COORDINATOR)
    page = visit.page
    found = await UserStore(stack.auth_db).get_by_username(visit.username)
    assert found is not None
    owner = found[0].id
    settings = stack.console_settings
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    database = client[settings.mongo_database]
    # What another console replica writes while it prepares the report.
    other = JobStore(database["jobs"], database["job_files"], lease_seconds=60, keep_minutes=5)
    try:
        job_id = await other.create(
            kind="report", owner=owner, title="Informe anual 2026", total=10, back="/informes"
        )
        await other.progress(job_id, stage="Preparando: Tablas (Excel, XLSX)", done=3)
        await visit.go(f"/tareas/{job_id}")
        state = page.locator("#job-state")
        await expect(state).to_have_text("En curso: 3 de 10 · Preparando: Tablas (Excel, XLSX)")
        await expect(page.locator("#job-progress")).to_have_attribute("value", "3")
        assert job_id in page.url
        assert await page.title() == "Tarea · Ruta"
        await visit.check("job-running")
        # Without a script the page reloads itself every few seconds.
        plain = await new_visit("progress-no-script", java_script_enabled=False)
        await plain.page.context.add_cookies(await page.context.cookies())
        await plain.go(f"/tareas/{job_id}")
        assert await plain.page.locator("meta[http-equiv=refresh]").count() == 1
        await expect(plain.page.locator("#job-state")).to_contain_text("3 de 10")

        # Nobody clicks: the script updates the page in place, the plain page reloads itself.
        await page.evaluate("window.notReloaded = true")
        await other.progress(job_id, stage="Preparando: Casos y víctimas por año (PNG)", done=7)
        await expect(state).to_contain_text("En curso: 7 de 10", timeout=15_000)
        await expect(page.locator("#job-progress")).to_have_attribute("value", "7")
        assert await page.evaluate("window.notReloaded === true")
        await expect(plain.page.locator("#job-state")).to_contain_text("7 de 10", timeout=15_000)
        ref = FileRef("tablas.csv", "ruta-informe-2026.csv", "text/csv", "Tablas (CSV)")
        await other.put_file(job_id, ref, "Víctimas;Total\n".encode())
        await other.finish(job_id, result=None)
        await expect(state).to_have_text("Terminado.", timeout=15_000)
        await expect(plain.page.locator("#job-state")).to_have_text("Terminado.", timeout=15_000)
        assert await plain.page.locator("meta[http-equiv=refresh]").count() == 0
        await visit.check("job-done")
        async with page.expect_download() as download_info:
            await page.click("#job-files a:text('Tablas (CSV)')")
        download = await download_info.value
        assert download.suggested_filename == "ruta-informe-2026.csv"
        assert (await download.path()).read_bytes() == "Víctimas;Total\n".encode()

        # A job whose process died: failed once its lease is over, not "en curso" forever.
        dead = JobStore(database["jobs"], database["job_files"], lease_seconds=1, keep_minutes=5)
        dead_id = await dead.create(
            kind="import", owner=owner, title="Importación", total=2, back="/capacitacion"
        )
        await visit.go(f"/tareas/{dead_id}")
        await expect(state).to_contain_text("No se pudo terminar.", timeout=15_000)
        await expect(state).to_contain_text(INTERRUPTED)
        await visit.check("job-interrupted")

        # Another user does not learn the job exists.
        stranger = await new_visit("progress-stranger", Role.COORDINATOR)
        await stranger.go(f"/tareas/{job_id}")
        await expect(stranger.page.locator("h1")).to_have_text("No encontrado")
    finally:
        await client.close()
