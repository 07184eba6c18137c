"""Rendering the victim page, and posting a change from one of its forms."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from ruta_console.auth.service import load_catalogue
from ruta_console.cases import service as cases
from ruta_console.deps import CaseStaff, CheckedForm, RuntimeDep
from ruta_console.pages import form_values, redirect, refusal, render, write_headers
from ruta_console.people.service import read_victim
from ruta_console.upstream import Answer, Service


async def victim_page(
    request: Request,
    runtime: RuntimeDep,
    session: CaseStaff,
    case_id: str,
    victim_id: str,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    """The victim page (with `extra`: personal data read, a refused form)."""
    catalogue = await load_catalogue(runtime=runtime, session=session)
    view = await read_victim(runtime=runtime, session=session, case_id=case_id, victim_id=victim_id)
    return render(
        request,
        "people/victim.html",
        title="Víctima",
        status=status,
        view=view,
        cat=catalogue,
        **extra,
    )


async def post_change(
    request: Request,
    runtime: RuntimeDep,
    session: CaseStaff,
    form: CheckedForm,
    *,
    case_id: str,
    victim_id: str,
    path: str,
    body: dict[str, Any] | None,
    done: str,
    form_name: str,
    fields: frozenset[str],
    service: Service = Service.INTAKE,
) -> Response:
    """POST one change; on success back to the victim page, else the page with the form's errors."""
    answer = await cases.write(
        runtime=runtime,
        session=session,
        service=service,
        path=path,
        body=body,
        headers=write_headers(form),
    )
    if answer.ok:
        session.flash("ok", done)
        return redirect(f"/casos/{case_id}/victimas/{victim_id}")
    return await failed(
        request,
        runtime,
        session,
        form,
        case_id=case_id,
        victim_id=victim_id,
        answer=answer,
        form_name=form_name,
        fields=fields,
    )


async def failed(
    request: Request,
    runtime: RuntimeDep,
    session: CaseStaff,
    form: CheckedForm,
    *,
    case_id: str,
    victim_id: str,
    answer: Answer,
    form_name: str,
    fields: frozenset[str],
) -> Response:
    """The victim page again, the refused form open with its errors next to its fields."""
    return await victim_page(
        request,
        runtime,
        session,
        case_id,
        victim_id,
        status=answer.status,
        failed=form_name,
        errors=refusal(answer, fields),
        values=form_values(form),
    )
