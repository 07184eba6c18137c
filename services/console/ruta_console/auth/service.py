"""Logging in through Ruta's token issuer, and the session cookie."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import Request, Response
from ruta_shared.security.principal import Role

from ruta_console.auth.models import Account, Session
from ruta_console.runtime import Runtime
from ruta_console.settings import ConsoleSettings
from ruta_console.upstream import Service

WRONG_LOGIN = "Usuario o contraseña incorrectos."


def cookie_name(settings: ConsoleSettings) -> str:
    """`__Host-` binds the cookie to this host and path when it is Secure."""
    return "__Host-ruta_sesion" if settings.secure_cookies else "ruta_sesion"


def set_cookie(response: Response, settings: ConsoleSettings, session: Session) -> None:
    """The session id only: HttpOnly, SameSite=Strict, Secure outside local."""
    response.set_cookie(
        cookie_name(settings),
        session.id,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        path="/",
    )


def clear_cookie(response: Response, settings: ConsoleSettings) -> None:
    """Tell the browser to forget the session cookie."""
    response.delete_cookie(
        cookie_name(settings),
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
    )


async def log_in(
    *,
    runtime: Runtime,
    request: Request,
    session: Session,
    username: str,
    password: str,
    institution: bool = False,
) -> Session | str:
    """Ask the issuer for a token, then /me for the role; a new session, or the Spanish refusal.

    `institution`: a partner institution's credential (client id and secret) instead of a
    person's username and password.
    """
    grant = (
        {"grant_type": "client_credentials", "client_id": username, "client_secret": password}
        if institution
        else {"grant_type": "password", "username": username, "password": password}
    )
    client_host = request.client.host if request.client else None
    answer = await runtime.upstream.call(
        Service.INTAKE,
        "POST",
        "/auth/token",
        token=None,
        data=grant,
        # The issuer throttles per client address too; it trusts this only from its proxies.
        headers={"X-Forwarded-For": client_host} if client_host else None,
    )
    if not answer.ok or not isinstance(answer.body, dict) or "access_token" not in answer.body:
        if answer.status == 429:
            wait = answer.headers.get("retry-after", "")
            return f"Demasiados intentos fallidos: espere {wait} segundos y vuelva a intentarlo."
        return answer.detail if answer.status in {400, 401} else WRONG_LOGIN
    token = str(answer.body["access_token"])
    me = await runtime.upstream.call(Service.INTAKE, "GET", "/me", token=token)
    if not me.ok or not isinstance(me.body, dict):
        return WRONG_LOGIN
    fresh = await runtime.sessions.rotate(session)
    fresh.token = token
    lifetime = int(answer.body.get("expires_in", 0)) or 60
    fresh.expires_at = datetime.now(UTC) + timedelta(seconds=lifetime)
    fresh.account = Account(
        username="Institución socia" if institution else username,
        user_id=str(me.body["id"]),
        role=Role(me.body["role"]),
        offices=tuple(me.body.get("offices") or ()),
        institution_id=me.body.get("institution_id"),
    )
    return fresh


async def load_catalogue(*, runtime: Runtime, session: Session) -> dict[str, dict[str, str]]:
    """intake's codes and Spanish labels, read once (the catalogue is the same for everyone)."""
    if runtime.catalogue:
        return runtime.catalogue
    answer = await runtime.upstream.call(Service.INTAKE, "GET", "/catalogue", token=session.token)
    if answer.ok and isinstance(answer.body, dict):
        runtime.catalogue = {
            name: {item["code"]: item["label"] for item in items}
            for name, items in answer.body.items()
            if isinstance(items, list)
        }
    return runtime.catalogue
