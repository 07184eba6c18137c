"""Auditor journey in the browser: a case's timeline, its verified trail in plain Spanish, who
read personal data, and the figures with small cells suppressed."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from playwright.async_api import expect
from ruta_shared.security.principal import Role

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def test_auditor_journey(new_visit: Any) -> None:
    # A case worker opens a case and reads the victim's personal data (an access to audit).
    worker = await new_visit("audited-worker", Role.CASE_WORKER, ("lima",))
    case_path = await worker.open_case(
        document=f"{secrets.randbelow(10**8):08d}", given_names="Elena"
    )
    case_id = case_path.rsplit("/", 1)[1]
    await worker.page.click("#victims a")
    await worker.page.select_option("#pd-purpose", "supervision")
    await worker.page.click("section.pd button[type=submit]")
    await expect(worker.page.locator("#personal-data")).to_contain_text("Elena")

    auditor = await new_visit("auditor", Role.AUDITOR, ())
    page = auditor.page
    await expect(page.locator("h1")).to_have_text("Auditoría")
    await auditor.check("audit-home")
    await page.fill("#f-caso", "no es un id")
    await page.click("main button[type=submit]")
    await expect(page.locator("#err-f-caso")).to_be_visible()

    await page.fill("#f-caso", case_id)
    await page.click("main button[type=submit]")
    for _ in range(120):
        if await page.locator("#access li", has_text="Consulta de datos personales").count():
            break
        await page.wait_for_timeout(500)
        await page.reload()
    await expect(page.locator("#verdict")).to_contain_text("El registro está íntegro")
    await expect(page.locator("#stages")).to_contain_text("Ingreso")
    await expect(page.locator("#entries")).to_contain_text("Víctima registrada")
    await expect(page.locator("#access")).to_contain_text("Profesional de casos")
    assert "Elena" not in await auditor.text()
    await auditor.check("audit-trail")

    # An auditor cannot open cases, only their trail.
    response = await page.goto(auditor.base + case_path)
    assert response is not None
    assert response.status == 403

    # The figures, with small cells hidden.
    # Non-coordinators may ask only for a year (analytics refuses other filters, naming them).
    await auditor.go("/cifras")
    await expect(page.locator("main")).to_contain_text("se ocultan")
    # Whatever else the session's other tests published, no count from 1 to k-1 is shown.
    shown = await page.locator("#victims-table td, #cards p").all_inner_texts()
    numbers = [int(text.replace(".", "")) for text in shown if text.replace(".", "").isdigit()]
    assert numbers, shown
    assert not [n for n in numbers if 0 < n < 5], shown
    await auditor.check("figures-suppressed")
