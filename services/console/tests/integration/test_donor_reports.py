"""The donor-report page in the browser: a coordinator picks a registered project and a year and
downloads its tables and charts; an auditor may too, a trainer may not."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from playwright.async_api import expect
from ruta_shared.lima import today_lima
from ruta_shared.security.principal import Role

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def register_project(visit: Any) -> str:
    """A new project in the registry, through its page; returns its code."""
    page = visit.page
    code = f"DON-{secrets.token_hex(3).upper()}"
    await visit.go("/proyectos")
    await page.fill("#f-code", code)
    await page.fill("#f-name", "Reintegración en Madre de Dios")
    await page.fill("#f-funder", "Fundación donante de prueba")
    await page.fill("#f-starts_on", "2024-01-01")
    await page.fill("#f-ends_on", "2027-12-31")
    await page.check("input[name=offices][value=lima]")
    await page.click("main button[type=submit]")
    await page.wait_for_url(re.compile(r"/proyectos$"))
    await expect(page.locator("#projects")).to_contain_text(code)
    return code


async def test_donor_reports_are_prepared_per_project_and_year(new_visit: Any) -> None:
    boss = await new_visit("donor-boss", Role.COORDINATOR, ())
    page = boss.page
    code = await register_project(boss)
    await boss.go("/informes/donantes")
    await expect(page.locator("nav")).to_contain_text("Informes para donantes")
    await expect(page.locator("#f-project")).to_contain_text(code)
    await expect(page.locator("#f-project")).to_contain_text("Fundación donante de prueba")
    await boss.check("donor-reports")

    # A code that is not a registered project is refused next to its field.
    await page.evaluate(
        "() => { const o = new Option('otro', 'NO-EXISTE'); "
        "document.querySelector('#f-project').add(o); o.selected = true; }"
    )
    await page.click("#prepare-donor-report")
    await expect(page.locator("#err-f-project")).to_contain_text("proyectos registrados")
    await boss.check("donor-report-refused")

    year = today_lima().year
    await page.select_option("#f-project", code)
    await page.select_option("#f-year", str(year))
    await page.click("#prepare-donor-report")
    await expect(page).to_have_url(re.compile(r"/tareas/[A-Za-z0-9_-]{20,40}$"))
    await expect(page.locator("#job-state")).to_have_text("Terminado.", timeout=90_000)
    await expect(page.locator("main")).to_contain_text(f"Informe para donantes {code} {year}")
    await boss.check("donor-report-ready")
    for name, starts in (
        ("tablas.csv", None),
        ("tablas.xlsx", b"PK"),
        ("route_stages.png", b"\x89PNG"),
        ("victims_by_sex_and_age.svg", b"<?xml"),
    ):
        async with page.expect_download() as download_info:
            await page.click(f"#job-files a[href$='/archivos/{name}']")
        download = await download_info.value
        assert download.suggested_filename.startswith(f"ruta-donante-{code}-{year}"), name
        content = (await download.path()).read_bytes()
        if starts is None:
            text = content.decode("utf-8-sig")
            assert f"Proyecto {code}. Víctimas atendidas por sexo y grupo de edad" in text
            assert f"Proyecto {code}. Etapas de la ruta de atención, {year}" in text
        else:
            assert content.startswith(starts), name

    # Auditors (a funder's account) may prepare one too; trainers may not open the page.
    auditor = await new_visit("donor-auditor", Role.AUDITOR, ())
    await auditor.go("/informes/donantes")
    await expect(auditor.page.locator("#f-project")).to_contain_text(code)
    trainer = await new_visit("donor-trainer", Role.TRAINER, ("lima",))
    response = await trainer.page.goto(trainer.base + "/informes/donantes")
    assert response is not None
    assert response.status == 403
