"""The figure pages: live figures with filters and charts, and the annual report's downloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from ruta_shared.lima import today_lima
from ruta_shared.security.principal import Role

from ruta_console.auth.models import Session
from ruta_console.calls import call
from ruta_console.deps import CheckedForm, FiguresReader, RuntimeDep
from ruta_console.errors import RefusedError
from ruta_console.figures.rules import CHARTS, DONOR_CHARTS, charts, figure_filters
from ruta_console.jobs.runner import JobFailedError, Progress
from ruta_console.jobs.store import FileRef
from ruta_console.pages import redirect, render
from ruta_console.runtime import Runtime
from ruta_console.upstream import Service

router = APIRouter()

Year = Annotated[int, Path(ge=1990, le=2999)]
DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "png": "image/png",
    "svg": "image/svg+xml",
}


@router.get("/cifras")
async def figures_page(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: FiguresReader,
    anio: Annotated[str | None, Query(pattern=r"^(|\d{4})$")] = None,
    mes: Annotated[str | None, Query(pattern=r"^(|[1-9]|1[0-2])$")] = None,
    oficina: Annotated[str | None, Query(pattern=r"^(|lima|iquitos|cusco|madre_de_dios)$")] = None,
    region: Annotated[str | None, Query(pattern=r"^(|\d{2})$")] = None,
    delito: Annotated[str | None, Query(pattern=r"^(|[a-z_]{3,40})$")] = None,
) -> Response:
    """The figures (exact for coordination, with small cells hidden for everyone else)."""
    chosen = {"anio": anio, "mes": mes, "oficina": oficina, "region": region, "delito": delito}
    assert session.account is not None
    exact = session.account.role is Role.COORDINATOR
    answer = await call(
        runtime=runtime,
        session=session,
        service=Service.ANALYTICS,
        method="GET",
        path="/figures/exact" if exact else "/figures",
        params=figure_filters(chosen),
    )
    if answer.status == 422:
        return render(
            request,
            "figures/figures.html",
            title="Cifras",
            status=422,
            figures=None,
            charts=[],
            filters={k: v or "" for k, v in chosen.items()},
            errors=answer.errors | {"_": answer.detail},
            exact=exact,
        )
    if not answer.ok:
        raise RefusedError(answer)
    return render(
        request,
        "figures/figures.html",
        title="Cifras",
        figures=answer.body,
        charts=charts(answer.body),
        filters={k: v or "" for k, v in chosen.items()},
        exact=exact,
    )


@router.get("/informes")
async def reports_page(*, request: Request, session: FiguresReader) -> Response:
    """The annual report: its tables (CSV, XLSX) and charts (PNG, SVG) to download."""
    del session  # the role check is the dependency
    this_year = today_lima().year
    return render(
        request,
        "figures/reports.html",
        title="Informe anual",
        years=list(range(this_year, this_year - 6, -1)),
    )


def report_files(year: int, project: str | None = None) -> list[tuple[str, FileRef]]:
    """The annual report's (or a project's donor report's) files: (analytics path, the file
    in the job with its label)."""
    base = f"/reports/{year}" if project is None else f"/reports/projects/{project}/{year}"
    stem = f"ruta-informe-{year}" if project is None else f"ruta-donante-{project}-{year}"
    files = [
        (
            f"{base}/tables.{fmt}",
            FileRef(f"tablas.{fmt}", f"{stem}.{fmt}", DOWNLOADS[fmt], label),
        )
        for fmt, label in (("csv", "Tablas (CSV)"), ("xlsx", "Tablas (Excel, XLSX)"))
    ]
    for name, text in (CHARTS if project is None else DONOR_CHARTS).items():
        for fmt in ("png", "svg"):
            label = f"{text} ({fmt.upper()})"
            shown = f"ruta-{name}-{year}" if project is None else f"{stem}-{name}"
            ref = FileRef(f"{name}.{fmt}", f"{shown}.{fmt}", DOWNLOADS[fmt], label)
            files.append((f"{base}/charts/{name}.{fmt}", ref))
    return files


@router.post("/informes/{year}/preparar")
async def prepare_report(
    *, runtime: RuntimeDep, session: FiguresReader, year: Year, form: CheckedForm
) -> Response:
    """Start preparing a year's tables and charts; the job's page shows "N de M", then links."""
    del form  # checked for its CSRF token only
    job_id = await start_report_job(
        runtime=runtime,
        session=session,
        files=report_files(year),
        title=f"Informe anual {year}",
        back="/informes",
    )
    return redirect(f"/tareas/{job_id}")


async def start_report_job(
    *,
    runtime: Runtime,
    session: Session,
    files: list[tuple[str, FileRef]],
    title: str,
    back: str,
) -> str:
    """A job that downloads each file from analytics into the job, one step per file."""

    async def work(progress: Progress) -> None:
        for done, (path, ref) in enumerate(files):
            await progress.step(f"Preparando: {ref.label}", done)
            answer = await call(
                runtime=runtime,
                session=session,
                service=Service.ANALYTICS,
                method="GET",
                path=path,
                timeout=runtime.settings.upstream_long_timeout_seconds,
            )
            if not answer.ok:
                raise JobFailedError(answer.detail)
            await progress.keep(ref, answer.content)

    assert session.account is not None
    return await runtime.jobs.start(
        kind="report",
        owner=session.account.user_id,
        title=title,
        total=len(files),
        back=back,
        work=work,
    )
