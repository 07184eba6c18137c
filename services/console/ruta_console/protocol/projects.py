"""The projects registry pages: every staff role lists, coordinators and admins register."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from ruta_shared.security.principal import Role

from ruta_console.auth.models import Session
from ruta_console.calls import fetch
from ruta_console.cases import service as cases
from ruta_console.deps import CheckedForm, RuntimeDep, role_in
from ruta_console.pages import form_values, redirect, refusal, render, write_headers
from ruta_console.protocol.rules import project_body
from ruta_console.runtime import Runtime
from ruta_console.upstream import Service

router = APIRouter()

Staff = Annotated[
    Session,
    Depends(role_in(Role.CASE_WORKER, Role.COORDINATOR, Role.TRAINER, Role.AUDITOR, Role.ADMIN)),
]
ProjectWriter = Annotated[Session, Depends(role_in(Role.COORDINATOR, Role.ADMIN))]
PROJECT_FIELDS = frozenset({"code", "name", "funder", "starts_on", "ends_on", "offices"})


async def _page(
    request: Request, runtime: Runtime, session: Session, *, status: int = 200, **context: object
) -> Response:
    projects = await fetch(
        runtime=runtime, session=session, service=Service.INTAKE, path="/projects"
    )
    assert session.account is not None
    return render(
        request,
        "protocol/projects.html",
        title="Proyectos",
        status=status,
        projects=projects,
        can_write=session.account.role in {Role.COORDINATOR, Role.ADMIN},
        **context,
    )


@router.get("/proyectos")
async def projects_page(request: Request, runtime: RuntimeDep, session: Staff) -> Response:
    """The registry of funded projects: code, name, funder, period, offices."""
    return await _page(request, runtime, session)


@router.post("/proyectos")
async def register_project(
    request: Request, runtime: RuntimeDep, session: ProjectWriter, form: CheckedForm
) -> Response:
    """Register a project; a refusal keeps the form with each field's error."""
    answer = await cases.write(
        runtime=runtime,
        session=session,
        service=Service.INTAKE,
        path="/projects",
        body=project_body(form),
        headers=write_headers(form),
    )
    if answer.ok:
        session.flash("ok", f"Proyecto {answer.body['code']} registrado.")
        return redirect("/proyectos")
    return await _page(
        request,
        runtime,
        session,
        status=answer.status if answer.status < 500 else 422,
        errors=refusal(answer, PROJECT_FIELDS),
        values=form_values(form),
    )
