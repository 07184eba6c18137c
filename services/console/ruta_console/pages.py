"""Rendering a page, redirecting after a POST, and calling a service as the logged-in user."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from ruta_shared.security.principal import Role

from ruta_console.deps import browser_session, get_runtime
from ruta_console.upstream import Answer

_KEY: Final = re.compile(r"^[A-Za-z0-9_-]{8,100}$")

# The menu of each role: (path, label).
NAV: Final[dict[Role, list[tuple[str, str]]]] = {
    Role.CASE_WORKER: [("/casos", "Casos"), ("/casos/nuevo", "Nuevo caso")],
    Role.COORDINATOR: [
        ("/casos", "Casos"),
        ("/casos/nuevo", "Nuevo caso"),
        ("/duplicados", "Duplicados"),
        ("/cierres", "Cierres por aprobar"),
        ("/proyectos", "Proyectos"),
        ("/cifras", "Cifras"),
        ("/informes", "Informe anual"),
        ("/informes/donantes", "Informes para donantes"),
        ("/capacitacion", "Capacitación"),
        ("/auditoria", "Auditoría"),
    ],
    Role.TRAINER: [("/capacitacion", "Capacitación"), ("/cifras", "Cifras")],
    Role.AUDITOR: [
        ("/auditoria", "Auditoría"),
        ("/cifras", "Cifras"),
        ("/informes/donantes", "Informes para donantes"),
    ],
    Role.ADMIN: [
        ("/admin/usuarios", "Usuarios"),
        ("/admin/instituciones", "Instituciones"),
        ("/admin/entregas", "Webhooks"),
        ("/proyectos", "Proyectos"),
    ],
    Role.PARTNER: [("/socio", "Derivaciones recibidas")],
}
HOME: Final[dict[Role, str]] = {
    Role.CASE_WORKER: "/casos",
    Role.COORDINATOR: "/casos",
    Role.TRAINER: "/capacitacion",
    Role.AUDITOR: "/auditoria",
    Role.ADMIN: "/admin/instituciones",
    Role.PARTNER: "/socio",
}


def render(
    request: Request, template: str, *, title: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page from a template; titles never hold personal data (they land in history)."""
    runtime = get_runtime(request)
    session = browser_session(request)
    account = session.account if session is not None else None
    html = runtime.templates.get_template(template).render(
        title=title,
        path=request.url.path,
        account=account,
        nav=NAV.get(account.role, []) if account is not None else [],
        csrf=session.csrf if session is not None else "",
        flashes=session.take_flashes() if session is not None else [],
        errors=context.pop("errors", {}),
        values=context.pop("values", {}),
        **context,
    )
    return HTMLResponse(html, status_code=status)


def redirect(url: str) -> RedirectResponse:
    """303 See Other: the POST/redirect/GET step."""
    return RedirectResponse(url, status_code=303)


def write_headers(form: Mapping[str, Any]) -> dict[str, str]:
    """If-Match from the version the user saw, Idempotency-Key from the form's one-time key."""
    headers: dict[str, str] = {}
    version = form.get("version")
    if isinstance(version, str) and version.isdigit():
        headers["If-Match"] = f'"{version}"'
    key = form.get("idem")
    if isinstance(key, str) and _KEY.match(key):
        headers["Idempotency-Key"] = key
    return headers


def form_values(form: Mapping[str, Any]) -> dict[str, Any]:
    """What the user typed, to fill the form again after a refusal (never the CSRF token)."""
    values: dict[str, Any] = {}
    getlist = getattr(form, "getlist", None)
    for key in form:
        if key in {"csrf", "password", "idem"}:
            continue
        items = getlist(key) if getlist is not None else [form[key]]
        values[key] = items if len(items) > 1 else items[0]
    return values


def refusal(answer: Answer, fields: frozenset[str] = frozenset()) -> dict[str, str]:
    """A refusal as form errors: each field's message, and under "_" the sentence for the form.

    Field errors the form has no input for (`fields` names those it has) join the sentence, so
    nothing the service said is lost.
    """
    errors = answer.errors
    loose = [
        f"{name}: {message}" for name, message in errors.items() if fields and name not in fields
    ]
    errors["_"] = " ".join([answer.detail, *loose])
    return errors
