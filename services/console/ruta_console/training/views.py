"""The trainer's pages: sessions, participants, attendance, head counts, tests, imports, PDFs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from ruta_shared.reference import AUDIENCES

from ruta_console.calls import call, fetch
from ruta_console.deps import CheckedForm, ParticipantId, RuntimeDep, SessionId, Trainer
from ruta_console.errors import RefusedError
from ruta_console.pages import form_values, redirect, refusal, render, write_headers
from ruta_console.rules import text
from ruta_console.training.rules import (
    SESSION_PAGE_SIZE,
    assessment_body,
    attendance_body,
    headcount_body,
    participant_body,
    session_body,
)
from ruta_console.training.service import read_session
from ruta_console.upstream import Answer, Service

router = APIRouter()

Audience = Annotated[str, Path(pattern=r"^[a-z_]{3,40}$")]


@router.get("/capacitacion")
async def sessions_page(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: Trainer,
    estado: Annotated[str | None, Query(pattern=r"^(|scheduled|held|cancelled)$")] = None,
    pagina: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Training sessions, newest first, by status."""
    params: dict[str, Any] = {
        "limit": SESSION_PAGE_SIZE,
        "offset": (pagina - 1) * SESSION_PAGE_SIZE,
    }
    if estado:
        params["status"] = estado
    body = await fetch(
        runtime=runtime, session=session, service=Service.TRAINING, path="/sessions", params=params
    )
    pages = max(1, -(-int(body["total"]) // SESSION_PAGE_SIZE))
    return render(
        request,
        "training/sessions.html",
        title="Capacitación",
        found=body,
        page=pagina,
        pages=pages,
        estado=estado or "",
    )


@router.get("/capacitacion/nueva")
async def new_session(*, request: Request, session: Trainer) -> Response:
    """The form to schedule a session."""
    assert session.account is not None
    offices = session.account.offices
    values = {"office": offices[0]} if offices else {}
    return render(request, "training/new.html", title="Programar sesión", values=values)


@router.post("/capacitacion/nueva")
async def schedule(
    *, request: Request, runtime: RuntimeDep, session: Trainer, form: CheckedForm
) -> Response:
    """Schedule the session."""
    answer = await _post(runtime, session, "/sessions", session_body(form), write_headers(form))
    if answer.ok:
        session.flash("ok", "Sesión programada.")
        return redirect(f"/capacitacion/{answer.body['id']}")
    return render(
        request,
        "training/new.html",
        title="Programar sesión",
        status=answer.status,
        errors=refusal(answer),
        values=form_values(form),
    )


async def _post(
    runtime: RuntimeDep,
    session: Trainer,
    path: str,
    body: dict[str, Any] | None,
    headers: dict[str, str],
    *,
    method: str = "POST",
    **kwargs: Any,
) -> Answer:
    return await call(
        runtime=runtime,
        session=session,
        service=Service.TRAINING,
        method=method,
        path=path,
        json=body,
        headers=headers,
        **kwargs,
    )


async def session_page_with(
    request: Request, runtime: RuntimeDep, session: Trainer, session_id: str, **extra: Any
) -> Response:
    view = await read_session(runtime=runtime, session=session, session_id=session_id)
    status = int(extra.pop("status", 200))
    return render(
        request, "training/session.html", title="Sesión", status=status, view=view, **extra
    )


@router.get("/capacitacion/{session_id}")
async def session_page(
    *, request: Request, runtime: RuntimeDep, session: Trainer, session_id: SessionId
) -> Response:
    """A session: its status, attendance, head counts, tests, import and certificates."""
    return await session_page_with(request, runtime, session, session_id)


FIELDS = {
    "realizada": frozenset({"held_on"}),
    "cancelada": frozenset({"reason"}),
    "participantes": frozenset(
        {
            "given_names",
            "family_names",
            "sex",
            "audience",
            "institution_kind",
            "role",
            "email",
            "hours",
        }
    ),
    "asistencia": frozenset({"participant_id", "hours"}),
    "evaluaciones": frozenset({"participant_id", "pre_score", "post_score"}),
}
Build = Callable[[Any], dict[str, Any]]
ACTIONS: dict[str, tuple[str, str, Build]] = {
    "realizada": (
        "hold",
        "Sesión marcada como realizada.",
        lambda form: {"held_on": text(form, "held_on")},
    ),
    "cancelada": ("cancel", "Sesión cancelada.", lambda form: {"reason": text(form, "reason")}),
}


@router.post("/capacitacion/{session_id}/registro/{action}")
async def change(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: Trainer,
    session_id: SessionId,
    action: Annotated[
        str, Path(pattern=r"^(realizada|cancelada|participantes|asistencia|evaluaciones)$")
    ],
    form: CheckedForm,
) -> Response:
    """Hold or cancel the session; register a participant, attendance or a test."""
    base = f"/sessions/{session_id}"
    if action in ACTIONS:
        verb, done, build = ACTIONS[action]
        body = {k: v for k, v in build(form).items() if v is not None}
        answer = await _post(runtime, session, f"{base}/{verb}", body, write_headers(form))
    elif action == "participantes":
        answer = await _post(
            runtime, session, "/participants", participant_body(form), write_headers(form)
        )
        if answer.ok:
            attended = attendance_body(form) | {"participant_id": answer.body["id"]}
            answer = await _post(runtime, session, f"{base}/attendance", attended, {})
        done = "Participante registrado con su asistencia."
    elif action == "asistencia":
        answer = await _post(runtime, session, f"{base}/attendance", attendance_body(form), {})
        done = "Asistencia registrada."
    else:
        answer = await _post(runtime, session, f"{base}/assessments", assessment_body(form), {})
        done = "Evaluación registrada."
    if answer.ok:
        session.flash("ok", done)
        return redirect(f"/capacitacion/{session_id}")
    return await session_page_with(
        request,
        runtime,
        session,
        session_id,
        status=answer.status,
        failed=action,
        errors=refusal(answer, FIELDS[action]),
        values=form_values(form),
    )


@router.post("/capacitacion/{session_id}/conteos/{audience}")
async def headcount(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: Trainer,
    session_id: SessionId,
    audience: Audience,
    form: CheckedForm,
) -> Response:
    """Set the head count of one audience (people counted, not registered)."""
    chosen = text(form, "audience") or audience
    if chosen not in AUDIENCES:
        return await session_page_with(
            request,
            runtime,
            session,
            session_id,
            status=422,
            failed="conteos",
            errors={"audience": "Elija uno de los públicos de la lista."},
            values=form_values(form),
        )
    answer = await _post(
        runtime,
        session,
        f"/sessions/{session_id}/headcounts/{chosen}",
        headcount_body(form),
        {},
        method="PUT",
    )
    if answer.ok:
        session.flash("ok", "Conteo guardado.")
        return redirect(f"/capacitacion/{session_id}")
    return await session_page_with(
        request,
        runtime,
        session,
        session_id,
        status=answer.status,
        failed="conteos",
        errors=refusal(answer),
        values=form_values(form),
    )


@router.post("/capacitacion/{session_id}/certificados/{participant_id}")
async def issue_certificate(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: Trainer,
    session_id: SessionId,
    participant_id: ParticipantId,
    form: CheckedForm,
) -> Response:
    """Issue the participant's certificate (when attendance allows it)."""
    answer = await _post(
        runtime,
        session,
        f"/sessions/{session_id}/certificates",
        {"participant_id": participant_id},
        {},
    )
    if answer.ok:
        session.flash("ok", f"Certificado emitido (código {answer.body['verification_code']}).")
    else:
        session.flash("error", refusal(answer)["_"])
    return redirect(f"/capacitacion/{session_id}")


@router.get("/capacitacion/{session_id}/certificados/{participant_id}.pdf")
async def certificate_pdf(
    *, runtime: RuntimeDep, session: Trainer, session_id: SessionId, participant_id: ParticipantId
) -> Response:
    """The certificate as PDF (a download: the participant's name is inside, not in the URL)."""
    answer = await call(
        runtime=runtime,
        session=session,
        service=Service.TRAINING,
        method="GET",
        path=f"/sessions/{session_id}/certificates/{participant_id}/pdf",
    )
    if not answer.ok:
        raise RefusedError(answer)
    return Response(
        answer.content,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="certificado.pdf"'},
    )
