"""Admin journey over accounts in the browser: create one (its one-time code shown once), the
owner sets a password and logs in, disabling ends the owner's session, enable, reset."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
from playwright.async_api import expect
from ruta_shared.security.principal import Role

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

# docs/security.md, Revocation: a disabled account's tokens end within about 2 s everywhere.
REVOCATION_BOUND_SECONDS = 5.0


async def set_password(visit: Any, code: str, password: str) -> None:
    """The owner's step: the code from the administrator and a new password."""
    await visit.go("/contrasena")
    await visit.page.fill("#code", code)
    await visit.page.fill("#password", password)
    await visit.page.click("main button[type=submit]")
    await visit.page.wait_for_load_state()


async def logged_out_within(visit: Any, path: str, seconds: float) -> bool:
    """Ask for a page until the console sends the browser to the login page (or time is up)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        await visit.go(path)
        if visit.page.url.endswith("/entrar"):
            return True
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.25)


async def test_admin_manages_accounts(new_visit: Any) -> None:
    admin = await new_visit("admin-users", Role.ADMIN, ())
    page = admin.page
    await admin.go("/admin/usuarios")
    await expect(page.locator("h1")).to_have_text("Usuarios")
    await expect(page.locator("#users")).to_contain_text(admin.username)
    await admin.check("users")

    # A case worker needs an office: the refusal names the field, in Spanish.
    username = f"luz.huaman{secrets.token_hex(2)}"
    await page.locator("summary", has_text="Crear una cuenta").click()
    await page.fill("#f-username", username)
    await page.select_option("#f-role", "case_worker")
    await admin.submit_in("Crear una cuenta")
    await expect(page.locator("#err-f-offices")).to_be_visible()
    await admin.check("user-refused")

    await page.check("input[name=offices][value=lima]")
    await admin.submit_in("Crear una cuenta")
    await expect(page.locator("h1")).to_contain_text(username)
    code = (await page.inner_text("#password-code code")).strip()
    assert code
    assert code not in page.url
    await admin.check("user-created")
    await admin.go("/admin/usuarios")
    row = page.locator("#users tr", has_text=username)
    await expect(row).to_contain_text("Profesional de casos")
    assert code not in await admin.text()  # shown once only
    user_path = await row.locator("a").get_attribute("href")
    assert user_path

    # The owner sets a password with the code and logs in on the normal login page.
    worker = await new_visit("new-worker")
    password = secrets.token_urlsafe(15)
    await set_password(worker, "x" + code, password)
    await expect(worker.page.locator("#password-error")).to_be_visible()
    await worker.check("password-refused")
    await set_password(worker, code, password)
    await expect(worker.page.locator(".flash.ok")).to_contain_text("ya puede entrar")
    await worker.login(username, password)
    await expect(worker.page.locator("h1")).to_have_text("Mis casos")

    # Disabled: the owner's next request, within the revocation bound, ends at the login page.
    await admin.go(user_path)
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("button:text('Desactivar la cuenta')")
    await expect(page.locator("#user-status")).to_contain_text("Desactivada")
    await admin.check("user-disabled")
    assert await logged_out_within(worker, "/casos", REVOCATION_BOUND_SECONDS)
    await expect(worker.page.locator(".flash.warning")).to_contain_text("Su sesión terminó")
    await worker.login(username, password)
    await expect(worker.page.locator("#login-error")).to_be_visible()

    # Enabled again, then a reset: a new code, and the old password no longer works.
    await page.click("button:text('Activar la cuenta')")
    await expect(page.locator("#user-status")).to_contain_text("Activa")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("button:text('Restablecer la contraseña')")
    new_code = (await page.inner_text("#password-code code")).strip()
    assert new_code
    assert new_code != code
    await worker.login(username, password)
    await expect(worker.page.locator("#login-error")).to_be_visible()

    # A change of offices is saved and shown.
    await admin.go(user_path)
    await page.check("input[name=offices][value=cusco]")
    await page.click("button:text('Guardar el acceso')")
    await expect(page.locator(".flash.ok")).to_contain_text("Acceso cambiado")
    await expect(page.locator("input[name=offices][value=cusco]")).to_be_checked()
