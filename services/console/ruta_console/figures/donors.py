"""The donor-report page: pick a registered project and a year, then download its tables
(CSV, XLSX) and charts (PNG, SVG), prepared as a job like the annual report."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from ruta_shared.lima import today_lima
from ruta_shared.reference import PROJECT_CODE_PATTERN
from ruta_shared.security.principal import Role

from ruta_console.auth.models import Session
from ruta_console.calls import fetch
from ruta_console.deps import CheckedForm, RuntimeDep, role_in
from ruta_console.figures.views import report_files, start_report_job
from ruta_console.pages import form_values, redirect, render
from ruta_console.runtime import Runtime
from ruta_console.upstream import Service

router = APIRouter()

# Who may read a donor report (analytics' `report:read_donor`): funders use an auditor account.
DonorReader = Annotated[Session, Depends(role_in(Role.COORDINATOR, Role.AUDITOR))]
YEARS_SHOWN = 6


def _years() -> dict[str, str]:
    this_year = today_lima().year
    return {str(y): str(y) for y in range(this_year, this_year - YEARS_SHOWN, -1)}


async def _projects(runtime: Runtime, session: Session) -> dict[str, str]:
    """The registered projects, code -> "code — name (funder)"."""
    found = await fetch(runtime=runtime, session=session, service=Service.INTAKE, path="/projects")
    return {p["code"]: f"{p['code']} — {p['name']} ({p['funder']})" for p in found}


def _refusals(project: str, year: str, projects: dict[str, str]) -> dict[str, str]:
    """The form's errors, by field (Spanish)."""
    errors: dict[str, str] = {}
    if not re.fullmatch(PROJECT_CODE_PATTERN, project) or project not in projects:
        errors["project"] = "Elija uno de los proyectos registrados."
    if year not in _years():
        errors["year"] = "Elija uno de los años de la lista."
    return errors


@router.get("/informes/donantes")
async def donors_page(request: Request, runtime: RuntimeDep, session: DonorReader) -> Response:
    """Choose a project and a year for its donor report."""
    return render(
        request,
        "figures/donors.html",
        title="Informes para donantes",
        projects=await _projects(runtime, session),
        years=_years(),
        values={"year": str(today_lima().year)},
    )


@router.post("/informes/donantes")
async def prepare_donor_report(
    request: Request, runtime: RuntimeDep, session: DonorReader, form: CheckedForm
) -> Response:
    """Start preparing a project's report for a year; the job's page then lists the files."""
    project, year = str(form.get("project") or ""), str(form.get("year") or "")
    projects = await _projects(runtime, session)
    errors: dict[str, Any] = _refusals(project, year, projects)
    if errors:
        return render(
            request,
            "figures/donors.html",
            title="Informes para donantes",
            status=422,
            projects=projects,
            years=_years(),
            errors=errors,
            values=form_values(form),
        )
    job_id = await start_report_job(
        runtime=runtime,
        session=session,
        files=report_files(int(year), project),
        title=f"Informe para donantes {project} {year}",
        back="/informes/donantes",
    )
    return redirect(f"/tareas/{job_id}")
