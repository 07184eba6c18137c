"""Coordinator journey in the browser: a referral without consent (refused, then overridden with
a justification), close and reopen, the live figures change, report downloads, the audit trail."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from playwright.async_api import expect
from ruta_shared.lima import today_lima
from ruta_shared.security.principal import Role

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def card(visit: Any, card_id: str) -> int:
    """The number on one of the figure cards."""
    return int(re.sub(r"\D", "", await visit.page.inner_text(f"#{card_id}")) or 0)


async def test_coordinator_journey(new_visit: Any) -> None:
    visit = await new_visit("coordinator", Role.COORDINATOR, ())
    page = visit.page
    await visit.go("/cifras")
    before = await card(visit, "victims-total")
    await visit.check("figures-before")

    case_path = await visit.open_case(
        document=f"{secrets.randbelow(10**8):08d}", given_names="Lucía"
    )
    case_id = case_path.rsplit("/", 1)[1]
    await page.click("#victims a")
    victim_path = page.url.removeprefix(visit.base)

    # No consent for the prosecutor: refused, with the reason shown on the form.
    await page.locator("summary", has_text="Derivar a una institución").click()
    await page.select_option("#f-institution_id", "fistrap-lima")
    await page.fill("#f-reason", "Declaración urgente ante la fiscalía.")
    await visit.submit_in("Derivar a una institución")
    await expect(page.locator(".flash.error")).to_contain_text("consentimiento")
    assert page.url.endswith(victim_path) or "/derivaciones" in page.url
    await visit.check("referral-consent-required")

    # The coordinator overrides it with a justification.
    await page.fill("#f-reason", "Declaración urgente ante la fiscalía.")
    await page.fill(
        "#f-consent_override_justification",
        "Riesgo grave e inminente; la víctima no puede firmar hoy.",
    )
    await visit.submit_in("Derivar a una institución")
    await page.wait_for_url(re.compile(r"/derivaciones/"))
    await expect(page.locator("main")).to_contain_text("Excepción autorizada por coordinación")
    await visit.check("referral-override")

    # Close the case, then reopen it.
    await visit.go(case_path)
    await page.select_option("#closure_reason", "reintegrated")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("button:text('Cerrar el caso')")
    await expect(page.locator("#case-status")).to_contain_text("Cerrado")
    await visit.check("case-closed")
    await page.click("button:text('Reabrir el caso')")
    await expect(page.locator("#case-status")).to_contain_text("Abierto")
    await expect(page.locator("#timeline")).to_contain_text("Caso reabierto")

    # The live figures count the new victim once the projection has her.
    await visit.go("/cifras")
    for _ in range(120):
        if await card(visit, "victims-total") > before:
            break
        await page.wait_for_timeout(500)
        await page.reload()
    assert await card(visit, "victims-total") == before + 1
    assert await page.locator(".chart rect").count() > 0
    await visit.check("figures-after")
    await visit.go(f"/cifras?anio={today_lima().year}&oficina=lima")
    assert await card(visit, "victims-total") >= 1
    await visit.go("/cifras?anio=1800")
    await expect(page.locator(".flash.error")).to_be_visible()

    # The annual report's tables and charts: prepared as a job, then downloaded from its page.
    await visit.go("/informes")
    await visit.check("reports")
    year = today_lima().year
    await page.click(f"#prepare-{year}")
    await expect(page).to_have_url(re.compile(r"/tareas/[A-Za-z0-9_-]{20,40}$"))
    await expect(page.locator("#job-state")).to_have_text("Terminado.", timeout=60_000)
    await visit.check("report-ready")
    for name, starts in (
        ("tablas.csv", None),
        ("tablas.xlsx", b"PK"),
        ("victims_by_sex_and_age.png", b"\x89PNG"),
    ):
        async with page.expect_download() as download_info:
            await page.click(f"#job-files a[href$='/archivos/{name}']")
        download = await download_info.value
        content = (await download.path()).read_bytes()
        assert content, name
        if starts is None:
            assert b"ctimas" in content, content[:200]
        else:
            assert content.startswith(starts), name

    # The case's audit trail, verified.
    await visit.go(f"/auditoria/casos/{case_id}")
    for _ in range(60):
        if await page.locator("#verdict").count():
            break
        await page.wait_for_timeout(500)
        await page.reload()
    await expect(page.locator("#verdict")).to_contain_text("está íntegro")
    await expect(page.locator("#entries")).to_contain_text("Caso cerrado")
    await visit.check("audit-trail")
