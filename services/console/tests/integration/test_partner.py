"""Partner institution journey in the browser: it sees only the referrals addressed to it,
acknowledges, accepts, adds a note and completes; the case worker sees the new status."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from playwright.async_api import expect
from ruta_shared.security.principal import Role

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def partner_login(visit: Any, client_id: str, secret: str) -> None:
    """Log in with the institution's credential."""
    await visit.go("/entrar/institucion")
    await visit.page.fill("#username", client_id)
    await visit.page.fill("#password", secret)
    await visit.page.click("main button[type=submit]")
    await visit.page.wait_for_load_state()


async def test_partner_journey(new_visit: Any, stack: Any) -> None:
    # A case worker refers a victim to the public defence (DGDPAJ), with consent.
    worker = await new_visit("referring-worker", Role.CASE_WORKER, ("lima",))
    page = worker.page
    case_path = await worker.open_case(
        document=f"{secrets.randbelow(10**8):08d}", given_names="Julia"
    )
    code = re.search(r"[A-Z]{3}-\d{4}-\d+", await page.inner_text(".flash.ok"))
    assert code
    await page.click("#victims a")
    await page.locator("summary", has_text="Registrar un consentimiento").click()
    await page.select_option("#f-purpose", "disclosure")
    await page.select_option("#f-institution_kind", "public_defence")
    await page.select_option("#f-given_by", "victim")
    await worker.submit_in("Registrar un consentimiento")
    await page.locator("summary", has_text="Derivar a una institución").click()
    await page.select_option("#f-institution_id", "dgdpaj")
    await page.select_option("#f-urgency", "high")
    await page.fill("#f-reason", "Patrocinio legal en el proceso penal.")
    await worker.submit_in("Derivar a una institución")
    await page.wait_for_url(re.compile(r"/derivaciones/"))
    referral_path = page.url.removeprefix(worker.base)
    referral_id = referral_path.rsplit("/", 1)[1]

    # Another institution does not see it, not even by its id.
    other = await new_visit("other-partner")
    await partner_login(other, *await stack.partner_credential("upe-lima"))
    await expect(other.page.locator("h1")).to_have_text("Derivaciones recibidas")
    assert code.group(0) not in await other.text()
    response = await other.page.goto(f"{other.base}/socio/derivaciones/{referral_id}")
    assert response is not None
    assert response.status == 404

    # The public defence: a wrong key is refused in Spanish, the right one shows the referral.
    partner = await new_visit("partner")
    client_id, secret = await stack.partner_credential("dgdpaj")
    await partner_login(partner, client_id, secret + "x")
    await expect(partner.page.locator("#login-error")).to_contain_text("incorrectas")
    await partner.check("partner-login")
    await partner_login(partner, client_id, secret)
    await expect(partner.page.locator("#received")).to_contain_text(code.group(0))
    await partner.check("partner-received")
    await partner.page.click(f"a[href='/socio/derivaciones/{referral_id}']")
    assert "Julia" not in await partner.text()
    await expect(partner.page.locator("main")).to_contain_text("Patrocinio legal")
    await partner.page.click("button:text('Acusar recibo')")
    await expect(partner.page.locator("#referral-status")).to_contain_text("Recibida")
    await partner.page.click("button:text('Aceptar')")
    await expect(partner.page.locator("#referral-status")).to_contain_text("Aceptada")
    await partner.page.fill("#f-text", "Se asignó defensor público.")
    await partner.page.click("form:has(#f-text) button[type=submit]")
    await expect(partner.page.locator("#notes")).to_contain_text("Se asignó defensor")
    await partner.check("partner-referral")

    # The case worker sees the institution's answer and note.
    await worker.go(referral_path)
    await expect(page.locator("#referral-status")).to_contain_text("Aceptada")
    await expect(page.locator("#notes")).to_contain_text("Se asignó defensor")
    await worker.go(case_path)
    await expect(page.locator("#timeline")).to_contain_text("Derivación aceptada")

    await partner.go(f"/socio/derivaciones/{referral_id}")
    await partner.page.click("button:text('Marcar completada')")
    await expect(partner.page.locator("#referral-status")).to_contain_text("Completada")
