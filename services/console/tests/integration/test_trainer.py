"""Trainer journey in the browser: schedule, register participants with attendance, head counts,
pre/post tests, an attendance sheet with a bad row, hold, certificates (PDF), cancel."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect
from ruta_shared.lima import today_lima
from ruta_shared.security.principal import Role

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

SHEET = (
    "nombres,apellidos,sexo,horas,correo\n"
    "Carla,Rojas Díaz,mujer,8,carla.rojas@example.org\n"
    "Pedro,Salas,hombre,muchas,pedro.salas@example.org\n"
)


async def schedule(visit: object, title: str) -> str:
    """Schedule a workshop today; returns the session page's path."""
    page = visit.page  # type: ignore[attr-defined]
    await visit.go("/capacitacion/nueva")  # type: ignore[attr-defined]
    await page.fill("#f-title", title)
    await page.select_option("#f-format", "workshop")
    await page.select_option("#f-modality", "in_person")
    await page.select_option("#f-region", "15")
    await page.fill("#f-starts_on", today_lima().isoformat())
    await page.fill("#f-pedagogic_hours", "8")
    await page.fill("#f-venue", "Auditorio de la Corte Superior de Lima")
    await page.check("input[name=topics][value=trafficking]")
    await page.check("input[name=audiences][value=justice_operators]")
    await page.click("main button[type=submit]")
    await expect(page.locator(".flash.ok")).to_have_text("Sesión programada.")
    return str(page.url).removeprefix(visit.base)  # type: ignore[attr-defined]


async def test_trainer_journey(new_visit: object, tmp_path: object) -> None:
    visit = await new_visit("trainer", Role.TRAINER, ("lima",))  # type: ignore[operator]
    page = visit.page
    await expect(page.locator("h1")).to_have_text("Capacitación")
    await visit.go("/capacitacion/nueva")
    await visit.check("new-session")
    path = await schedule(visit, "Taller de identificación de víctimas")

    # A participant with her attendance, a head count, a pre/post test.
    await page.locator("summary", has_text="Registrar un participante").click()
    await page.fill("#f-given_names", "María")
    await page.fill("#f-family_names", "Huamán")
    await page.select_option("#f-sex", "female")
    await page.select_option("#f-p-audience", "justice_operators")
    await page.fill("#f-hours", "8")
    await page.click("main form:has(#f-given_names) button[type=submit]")
    await expect(page.locator("#err-f-document_number")).to_contain_text("documento")
    await page.fill("#f-given_names", "María")
    await page.fill("#f-family_names", "Huamán")
    await page.fill("#f-email", "maria.huaman@example.org")
    await page.click("main form:has(#f-given_names) button[type=submit]")
    await expect(page.locator("#attendance-count")).to_have_text("1")
    assert "María" not in await visit.text("#attendance")

    await page.locator("summary", has_text="Conteo de personas").click()
    await page.select_option("#f-h-audience", "teachers")
    await page.fill("#f-female", "3")
    await page.fill("#f-male", "2")
    await visit.submit_in("Conteo de personas")
    await expect(page.locator("#headcount-total")).to_have_text("5")

    await page.locator("summary", has_text="pre y post test").click()
    await page.select_option("#f-participant_id", index=1)
    await page.fill("#f-pre_score", "10")
    await page.fill("#f-post_score", "16")
    await visit.submit_in("pre y post test")
    await expect(page.locator("#assessment-summary")).to_contain_text("mejora media 6.0")
    await visit.check("session")

    # An attendance sheet: the good row is recorded, the bad one reported by number.
    sheet = tmp_path / "asistencia.csv"  # type: ignore[operator]
    sheet.write_text(SHEET, encoding="utf-8")
    await page.locator("summary", has_text="Importar una hoja").click()
    await page.set_input_files("#f-file", str(sheet))
    await visit.submit_in("Importar una hoja")
    # A job: its page refreshes itself until the result is there.
    await expect(page).to_have_url(re.compile(r"/tareas/[A-Za-z0-9_-]{20,40}$"))
    await expect(page.locator("#job-state")).to_have_text("Terminado.", timeout=30_000)
    report = page.locator("#import-report")
    await expect(report).to_contain_text("2 filas: 1 registradas")
    await expect(page.locator("#row-errors")).to_contain_text("3")
    await visit.check("import-row-errors")
    await page.click("a:text('← Volver')")
    await expect(page.locator("#attendance-count")).to_have_text("2")

    # Held: certificates, as PDF.
    await visit.go(path)
    await page.fill("#f-held_on", today_lima().isoformat())
    await page.click("button:text('Marcar realizada')")
    await expect(page.locator("#session-status")).to_contain_text("Realizada")
    await page.locator("#attendance button:text('Emitir')").first.click()
    await expect(page.locator(".flash.ok")).to_contain_text("Certificado emitido")
    async with page.expect_download() as download_info:
        await page.locator("#attendance a:text('PDF')").first.click()
    pdf = (await (await download_info.value).path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    await visit.check("certificates")

    # Another session, cancelled.
    other = await schedule(visit, "Charla para docentes")
    await visit.go(other)
    await page.fill("#f-cancel-reason", "Paro de transportistas")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("button:text('Cancelar la sesión')")
    await expect(page.locator("#session-status")).to_contain_text("Cancelada")
    await visit.go("/capacitacion?estado=cancelled")
    await expect(page.locator("#sessions")).to_contain_text("Charla para docentes")
    await visit.check("sessions-cancelled")
