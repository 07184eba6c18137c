"""The protocol pages in the browser: a case's stages and plan (case worker), the coordinators'
closure approval queue and the projects registry."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect
from ruta_shared.lima import today_lima
from ruta_shared.security.principal import Role

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def ago(days: int) -> str:
    """A Lima day `days` ago, as a date input takes it."""
    return (today_lima() - timedelta(days=days)).isoformat()


async def until_visible(visit: Any, selector: str, *, text: str | None = None) -> None:
    """Reload until `selector` (containing `text`) shows: services learn from events."""
    page = visit.page
    for _ in range(60):
        found = page.locator(selector, has_text=text) if text else page.locator(selector)
        if await found.count() > 0:
            return
        await page.wait_for_timeout(500)
        await page.reload()
    raise AssertionError(f"{selector} {text or ''} never showed")


async def enter_stage(visit: Any, stage: str, kind: str, day: str, victim: bool = False) -> None:
    page = visit.page
    await page.locator("summary", has_text="Registrar entrada en una etapa").click()
    await page.select_option("#f-stage", stage)
    if victim:
        await page.select_option("#f-stage-victim", index=1)
    await page.select_option("#f-stage-institution", kind)
    await page.fill("#f-stage-entered", day)
    await page.fill("#f-stage-note", "Nota reservada de la etapa.")
    await visit.submit_in("Registrar entrada en una etapa")
    await expect(page.locator(".flash.ok")).to_contain_text("Etapa registrada")


async def test_case_worker_records_stages_and_works_the_plan(new_visit: Any) -> None:
    visit = await new_visit("protocol-worker", Role.CASE_WORKER, ("lima",))
    page = visit.page
    case_path = await visit.open_case(
        document=f"{secrets.randbelow(10**8):08d}", given_names="Rosa"
    )
    await until_visible(visit, "summary", text="Registrar entrada en una etapa")
    await visit.check("protocol-empty")

    # Detection for the whole case, left today; rescue for the victim, past its 2-day target.
    await enter_stage(visit, "detection_report", "police", ago(3))
    row = page.locator("#stages tr", has_text="Detección, identificación y denuncia")
    await expect(row).to_contain_text("Policía Nacional del Perú")
    await expect(row).to_contain_text("Todo el caso")
    await expect(row).to_contain_text("con nota cifrada")
    await row.locator("input[name=left_on]").fill(ago(0))
    await row.locator("button", has_text="Registrar salida").click()
    await expect(page.locator(".flash.ok")).to_contain_text("Salida de la etapa registrada")
    await expect(row.locator("form")).to_have_count(0)
    await enter_stage(visit, "rescue_intervention", "prosecutor", ago(10), victim=True)
    rescue = page.locator("#stages tr", has_text="Rescate o intervención")
    await expect(rescue).to_contain_text("Víctima 1")
    await until_visible(visit, "#stages tr .badge.overdue")
    await expect(rescue.locator(".badge.overdue")).to_have_text("Vencida")
    await visit.check("protocol-stages")

    # The plan from the template (an adult's: four tasks), started 100 days ago: overdue.
    await page.fill("#f-plan-start-1", ago(100))
    await page.click("button:text('Iniciar el plan desde la plantilla')")
    await expect(page.locator(".flash.ok")).to_contain_text("Plan de atención iniciado")
    tasks = page.locator("table[id^=plan-] tbody tr")
    await expect(tasks).to_have_count(4)
    assessment = tasks.filter(has_text="Evaluación psicológica")
    await expect(assessment).to_contain_text("Usted")
    await until_visible(visit, "table[id^=plan-] .badge.overdue")
    await assessment.locator("button", has_text="Marcar hecha").click()
    await expect(assessment.locator(".task-status")).to_have_text("Hecha")
    await expect(assessment.locator(".badge.overdue")).to_have_count(0)
    counselling = tasks.filter(has_text="Orientación legal")
    await counselling.locator("button", has_text="Cancelar").click()
    await expect(counselling.locator(".task-status")).to_have_text("Cancelada")
    await expect(tasks.filter(has_text="Plan de empleo").locator(".badge.overdue")).to_have_count(1)

    # A task by hand, due next week: pending, not overdue.
    await page.locator("summary", has_text="Añadir una tarea al plan").click()
    await page.select_option("#f-task-goal-1", "rights")
    await page.fill("#f-task-title-1", "Acompañar el trámite del DNI")
    await page.fill("#f-task-due-1", ago(-7))
    await visit.submit_in("Añadir una tarea al plan")
    await expect(tasks).to_have_count(5)
    own = tasks.filter(has_text="Tarea propia")
    await expect(own.locator(".task-status")).to_have_text("Pendiente")
    await expect(own.locator(".badge.overdue")).to_have_count(0)
    assert "Acompañar el trámite" not in await visit.text("#plan ~ div")  # title stays sealed
    await visit.check("protocol-plan")

    # A leave day before the entry is refused in Spanish, naming the field.
    await rescue.locator("input[name=left_on]").fill(ago(20))
    await rescue.locator("button", has_text="Registrar salida").click()
    await expect(page.locator(".flash.error")).to_contain_text("left_on")
    assert page.url.split("#")[0].endswith(case_path)


async def test_coordinator_returns_then_approves_a_closure_and_registers_a_project(
    new_visit: Any,
) -> None:
    worker = await new_visit("closure-worker", Role.CASE_WORKER, ("lima",))
    case_path = await worker.open_case(
        document=f"{secrets.randbelow(10**8):08d}", given_names="Elena"
    )
    case_id = case_path.rsplit("/", 1)[1]

    async def ask() -> None:
        await worker.go(case_path)
        await worker.page.locator("summary", has_text="Solicitar el cierre del caso").click()
        await worker.page.select_option("#f-request-reason", "reintegrated")
        await worker.page.fill("#f-request-note", "Reintegrada con su familia.")
        await worker.submit_in("Solicitar el cierre del caso")
        await expect(worker.page.locator(".flash.ok")).to_contain_text("pendiente de aprobación")

    await ask()
    await expect(worker.page.locator("#closure-requests")).to_contain_text("Pendiente")

    boss = await new_visit("closure-boss", Role.COORDINATOR, ())
    page = boss.page
    await boss.go("/cierres")
    row = page.locator("#approvals tr", has=page.locator(f"a[href='/casos/{case_id}']"))
    await expect(row).to_contain_text("Reintegrada")
    await boss.check("approval-queue")
    await row.locator("input[name=comment]").fill("Falta el informe de seguimiento.")
    await row.locator("button", has_text="Devolver con comentario").click()
    await expect(page.locator(".flash.ok")).to_contain_text("devuelta")
    await expect(row).to_have_count(0)

    await worker.go(case_path)
    await expect(worker.page.locator("#closure-requests")).to_contain_text("Devuelta")
    await expect(worker.page.locator("#closure-requests")).to_contain_text("con comentario")
    await ask()
    await boss.go("/cierres")
    page.once("dialog", lambda dialog: dialog.accept())
    await row.locator("button", has_text="Aprobar el cierre").click()
    await expect(page.locator(".flash.ok")).to_contain_text("el caso quedó cerrado")
    await boss.go(case_path)
    await expect(page.locator("#case-status")).to_contain_text("Cerrado")
    await expect(page.locator("#closure-requests")).to_contain_text("Aprobada")

    # The projects registry: a bad code is refused next to its field, a good one listed.
    await boss.go("/proyectos")
    code = f"AMZ-{secrets.token_hex(3).upper()}"
    await page.fill("#f-code", "no vale")
    await page.fill("#f-name", "Trata de personas en la Amazonía")
    await page.fill("#f-funder", "Fundación de prueba")
    await page.fill("#f-starts_on", "2024-01-01")
    await page.fill("#f-ends_on", "2026-12-31")
    await page.check("input[name=offices][value=iquitos]")
    await page.click("main button[type=submit]")
    await expect(page.locator("#err-f-code")).to_be_visible()
    await boss.check("project-refused")
    await page.fill("#f-code", code)
    await page.click("main button[type=submit]")
    await page.wait_for_url(re.compile(r"/proyectos$"))
    await expect(page.locator("#projects")).to_contain_text(code)
    await expect(page.locator("#projects")).to_contain_text("Iquitos")
    await boss.check("projects")
    await worker.go("/proyectos")
    await expect(worker.page.locator("#projects")).to_contain_text(code)
    assert await worker.page.locator("#f-code").count() == 0
