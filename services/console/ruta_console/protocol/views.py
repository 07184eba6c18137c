"""Protocol pages: enter and leave stages, the plan's tasks, closure requests and approval."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from ruta_shared.ids import ID_PATTERN

from ruta_console.auth.models import Session
from ruta_console.auth.service import load_catalogue
from ruta_console.cases import service as cases
from ruta_console.deps import CaseId, CaseStaff, CheckedForm, Coordinator, RuntimeDep, VictimId
from ruta_console.pages import redirect, refusal, render, write_headers
from ruta_console.protocol import service
from ruta_console.protocol.rules import (
    closure_request_body,
    leave_body,
    plan_body,
    stage_body,
    task_body,
)
from ruta_console.rules import text
from ruta_console.runtime import Runtime
from ruta_console.upstream import Service

router = APIRouter()

OccurrenceId = Annotated[str, Path(pattern=ID_PATTERN, description="Id de la etapa")]
TaskId = Annotated[str, Path(pattern=ID_PATTERN, description="Id de la tarea")]
RequestId = Annotated[str, Path(pattern=ID_PATTERN, description="Id de la solicitud")]
# Every field error joins the flash's sentence: the forms sit in the case page.
ALL_FIELDS = frozenset({"_"})


async def _post(
    *,
    runtime: Runtime,
    session: Session,
    form: CheckedForm,
    service_: Service,
    path: str,
    body: dict[str, Any] | None,
    done: str,
    back: str,
) -> Response:
    """POST one change as the user; flash what happened (or why not) and go back."""
    answer = await cases.write(
        runtime=runtime,
        session=session,
        service=service_,
        path=path,
        body=body,
        headers=write_headers(form),
    )
    if answer.ok:
        session.flash("ok", done)
    else:
        session.flash("error", refusal(answer, ALL_FIELDS)["_"])
    return redirect(back)


def _user(session: Session) -> str:
    assert session.account is not None  # CaseStaff checked it
    return session.account.user_id


@router.post("/casos/{case_id}/etapas")
async def enter_stage(
    *, runtime: RuntimeDep, session: CaseStaff, case_id: CaseId, form: CheckedForm
) -> Response:
    """Record that the case (or one victim) entered a stage of the protocol."""
    return await _post(
        runtime=runtime,
        session=session,
        form=form,
        service_=Service.REFERRALS,
        path=f"/cases/{case_id}/stages",
        body=stage_body(form),
        done="Etapa registrada.",
        back=f"/casos/{case_id}#etapas",
    )


@router.post("/casos/{case_id}/etapas/{occurrence_id}/salida")
async def leave_stage(
    *,
    runtime: RuntimeDep,
    session: CaseStaff,
    case_id: CaseId,
    occurrence_id: OccurrenceId,
    form: CheckedForm,
) -> Response:
    """Record that the case (or victim) left a stage."""
    return await _post(
        runtime=runtime,
        session=session,
        form=form,
        service_=Service.REFERRALS,
        path=f"/cases/{case_id}/stages/{occurrence_id}/leave",
        body=leave_body(form),
        done="Salida de la etapa registrada.",
        back=f"/casos/{case_id}#etapas",
    )


@router.post("/casos/{case_id}/victimas/{victim_id}/plan")
async def start_plan(
    *, runtime: RuntimeDep, session: CaseStaff, case_id: CaseId, victim_id: VictimId,
    form: CheckedForm,
) -> Response:  # fmt: skip
    """Start the victim's plan from the template of her crime type and age group."""
    return await _post(
        runtime=runtime,
        session=session,
        form=form,
        service_=Service.REFERRALS,
        path=f"/cases/{case_id}/victims/{victim_id}/plan",
        body=plan_body(form, _user(session)),
        done="Plan de atención iniciado con las tareas de la plantilla.",
        back=f"/casos/{case_id}#plan",
    )


@router.post("/casos/{case_id}/victimas/{victim_id}/plan/tareas")
async def add_task(
    *, runtime: RuntimeDep, session: CaseStaff, case_id: CaseId, victim_id: VictimId,
    form: CheckedForm,
) -> Response:  # fmt: skip
    """Add a task to the victim's plan by hand."""
    return await _post(
        runtime=runtime,
        session=session,
        form=form,
        service_=Service.REFERRALS,
        path=f"/cases/{case_id}/victims/{victim_id}/plan/tasks",
        body=task_body(form, _user(session)),
        done="Tarea añadida al plan.",
        back=f"/casos/{case_id}#plan",
    )


@router.post("/casos/{case_id}/tareas/{task_id}/estado")
async def set_task_status(
    *, runtime: RuntimeDep, session: CaseStaff, case_id: CaseId, task_id: TaskId,
    form: CheckedForm,
) -> Response:  # fmt: skip
    """Mark a task done or cancelled (or pending again)."""
    return await _post(
        runtime=runtime,
        session=session,
        form=form,
        service_=Service.REFERRALS,
        path=f"/cases/{case_id}/plan/tasks/{task_id}/status",
        body={"status": text(form, "status")},
        done="Estado de la tarea cambiado.",
        back=f"/casos/{case_id}#plan",
    )


@router.post("/casos/{case_id}/solicitud-cierre")
async def request_closure(
    *, runtime: RuntimeDep, session: CaseStaff, case_id: CaseId, form: CheckedForm
) -> Response:
    """Ask a coordinator to close the case, with a reason."""
    return await _post(
        runtime=runtime,
        session=session,
        form=form,
        service_=Service.INTAKE,
        path=f"/cases/{case_id}/closure-requests",
        body=closure_request_body(form),
        done="Cierre solicitado: queda pendiente de aprobación por coordinación.",
        back=f"/casos/{case_id}#cierre",
    )


@router.get("/cierres")
async def approval_queue(request: Request, runtime: RuntimeDep, session: Coordinator) -> Response:
    """The coordinators' queue of closure requests waiting for approval."""
    pending = await service.approval_queue(runtime=runtime, session=session)
    catalogue = await load_catalogue(runtime=runtime, session=session)
    return render(
        request, "protocol/approvals.html", title="Cierres por aprobar", pending=pending,
        cat=catalogue,
    )  # fmt: skip


@router.post("/cierres/{case_id}/{request_id}/aprobar")
async def approve_closure(
    *, runtime: RuntimeDep, session: Coordinator, case_id: CaseId, request_id: RequestId,
    form: CheckedForm,
) -> Response:  # fmt: skip
    """Approve a closure request: the case closes with the reason asked for."""
    return await _post(
        runtime=runtime,
        session=session,
        form=form,
        service_=Service.INTAKE,
        path=f"/cases/{case_id}/closure-requests/{request_id}/approval",
        body=None,
        done="Cierre aprobado: el caso quedó cerrado.",
        back="/cierres",
    )


@router.post("/cierres/{case_id}/{request_id}/devolver")
async def return_closure(
    *, runtime: RuntimeDep, session: Coordinator, case_id: CaseId, request_id: RequestId,
    form: CheckedForm,
) -> Response:  # fmt: skip
    """Return a closure request to the case worker with a comment."""
    return await _post(
        runtime=runtime,
        session=session,
        form=form,
        service_=Service.INTAKE,
        path=f"/cases/{case_id}/closure-requests/{request_id}/return",
        body={"comment": text(form, "comment") or ""},
        done="Solicitud devuelta con su comentario.",
        back="/cierres",
    )
