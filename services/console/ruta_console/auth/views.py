"""The login and logout pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ruta_console.auth.service import log_in
from ruta_console.deps import CheckedForm, MaybeSession, RuntimeDep
from ruta_console.pages import HOME, redirect, refusal, render
from ruta_console.rules import text
from ruta_console.upstream import Service

router = APIRouter()


@router.get("/")
async def home(session: MaybeSession) -> Response:
    """The user's first page, or the login."""
    if session is None or session.account is None:
        return redirect("/entrar")
    return redirect(HOME[session.account.role])


@router.get("/entrar")
async def login_page(request: Request, runtime: RuntimeDep, session: MaybeSession) -> Response:
    """The login form."""
    if session is not None and session.account is not None:
        return redirect("/")
    if session is None:
        request.state.session = await runtime.sessions.new()
    return render(request, "login.html", title="Entrar")


@router.post("/entrar")
async def login(request: Request, runtime: RuntimeDep, form: CheckedForm) -> Response:
    """Check the user and password with Ruta's issuer and start the session."""
    username, password = text(form, "username"), form.get("password")
    if username is None or not isinstance(password, str) or not password:
        return render(
            request,
            "login.html",
            title="Entrar",
            status=400,
            login_error="Escriba su usuario y su contraseña.",
            values={"username": username or ""},
        )
    result = await log_in(
        runtime=runtime,
        request=request,
        session=request.state.session,
        username=username,
        password=password,
    )
    if isinstance(result, str):
        return render(
            request,
            "login.html",
            title="Entrar",
            status=400,
            login_error=result,
            values={"username": username},
        )
    request.state.session = result
    return redirect("/")


@router.get("/entrar/institucion")
async def partner_login_page(
    request: Request, runtime: RuntimeDep, session: MaybeSession
) -> Response:
    """The login form of a partner institution (its client id and secret)."""
    if session is not None and session.account is not None:
        return redirect("/")
    if session is None:
        request.state.session = await runtime.sessions.new()
    return render(request, "login.html", title="Entrar", institution=True)


@router.post("/entrar/institucion")
async def partner_login(request: Request, runtime: RuntimeDep, form: CheckedForm) -> Response:
    """Check the institution's credential with Ruta's issuer and start the session."""
    client_id, secret = text(form, "username"), form.get("password")
    if client_id is None or not isinstance(secret, str) or not secret:
        result: object = "Escriba el identificador y la clave de la institución."
    else:
        result = await log_in(
            runtime=runtime,
            request=request,
            session=request.state.session,
            username=client_id,
            password=secret,
            institution=True,
        )
    if isinstance(result, str):
        return render(
            request, "login.html", title="Entrar", status=400, login_error=result, institution=True
        )
    request.state.session = result
    return redirect("/")


@router.get("/contrasena")
async def password_page(request: Request, runtime: RuntimeDep, session: MaybeSession) -> Response:
    """The form where a new account's owner sets a password with the administrator's code."""
    if session is None:
        request.state.session = await runtime.sessions.new()
    return render(request, "password.html", title="Crear mi contraseña")


@router.post("/contrasena")
async def set_password(request: Request, runtime: RuntimeDep, form: CheckedForm) -> Response:
    """Send the one-time code and the new password to the issuer; then the login page."""
    code, password = text(form, "code"), form.get("password")
    answer = await runtime.upstream.call(
        Service.INTAKE,
        "POST",
        "/auth/password",
        token=None,
        json={"code": code or "", "password": password if isinstance(password, str) else ""},
    )
    if not answer.ok:
        return render(
            request,
            "password.html",
            title="Crear mi contraseña",
            status=400,
            password_error=refusal(answer)["_"],
        )
    request.state.session.flash("ok", "Contraseña guardada: ya puede entrar.")
    return redirect("/entrar")


@router.post("/salir")
async def logout(request: Request, runtime: RuntimeDep, form: CheckedForm) -> Response:
    """End the session here (the token is forgotten with it)."""
    del form  # checked for its CSRF token only
    session = request.state.session
    if session is not None:
        await runtime.sessions.drop(session.id)
    fresh = await runtime.sessions.new()
    fresh.flash("ok", "Cerró su sesión.")
    request.state.session = fresh
    return redirect("/entrar")
