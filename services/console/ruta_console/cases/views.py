"""The case pages: my cases, open a case, a case and its route of care, close and reopen."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from ruta_shared.security.principal import Role

from ruta_console.auth.service import load_catalogue
from ruta_console.cases import service
from ruta_console.cases.rules import case_body, duplicate_notices, is_duplicate
from ruta_console.deps import CaseId, CaseStaff, CheckedForm, Coordinator, RuntimeDep
from ruta_console.errors import RefusedError
from ruta_console.pages import form_values, redirect, refusal, render, write_headers
from ruta_console.protocol.rules import PROTOCOL_LABELS
from ruta_console.protocol.service import read_protocol
from ruta_console.rules import text
from ruta_console.upstream import Service

router = APIRouter()

DUPLICATE_WARNING = (
    "Posible duplicado: ya hay una víctima registrada con ese número de documento. Revise los "
    "datos; si es otra persona, marque «Registrar de todos modos» y vuelva a enviar."
)


@router.get("/casos")
async def my_cases(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: CaseStaff,
    codigo: Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9-]*$")] = None,
    estado: Annotated[str | None, Query(pattern=r"^(|open|in_care|closed)$")] = None,
    oficina: Annotated[str | None, Query(pattern=r"^(|lima|iquitos|cusco|madre_de_dios)$")] = None,
    vencidas: Annotated[str | None, Query(pattern=r"^(|1)$")] = None,
    pagina: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """My open cases: search by code, filter by status, office and overdue referrals."""
    found = await service.list_cases(
        runtime=runtime,
        session=session,
        code=codigo or None,
        status=estado or None,
        office=oficina or None,
        overdue=vencidas == "1",
        page=pagina,
    )
    filters = {"codigo": codigo or "", "estado": estado or "", "oficina": oficina or ""}
    filters["vencidas"] = vencidas or ""
    return render(request, "cases/list.html", title="Casos", found=found, filters=filters)


@router.get("/casos/nuevo")
async def new_case(request: Request, runtime: RuntimeDep, session: CaseStaff) -> Response:
    """The form to open a case with its first victim."""
    catalogue = await load_catalogue(runtime=runtime, session=session)
    assert session.account is not None
    offices = session.account.offices
    values = {"office": offices[0]} if len(offices) == 1 else {}
    return render(request, "cases/new.html", title="Nuevo caso", cat=catalogue, values=values)


@router.post("/casos/nuevo")
async def open_case(
    *, request: Request, runtime: RuntimeDep, session: CaseStaff, form: CheckedForm
) -> Response:
    """Open the case; a possible duplicate is shown as a warning and the form kept."""
    answer = await service.open_case(
        runtime=runtime, session=session, body=case_body(form), headers=write_headers(form)
    )
    if answer.ok:
        session.flash("ok", f"Caso {answer.body['case_code']} abierto.")
        for notice in duplicate_notices(answer.body):
            session.flash("warning", notice)
        return redirect(f"/casos/{answer.body['case_id']}")
    catalogue = await load_catalogue(runtime=runtime, session=session)
    errors = refusal(answer)
    duplicate = is_duplicate(answer.status, errors, answer.body)
    if duplicate:
        errors = {"_": DUPLICATE_WARNING}
    return render(
        request,
        "cases/new.html",
        title="Nuevo caso",
        status=409 if duplicate else 422,
        cat=catalogue,
        errors=errors,
        values=form_values(form),
        duplicate=duplicate,
    )


@router.get("/casos/{case_id}")
async def case_page(
    *, request: Request, runtime: RuntimeDep, session: CaseStaff, case_id: CaseId
) -> Response:
    """A case: its facts, victims, referrals and route of care as a timeline."""
    catalogue = await load_catalogue(runtime=runtime, session=session)
    try:
        view = await service.read_case(runtime=runtime, session=session, case_id=case_id)
    except RefusedError as refused:
        if refused.answer.status != 404:
            raise
        assert session.account is not None
        # The same page for a case of another office and one that does not exist.
        return render(
            request,
            "cases/not_found.html",
            title="Caso no encontrado",
            status=404,
            case_id=case_id,
            can_break_glass=session.account.role is Role.CASE_WORKER,
        )
    protocol = await read_protocol(runtime=runtime, session=session, case=view.case)
    return render(
        request,
        "cases/case.html",
        title="Caso",
        view=view,
        cat=catalogue,
        protocol=protocol,
        plabels=PROTOCOL_LABELS,
    )


async def _act(
    *,
    runtime: RuntimeDep,
    session: CaseStaff,
    form: CheckedForm,
    path: str,
    body: dict[str, Any] | None,
    done: str,
    case_id: str,
) -> Response:
    answer = await service.write(
        runtime=runtime,
        session=session,
        service=Service.INTAKE,
        path=path,
        body=body,
        headers=write_headers(form),
    )
    if answer.ok:
        session.flash("ok", done)
    else:
        session.flash("error", refusal(answer)["_"])
    return redirect(f"/casos/{case_id}")


@router.post("/casos/{case_id}/estado")
async def change_status(
    *, request: Request, runtime: RuntimeDep, session: CaseStaff, case_id: CaseId, form: CheckedForm
) -> Response:
    """Mark a case as in care (or open again)."""
    body = {"status": text(form, "status")}
    return await _act(
        runtime=runtime,
        session=session,
        form=form,
        path=f"/cases/{case_id}/status",
        body=body,
        done="Estado cambiado.",
        case_id=case_id,
    )


@router.post("/casos/{case_id}/cierre")
async def close_case(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: Coordinator,
    case_id: CaseId,
    form: CheckedForm,
) -> Response:
    """Close a case with its reason (coordination)."""
    body = {"closure_reason": text(form, "closure_reason")}
    return await _act(
        runtime=runtime,
        session=session,
        form=form,
        path=f"/cases/{case_id}/closure",
        body=body,
        done="Caso cerrado.",
        case_id=case_id,
    )


@router.post("/casos/{case_id}/reapertura")
async def reopen_case(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: Coordinator,
    case_id: CaseId,
    form: CheckedForm,
) -> Response:
    """Reopen a closed case (coordination)."""
    return await _act(
        runtime=runtime,
        session=session,
        form=form,
        path=f"/cases/{case_id}/reopening",
        body={},
        done="Caso reabierto.",
        case_id=case_id,
    )


@router.post("/casos/{case_id}/acceso-emergencia")
async def break_glass(
    *, request: Request, runtime: RuntimeDep, session: CaseStaff, case_id: CaseId, form: CheckedForm
) -> Response:
    """Break the glass: time-limited access to a case of another office, justified and logged."""
    answer = await service.write(
        runtime=runtime,
        session=session,
        service=Service.INTAKE,
        path=f"/cases/{case_id}/break-glass",
        body={"justification": text(form, "justification") or ""},
        headers={},
    )
    if answer.ok:
        session.flash(
            "warning", "Acceso de emergencia concedido por tiempo limitado; quedó registrado."
        )
        return redirect(f"/casos/{case_id}")
    errors = refusal(answer, frozenset({"justification"}))
    if answer.status == 422:
        # The only thing the user typed is the justification: its refusal belongs next to it.
        errors.setdefault("justification", answer.detail)
    return render(
        request,
        "cases/not_found.html",
        title="Caso no encontrado",
        status=answer.status,
        case_id=case_id,
        can_break_glass=True,
        errors=errors,
        values=form_values(form),
    )
