"""Case worker journey in the browser: open a case, victims, consent, care, personal data,
a referral followed to its overdue state, return home, milestones and the route of care."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from playwright.async_api import expect
from ruta_shared.lima import today_lima
from ruta_shared.security.principal import Role

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def test_case_worker_journey(new_visit: Any) -> None:
    visit = await new_visit("caseworker", Role.CASE_WORKER, ("lima",))
    page = visit.page
    await expect(page.locator("h1")).to_have_text("Mis casos")
    await visit.check("my-cases")

    # A field error from intake is shown next to the field it names, in Spanish.
    await visit.go("/casos/nuevo")
    await visit.check("new-case-form")
    await page.select_option("#f-arrival_channel", "hotline")
    await page.select_option("#f-victims-0-sex", "female")
    await page.click("main button[type=submit]")
    crime_error = page.locator("fieldset:has(legend:text('Delitos')) .field-error")
    await expect(crime_error).to_be_visible()
    assert "Input should" not in await visit.text()
    await visit.check("new-case-field-error")

    document = f"{secrets.randbelow(10**8):08d}"
    given = f"Rosa{secrets.token_hex(2)}"
    case_path = await visit.open_case(document=document, given_names=given)
    flash = await page.inner_text(".flash.ok")
    code = re.search(r"[A-Z]{3}-\d{4}-\d+", flash)
    assert code, flash
    case_code = code.group(0)
    assert given not in await page.title()
    assert given not in page.url
    assert document not in page.url
    await visit.check("case")

    # The new case is in my list; search by code, filter by status.
    await visit.go("/casos")
    await expect(page.locator("#cases")).to_contain_text(case_code)
    await page.fill("#q-codigo", case_code)
    await page.select_option("#q-estado", "open")
    await page.click("form[role=search] button")
    rows = page.locator("#cases tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(case_code)
    await visit.check("cases-search")

    # The victim: consent, care, personal data on purpose.
    await visit.go(case_path)
    await page.click("#victims a")
    victim_path = page.url.removeprefix(visit.base)
    await page.locator("summary", has_text="Registrar un consentimiento").click()
    await page.select_option("#f-purpose", "disclosure")
    await page.select_option("#f-institution_kind", "prosecutor")
    await page.select_option("#f-given_by", "victim")
    await visit.submit_in("Registrar un consentimiento")
    await expect(page.locator(".flash.ok")).to_have_text("Consentimiento registrado.")
    await expect(page.locator("#consents")).to_contain_text("Otorgado")

    await page.locator("summary", has_text="Registrar una atención").click()
    await page.select_option("#f-care_type", "psychological")
    await page.fill("#f-provided_on", today_lima().isoformat())
    await page.fill("#f-duration_minutes", "45")
    await visit.submit_in("Registrar una atención")
    await expect(page.locator("#care")).to_contain_text("45 min")

    assert given not in await visit.text()
    await page.select_option("#pd-purpose", "case_work")
    await page.click("section.pd button[type=submit]")
    await expect(page.locator("#personal-data")).to_contain_text(given)
    assert given not in page.url
    assert "purpose" not in page.url
    await visit.check("personal-data")

    # A referral to FISTRAP, critical: overdue for acknowledgement at once.
    await visit.go(victim_path)
    await page.locator("summary", has_text="Derivar a una institución").click()
    await page.select_option("#f-institution_id", "fistrap-lima")
    await page.select_option("#f-urgency", "critical")
    await page.check("input[name=services_requested][value=legal]")
    await page.fill("#f-reason", "Necesita acompañamiento legal para su declaración.")
    await visit.submit_in("Derivar a una institución")
    await page.wait_for_url(re.compile(r"/derivaciones/"))
    await expect(page.locator("#referral-status")).to_contain_text("Enviada")
    for _ in range(40):
        if await page.locator("#overdue").count():
            break
        await page.wait_for_timeout(250)
        await page.reload()
    await expect(page.locator("#overdue")).to_have_text("Vencida")
    await visit.check("referral-overdue")
    referral_path = page.url.removeprefix(visit.base)

    # Overdue referrals filter on my cases.
    await visit.go("/casos?vencidas=1")
    await expect(page.locator("#cases")).to_contain_text(case_code)
    await visit.check("cases-overdue")

    # The institution (no partner API) answered by phone: the case worker records it.
    await visit.go(referral_path)
    await page.click("button:text('Registrar que la institución la recibió')")
    await expect(page.locator("#referral-status")).to_contain_text("Recibida por la institución")
    await page.fill("#f-text", "Se coordinó la cita con la fiscalía.")
    await page.click("form:has(#f-text) button[type=submit]")
    await expect(page.locator(".flash")).to_have_text("Nota añadida.")
    await expect(page.locator("#notes")).to_contain_text("Se coordinó la cita")
    await visit.check("referral")

    # Return home and a reintegration milestone, then withdraw the consent.
    await visit.go(victim_path)
    await page.locator("summary", has_text="Registrar el retorno").click()
    await page.select_option("#f-region_of_origin", "16")
    await page.fill("#f-returned_on", today_lima().isoformat())
    await visit.submit_in("Registrar el retorno")
    await expect(page.locator("#returns")).to_contain_text("Retorno a Loreto")
    await page.locator("summary", has_text="Registrar un hito").click()
    await page.select_option("#f-milestone", "job_training")
    await page.fill("#f-reached_on", today_lima().isoformat())
    await visit.submit_in("Registrar un hito")
    await expect(page.locator("#returns")).to_contain_text("Capacitación")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("#consents button.danger")
    await expect(page.locator("#consents")).to_contain_text("Retirado")
    await visit.check("victim")

    # A second victim with the same document: the duplicate warning, as a warning.
    await visit.go(case_path + "/victimas/nueva")
    await page.select_option("#f-sex", "female")
    await page.select_option("#f-personal_data-document_type", "dni")
    await page.fill("#f-personal_data-document_number", document)
    await page.click("main button[type=submit]")
    await expect(page.locator("#duplicate-warning")).to_be_visible()
    await expect(page.locator(".flash.warning").first).to_contain_text("Posible duplicado")
    await visit.check("duplicate-warning")

    # The route of care, as a timeline.
    await visit.go(case_path)
    timeline = page.locator("#timeline")
    for step in (
        "Caso abierto",
        "Consentimiento otorgado",
        "Atención",
        "Derivación enviada",
        "Retorno al lugar de origen",
        "Hito de reintegración",
        "Consentimiento retirado",
    ):
        await expect(timeline).to_contain_text(step)
    await expect(page.locator("#referrals")).to_contain_text("Recibida por la institución")
    await visit.check("route-of-care")

    # The same list on a phone-sized screen.
    phone = await new_visit("caseworker-phone", width=360)
    await phone.login(visit.username, visit.password)
    await expect(phone.page.locator("#cases")).to_contain_text(case_code)
    assert await phone.page.evaluate("document.documentElement.scrollWidth") <= 360
    await phone.check("my-cases-360px")


async def test_a_case_worker_cannot_reach_another_offices_case(new_visit: Any) -> None:
    lima = await new_visit("lima-worker", Role.CASE_WORKER, ("lima",))
    document = f"{secrets.randbelow(10**8):08d}"
    case_path = await lima.open_case(document=document, given_names="Ana")
    await lima.page.click("#victims a")
    victim_path = lima.page.url.removeprefix(lima.base)

    iquitos = await new_visit("iquitos-worker", Role.CASE_WORKER, ("iquitos",))
    for path in (case_path, victim_path):
        response = await iquitos.page.goto(iquitos.base + path)
        assert response is not None
        assert response.status == 404
        await expect(iquitos.page.locator("h1")).to_contain_text("no encontrado", ignore_case=True)
        assert "Ana" not in await iquitos.text()
    await iquitos.check("other-office-404")
    # A POST to the other office's case is refused too (no change, no detail).
    await iquitos.go("/casos")
    csrf = await iquitos.page.locator("input[name=csrf]").first.get_attribute("value")
    answer = await iquitos.page.request.post(
        iquitos.base + victim_path + "/datos-personales",
        form={"csrf": csrf or "", "purpose": "case_work"},
    )
    assert answer.status == 404
    assert "Ana" not in await answer.text()

    # Breaking the glass, with a justification, opens the case for a limited time (logged).
    await iquitos.go(case_path)
    await iquitos.page.locator("summary", has_text="Acceso de emergencia").click()
    await iquitos.page.fill("#f-justification", "corta")
    await iquitos.page.click("details button[type=submit]")
    await expect(iquitos.page.locator("#err-f-justification")).to_be_visible()
    await iquitos.page.fill(
        "#f-justification",
        "La víctima llegó hoy a la oficina de Iquitos y necesita atención urgente.",
    )
    await iquitos.page.click("details button[type=submit]")
    await expect(iquitos.page.locator(".flash.warning")).to_contain_text("Acceso de emergencia")
    await expect(iquitos.page.locator("h1")).to_contain_text("Caso")
    await iquitos.check("break-glass")

    # The same person registered in Iquitos by a colleague without a grant: registered all the
    # same, with intake's neutral notice of a possible duplicate elsewhere (no office, no code).
    colleague = await new_visit("iquitos-colleague", Role.CASE_WORKER, ("iquitos",))
    await colleague.open_case(document=document, given_names="Ana", office="iquitos")
    opened = re.search(r"[A-Z]{3}-\d{4}-\d+", await colleague.page.inner_text(".flash.ok"))
    assert opened
    notice = colleague.page.locator(".flash.warning", has_text="otra oficina")
    await expect(notice).to_contain_text("Posible duplicado")
    assert "lima" not in (await notice.inner_text()).lower()
    await colleague.check("duplicate-notice-other-office")

    # A coordinator of both offices sees the pair and decides they are two people.
    coordinator = await new_visit("duplicates-coordinator", Role.COORDINATOR, ("lima", "iquitos"))
    await coordinator.go("/duplicados")
    row = coordinator.page.locator("#duplicates tr", has_text=opened.group(0))
    await expect(row).to_contain_text("Iquitos")
    await coordinator.check("possible-duplicates")
    await row.locator("button:text('Personas distintas')").click()
    await expect(coordinator.page.locator(".flash.ok")).to_contain_text("personas distintas")
    await expect(coordinator.page.locator("#duplicates")).not_to_contain_text(opened.group(0))
