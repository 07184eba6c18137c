"""The admin's page of an institution's machine credentials: list, issue, rotate, revoke."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from ruta_shared.ids import ID_PATTERN

from ruta_console.calls import call, fetch
from ruta_console.deps import Admin, CheckedForm, RuntimeDep
from ruta_console.pages import form_values, redirect, refusal, render
from ruta_console.rules import text
from ruta_console.upstream import Answer, Service

router = APIRouter(prefix="/admin/instituciones")

InstitutionId = Annotated[str, Path(pattern=ID_PATTERN)]
FIELDS: Final = frozenset({"grace_minutes"})


def _path(institution_id: str) -> str:
    return f"/admin/partners/{institution_id}/credentials"


async def _post(
    runtime: RuntimeDep, session: Admin, institution_id: str, action: str = "", **json: Any
) -> Answer:
    """One of intake's credential actions (issue when `action` is empty)."""
    return await call(
        runtime=runtime,
        session=session,
        service=Service.INTAKE,
        method="POST",
        path=_path(institution_id) + (f"/{action}" if action else ""),
        json=json or None,
    )


async def _page(
    request: Request, runtime: RuntimeDep, session: Admin, institution_id: str, **extra: Any
) -> Response:
    institution = await fetch(
        runtime=runtime,
        session=session,
        service=Service.REFERRALS,
        path=f"/institutions/{institution_id}",
    )
    credentials = await fetch(
        runtime=runtime, session=session, service=Service.INTAKE, path=_path(institution_id)
    )
    return render(
        request,
        "admin/credentials.html",
        title="Credenciales",
        status=int(extra.pop("status", 200)),
        institution=institution,
        credentials=credentials,
        **extra,
    )


@router.get("/{institution_id}/credenciales")
async def credentials_page(
    *, request: Request, runtime: RuntimeDep, session: Admin, institution_id: InstitutionId
) -> Response:
    """The institution's API key / client credentials (never a secret), with their actions."""
    return await _page(request, runtime, session, institution_id)


@router.post("/{institution_id}/credenciales")
async def issue(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: Admin,
    institution_id: InstitutionId,
    form: CheckedForm,
) -> Response:
    """Issue a credential; its secret is shown in this response only."""
    del form  # checked for its CSRF token only
    answer = await _post(runtime, session, institution_id)
    if not answer.ok:
        return await _page(
            request, runtime, session, institution_id, status=answer.status, errors=refusal(answer)
        )
    return await _page(request, runtime, session, institution_id, issued=answer.body)


@router.post("/{institution_id}/credenciales/rotar")
async def rotate(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: Admin,
    institution_id: InstitutionId,
    form: CheckedForm,
) -> Response:
    """A new secret; the old one keeps working for the minutes of grace given."""
    grace = text(form, "grace_minutes") or "0"
    answer = await _post(runtime, session, institution_id, "rotate", grace_minutes=grace)
    if not answer.ok:
        return await _page(
            request,
            runtime,
            session,
            institution_id,
            status=answer.status,
            errors=refusal(answer, FIELDS),
            values=form_values(form),
        )
    return await _page(request, runtime, session, institution_id, issued=answer.body)


@router.post("/{institution_id}/credenciales/revocar")
async def revoke(
    *, runtime: RuntimeDep, session: Admin, institution_id: InstitutionId, form: CheckedForm
) -> Response:
    """Revoke: every secret, and the tokens obtained with them, stop working in seconds."""
    del form  # checked for its CSRF token only
    answer = await _post(runtime, session, institution_id, "revoke")
    done = ("ok", "Credencial revocada: deja de valer en segundos.")
    session.flash(*(done if answer.ok else ("error", answer.detail)))
    return redirect(f"/admin/instituciones/{institution_id}/credenciales")
