"""The attendance sheet import as a job: the page shows its progress, then its row errors."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ruta_console.calls import call
from ruta_console.deps import CheckedForm, RuntimeDep, SessionId, Trainer
from ruta_console.jobs.runner import JobFailedError, Progress
from ruta_console.pages import redirect, refusal, write_headers
from ruta_console.training.views import session_page_with
from ruta_console.upstream import Service

router = APIRouter()

IMPORT_FIELD = "file"
STAGES = ("Capacitación revisa y registra las filas", "Resultado listo")


@router.post("/capacitacion/{session_id}/importacion")
async def import_sheet(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: Trainer,
    session_id: SessionId,
    form: CheckedForm,
) -> Response:
    """Start importing an attendance sheet; the job's page shows its progress and result."""
    upload = form.get(IMPORT_FIELD)
    if upload is None or isinstance(upload, str) or not upload.filename:
        return await session_page_with(
            request,
            runtime,
            session,
            session_id,
            status=422,
            failed="importacion",
            errors={IMPORT_FIELD: "Elija el archivo de la hoja de asistencia (.xlsx o .csv)."},
        )
    # The sheet holds personal data: it stays in this process's memory, never in a job.
    content = await upload.read(runtime.settings.import_max_bytes + 1)
    sent = (upload.filename, content, upload.content_type or "application/octet-stream")
    headers = write_headers(form)

    async def work(progress: Progress) -> dict[str, Any]:
        await progress.step(STAGES[0], 0)
        answer = await call(
            runtime=runtime,
            session=session,
            service=Service.TRAINING,
            method="POST",
            path=f"/sessions/{session_id}/attendance/import",
            files={IMPORT_FIELD: sent},
            headers=headers,
            timeout=runtime.settings.upstream_long_timeout_seconds,
        )
        if not answer.ok:
            errors = refusal(answer)
            raise JobFailedError(" ".join([errors.pop("_"), *errors.values()]))
        await progress.step(STAGES[1], 1)
        # Counts and row numbers with a Spanish message each: never a cell's value.
        report: dict[str, Any] = answer.body
        return report

    assert session.account is not None
    job_id = await runtime.jobs.start(
        kind="import",
        owner=session.account.user_id,
        title="Importación de una hoja de asistencia",
        total=len(STAGES),
        back=f"/capacitacion/{session_id}",
        work=work,
    )
    return redirect(f"/tareas/{job_id}")
