"""Admin journey in the browser: an institution's machine credentials issued, rotated, revoked."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from playwright.async_api import expect
from ruta_shared.security.principal import Role
from ruta_shared.testing.kafka import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def test_admin_manages_an_institutions_credentials(new_visit: Any, stack: Any) -> None:
    visit = await new_visit("admin-credentials", Role.ADMIN, ())
    page = visit.page
    institution_id = f"cem-prueba-{secrets.token_hex(3)}"
    name = f"CEM de prueba {institution_id[-6:]}"
    await page.locator("summary", has_text="Registrar una institución").click()
    await page.fill("#f-name", name)
    await page.select_option("#f-kind", "cem")
    await page.select_option("#f-integration", "partner_api")
    await page.fill("#f-id", institution_id)
    await visit.submit_in("Registrar una institución")
    await expect(page.locator(".flash.ok")).to_contain_text(name)

    await page.locator("#institutions a", has_text=name).click()
    await expect(page.locator("h1")).to_have_text(f"Credenciales de {name}")
    await expect(page.locator("#no-credentials")).to_be_visible()
    await page.click("button:text('Emitir la credencial')")
    await expect(page.locator("#credential-secret")).to_contain_text("no se vuelve a mostrar")
    first_key = await page.inner_text("#api-key")
    secret = await page.inner_text("#client-secret")
    assert secret in first_key
    assert secret not in page.url
    await visit.check("credential-issued")
    referrals = httpx.AsyncClient(base_url=stack.urls["referrals"])

    async def status(api_key: str) -> int:
        return (
            await referrals.get("/partner/referrals", headers={"X-API-Key": api_key})
        ).status_code

    try:
        assert await status(first_key) == 200
        await visit.go(f"/admin/instituciones/{institution_id}/credenciales")
        assert secret not in await visit.text()  # shown once only
        await expect(page.locator("#credentials")).to_contain_text("Activa")

        # A refusal names the field: a negative grace.
        page.once("dialog", lambda dialog: dialog.accept())
        await page.fill("#f-grace_minutes", "-5")
        await page.click("button:text('Rotar el secreto')")
        await expect(page.locator("#err-f-grace_minutes")).to_be_visible()
        await visit.check("credential-bad-grace")

        page.once("dialog", lambda dialog: dialog.accept())
        await page.fill("#f-grace_minutes", "0")
        await page.click("button:text('Rotar el secreto')")
        await expect(page.locator("#credential-secret")).to_be_visible()
        second_key = await page.inner_text("#api-key")
        assert second_key != first_key
        assert await status(first_key) == 401
        assert await status(second_key) == 200

        await visit.go(f"/admin/instituciones/{institution_id}/credenciales")
        page.once("dialog", lambda dialog: dialog.accept())
        await page.click("button:text('Revocar la credencial')")
        await expect(page.locator(".flash.ok")).to_contain_text("Credencial revocada")
        await expect(page.locator("#credentials")).to_contain_text("Revocada")
        await visit.check("credential-revoked")

        async def refused() -> bool:
            return await status(second_key) == 401

        await wait_for(refused, timeout=5, interval=0.1)
    finally:
        await referrals.aclose()
