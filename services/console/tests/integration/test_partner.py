"""Partner institution journeys in the browser: people with personal accounts (role partner,
the normal login page) see only their institution's referrals; one declines with a reason,
the other acknowledges, accepts, adds a note and completes; the case worker sees both."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from playwright.async_api import expect
from ruta_shared.security.principal import Role

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def partner_login(visit: Any, client_id: str, secret: str) -> None:
    """Log in with the institution's machine credential (still offered)."""
    await visit.go("/entrar/institucion")
    await visit.page.fill("#username", client_id)
    await visit.page.fill("#password", secret)
    await visit.page.click("main button[type=submit]")
    await visit.page.wait_for_load_state()


async def refer(worker: Any, institution_id: str, reason: str) -> str:
    """Refer the victim whose page is open; returns the referral's path."""
    page = worker.page
    victim_path = page.url
    await page.locator("summary", has_text="Derivar a una institución").click()
    await page.select_option("#f-institution_id", institution_id)
    await page.select_option("#f-urgency", "high")
    await page.fill("#f-reason", reason)
    await worker.submit_in("Derivar a una institución")
    await page.wait_for_url(re.compile(r"/derivaciones/"))
    path = str(page.url.removeprefix(worker.base))
    await page.goto(victim_path)
    return path


async def consent(worker: Any, institution_kind: str) -> None:
    """Record the victim's consent to disclose to one kind of institution."""
    page = worker.page
    await page.locator("summary", has_text="Registrar un consentimiento").click()
    await page.select_option("#f-purpose", "disclosure")
    await page.select_option("#f-institution_kind", institution_kind)
    await page.select_option("#f-given_by", "victim")
    await worker.submit_in("Registrar un consentimiento")


async def test_partner_journey(new_visit: Any, stack: Any) -> None:
    # A case worker registers a victim and, with no wait, records consent and refers her to
    # the public defence (DGDPAJ) and to child protection (UPE).
    worker = await new_visit("referring-worker", Role.CASE_WORKER, ("lima",))
    page = worker.page
    case_path = await worker.open_case(
        document=f"{secrets.randbelow(10**8):08d}", given_names="Julia"
    )
    code = re.search(r"[A-Z]{3}-\d{4}-\d+", await page.inner_text(".flash.ok"))
    assert code
    await page.click("#victims a")
    await consent(worker, "public_defence")
    await consent(worker, "child_protection")
    defence_path = await refer(worker, "dgdpaj", "Patrocinio legal en el proceso penal.")
    upe_path = await refer(worker, "upe-lima", "Evaluación de riesgo familiar.")
    defence_id, upe_id = defence_path.rsplit("/", 1)[1], upe_path.rsplit("/", 1)[1]

    # UPE's person (a personal account, the normal login page) sees only UPE's referral,
    # never the case code, and not the other institution's referral, even by its id.
    upe = await new_visit("upe-person", Role.PARTNER, (), institution="upe-lima")
    await expect(upe.page.locator("h1")).to_have_text("Derivaciones recibidas")
    await expect(upe.page.locator(f"a[href='/socio/derivaciones/{upe_id}']")).to_be_visible()
    assert await upe.page.locator(f"a[href='/socio/derivaciones/{defence_id}']").count() == 0
    assert code.group(0) not in await upe.text()
    await upe.check("partner-received")
    response = await upe.page.goto(f"{upe.base}/socio/derivaciones/{defence_id}")
    assert response is not None
    assert response.status == 404
    await upe.go(f"/socio/derivaciones/{upe_id}")
    await expect(upe.page.locator("#referral-code")).to_contain_text("DER-")
    await upe.page.locator("summary", has_text="Rechazar con un motivo").click()
    await upe.page.select_option("#f-reason", index=1)
    await upe.page.click("form:has(#f-reason) button[type=submit]")
    # Declined, the referral is no longer the institution's: back to the list.
    await expect(upe.page.locator(".flash.ok")).to_contain_text("Derivación rechazada")
    await expect(upe.page.locator("h1")).to_have_text("Derivaciones recibidas")
    await upe.check("partner-declined")

    # The institution's machine credential still logs in; a wrong key is refused in Spanish.
    machine = await new_visit("defence-machine")
    client_id, secret = await stack.partner_credential("dgdpaj")
    await partner_login(machine, client_id, secret + "x")
    await expect(machine.page.locator("#login-error")).to_contain_text("incorrectas")
    await machine.check("partner-login")

    # DGDPAJ's person: acknowledge, accept, a progress note, complete.
    partner = await new_visit("defence-person", Role.PARTNER, (), institution="dgdpaj")
    await partner.page.click(f"a[href='/socio/derivaciones/{defence_id}']")
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

    # The case worker sees both institutions' answers and the note.
    await worker.go(upe_path)
    await expect(page.locator("#referral-status")).to_contain_text("Rechazada")
    await worker.go(defence_path)
    await expect(page.locator("#referral-status")).to_contain_text("Aceptada")
    await expect(page.locator("#notes")).to_contain_text("Se asignó defensor")
    await worker.go(case_path)
    await expect(page.locator("#timeline")).to_contain_text("Derivación aceptada")

    await partner.go(f"/socio/derivaciones/{defence_id}")
    await partner.page.click("button:text('Marcar completada')")
    await expect(partner.page.locator("#referral-status")).to_contain_text("Completada")
    await partner.check("partner-completed")
