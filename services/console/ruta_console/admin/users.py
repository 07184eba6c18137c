"""The admin's account pages: list, create (the one-time code shown once), access, disable."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from ruta_shared.ids import ID_PATTERN

from ruta_console.calls import call, fetch
from ruta_console.deps import Admin, CheckedForm, RuntimeDep
from ruta_console.errors import RefusedError
from ruta_console.pages import form_values, redirect, refusal, render, write_headers
from ruta_console.rules import text
from ruta_console.upstream import Service

router = APIRouter(prefix="/admin/usuarios")

UserId = Annotated[str, Path(pattern=ID_PATTERN)]
UserAction = Annotated[str, Path(pattern=r"^(disable|enable|password-code)$")]
PAGE_SIZE: Final = 50
ACTION_DONE: Final = {
    "disable": "Cuenta desactivada: sus sesiones terminan en segundos.",
    "enable": "Cuenta activada de nuevo.",
}
FIELDS: Final = frozenset({"username", "role", "offices", "institution_id"})


def access_body(form: Any, *, with_username: bool) -> dict[str, Any]:
    """AccountCreate / AccountUpdate: offices only for staff, the institution only for partners."""
    role = text(form, "role")
    body: dict[str, Any] = {
        "role": role,
        "offices": [] if role == "partner" else list(form.getlist("offices")),
        "institution_id": text(form, "institution_id") if role == "partner" else None,
    }
    if with_username:
        body["username"] = (text(form, "username") or "").lower()
    return body


async def _institutions(runtime: RuntimeDep, session: Admin) -> dict[str, str]:
    """Institution id -> name, for the partner accounts' select."""
    body = await fetch(
        runtime=runtime,
        session=session,
        service=Service.REFERRALS,
        path="/institutions",
        params={"limit": 100},
    )
    return {item["id"]: item["name"] for item in body["items"]}


async def _list_page(
    request: Request, runtime: RuntimeDep, session: Admin, after: str | None, **extra: Any
) -> Response:
    params: dict[str, Any] = {"limit": PAGE_SIZE}
    if after:
        params["after"] = after
    body = await fetch(
        runtime=runtime, session=session, service=Service.INTAKE, path="/admin/users", params=params
    )
    return render(
        request,
        "admin/users.html",
        title="Usuarios",
        status=int(extra.pop("status", 200)),
        users=body["items"],
        next_after=body.get("next_after"),
        institutions=await _institutions(runtime, session),
        **extra,
    )


@router.get("")
async def users(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: Admin,
    despues: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> Response:
    """Accounts in creation order, 50 a page, and the form to create one."""
    return await _list_page(request, runtime, session, despues)


@router.post("")
async def create_user(
    *, request: Request, runtime: RuntimeDep, session: Admin, form: CheckedForm
) -> Response:
    """Create an account; its one-time password code is shown in this response only."""
    answer = await call(
        runtime=runtime,
        session=session,
        service=Service.INTAKE,
        method="POST",
        path="/admin/users",
        json=access_body(form, with_username=True),
        headers=write_headers(form),
    )
    if not answer.ok:
        return await _list_page(
            request,
            runtime,
            session,
            None,
            status=answer.status,
            errors=refusal(answer, FIELDS),
            values=form_values(form),
        )
    return await _user_page(
        request, runtime, session, answer.body["id"], code=answer.body["password_code"]
    )


async def _user_page(
    request: Request, runtime: RuntimeDep, session: Admin, user_id: str, **extra: Any
) -> Response:
    account = await fetch(
        runtime=runtime, session=session, service=Service.INTAKE, path=f"/admin/users/{user_id}"
    )
    values = extra.pop("values", None) or {
        "role": account["role"],
        "offices": account["offices"],
        "institution_id": account["institution_id"] or "",
    }
    return render(
        request,
        "admin/user.html",
        title="Usuario",
        status=int(extra.pop("status", 200)),
        user=account,
        institutions=await _institutions(runtime, session),
        values=values,
        **extra,
    )


@router.get("/{user_id}")
async def user_page(
    *, request: Request, runtime: RuntimeDep, session: Admin, user_id: UserId
) -> Response:
    """One account: its access (role, offices, institution), disable or enable, reset."""
    return await _user_page(request, runtime, session, user_id)


@router.post("/{user_id}/acceso")
async def change_access(
    *, request: Request, runtime: RuntimeDep, session: Admin, user_id: UserId, form: CheckedForm
) -> Response:
    """Change role, offices or institution (the account's tokens end: it logs in again)."""
    answer = await call(
        runtime=runtime,
        session=session,
        service=Service.INTAKE,
        method="PATCH",
        path=f"/admin/users/{user_id}",
        json=access_body(form, with_username=False),
    )
    if answer.ok:
        session.flash("ok", "Acceso cambiado: la persona debe entrar de nuevo.")
        return redirect(f"/admin/usuarios/{user_id}")
    return await _user_page(
        request,
        runtime,
        session,
        user_id,
        status=answer.status,
        errors=refusal(answer, FIELDS),
        values=form_values(form),
    )


@router.post("/{user_id}/{action}")
async def act(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: Admin,
    user_id: UserId,
    action: UserAction,
    form: CheckedForm,
) -> Response:
    """Disable, enable, or reset the password (a new one-time code, shown once)."""
    del form  # checked for its CSRF token only
    answer = await call(
        runtime=runtime,
        session=session,
        service=Service.INTAKE,
        method="POST",
        path=f"/admin/users/{user_id}/{action}",
    )
    if action == "password-code":
        if not answer.ok:
            raise RefusedError(answer)
        return await _user_page(request, runtime, session, user_id, code=answer.body)
    session.flash(*(("ok", ACTION_DONE[action]) if answer.ok else ("error", answer.detail)))
    return redirect(f"/admin/usuarios/{user_id}")
