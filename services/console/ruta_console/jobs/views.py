"""The page of a long action: its progress (refreshing itself), then its result or error."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from ruta_console.deps import RuntimeDep, UserSession
from ruta_console.jobs.store import Job
from ruta_console.pages import render

router = APIRouter()

JobId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{20,40}$", description="Id de la tarea")]
FileName = Annotated[str, Path(pattern=r"^[a-z_]{1,60}\.(csv|xlsx|png|svg)$")]
# Seconds between the page's own refreshes while the job runs (no script needed).
REFRESH_SECONDS = 2


async def _job(runtime: RuntimeDep, session: UserSession, job_id: str) -> Job:
    """The user's own job; anyone else's (or none) is the console's 404 page."""
    assert session.account is not None
    job = await runtime.jobs.store.get(job_id, owner=session.account.user_id)
    if job is None:
        raise HTTPException(404)
    return job


@router.get("/tareas/{job_id}")
async def job_page(
    *, request: Request, runtime: RuntimeDep, session: UserSession, job_id: JobId
) -> Response:
    """ "En curso: N de M" and the stage while it runs; then the result or the error."""
    job = await _job(runtime, session, job_id)
    return render(
        request,
        "jobs/job.html",
        title="Tarea",
        job=job,
        running_text=running_text(job),
        refresh=REFRESH_SECONDS,
        keep_minutes=runtime.settings.job_keep_minutes,
    )


@router.get("/tareas/{job_id}/estado")
async def job_state(*, runtime: RuntimeDep, session: UserSession, job_id: JobId) -> JSONResponse:
    """The job's state for the page's script (it updates the page without reloading it)."""
    job = await _job(runtime, session, job_id)
    return JSONResponse(
        {
            "running": job.running,
            "done": job.done,
            "total": job.total,
            "text": running_text(job),
        }
    )


def running_text(job: Job) -> str:
    """What the page says while the job runs (the template says the same)."""
    return f"En curso: {job.done} de {job.total} · {job.stage}"


@router.get("/tareas/{job_id}/archivos/{name}")
async def job_file(
    *, runtime: RuntimeDep, session: UserSession, job_id: JobId, name: FileName
) -> Response:
    """A file the job produced (the annual report's tables and charts)."""
    job = await _job(runtime, session, job_id)
    found = await runtime.jobs.store.file(job, name)
    if found is None:
        raise HTTPException(404)
    ref, content = found
    return Response(
        content,
        media_type=ref.media_type,
        headers={"Content-Disposition": f'attachment; filename="{ref.filename}"'},
    )
