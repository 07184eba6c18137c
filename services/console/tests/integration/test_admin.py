"""Admin journey in the browser, as far as the account routes exist: institutions (register one,
a field error, a new webhook secret shown once) and the dead webhook deliveries."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from playwright.async_api import expect
from ruta_shared.security.principal import Role

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def test_admin_journey(new_visit: Any) -> None:
    visit = await new_visit("admin", Role.ADMIN, ())
    page = visit.page
    await expect(page.locator("h1")).to_have_text("Instituciones")
    await expect(page.locator("#institutions")).to_contain_text("FISTRAP")

    # A refusal names the field: no name.
    await page.locator("summary", has_text="Registrar una institución").click()
    await page.select_option("#f-kind", "cem")
    await page.select_option("#f-integration", "webhook")
    await visit.submit_in("Registrar una institución")
    await expect(page.locator("#err-f-name")).to_be_visible()

    name = f"CEM de Cusco {secrets.token_hex(2)}"
    await page.fill("#f-name", name)
    await page.select_option("#f-kind", "cem")
    await page.select_option("#f-integration", "webhook")
    await page.fill("#f-webhook_url", "https://cem-cusco.example.org/ruta")
    await visit.submit_in("Registrar una institución")
    await expect(page.locator(".flash.ok")).to_contain_text(name)
    row = page.locator("#institutions tr", has_text=name)
    await expect(row).to_contain_text("Webhook")
    await visit.check("institutions")

    page.once("dialog", lambda dialog: dialog.accept())
    await row.locator("button:text('Nuevo secreto')").click()
    await expect(page.locator("#secret code")).not_to_be_empty()
    secret = await page.inner_text("#secret code")
    assert secret not in page.url
    await visit.go("/admin/instituciones")
    assert secret not in await visit.text()  # shown once only
    await expect(page.locator("#institutions tr", has_text=name)).to_contain_text("Con secreto")

    await visit.go("/admin/entregas")
    await expect(page.locator("#deliveries")).to_be_visible()
    await visit.check("deliveries")

    # An admin does not reach cases.
    response = await page.goto(visit.base + "/casos")
    assert response is not None
    assert response.status == 403
